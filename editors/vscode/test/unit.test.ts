// Unit tests of the pure parts (no VS Code needed): `npm test` (node:test).
import assert from "node:assert/strict";
import { test } from "node:test";
import { Route, Stats, failedAttempts, ms, savings, statusView, usd } from "../src/format";
import { chart, escapeHtml, reportHtml } from "../src/report";
import { Inspectable, SERVER_KEYS, explicitSettings, section } from "../src/settings";

function fakeConfig(values: Record<string, { globalValue?: unknown; workspaceValue?: unknown; workspaceFolderValue?: unknown }>): Inspectable {
  return { inspect: <T>(key: string) => (values[key] ?? {}) as { globalValue?: T; workspaceValue?: T; workspaceFolderValue?: T } };
}

const route: Route = {
  request_id: "r1",
  reason: "score 0.12 < mid 0.35",
  excluded: false,
  redactions: 0,
  downshifted: null,
  uri: "file:///a.py",
  position: { line: 1, character: 4 },
  score: 0.12,
  tier: "cheap",
  model: "deepseek-v4-flash",
  cached: false,
  latency_ms: 212.4,
  cost_usd: 0.00004,
  attempts: [{ model: "deepseek-v4-flash", outcome: "ok", latency_ms: 200 }],
};
const stats: Stats = {
  requests: 10,
  spend_usd: 0.0021,
  premium_baseline_usd: 0.03,
  savings_pct: 93,
  by_tier: { cheap: { requests: 9, spend_usd: 0.001 } },
  by_model: { "deepseek-v4-flash": { calls: 9, failures: 0, ewma_ms: 180, p95_ms: 300, spend_usd: 0.001 } },
  today: { requests: 10, spend_usd: 0.0021, premium_baseline_usd: 0.03, savings_pct: 93 },
  budget: { daily_usd: 5, spent_today_usd: 0.0021, remaining_usd: 4.9979, reached: false },
};

test("explicit settings: only what the user set, nested, folder > workspace > user", () => {
  assert.deepEqual(explicitSettings(fakeConfig({})), {});
  const config = fakeConfig({
    "routing.thresholds.mid": { globalValue: 0.2, workspaceValue: 0.3 },
    "routing.thresholds.premium": { globalValue: 0.9 },
    "completion.languages": { workspaceFolderValue: ["python"], globalValue: ["go"] },
    "server.command": { globalValue: ["x"] },
  });
  assert.deepEqual(explicitSettings(config), {
    routing: { thresholds: { mid: 0.3, premium: 0.9 } },
    completion: { languages: ["python"] },
  });
  assert.deepEqual(section(explicitSettings(config), "routing.thresholds"), { mid: 0.3, premium: 0.9 });
  assert.ok(!SERVER_KEYS.includes("server.command"));
});

test("money, latency and savings formats", () => {
  assert.equal(usd(0.00004), "$0.00004");
  assert.equal(usd(0.0021), "$0.0021");
  assert.equal(usd(0.012345), "$0.012");
  assert.equal(usd(0), "$0");
  assert.equal(usd(5), "$5.00");
  assert.equal(ms(212.4), "212 ms");
  assert.equal(savings(93.4), "\u221293%");
  assert.equal(savings(-5), "+5%");
});

test("status bar text as in the issue, no warning", () => {
  const view = statusView({ serverDown: undefined, route, stats, escalatePending: false });
  assert.equal(view.text, "$(zap) cheap · deepseek-v4-flash · 212 ms · $0.00004 | today $0.0021 (\u221293%)");
  assert.equal(view.warning, false);
});

test("status bar warns: failed attempt, budget reached, server down", () => {
  const failed = { ...route, attempts: [{ model: "a", outcome: "timeout", latency_ms: 1500 }, ...route.attempts] };
  assert.equal(failedAttempts(failed).length, 1);
  let view = statusView({ serverDown: undefined, route: failed, stats, escalatePending: false });
  assert.equal(view.warning, true);
  assert.ok(view.text.startsWith("$(warning) cheap"));
  view = statusView({ serverDown: undefined, route, stats: { ...stats, budget: { ...stats.budget, reached: true } }, escalatePending: false });
  assert.equal(view.warning, true);
  assert.ok(view.text.endsWith("budget reached"));
  view = statusView({ serverDown: "not found", route, stats, escalatePending: false });
  assert.equal(view.text, "$(warning) tierline: server down");
  assert.equal(view.warning, true);
});

