// Unit tests of the snooze and per-language eagerness parts (no VS Code needed): `npm test`.
import assert from "node:assert/strict";
import { test } from "node:test";
import { clock, isManual, snoozeArgument, snoozeChoices, snoozeEnd, snoozeLabel } from "../src/eagerness";
import { Route, statusView } from "../src/format";
import { Inspectable, explicitSettings } from "../src/settings";

const NOW = Date.parse("2026-12-03T11:00:00Z");
const IN_TEN = "2026-12-03T11:10:00Z";

test("snooze choices: VS Code's durations, and Resume now first while snoozed", () => {
  assert.deepEqual(
    snoozeChoices(false).map((c) => c.minutes),
    [1, 5, 10, 15, 30, 60],
  );
  assert.equal(snoozeChoices(false)[0].label, "1 minute");
  assert.deepEqual(snoozeChoices(true)[0], { label: "Resume now", minutes: 0 });
});

test("a command argument is used only when the server would take it", () => {
  assert.equal(snoozeArgument(0), 0);
  assert.equal(snoozeArgument(30), 30);
  for (const bad of [-1, 1441, Number.NaN, Infinity, "5", null, undefined, true]) assert.equal(snoozeArgument(bad), undefined);
});

test("snoozed_until: a future ISO time is a snooze, anything else is not", () => {
  assert.equal(snoozeEnd(IN_TEN, NOW), Date.parse(IN_TEN));
  assert.equal(snoozeEnd("2026-12-03T10:59:59Z", NOW), undefined);
  for (const bad of [null, undefined, "", "soon", 42]) assert.equal(snoozeEnd(bad, NOW), undefined);
  assert.equal(snoozeLabel(IN_TEN, NOW), `snoozed until ${clock(Date.parse(IN_TEN))}`);
  assert.match(clock(Date.parse(IN_TEN)), /^\d\d:\d\d$/);
});

test("status bar: snoozed until HH:MM in front, and a tooltip line; nothing once it has ended", () => {
  const base = { serverDown: undefined, route: undefined as Route | undefined, escalatePending: false };
  const view = statusView({ ...base, stats: { snoozed_until: IN_TEN }, now: NOW });
  assert.ok(view.text.startsWith(`$(bell-slash) snoozed until ${clock(Date.parse(IN_TEN))} · `), view.text);
  assert.match(view.tooltip, /Automatic completions snoozed until \d\d:\d\d/);
  assert.equal(view.warning, false);
  const after = statusView({ ...base, stats: { snoozed_until: IN_TEN }, now: Date.parse(IN_TEN) + 1 });
  assert.ok(!after.text.includes("snoozed"), after.text);
  const down = statusView({ ...base, serverDown: "crashed", stats: { snoozed_until: IN_TEN }, now: NOW });
  assert.ok(!down.text.includes("snoozed"), down.text);
});

test("manual per language: the language's own trigger, then \"*\", then completion.trigger", () => {
  const languages = { python: { trigger: "manual" }, go: { trigger: "automatic" }, "*": { max_lines: 1 } };
  assert.equal(isManual({ completion: { languages } }, "python"), true);
  assert.equal(isManual({ completion: { languages } }, "rust"), false);
  assert.equal(isManual({ completion: { languages, trigger: "manual" } }, "go"), false);
  assert.equal(isManual({ completion: { languages, trigger: "manual" } }, "rust"), true);
  assert.equal(isManual({ completion: { languages: { "*": { trigger: "manual" } } } }, "rust"), true);
  assert.equal(isManual({ completion: { languages: ["python"] } }, "python"), false);
  assert.equal(isManual({}, "python"), false);
});

test("the per-language table is sent to the server as set, in the TOML's shape", () => {
  const table = { python: { max_lines: 1, trigger: "manual" } };
  const config: Inspectable = {
    inspect: <T>(key: string) => (key === "completion.languages" ? { globalValue: table as T } : {}),
  };
  assert.deepEqual(explicitSettings(config), { completion: { languages: table } });
});
