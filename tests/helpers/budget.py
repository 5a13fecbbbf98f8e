"""The budget's test pieces: documents of the same worst case, the ledger's money columns, a store per kind."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tierline.accounting.budget import Budget, Hooks
from tierline.commands.demo import LOADER_CURSOR, NESTED_PY
from tierline.config import BudgetConfig

MAX_TOKENS = 128


CHEAP = {"input_per_mtok": 0.14, "output_per_mtok": 0.28}  # deepseek-v4-flash, the sim default


def document(index: int) -> str:
    # Same length for every index, so every request's worst case is the same.
    return f"def scale_{index:03d}(values, factor):\n    total = 0\n    for v in values:\n        total += v * "


CURSOR = (3, 21)


def ledger_rows(tmp_path: Path) -> list[tuple]:
    with sqlite3.connect(tmp_path / "state" / "ledger.sqlite3") as db:
        return db.execute("SELECT model, tokens_in, tokens_out, cost_usd, outcome, cost_source FROM calls").fetchall()


async def worst_case(editor, tmp_path: Path) -> float:
    uri = open_document(editor, tmp_path, 999)
    explained = await editor.command("tierline.explain", uri, {"line": CURSOR[0], "character": CURSOR[1]})
    tokens = explained["features"]["context_tokens"]
    return (tokens * CHEAP["input_per_mtok"] + MAX_TOKENS * CHEAP["output_per_mtok"]) / 1_000_000


def open_document(editor, tmp_path: Path, index: int) -> str:
    path = tmp_path / f"scale_{index:03d}.py"
    path.write_text(document(index))
    editor.open(path.as_uri(), document(index), "python")
    return path.as_uri()


async def premium_request(start_editor, tmp_path, budget: dict):
    editor = await start_editor({"budget": budget, "routing": {"thresholds": {"mid": 0.05, "premium": 0.1}}})
    path = tmp_path / "loader.py"
    path.write_text(NESTED_PY)
    editor.open(path.as_uri(), NESTED_PY, "python")
    explained = await editor.command(
        "tierline.explain", path.as_uri(), {"line": LOADER_CURSOR[0], "character": LOADER_CURSOR[1]}
    )
    assert explained["tier"] == "premium"
    tokens = explained["features"]["context_tokens"]
    return editor, path.as_uri(), tokens


def worst(tokens: int, input_per_mtok: float, output_per_mtok: float) -> float:
    return (tokens * input_per_mtok + MAX_TOKENS * output_per_mtok) / 1_000_000


WORST = 0.001  # one call's worst case, USD


REAL = 0.0004  # what each call really costs


CAP = 10 * WORST  # fits 10 calls at their worst case


DAY1 = 1_795_000_000.0  # 2026-11-17 (UTC)


class Recorder:
    def __init__(self) -> None:
        self.messages: list[str] = []
        self.faults: list[str] = []

    def hooks(self, clock=None) -> Hooks:
        notify = lambda level, text: self.messages.append(text)  # noqa: E731
        fault = lambda store, error: self.faults.append(f"{store}: {error}")  # noqa: E731
        return Hooks(notify, fault, clock) if clock else Hooks(notify, fault)


def make_budget(store: str, directory: Path, recorder: Recorder, clock=None, **caps) -> Budget:
    config = BudgetConfig(store=store, user=caps.pop("user", "ada"), **{"daily_usd": CAP, **caps})
    return Budget(config, directory, recorder.hooks(clock))
