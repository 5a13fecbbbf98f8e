// The report shows acceptance (rate, accepted and retained characters, cost per accepted character)
// per tier, model and language: `npm test` (node:test). With TIERLINE_ACCEPTANCE_STATS set (by
// tests/e2e/test_acceptance_shown.py) it also renders a real server's `tierline.stats` answer.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { acceptanceHtml, acceptanceRate, costPerChar, retentionLine } from "../src/acceptance";
import { Stats } from "../src/format";
import { reportHtml } from "../src/report";

const acceptance = (shown: number, accepted: number, chars: number, retained: number, cost: number | null) => ({
  shown,
  accepted,
  rate: shown ? Math.round((accepted / shown) * 10000) / 10000 : 0,
  accepted_chars: chars,
  retained_chars: retained,
  cost_per_accepted_char_usd: cost,
});

const stats: Stats = {
  requests: 7,
  spend_usd: 0.0021,
  by_tier: {
    premium: { requests: 1, spend_usd: 0.002, acceptance: acceptance(1, 0, 0, 0, null) },
    cheap: { requests: 6, spend_usd: 0.0001, acceptance: acceptance(6, 4, 200, 150, 0.0000005) },
  },
  by_model: { "deepseek-v4-flash": { calls: 6 } },
  acceptance: acceptance(7, 4, 200, 150, 0.000012),
  acceptance_by_model: {
    "deepseek-v4-flash": acceptance(6, 4, 200, 150, 0.0000005),
    "claude-opus": acceptance(1, 0, 0, 0, null),
  },
  acceptance_by_language: { python: acceptance(5, 3, 120, 90, 0.00000083), go: acceptance(2, 1, 80, 60, 0.0000013) },
};

/** The cells of the table row named `name` under the heading `title`. */
function row(html: string, title: string, name: string): string[] {
  const start = html.indexOf(`<h3>${title}</h3>`);
  assert.ok(start >= 0, `no "${title}" table in the report`);
  const tableHtml = html.slice(start, html.indexOf("</table>", start));
  const found = tableHtml.match(new RegExp(`<tr><th scope="row">${name}</th>(.*?)</tr>`));
  assert.ok(found, `no row ${name} under ${title}`);
  return [...found[1].matchAll(/<td>(.*?)<\/td>/g)].map((m) => m[1]);
}

test("formats: rate as a percentage, cost per accepted character, none before an acceptance", () => {
  assert.equal(acceptanceRate(0.6667), "67%");
  assert.equal(acceptanceRate(0), "0%");
  assert.equal(costPerChar(0.0000005), "$0.0000005");
  assert.equal(costPerChar(null), "–");
});

test("report: acceptance overall and per tier (cheap first), model and language", () => {
  const html = reportHtml({ stats, route: undefined, cspSource: "", nonce: "n" });
  assert.ok(html.includes("<h2>Acceptance</h2>"), "no Acceptance section");
  assert.ok(
    html.includes("4 of 7 shown accepted (57%), 200 characters accepted, 150 retained, $0.000012 per accepted character"),
    "overall line",
  );
  // shown, accepted, rate, accepted chars, retained chars, cost / accepted char
  assert.deepEqual(row(html, "Acceptance by tier", "cheap"), ["6", "4", "67%", "200", "150", "$0.0000005"]);
  assert.deepEqual(row(html, "Acceptance by tier", "premium"), ["1", "0", "0%", "0", "0", "–"]);
  const byTier = html.slice(html.indexOf("<h3>Acceptance by tier</h3>"));
  assert.ok(byTier.indexOf(">cheap</th>") < byTier.indexOf(">premium</th>"), "tiers in cheap → premium order");
  assert.deepEqual(row(html, "Acceptance by model", "deepseek-v4-flash"), ["6", "4", "67%", "200", "150", "$0.0000005"]);
  assert.deepEqual(row(html, "Acceptance by model", "claude-opus"), ["1", "0", "0%", "0", "0", "–"]);
  assert.deepEqual(row(html, "Acceptance by language", "python"), ["5", "3", "60%", "120", "90", "$0.00000083"]);
  assert.deepEqual(row(html, "Acceptance by language", "go"), ["2", "1", "50%", "80", "60", "$0.0000013"]);
});

test("report: retention at 30 s, 2, 5 and 10 min; none from an older server", () => {
  const retained = { "30s": 0.9312, "120s": 0.5, "300s": null, "600s": null };
  const overall = acceptance(7, 4, 200, 150, 0.000012);
  const html = reportHtml({ stats: { ...stats, acceptance: { ...overall, retained } }, route: undefined, cspSource: "", nonce: "n" });
  assert.ok(html.includes('<p class="acceptance-retained">accepted characters still there after 30 s 93%, 2 min 50%, 5 min –, 10 min –</p>'), "retention line");
  assert.equal(retentionLine(overall), "");
  assert.ok(!reportHtml({ stats, route: undefined, cspSource: "", nonce: "n" }).includes("acceptance-retained"));
});

test("report: nothing shown yet, an older server without acceptance, hostile names escaped", () => {
  const none = reportHtml({ stats: { ...stats, acceptance: acceptance(0, 0, 0, 0, null) }, route: undefined, cspSource: "", nonce: "n" });
  assert.ok(none.includes("No completions shown yet."));
  const older = { ...stats, acceptance: undefined, acceptance_by_model: undefined, acceptance_by_language: undefined };
  assert.ok(!reportHtml({ stats: older, route: undefined, cspSource: "", nonce: "n" }).includes("Acceptance"));
  const evil = acceptanceHtml({ acceptance: stats.acceptance, acceptance_by_language: { "<img src=x>": acceptance(1, 1, 3, 3, 1) } });
  assert.ok(!evil.includes("<img src=x>") && evil.includes("&lt;img src=x&gt;"));
  assert.ok(acceptanceHtml({ acceptance: stats.acceptance, acceptance_by_model: "junk", by_tier: { cheap: { acceptance: 3 } } }).includes("4 of 7"));
});

const fromServer = process.env.TIERLINE_ACCEPTANCE_STATS;
test("report: a real server's tierline.stats after acceptances", { skip: !fromServer && "TIERLINE_ACCEPTANCE_STATS not set" }, () => {
  const { stats: real, tier, model, language } = JSON.parse(readFileSync(fromServer as string, "utf8"));
  const html = reportHtml({ stats: real, route: undefined, cspSource: "", nonce: "n" });
  const expect = (a: { shown: number; accepted: number; rate: number; accepted_chars: number; retained_chars: number; cost_per_accepted_char_usd: number | null }) => [
    String(a.shown),
    String(a.accepted),
    acceptanceRate(a.rate),
    String(a.accepted_chars),
    String(a.retained_chars),
    costPerChar(a.cost_per_accepted_char_usd),
  ];
  assert.deepEqual(row(html, "Acceptance by tier", tier), expect(real.by_tier[tier].acceptance));
  assert.deepEqual(row(html, "Acceptance by model", model), expect(real.acceptance_by_model[model]));
  assert.deepEqual(row(html, "Acceptance by language", language), expect(real.acceptance_by_language[language]));
  console.log(`# report rows: tier ${tier} ${row(html, "Acceptance by tier", tier).join(" | ")}`);
});
