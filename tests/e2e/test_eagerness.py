"""The user decides how eager tierline is (issue 21, item 3): `tierline.snooze [minutes]` stops
automatic requests from calling a model until then while invoked ones still answer, and
`[completion.languages.X] max_lines` / `trigger` hold a language to a few lines or to requests
the user makes. Over the real server and the simulator; the ledger says what was called."""

from __future__ import annotations

import math
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from tests.helpers.ledger import ledger_rows
from tests.helpers.lsp import SIMPLE_CURSOR, completion_requests, open_doc
from tierline.commands.demo import SIMPLE_PY
from tierline.completion import postprocess
from tierline.completion.snooze import DEFAULT_MINUTES, SnoozeArgumentError, minutes_from
from tierline.config import ConfigLayers, load_layers
from tierline.config.toml_writer import toml_text
from tierline.prompt import window

THREE_LINES = "total = a + b\n    print(total)\n    return total"


def epoch(iso: str) -> float:
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


# ---------------------------------------------------------------------------------------------
# Snooze


async def test_snoozed_automatic_requests_call_no_model_and_invoked_ones_still_answer(
    start_editor, simulator, tmp_path
):
    editor = await start_editor()
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)
    before = time.time()

    answer = await editor.command("tierline.snooze", 10)

    until = answer["snoozed_until"]
    assert before + 600 - 1 <= epoch(until) <= time.time() + 600
    assert (await editor.command("tierline.stats"))["snoozed_until"] == until
    for character in (4, 4, 4):
        automatic = await editor.complete(uri, SIMPLE_CURSOR[0], character, automatic=True)
        assert automatic.text is None and automatic.route is None
    assert completion_requests(simulator) == [] and ledger_rows(tmp_path / "state") == []

    invoked = await editor.complete(uri, *SIMPLE_CURSOR)

    assert invoked.text and invoked.route["model"]
    assert [row["outcome"] for row in ledger_rows(tmp_path / "state")] == ["ok"]

    assert await editor.command("tierline.snooze", 0) == {"snoozed_until": None}
    assert (await editor.command("tierline.stats"))["snoozed_until"] is None
    editor.type_text(uri, 5, 4, "r")
    resumed = await editor.complete(uri, 5, 5, automatic=True)
    assert resumed.text and resumed.route is not None


async def test_snooze_without_minutes_is_vs_codes_default_and_stats_start_null(start_editor):
    editor = await start_editor()
    assert (await editor.command("tierline.stats"))["snoozed_until"] is None
    before = time.time()

    until = (await editor.command("tierline.snooze"))["snoozed_until"]

    assert DEFAULT_MINUTES == 5
    assert before + 300 - 1 <= epoch(until) <= time.time() + 300


@pytest.mark.parametrize("arguments", [[-1], [1e9], ["5"], [math.nan], [math.inf], [True], [5, 6], [{"minutes": 5}]])
async def test_bad_snooze_arguments_get_one_clear_error_and_change_nothing(start_editor, tmp_path, arguments):
    editor = await start_editor()
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)

    with pytest.raises(JsonRpcException) as raised:
        await editor.command("tierline.snooze", *arguments)

    assert "tierline.snooze takes [minutes]: a number from 0 (resume now) to 1440" in str(raised.value)
    assert (await editor.command("tierline.stats"))["snoozed_until"] is None
    assert (await editor.complete(uri, *SIMPLE_CURSOR, automatic=True)).text
    assert editor.messages == []  # the answer to the command is the one error, no pop-up besides


async def test_a_snooze_holds_in_the_users_other_servers_and_after_a_restart(start_editor, simulator, tmp_path):
    first = await start_editor()
    until = (await first.command("tierline.snooze", 30))["snoozed_until"]
    await first.client.shutdown_session()

    second = await start_editor()  # the same user's state directory: another window, or a restart
    uri = open_doc(second, tmp_path, "utils.py", SIMPLE_PY)

    assert (await second.command("tierline.stats"))["snoozed_until"] == until
    assert (await second.complete(uri, *SIMPLE_CURSOR, automatic=True)).text is None
    assert completion_requests(simulator) == []
    assert (await second.command("tierline.snooze", 0))["snoozed_until"] is None
    assert (await second.complete(uri, *SIMPLE_CURSOR, automatic=True)).text


def test_snooze_minutes_are_checked():
    assert minutes_from([]) == minutes_from([None]) == 5.0
    assert minutes_from([0]) == 0.0 and minutes_from([1440]) == 1440.0 and minutes_from([0.5]) == 0.5
    for bad in ([-0.1], [1440.5], ["1"], [None, None], [False]):
        with pytest.raises(SnoozeArgumentError):
            minutes_from(bad)


