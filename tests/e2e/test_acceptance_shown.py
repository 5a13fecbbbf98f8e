"""Acceptance is shown: `tierline.stats` per tier, model and language, and both editors' windows.

A real server (pytest-lsp over stdio, the simulator over HTTP) shows three completions: Python
accepted whole, Go accepted in part (a word), and a harder Python one that goes to a higher tier
and is never accepted. Its `tierline.stats` answer must carry the acceptance of each tier, model
and language, to the character and the cost; then that very answer is rendered by
  - the VS Code report (`editors/vscode/test/acceptance.test.ts`, node:test), and
  - `:TierlineStats` (`tests/e2e/acceptance_stats_render.lua`, headless Neovim),
which must show each row: shown, accepted, rate, accepted and retained characters, cost per
accepted character.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.node_tests import run_node_test
from tests.helpers.nvim_headless import run_lua
from tierline.commands.demo import LOADER_CURSOR, NESTED_PY, SIMPLE_PY
from tierline.wire import AcceptanceStats, StatsResult

RENDER_LUA = Path(__file__).resolve().parent / "acceptance_stats_render.lua"

SIMPLE_CURSOR = (5, 4)
GO = """\
package main

import "fmt"

func add(a int, b int) int {
\t
}

func main() {
\tfmt.Println(add(1, 2))
}
"""
GO_CURSOR = (5, 1)
WORD_CHARS = 3


def _spend(tmp_path: Path, column: str) -> dict[str, float]:
    with sqlite3.connect(tmp_path / "state" / "ledger.sqlite3") as db:
        rows = db.execute(f"SELECT {column}, SUM(cost_usd) FROM calls GROUP BY {column}")
        return {str(key): float(total) for key, total in rows}


def _figures(shown: int, accepted: int, chars: int, spend: float) -> AcceptanceStats:
    return {
        "shown": shown,
        "accepted": accepted,
        "rate": round(accepted / shown, 4),
        "accepted_chars": chars,
        "retained_chars": 0,  # measured a while later (or on close): not yet
        "cost_per_accepted_char_usd": round(spend / chars, 10) if chars else None,
        "retained": {"30s": None, "120s": None, "300s": None, "600s": None},
    }


@pytest.fixture
async def served(start_editor: Any, tmp_path: Path) -> dict[str, Any]:
    """Three completions shown (python accepted, go partly accepted, a harder python one, escalated
    to premium, not), and stats."""
    editor = await start_editor()
    utils = (tmp_path / "utils.py").as_uri()
    editor.open(utils, SIMPLE_PY, "python")
    main = (tmp_path / "main.go").as_uri()
    editor.open(main, GO, "go")
    loader = (tmp_path / "loader.py").as_uri()
    editor.open(loader, NESTED_PY, "python")

    whole = await editor.complete(utils, *SIMPLE_CURSOR)
    part = await editor.complete(main, *GO_CURSOR)
    await editor.command("tierline.escalate")  # the harder one goes to a dearer tier of its own
    higher = await editor.complete(loader, *LOADER_CURSOR)
    for c in (whole, part, higher):
        assert c.text and c.route and c.route["model"] and c.command, c
    assert higher.route["tier"] != whole.route["tier"], (whole.route, higher.route)
    assert len(part.text) > WORD_CHARS, part.text

    await editor.command(*_command(whole))
    await editor.command(*_command(part), {"kind": "word", "chars": WORD_CHARS})
    stats = await editor.command("tierline.stats")
    return {"stats": stats, "whole": whole, "part": part, "higher": higher}


def _command(completion: Any) -> list[Any]:
    return [completion.command["command"], *completion.command["arguments"]]


async def test_stats_carry_acceptance_per_model_and_language(served: dict[str, Any], tmp_path: Path) -> None:
    stats: StatsResult = served["stats"]
    whole, part, higher = served["whole"], served["part"], served["higher"]
    chars_whole = len(whole.text)
    by_language = _spend(tmp_path, "language")
    assert stats["acceptance_by_language"] == {
        "python": _figures(2, 1, chars_whole, by_language["python"]),
        "go": _figures(1, 1, WORD_CHARS, by_language["go"]),
    }
    by_model = _spend(tmp_path, "model")
    expected_models: dict[str, AcceptanceStats] = {}
    for model in {whole.route["model"], part.route["model"], higher.route["model"]}:
        mine = [c for c in (whole, part, higher) if c.route["model"] == model]
        chars = sum(chars_whole if c is whole else WORD_CHARS if c is part else 0 for c in mine)
        accepted = sum(c is not higher for c in mine)
        expected_models[model] = _figures(len(mine), accepted, chars, by_model[model])
    assert stats["acceptance_by_model"] == expected_models
    assert stats["acceptance_by_model"][higher.route["model"]]["cost_per_accepted_char_usd"] is None
    # Per tier and overall as before (the contract's `acceptance`).
    assert stats["by_tier"][higher.route["tier"]]["acceptance"]["accepted"] == 0
    assert stats["acceptance"] == _figures(3, 2, chars_whole + WORD_CHARS, sum(by_model.values()))


# -- both editors render that very answer --------------------------------------------------------


def _rate(rate: float) -> str:
    return f"{math.floor(rate * 100 + 0.5)}%"


def _per_char(value: float | None) -> str:
    """Two significant digits, as both editors print money per character."""
    if value is None:
        return "-"
    decimals = min(10, max(2, 1 - math.floor(math.log10(value))))
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    assert math.isclose(float(text), value, rel_tol=0.05), (text, value)
    return f"${text}"


def _cells(a: AcceptanceStats) -> list[str]:
    return [
        str(a["shown"]),
        str(a["accepted"]),
        _rate(a["rate"]),
        str(a["accepted_chars"]),
        str(a["retained_chars"]),
        _per_char(a["cost_per_accepted_char_usd"]),
    ]


def _rows(title: str, table: Iterable[tuple[str, AcceptanceStats]]) -> list[dict[str, Any]]:
    return [{"title": title, "name": name, "cells": _cells(a)} for name, a in table]


def _write(served: dict[str, Any], tmp_path: Path) -> Path:
    stats: StatsResult = served["stats"]
    # Shares as checkpoints give them once measured (the session is too short to measure any): the
    # window prints each as a percentage, "-" where none was measured yet.
    overall = {**stats["acceptance"], "retained": {"30s": 0.9312, "120s": 0.5, "300s": None, "600s": None}}
    stats = {**stats, "acceptance": overall}  # type: ignore[typeddict-item]
    data = {
        "stats": stats,
        "tier": served["higher"].route["tier"],
        "model": served["part"].route["model"],
        "language": "go",
        "expected_rows": [
            *_rows("accepted by tier", ((t, row["acceptance"]) for t, row in stats["by_tier"].items())),
            *_rows("accepted by model", stats["acceptance_by_model"].items()),
            *_rows("accepted by language", stats["acceptance_by_language"].items()),
        ],
        "expected_overall": (
            f"Accepted  {overall['accepted']} of {overall['shown']} shown ({_rate(overall['rate'])})"
            f"   {overall['accepted_chars']} chars accepted, {overall['retained_chars']} retained"
            f"   {_per_char(overall['cost_per_accepted_char_usd'])} per accepted char"
        ),
        "expected_retained": "Retained  "
        + "   ".join(
            f"{label} {_rate(share) if share is not None else '-'}"
            for label, share in zip(("30 s", "2 min", "5 min", "10 min"), overall["retained"].values(), strict=True)
        ),
        "empty": {**overall, "shown": 0, "accepted": 0, "rate": 0.0, "cost_per_accepted_char_usd": None},
    }
    path = tmp_path / "acceptance_stats.json"
    path.write_text(json.dumps(data))
    return path


async def test_neovim_stats_window_shows_acceptance(served: dict[str, Any], tmp_path: Path) -> None:
    from tierline import wire

    path = _write(served, tmp_path)
    output = run_lua(RENDER_LUA, tmp_path, TIERLINE_ACCEPTANCE_STATS=str(path))
    rows = len(json.loads(path.read_text())["expected_rows"])
    assert rows >= 2 + 2 + 2  # two tiers, at least two models, two languages
    assert f"# {rows + 4} passed, 0 failed" in output, output
    # wire.lua mirrors wire.py: the acceptance fields and the stats keys stats.lua reads.
    mirror = json.loads(re.search(r"^# mirror (.*)$", output, re.M).group(1))  # type: ignore[union-attr]
    assert mirror["fields"] == list(wire.AcceptanceStats.__annotations__)
    assert set(mirror["by"].values()) == {"acceptance_by_model", "acceptance_by_language"}
    assert set(mirror["by"].values()) <= set(wire.StatsResult.__annotations__)


@pytest.mark.xdist_group("vscode")  # builds editors/vscode/dist-test, as the VS Code suite does
async def test_vscode_report_shows_acceptance(served: dict[str, Any], tmp_path: Path) -> None:
    path = _write(served, tmp_path)
    stdout = run_node_test("acceptance.test.js", TIERLINE_ACCEPTANCE_STATS=str(path))
    assert re.search(r"^ok \d+ - report: a real server's tierline.stats", stdout, re.M), stdout
    assert re.search(r"^# skipped 0$", stdout, re.M) and re.search(r"^# fail 0$", stdout, re.M), stdout
