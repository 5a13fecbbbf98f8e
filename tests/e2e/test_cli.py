"""The `tierline` command as a user runs it: demo, score, report, doctor, --help."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.cli import tierline
from tests.helpers.common import FIXTURES, SECRET
from tests.helpers.lsp import SIMPLE_CURSOR, open_doc
from tierline.commands.demo import SIMPLE_PY
from tierline.devtools.simulator import sim_config, write_toml


def test_help_tells_a_newcomer_where_to_start():
    result = tierline("--help")
    assert result.returncode == 0
    for command in ("demo", "doctor", "score", "report", "serve"):
        assert command in result.stdout


def test_score_explains_a_position_in_a_fixture():
    target = FIXTURES / "python" / "shutil.py"
    result = tierline("score", f"{target}:60:5", "--json")
    assert result.returncode == 0, result.stderr
    explained = json.loads(result.stdout)
    assert explained["features"]["language"] == "python"
    assert explained["tier"] in ("cheap", "mid", "premium")
    assert 0 <= explained["score"] <= 1

    readable = tierline("score", f"{target}:60:5")
    assert "nesting_depth" in readable.stdout and "->" in readable.stdout


def test_score_positions_are_one_based_line_and_column(tmp_path: Path):
    source = tmp_path / "walk.py"
    source.write_text(
        "import os\n\n\ndef walk(paths):\n    for path in paths:\n        if os.path.isdir(path):\n            return path\n"
    )

    def depth(position: str) -> int:
        result = tierline("score", f"{source}:{position}", "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)["features"]["nesting_depth"]

    assert depth("1:1") == 0  # the first character of the file
    assert depth("7:13") == 3  # the `r` of `return path`, under def, for and if


def test_score_refuses_a_bad_position_clearly():
    result = tierline("score", "no-such-file.py:1:1")
    assert result.returncode == 2 and "cannot read" in result.stderr
    result = tierline("score", "file.py")
    assert result.returncode == 2 and "FILE:LINE:COL" in result.stderr


def test_doctor_reports_config_keys_masked_grammars_and_cache(tmp_path: Path):
    config = sim_config("http://127.0.0.1:9/v1", cache_dir=str(tmp_path / "cache"), ledger_dir=str(tmp_path / "state"))
    config["models"][0]["api_key_env"] = "TIERLINE_DOCTOR_KEY"
    write_toml(config, tmp_path / "t.toml")
    result = tierline(
        "doctor", "--json", env={"TIERLINE_CONFIG": str(tmp_path / "t.toml"), "TIERLINE_DOCTOR_KEY": SECRET}
    )
    assert result.returncode == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["ok"] and report["config"]["valid"]
    key = report["keys"][0]
    assert key["env"] == "TIERLINE_DOCTOR_KEY" and key["present"] and SECRET not in result.stdout
    assert all(report["grammars"].values()) and len(report["grammars"]) >= 9
    assert report["cache"]["usable"]


def test_doctor_names_the_bad_key_and_fails(tmp_path: Path):
    (tmp_path / "bad.toml").write_text('[cache]\nttl_seconds = "long"\n')
    result = tierline("doctor", env={"TIERLINE_CONFIG": str(tmp_path / "bad.toml")})
    assert result.returncode == 1
    assert "cache.ttl_seconds" in result.stdout and "bad.toml" in result.stdout


async def test_report_shows_what_the_editor_session_spent(start_editor, tmp_path: Path):
    editor = await start_editor()
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)
    await editor.complete(uri, *SIMPLE_CURSOR)
    await editor.complete(uri, *SIMPLE_CURSOR)
    await editor.client.shutdown_session()

    env = {"TIERLINE_CONFIG": str(tmp_path / "tierline-0.toml")}
    result = tierline("report", "--json", env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["all_time"]["requests"] == 2 and report["all_time"]["cache_hits"] == 1
    assert report["today"]["spend_usd"] > 0
    readable = tierline("report", env=env)
    assert "cheap" in readable.stdout and "saved" in readable.stdout