# ---------------------------------------------------------------------------------------------
# [completion.languages.X] max_lines and trigger


async def test_max_lines_holds_a_language_to_that_many_lines(start_editor, simulator, tmp_path):
    simulator.set_behaviour(answer=THREE_LINES)
    languages = {"python": {"max_lines": 1}, "go": {"max_lines": 2}}
    editor = await start_editor({"completion": {"languages": languages}})
    python = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)

    assert (await editor.complete(python, *SIMPLE_CURSOR)).text == "total = a + b"

    unlimited = await start_editor()
    other = open_doc(unlimited, tmp_path, "other.py", SIMPLE_PY + "\n")
    assert (await unlimited.complete(other, *SIMPLE_CURSOR)).text == THREE_LINES


async def test_a_star_table_applies_to_every_language_without_its_own(start_editor, simulator, tmp_path):
    simulator.set_behaviour(answer=THREE_LINES)
    languages = {"*": {"max_lines": 2}, "go": {"max_lines": 0}}
    editor = await start_editor({"completion": {"languages": languages}})
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)

    assert (await editor.complete(uri, *SIMPLE_CURSOR)).text == "total = a + b\n    print(total)"


async def test_max_lines_hangs_up_once_the_lines_kept_have_come(start_editor, simulator, tmp_path):
    # A long answer spread over two seconds: tierline stops reading a few lines in, so the rest is
    # never generated (nor billed), and the answer is still the first line.
    long_answer = "\n    ".join(f"line_{i} = {i}" for i in range(60))
    simulator.set_behaviour(answer=long_answer, latency_ms=2000)
    editor = await start_editor({"completion": {"languages": {"python": {"max_lines": 1}}}})
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)

    assert (await editor.complete(uri, *SIMPLE_CURSOR)).text == "line_0 = 0"

    record = await simulator.wait_for(lambda r: r["outcome"] != "pending")
    assert record["outcome"] == "disconnected"
    (row,) = ledger_rows(tmp_path / "state")
    assert row["tokens_out"] < 40  # the whole answer is over 300 tokens


async def test_a_manual_language_answers_only_when_asked(start_editor, simulator, tmp_path):
    editor = await start_editor({"completion": {"languages": {"python": {"trigger": "manual"}}}})
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)
    go = open_doc(editor, tmp_path, "main.go", "package main\n\nfunc main() {\n\t\n}\n", "go")

    assert (await editor.complete(uri, *SIMPLE_CURSOR, automatic=True)).text is None
    assert completion_requests(simulator) == []
    assert (await editor.complete(go, 3, 1, automatic=True)).text  # other languages: as before
    assert (await editor.complete(uri, *SIMPLE_CURSOR)).text


def test_cut_lines_keeps_the_line_break_a_completion_starts_with():
    assert postprocess.cut_lines("\n    x = 1\n    y = 2", 1) == "\n    x = 1"
    assert postprocess.cut_lines("a\nb\nc", 2) == "a\nb"
    assert postprocess.cut_lines("a\nb", 0) == "a\nb"
    assert not window.lines_complete("a\nb\n", 1)
    assert window.lines_complete("\na\nb\nc\n", 1)  # one kept, two of slack
    assert not window.lines_complete("a\nb\nc\nd\n", 0)


# ---------------------------------------------------------------------------------------------
# Layers: what a layer the user did not write may set


def _layers(tmp_path: Path, user: dict, other: dict, where: str) -> ConfigLayers:
    (tmp_path / "user.toml").write_text(toml_text(user))
    env = {"TIERLINE_CONFIG": str(tmp_path / "user.toml"), "XDG_STATE_HOME": str(tmp_path / "state")}
    if where == "workspace":
        (tmp_path / ".tierline.toml").write_text(toml_text(other))
        return load_layers(tmp_path, env)
    layers = load_layers(None, env)
    layers.lsp_settings = other
    return layers


@pytest.mark.parametrize("where", ["workspace", "editor"])
def test_an_untrusted_layer_may_not_make_a_language_more_eager(tmp_path, where):
    user = {"completion": {"languages": {"python": {"max_lines": 2, "trigger": "manual"}, "*": {"max_lines": 3}}}}
    looser = {
        "completion": {
            "languages": {
                "python": {"max_lines": 10, "trigger": "automatic"},
                "*": {"max_lines": 0},
                "go": {"max_lines": 4},
            }
        }
    }
    config = _layers(tmp_path, user, looser, where).build()

    completion = config.completion
    assert (completion.max_lines_for("python"), completion.trigger_for("python")) == (2, "manual")
    assert completion.max_lines_for("go") == completion.max_lines_for("rust") == 3
    (notice,) = config.notices
    for key in ("python.max_lines", "python.trigger", "*.max_lines", "go.max_lines"):
        assert f"completion.languages.{key}" in notice