test("report: CSP, no script, no external resource, tables and chart, escaped", () => {
  const html = reportHtml({ stats, route, cspSource: "vscode-webview://x", nonce: "abc" });
  assert.match(html, /Content-Security-Policy" content="default-src 'none'; style-src 'nonce-abc'/);
  assert.ok(!/<script/i.test(html));
  assert.ok(!/(src|href)="https?:/.test(html));
  assert.ok(html.includes("<svg") && html.includes("By tier") && html.includes("deepseek-v4-flash"));
  assert.equal(escapeHtml('<a href="x">'), "&lt;a href=&quot;x&quot;&gt;");
  assert.equal(chart([]), "");
  const evil = reportHtml({ stats: { by_model: { "<img src=x>": { calls: 1 } } }, route: undefined, cspSource: "", nonce: "n" });
  assert.ok(!evil.includes("<img src=x>"));
});

test("typed-through (score null): status bar, tooltip and report render, no crash", () => {
  const typed: Route = { ...route, score: null, cached: true, cost_usd: 0 };
  const view = statusView({ serverDown: undefined, route: typed, stats, escalatePending: false });
  assert.equal(view.text, "$(zap) cheap · deepseek-v4-flash · typed · $0 | today $0.0021 (\u221293%)");
  assert.ok(view.tooltip.includes("score n/a · typed"), view.tooltip);
  assert.ok(reportHtml({ stats, route: typed, cspSource: "", nonce: "n" }).includes("score n/a · typed"));
});

test("excluded, downshifted, rejected, storage warnings", () => {
  const excluded: Route = { ...route, score: null, model: null, cost_usd: 0, attempts: [], excluded: true };
  let view = statusView({ serverDown: undefined, route: excluded, stats: undefined, escalatePending: false });
  assert.equal(view.text, "$(circle-slash) cheap · no model · excluded (nothing sent) · $0");
  assert.equal(view.warning, false);
  view = statusView({ serverDown: undefined, route: { ...route, downshifted: "mid" }, stats: undefined, escalatePending: false });
  assert.equal(view.text, "$(zap) cheap · deepseek-v4-flash · 212 ms · $0.00004 · downshifted from mid");
  const rejected: Route = {
    ...route,
    attempts: [{ model: "qwen", outcome: "rejected", latency_ms: 3, detail: "401 bad key" }, ...route.attempts],
  };
  view = statusView({ serverDown: undefined, route: rejected, stats: undefined, escalatePending: false });
  assert.ok(view.text.startsWith("$(warning) cheap") && view.text.endsWith("· qwen rejected"), view.text);
  assert.deepEqual(view.reasons, ["Rejected by the provider (a permanent error, fix the model's config or key): qwen (401 bad key)"]);
  view = statusView({ serverDown: undefined, route, stats: { ...stats, warnings: ["cache broken"] }, escalatePending: false, storageFaults: ["cache broken", "ledger gone"] });
  assert.deepEqual(view.reasons, ["Storage: cache broken", "Storage: ledger gone"]);
  assert.equal(view.warning, true);
});

test("gateway budget ([budget] store = litellm): left in the status bar, key and team in the tooltip, spent warns", () => {
  const gateway = {
    url: "http://127.0.0.1:4000",
    key: "dev-laptop",
    team: "platform",
    key_remaining_usd: 7.5,
    team_remaining_usd: 7,
    remaining_usd: 7,
    available_usd: 6.9999678,
    checked_at: "2026-12-03T11:00:00+00:00",
    capping: true,
    error: null,
    exhausted: false,
  };
  let view = statusView({ serverDown: undefined, route, stats: { ...stats, gateway_budget: gateway }, escalatePending: false });
  assert.equal(view.text, "$(zap) cheap · deepseek-v4-flash · 212 ms · $0.00004 | today $0.0021 (\u221293%) · gateway $7.00 left");
  assert.ok(
    view.tooltip.includes(
      "**Gateway budget**: $7.00 left (key dev-laptop: $7.50, team platform: $7.00), read 2026-12-03T11:00:00+00:00",
    ),
    view.tooltip,
  );
  assert.equal(view.warning, false);
  const unread = { ...gateway, capping: false, error: "HTTP 500: Internal Server Error" };
  view = statusView({ serverDown: undefined, route, stats: { ...stats, gateway_budget: unread }, escalatePending: false });
  assert.ok(!view.text.includes("gateway"));
  assert.ok(view.tooltip.includes("**Gateway budget**: could not be read (HTTP 500: Internal Server Error); the local caps hold"));
  view = statusView({ serverDown: undefined, route, stats: { ...stats, gateway_budget: { ...gateway, exhausted: true } }, escalatePending: false });
  assert.ok(view.text.endsWith(" · gateway budget spent"));
  assert.equal(view.warning, true);
  assert.ok(view.reasons.includes("Gateway budget spent: the gateway refused a call for its budget"));
  // Odd shapes from an older or broken server: left out, no crash.
  for (const odd of [null, "x", [], { capping: true, available_usd: "lots" }]) {
    view = statusView({ serverDown: undefined, route, stats: { ...stats, gateway_budget: odd as never }, escalatePending: false });
    assert.ok(!view.text.includes("gateway"));
  }
});
