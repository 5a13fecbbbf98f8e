// Extension-host tests: loaded by VS Code (code-server) as `extensionTestsPath`, the same entry
// point @vscode/test-electron uses. `run()` resolves when every test passed and rejects
// otherwise; the exit code reaches the page that opened the window. Results (per test) go to
// the JSON file named by TIERLINE_E2E_RESULTS for test_vscode.py to assert on.
//
// Environment (set by test_vscode.py on code-server, inherited by the extension host):
//   TIERLINE_E2E_RESULTS   where to write {passed: [...], failed: [{name, error}], log: [...]}
//   TIERLINE_E2E_SIM_URL   the simulator's base URL (http://127.0.0.1:PORT/v1)
//   TIERLINE_E2E_SERVER    the `tierline` executable the extension should find on PATH
//
// The workspace's .tierline.toml points at the simulator and sets thresholds mid = 0.0,
// premium = 1.0, so every position routes to "mid" unless the VS Code settings say otherwise.
//
// Each test starts from the same state (`freshState`): no tierline setting set, the simulator
// reset, no editor open and sample.py as on disk, the client running; after a failed test the
// server is restarted too. No test relies on what an earlier one did, so one failure stays one.
"use strict";
const assert = require("assert");
const fs = require("fs");
const path = require("path");
const vscode = require("vscode");

const EXTENSION_ID = "tierline.tierline";
const STATE_RUNNING = 2; // vscode-languageclient State.Running
// What the packaged extension's install advice names instead of the builder's checkout.
const INSTALL_FROM = "/path/to/tierline-checkout";
const log = [];
const note = (m) => log.push(`${new Date().toISOString()} ${m}`);

/** Polls `probe` until it returns a truthy value or the deadline passes (no fixed sleeps). */
async function until(what, probe, timeoutMs = 20000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Resolves with the first event that satisfies `accept`, fired after this call. */
function nextEvent(event, what, accept = () => true, timeoutMs = 30000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const sub = event((value) => {
      if (!accept(value)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(value);
    });
  });
}

async function sim(pathname, body) {
  const base = process.env.TIERLINE_E2E_SIM_URL.replace(/\/v1\/?$/, "");
  const res = await fetch(base + pathname, {
    method: body === undefined && pathname === "/_sim/requests" ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: pathname === "/_sim/requests" ? undefined : JSON.stringify(body ?? {}),
  });
  const text = await res.text();
  assert.ok(res.ok, `simulator ${pathname}: HTTP ${res.status} ${text}`);
  return JSON.parse(text);
}

let api;
const config = () => vscode.workspace.getConfiguration("tierline");
const sampleUri = () => vscode.Uri.joinPath(vscode.workspace.workspaceFolders[0].uri, "sample.py");

async function explainTier() {
  const doc = await vscode.workspace.openTextDocument(sampleUri());
  const result = await api.executeServerCommand("tierline.explain", [doc.uri.toString(), { line: 5, character: 4 }]);
  return result.tier;
}

/** Types `text` at the end of the sample file and asks for an inline completion. */
async function requestCompletion(text, accept = () => true) {
  const editor = await vscode.window.showTextDocument(sampleUri(), { preview: false });
  const routed = nextEvent(api.onDidRoute, "a tierline/didRoute notification", accept);
  const doc = editor.document;
  const end = doc.lineAt(doc.lineCount - 1).range.end;
  await editor.edit((b) => b.insert(end, text));
  const last = doc.lineAt(doc.lineCount - 1).range.end;
  editor.selection = new vscode.Selection(last, last);
  await vscode.commands.executeCommand("editor.action.inlineSuggest.trigger");
  return routed;
}

async function setSetting(key, value) {
  await config().update(key, value, vscode.ConfigurationTarget.Workspace);
}

/** Model calls the simulator has served so far. */
async function modelCalls() {
  return (await sim("/_sim/requests")).filter((r) => String(r.path).endsWith("completions")).length;
}