@pytest.mark.parametrize("where", ["workspace", "editor"])
def test_an_untrusted_layer_may_hold_a_language_to_fewer_lines_or_to_manual(tmp_path, where):
    user = {"completion": {"languages": {"python": {"max_lines": 3}}}}
    tighter = {"completion": {"languages": {"python": {"max_lines": 1, "trigger": "manual"}, "go": {"enabled": False}}}}
    config = _layers(tmp_path, user, tighter, where).build()

    completion = config.completion
    assert (completion.max_lines_for("python"), completion.trigger_for("python")) == (1, "manual")
    assert not completion.enabled_for("go") and completion.enabled_for("rust")
    assert config.notices == ()


def test_the_editors_language_list_and_the_users_tables_both_hold(tmp_path):
    # VS Code's `tierline.completion.languages` is a list; the user's file has a table per language.
    user = {"completion": {"languages": {"python": {"max_lines": 1}, "go": {"trigger": "manual"}}}}
    config = _layers(tmp_path, user, {"completion": {"languages": ["python"]}}, "editor").build()

    completion = config.completion
    assert completion.enabled_for("python") and completion.max_lines_for("python") == 1
    assert not completion.enabled_for("go") and not completion.enabled_for("rust")
    assert config.notices == ()


def test_neovims_empty_table_is_an_empty_language_table(tmp_path):
    user = {"completion": {"languages": {"python": {"max_lines": 1}}}}
    config = _layers(tmp_path, user, {"completion": {"languages": {"go": [], "python": []}}}, "editor").build()

    assert config.completion.max_lines_for("python") == 1 and config.completion.enabled_for("go")


@pytest.mark.parametrize("where", ["workspace", "editor"])
def test_a_table_cannot_turn_on_a_language_the_users_list_leaves_out(tmp_path, where):
    user = {"completion": {"languages": ["python"]}}
    other = {"completion": {"languages": {"rust": {"max_lines": 1}, "*": {"enabled": True}, "go": {"enabled": True}}}}
    config = _layers(tmp_path, user, other, where).build()

    assert config.completion.enabled_for("python")
    assert not any(config.completion.enabled_for(x) for x in ("rust", "go", "c"))
    (notice,) = config.notices
    assert "completion.languages.*.enabled" in notice and "completion.languages.go.enabled" in notice


@pytest.mark.parametrize(
    ("languages", "key"),
    [
        ({"python": {"max_lines": -1}}, "completion.languages.python.max_lines"),
        ({"python": {"max_lines": 1.5}}, "completion.languages.python.max_lines"),
        ({"python": {"max_lines": 10**6}}, "completion.languages.python.max_lines"),
        ({"python": {"trigger": "sometimes"}}, "completion.languages.python.trigger"),
        ({"python": {"enabled": "yes"}}, "completion.languages.python.enabled"),
        ({"python": {"max_line": 1}}, "completion.languages.python.max_line"),
        ({"python": 1}, "completion.languages.python"),
        ("python", "completion.languages"),
        ({f"lang{i}": {} for i in range(1001)}, "completion.languages"),
    ],
)
def test_bad_language_settings_are_refused_naming_the_key(tmp_path, languages, key):
    from tierline.config import ConfigError

    (tmp_path / "user.toml").write_text(toml_text({"completion": {"languages": languages}}))
    env = {"TIERLINE_CONFIG": str(tmp_path / "user.toml")}
    with pytest.raises(ConfigError) as raised:
        load_layers(None, env).build()
    assert raised.value.key == key


# ---------------------------------------------------------------------------------------------
# The editors' pure parts (their real-editor checks are in tests/editors/)


@pytest.mark.xdist_group("vscode")  # builds editors/vscode/dist-test, as the VS Code suite does
def test_vscode_snooze_and_per_language_parts() -> None:
    from tests.helpers.node_tests import run_node_test

    stdout = run_node_test("eagerness.test.js")
    assert "# fail 0" in stdout and "# pass 6" in stdout, stdout


def test_neovim_snooze_parts(tmp_path) -> None:
    from tests.helpers.nvim_headless import run_lua

    output = run_lua(Path(__file__).resolve().parent / "eagerness_render.lua", tmp_path, TZ="Asia/Kolkata")
    assert "# 5 passed, 0 failed" in output
