// Every wire shape the server sends, fed to the status bar and report code (node:test). The shapes
// come from tests/e2e/test_wire_shapes.py (the real server against the simulator), in the JSON file
// named by TIERLINE_WIRE_SHAPES.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { Route, Stats, describeRoute, score, statusView, usd } from "../src/format";
import { escapeHtml, reportHtml } from "../src/report";
import { isStorageFault } from "../src/wire";

interface RouteCase {
  name: string;
  route: Route;
  stats: Stats | null;
  facts: string[];
  warning: boolean;
}

interface StatsCase {
  name: string;
  stats: Stats;
  warning: boolean;
  /** Models set aside (breaker "rejected"), with the provider's message. */
  set_aside: Record<string, string>;
}

interface MessageCase {
  type: number;
  message: string;
  storage: boolean;
}

interface Shapes {
  routes: RouteCase[];
  stats: StatsCase[];
  messages: MessageCase[];
}

const file = process.env.TIERLINE_WIRE_SHAPES;
const shapes: Shapes = file ? JSON.parse(readFileSync(file, "utf8")) : { routes: [], stats: [], messages: [] };

test("the shapes file is there", { skip: file ? false : "run through tests/e2e/test_wire_shapes.py" }, () => {
  assert.ok(shapes.routes.length > 0 && shapes.stats.length > 0);
});

for (const c of shapes.routes) {
  test(`${c.name}: status bar, tooltip and report`, () => {
    const stats = c.stats ?? undefined;
    const view = statusView({ serverDown: undefined, route: c.route, stats, escalatePending: false });
    for (const fact of c.facts) {
      assert.ok(view.text.includes(fact), `status bar ${JSON.stringify(view.text)} does not show ${JSON.stringify(fact)}`);
    }
    assert.ok(view.text.includes(usd(c.route.cost_usd)), `status bar ${view.text} does not show the cost`);
    assert.equal(view.warning, c.warning, `warning state of ${view.text}: ${view.reasons.join("; ")}`);
    assert.equal(view.text.startsWith("$(warning)"), c.warning, view.text);

    const line = describeRoute(c.route);
    assert.ok(view.tooltip.includes(`**Last completion**: ${line}`), view.tooltip);
    for (const fact of c.facts) assert.ok(line.includes(fact), `${line} does not show ${fact}`);
    assert.ok(line.includes(`score ${score(c.route.score)}`), line);
    if (c.route.score === null) assert.ok(line.includes("score n/a"), line);

    const html = reportHtml({ stats, route: c.route, cspSource: "vscode-webview://x", nonce: "n" });
    assert.ok(html.includes(`Last completion: ${escapeHtml(line)}`), "the report does not show the last completion");
    assert.ok(!/<script/i.test(html));
  });
}

for (const c of shapes.stats) {
  test(`${c.name}: status bar warning state and report`, () => {
    const view = statusView({ serverDown: undefined, route: undefined, stats: c.stats, escalatePending: false });
    assert.equal(view.warning, c.warning, `${view.text}: ${view.reasons.join("; ")}`);
    const html = reportHtml({ stats: c.stats, route: undefined, cspSource: "vscode-webview://x", nonce: "n" });
    for (const w of c.stats.warnings ?? []) {
      assert.ok(view.reasons.includes(`Storage: ${w}`), view.reasons.join("; "));
      assert.ok(html.includes(`Storage: ${escapeHtml(w)}`), "the report does not show the storage fault");
    }
    for (const [model, why] of Object.entries(c.set_aside)) {
      const row = html.split("\n").find((r) => r.includes(`<th scope="row">${escapeHtml(model)}</th>`));
      assert.ok(row, `the report has no row for ${model}`);
      assert.ok(row.includes("<td>rejected</td>"), `the report's row for ${model} does not say it is rejected: ${row}`);
      assert.ok(row.includes(escapeHtml(why)), `the report's row for ${model} does not say why: ${row}`);
    }
    assert.ok(html.includes("Tierline report"));
  });
}

for (const m of shapes.messages) {
  test(`window/showMessage ${JSON.stringify(m.message.slice(0, 40))}: storage warning ${m.storage}`, () => {
    assert.equal(isStorageFault(m.type, m.message), m.storage);
    const faults = isStorageFault(m.type, m.message) ? [m.message] : [];
    const view = statusView({ serverDown: undefined, route: undefined, stats: undefined, escalatePending: false, storageFaults: faults });
    assert.equal(view.warning, m.storage, view.reasons.join("; "));
  });
}