/** The extension's API, activating it if need be (every test may be the first to run). */
async function activated() {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed`);
  api = await ext.activate();
  await api.whenStarted();
  return api;
}

// Every setting a test may change (settings.json scopes: Workspace and Global).
const TEST_SETTINGS = [
  "routing.thresholds.mid",
  "routing.thresholds.premium",
  "budget.daily_usd",
  "server.command",
  "completion.trigger",
];

/** The state every test starts from. `restart`: also a new server process (after a failure). */
async function freshState(restart) {
  await activated();
  const client = api.client;
  const commandSet = config().inspect("server.command");
  const restarts = commandSet && (commandSet.workspaceValue !== undefined || commandSet.globalValue !== undefined);
  for (const key of TEST_SETTINGS) {
    const i = config().inspect(key);
    if (i && i.workspaceValue !== undefined) await config().update(key, undefined, vscode.ConfigurationTarget.Workspace);
    if (i && i.globalValue !== undefined) await config().update(key, undefined, vscode.ConfigurationTarget.Global);
  }
  if (restarts) {
    await until("the server restarted with the default command", () => api.client && api.client !== client && api.client.state === STATE_RUNNING, 30000);
  }
  await sim("/_sim/reset");
  for (const doc of vscode.workspace.textDocuments) {
    if (doc.isDirty && doc.uri.scheme === "file") {
      await vscode.window.showTextDocument(doc);
      await vscode.commands.executeCommand("workbench.action.files.revert");
    }
  }
  await vscode.commands.executeCommand("workbench.action.closeAllEditors");
  if (restart || !api.client || api.client.state !== STATE_RUNNING) {
    const before = api.client;
    await vscode.commands.executeCommand("tierline.restartServer");
    await until("a new client to run", () => api.client && api.client !== before && api.client.state === STATE_RUNNING, 30000);
  }
  await until("the client to run", () => api.client && api.client.state === STATE_RUNNING, 30000);
  let stats = await api.refreshStats();
  if (stats && stats.snoozed_until) {
    // A snooze a failed test left: it is kept for the user (the state dir), so resume it.
    await api.executeServerCommand("tierline.snooze", [0]);
    stats = await api.refreshStats();
  }
  if (stats && stats.escalate_next) {
    // An escalation a failed test left pending: only a new server forgets it.
    const before = api.client;
    await vscode.commands.executeCommand("tierline.restartServer");
    await until("a new client to run", () => api.client && api.client !== before && api.client.state === STATE_RUNNING, 30000);
  }
  assert.deepStrictEqual(api.explicitSettings(), {}, "settings left over from another test");
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test("activates and starts tierline serve found on PATH", async () => {
  await activated();
  assert.ok(api.resolution && api.resolution.ok, `server command not resolved: ${JSON.stringify(api.resolution)}`);
  assert.strictEqual(api.resolution.source, "PATH");
  assert.strictEqual(api.resolution.command, process.env.TIERLINE_E2E_SERVER);
  assert.deepStrictEqual(api.resolution.args, ["serve"]);
  await until("the client to be running", () => api.client && api.client.state === STATE_RUNNING);
  const caps = api.client.initializeResult.capabilities;
  assert.ok(caps.inlineCompletionProvider, "server does not advertise inlineCompletionProvider");
});

test("contributes its commands, server commands are auto-registered without collisions", async () => {
  const all = await vscode.commands.getCommands(true);
  for (const id of [
    "tierline.escalateNext",
    "tierline.showReport",
    "tierline.clearCacheNow",
    "tierline.toggleAutomatic",
    "tierline.restartServer",
    "tierline.showLog",
    "tierline.explain",
    "tierline.stats",
    "tierline.escalate",
    "tierline.clearCache",
    "tierline.snoozeCompletions",
    "tierline.resumeCompletions",
    "tierline.snooze",
  ]) {
    assert.ok(all.includes(id), `command ${id} is not registered`);
  }
});

test("sends no defaults: the workspace .tierline.toml thresholds rule", async () => {
  assert.deepStrictEqual(api.explicitSettings(), {});
  assert.strictEqual(await explainTier(), "mid");
});

test("settings round trip: a threshold change reaches the server without a restart", async () => {
  const client = api.client;
  // The editor's settings may only tighten the config: a higher mid threshold sends it cheap.
  await setSetting("routing.thresholds.mid", 1.0);
  assert.deepStrictEqual(api.explicitSettings(), { routing: { thresholds: { mid: 1 } } });
  await until("tierline.explain to say cheap", async () => (await explainTier()) === "cheap");
  await setSetting("routing.thresholds.mid", undefined);
  assert.deepStrictEqual(api.explicitSettings(), {});
  await until("tierline.explain to say mid again", async () => (await explainTier()) === "mid");
  assert.strictEqual(api.client, client, "the client was restarted");
  assert.strictEqual(api.client.state, STATE_RUNNING);
});

test("a completion updates the status bar: tier, model, latency, cost, today's spend", async () => {
  const route = await requestCompletion("\n    total = ");
  note(`route: ${JSON.stringify(route)}`);
  assert.strictEqual(route.tier, "mid");
  assert.ok(["claude-haiku", "claude-sonnet"].includes(route.model), `model ${route.model}`);
  assert.ok(route.attempts.length >= 1, "no attempts");
  await until("stats with today's spend", () => api.lastStats && api.lastStats.today && api.lastStats.today.spend_usd > 0);
  const { text, warning } = api.status;
  note(`status: ${text}`);
  assert.match(text, new RegExp(`mid · ${route.model} · (\\d+ ms|cached) · \\$[0-9.]+ \\| today \\$[0-9.]+`));
  assert.strictEqual(warning, false, `unexpected warning: ${api.status.reasons}`);
});

test("report webview: tables, inline SVG chart, CSP, no external resources", async () => {
  const route = await requestCompletion("\n    reported = ");
  await until("stats counting that completion", () => api.lastStats && api.lastStats.by_model && api.lastStats.by_model[route.model]);
  await vscode.commands.executeCommand("tierline.showReport");
  const html = await until("the report html", () => api.reportHtml());
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'/);
  assert.ok(html.includes("<svg"), "no inline SVG chart");
  assert.ok(html.includes("By tier") && html.includes("By model"), "no per-tier / per-model tables");
  assert.ok(/claude-(haiku|sonnet)/.test(html), "the model that answered is not in the report");
  assert.ok(!/(src|href)="https?:/.test(html), "the report loads an external resource");
  assert.ok(!/<script/i.test(html), "the report has a script");
  await vscode.commands.executeCommand("workbench.action.closeActiveEditor");
});

test("report webview shows acceptance: an accepted completion under its tier, model and language", async () => {
  const before = ((await api.refreshStats()) || {}).acceptance || { accepted: 0 };
  const route = await requestCompletion("\n    kept = ");
  // Accept the ghost text as Tab does: VS Code runs the item's tierline.accepted command.
  const stats = await until("tierline.stats counting the acceptance", async () => {
    await vscode.commands.executeCommand("editor.action.inlineSuggest.commit");
    const s = await api.refreshStats();
    return s && s.acceptance && s.acceptance.accepted > before.accepted && s;
  });
  await vscode.commands.executeCommand("tierline.showReport");
  // The row `name | shown | accepted | rate | accepted chars` under `title`, or why it is missing.
  const missing = (html, title, name, a) => {
    const start = html.indexOf(`<h3>${title}</h3>`);
    if (start < 0) return `no ${title} in the report`;
    const table = html.slice(start, html.indexOf("</table>", start));
    const cells = `<td>${a.shown}</td><td>${a.accepted}</td><td>${Math.round(a.rate * 100)}%</td><td>${a.accepted_chars}</td>`;
    return table.includes(`<th scope="row">${name}</th>${cells}`) ? "" : `${title}: no row ${name} ${cells} in ${table}`;
  };
  // The report renders the stats the extension holds (an automatic request may have come since).
  await until("the report showing the acceptance per tier, model and language", () => {
    const html = api.reportHtml() || "";
    const s = api.lastStats;
    const problems = [
      missing(html, "Acceptance by tier", route.tier, s.by_tier[route.tier].acceptance),
      missing(html, "Acceptance by model", route.model, s.acceptance_by_model[route.model]),
      missing(html, "Acceptance by language", "python", s.acceptance_by_language.python),
    ].filter(Boolean);
    if (problems.length) throw new Error(problems.join("; "));
    return true;
  });
  note(`acceptance: ${JSON.stringify(stats.acceptance)}`);
  assert.ok(stats.by_tier[route.tier].acceptance.accepted >= 1, "accepted under the tier that answered");
  await vscode.commands.executeCommand("workbench.action.closeActiveEditor");
});

test("escalate next completion: the next one goes to premium", async () => {
  assert.strictEqual(await vscode.commands.executeCommand("tierline.escalateNext"), true);
  assert.ok(api.status.text.includes("premium next"), api.status.text);
  const route = await requestCompletion("result", (r) => r.tier === "premium");
  assert.strictEqual(route.model, "claude-opus");
  await until("the status bar to show premium", () => api.status.text.includes("premium · claude-opus"));
});

test("a failed attempt puts the status bar in its warning state", async () => {
  await sim("/_sim/behaviour", { model: "*", fault: "server_error", fault_count: 1 });
  try {
    const route = await requestCompletion("\n    other = ");
    note(`route with fault: ${JSON.stringify(route)}`);
    assert.ok(route.attempts.some((a) => a.outcome !== "ok"), `no failed attempt in ${JSON.stringify(route.attempts)}`);
    assert.strictEqual(api.status.warning, true);
    assert.strictEqual(api.status.backgroundColor, "statusBarItem.warningBackground");
    assert.ok(api.status.reasons.some((r) => r.includes("failed attempts")), api.status.reasons.join("; "));
  } finally {
    await sim("/_sim/reset");
  }
});

test("budget reached: warning state and 'budget reached'", async () => {
  await setSetting("budget.daily_usd", 1e-9);
  try {
    await until("the server to take the budget", async () => {
      const stats = await api.refreshStats();
      return stats && stats.budget && stats.budget.daily_usd === 1e-9;
    });
    await requestCompletion("\n    third = ");
    await until("budget reached in the status bar", () => api.status.text.includes("budget reached"));
    assert.strictEqual(api.status.warning, true);
    assert.ok(api.status.reasons.some((r) => r.includes("budget")), api.status.reasons.join("; "));
  } finally {
    await setSetting("budget.daily_usd", undefined);
  }
  await until("the budget to be lifted", async () => {
    const stats = await api.refreshStats();
    return stats && stats.budget && !stats.budget.reached;
  });
});

test("clear cache: the same request is answered from the cache before, by the model after", async () => {
  const editor = await vscode.window.showTextDocument(sampleUri(), { preview: false });
  const doc = editor.document;
  await editor.edit((b) => b.insert(doc.lineAt(doc.lineCount - 1).range.end, "\n    cleared = "));
  const end = doc.lineAt(doc.lineCount - 1).range.end;
  const ask = async () => {
    const routed = nextEvent(api.onDidRoute, "didRoute for the cleared position", (r) => r.position.line === end.line && r.position.character === end.character);
    await api.client.sendRequest("textDocument/inlineCompletion", {
      textDocument: { uri: doc.uri.toString() },
      position: { line: end.line, character: end.character },
      context: { triggerKind: 1 },
    });
    return routed;
  };
  await ask(); // a model call, or a hit on what VS Code's own request left in the cache
  const cached = await ask();
  assert.strictEqual(cached.cached, true, `the repeated request was not cached: ${JSON.stringify(cached)}`);
  const calls = await modelCalls();
  assert.strictEqual(await vscode.commands.executeCommand("tierline.clearCacheNow"), true);
  const after = await ask();
  note(`after clearCache: ${JSON.stringify(after)}`);
  assert.strictEqual(after.cached, false, "answered from the cache after clearCache");
  assert.ok(after.model && after.cost_usd > 0, JSON.stringify(after));
  assert.strictEqual(await modelCalls(), calls + 1, "the model was not called again");
});

test("show log command", async () => {
  await vscode.commands.executeCommand("tierline.showLog");
});

test("a storage fault: the answer is served, the status bar warns and names it", async () => {
  const before = api.client;
  // /dev/null is not a directory: the server cannot create its cache below it.
  await setSetting("server.command", ["/usr/bin/env", "XDG_CACHE_HOME=/dev/null/tierline-cache", process.env.TIERLINE_E2E_SERVER, "serve"]);
  await until("the server to run with the broken cache", () => api.client && api.client !== before && api.client.state === STATE_RUNNING, 30000);
  assert.strictEqual(api.status.warning, false, `warning before the fault: ${api.status.reasons}`);
  const route = await requestCompletion("\n    stored = ");
  assert.ok(route.model && route.cost_usd > 0, `the fault cost the answer: ${JSON.stringify(route)}`);
  await until("a storage warning in the status bar", () => api.status.reasons.some((r) => r.startsWith("Storage: ") && r.includes("cache")));
  note(`storage warning: ${api.status.reasons.join("; ")}`);
  assert.strictEqual(api.status.warning, true);
  assert.strictEqual(api.status.backgroundColor, "statusBarItem.warningBackground");
  assert.ok(api.status.text.startsWith("$(warning) mid · "), api.status.text);
  const stats = await api.refreshStats();
  assert.ok(stats.warnings.length >= 1 && stats.warnings[0].includes("cache"), JSON.stringify(stats.warnings));
  await vscode.commands.executeCommand("tierline.showReport");
  const html = await until("the report naming the fault", () => (api.reportHtml() || "").includes("Storage: ") && api.reportHtml());
  assert.ok(html.includes("NotADirectoryError") || html.includes("Not a directory"), "the report does not say what is wrong");
});

test("toggle automatic flips tierline.completion.trigger and sends it", async () => {
  assert.strictEqual(await vscode.commands.executeCommand("tierline.toggleAutomatic"), true);
  assert.strictEqual(config().get("completion.trigger"), "manual");
  assert.deepStrictEqual(api.explicitSettings(), { completion: { trigger: "manual" } });
  // Manual mode still answers an explicit request (Trigger Inline Suggestion).
  const route = await requestCompletion("\n    manual = ");
  assert.ok(route.tier, JSON.stringify(route));
  assert.strictEqual(await vscode.commands.executeCommand("tierline.toggleAutomatic"), true);
  assert.strictEqual(config().get("completion.trigger"), "automatic");
  await config().update("completion.trigger", undefined, vscode.ConfigurationTarget.Global);
  await config().update("completion.trigger", undefined, vscode.ConfigurationTarget.Workspace);
  assert.deepStrictEqual(api.explicitSettings(), {});
});

test("snooze: the status bar says until when, asking still answers, resume", async () => {
  assert.strictEqual(await vscode.commands.executeCommand("tierline.snoozeCompletions", 5), true);
  const until = api.lastStats && api.lastStats.snoozed_until;
  assert.ok(typeof until === "string" && Date.parse(until) > Date.now() + 4 * 60000, JSON.stringify(until));
  const end = new Date(Date.parse(until));
  const hhmm = `${String(end.getHours()).padStart(2, "0")}:${String(end.getMinutes()).padStart(2, "0")}`;
  assert.ok(api.status.text.startsWith(`$(bell-slash) snoozed until ${hhmm} · `), api.status.text);
  // Trigger Inline Suggestion is an explicit (Invoked) request: it is answered by a model.
  const calls = await modelCalls();
  const route = await requestCompletion("\n    snoozed = ");
  assert.ok(route.model, JSON.stringify(route));
  assert.ok((await modelCalls()) > calls, "no model was called for the explicit request");
  assert.ok(api.status.text.startsWith("$(bell-slash) snoozed until "), api.status.text);
  assert.strictEqual(await vscode.commands.executeCommand("tierline.resumeCompletions"), true);
  assert.strictEqual(api.lastStats.snoozed_until, null);
  assert.ok(!api.status.text.includes("snoozed"), api.status.text);
});

test("no server: one clear notification with the install command, status bar warns", async () => {
  await setSetting("server.command", ["/nonexistent/tierline-serve"]);
  try {
    await until("the failure notification", () => api.lastNotification && api.lastNotification.includes("pip install "));
    note(`notification: ${api.lastNotification}`);
    // The install command: from a checkout, never from PyPI. The packaged extension (.vsix) names
    // no path of the machine that built it, so it says where the checkout goes.
    assert.ok(api.lastNotification.includes(`pip install ${INSTALL_FROM}`), api.lastNotification);
    assert.ok(api.lastNotification.includes(`pipx install ${INSTALL_FROM}`), api.lastNotification);
    assert.ok(!api.lastNotification.includes("pip install tierline"), api.lastNotification);
    assert.ok(api.lastNotification.includes("tierline.server.command"), api.lastNotification);
    await until("the status bar to say server down", () => api.status.text.includes("server down"));
    assert.strictEqual(api.status.warning, true);
    assert.strictEqual(await vscode.commands.executeCommand("tierline.escalateNext"), false);
  } finally {
    await setSetting("server.command", undefined);
  }
  await api.whenStarted();
  await until("the client to run again", () => api.client && api.client.state === STATE_RUNNING);
  assert.strictEqual(await explainTier(), "mid");
});

test("a server that exits at once: one notification, status bar warns, no restart loop", async () => {
  const before = api.lastNotification;
  await setSetting("server.command", [process.execPath, "-e", "process.exit(3)"]);
  try {
    await until("the failure notification", () => api.lastNotification && api.lastNotification !== before && api.lastNotification.includes("failed"));
    note(`notification: ${api.lastNotification}`);
    assert.ok(api.lastNotification.includes(`pip install ${INSTALL_FROM}`), api.lastNotification);
    await until("the status bar to say server down", () => api.status.text.includes("server down"));
    assert.strictEqual(api.status.warning, true);
  } finally {
    await setSetting("server.command", undefined);
  }
  await until("the client to run again", () => api.client && api.client.state === STATE_RUNNING);
});

test("restart server", async () => {
  const before = api.client;
  await vscode.commands.executeCommand("tierline.restartServer");
  await until("the new client to run", () => api.client && api.client !== before && api.client.state === STATE_RUNNING);
  assert.strictEqual(await explainTier(), "mid");
  await until("status bar back to normal", () => !api.status.text.includes("server down"));
});

/** The `tierline serve` processes alive now (Linux /proc; the extension host's user only). */
function serverProcesses() {
  const found = [];
  for (const pid of fs.readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    let argv;
    try {
      argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    } catch {
      continue; // gone meanwhile
    }
    if (argv.includes(process.env.TIERLINE_E2E_SERVER) && argv.includes("serve")) found.push(pid);
  }
  return found;
}

test("restarts asked for during a restart: one after the other, and one server process is left", async () => {
  const before = api.client;
  await until("one server process", () => serverProcesses().length === 1);
  const first = vscode.commands.executeCommand("tierline.restartServer");
  await until("the first restart to begin", () => api.client !== before, 20000, 5);
  const more = [1, 2].map(() => vscode.commands.executeCommand("tierline.restartServer"));
  await Promise.all([first, ...more]);
  // Each restart resolves only once the client it started (or joined) runs: no waiting for one here.
  assert.ok(api.client && api.client !== before, "a new client");
  assert.strictEqual(api.client.state, STATE_RUNNING);
  await until("the old server processes to exit", () => serverProcesses().length === 1);
  assert.strictEqual(await explainTier(), "mid");
});

exports.run = async function run() {
  const results = { passed: [], failed: [], log };
  let previousFailed = false;
  for (const t of tests) {
    const started = Date.now();
    try {
      await freshState(previousFailed);
    } catch (err) {
      results.failed.push({ name: `${t.name} (fresh state)`, ms: Date.now() - started, error: (err && err.stack) || String(err) });
      previousFailed = true;
      continue;
    }
    try {
      await t.fn();
      results.passed.push({ name: t.name, ms: Date.now() - started });
      previousFailed = false;
    } catch (err) {
      results.failed.push({ name: t.name, ms: Date.now() - started, error: (err && err.stack) || String(err) });
      previousFailed = true;
    }
  }
  if (api) results.serverLog = api.client ? undefined : "no client";
  const out = process.env.TIERLINE_E2E_RESULTS;
  if (out) {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(results, null, 2));
  }
  if (results.failed.length) {
    throw new Error(`${results.failed.length} of ${tests.length} extension-host tests failed: ${results.failed.map((f) => f.name).join("; ")}`);
  }
};
