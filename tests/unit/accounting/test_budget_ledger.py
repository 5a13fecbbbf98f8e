"""Costs that are right: cached input at the cached price, the premium baseline for the same tokens,
what the ledger keeps (cached tokens, whether the cost was reported, priced from usage or estimated), an old ledger."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from tierline.accounting.budget_store import to_nano
from tierline.accounting.ledger import CallRow, Ledger
from tierline.completion.request import Charge
from tierline.config import ModelSpec, default_config
from tierline.providers.base import CallResult
from tierline.wire import Outcome

CHEAP = ModelSpec(
    "c", "cheap", "http://127.0.0.1:9/v1", "c", input_per_mtok=0.14, output_per_mtok=0.28, cached_input_per_mtok=0.014
)


def test_cached_input_is_priced_at_the_cached_price_and_kept_in_the_ledger(tmp_path):
    call = CallResult(
        "x",
        tokens_in=1000,
        tokens_out=50,
        cached_tokens_in=600,
        usage_reported=True,
        latency_ms=100.0,
        first_token_ms=50.0,
    )
    charge = Charge.of_call(CHEAP, Outcome.OK, call)

    assert to_nano(charge.cost_usd) == 400 * 140 + 600 * 14 + 50 * 280
    assert (charge.cached_tokens_in, charge.cost_source) == (600, "usage")

    ledger = Ledger(tmp_path)
    ledger.record(
        CallRow(
            "r",
            "python",
            "cheap",
            "c",
            1000,
            50,
            charge.cost_usd,
            0.0,
            100.0,
            "ok",
            False,
            charge.cached_tokens_in,
            charge.cost_source,
        )
    )
    with sqlite3.connect(ledger.path) as db:
        assert db.execute("SELECT cached_tokens_in, cost_source FROM calls").fetchall() == [(600, "usage")]


def test_a_cost_the_provider_reported_wins_and_says_so():
    call = CallResult("x", 1000, 50, 0, True, 100.0, None)
    object.__setattr__(call, "cost_usd_reported", 0.000123)  # the providers' reported figure, when they send one
    charge = Charge.of_call(CHEAP, Outcome.OK, call)
    assert (charge.cost_usd, charge.cost_source) == (0.000123, "reported")


def test_the_premium_baseline_prices_the_same_tokens_cached_ones_included():
    from tierline.completion.pipeline import CompletionEngine

    config = default_config()
    premium = replace(config.models_in("premium")[0], cached_input_per_mtok=0.5)
    config = replace(config, models=tuple(m if m.tier != "premium" else premium for m in config.models))
    engine = CompletionEngine(config)
    try:
        # claude-opus: $5 in, $25 out, $0.50 cached in, per Mtok.
        assert to_nano(engine.baseline_cost(1000, 50, 600)) == 400 * 5000 + 600 * 500 + 50 * 25000
        assert to_nano(engine.baseline_cost(1000, 50)) == 1000 * 5000 + 50 * 25000
    finally:
        engine.books.close()


def test_an_old_ledger_gains_the_new_columns(tmp_path):
    with sqlite3.connect(tmp_path / Ledger.FILENAME) as db:
        db.execute(
            "CREATE TABLE calls (id INTEGER PRIMARY KEY, request_id TEXT NOT NULL, ts REAL NOT NULL,"
            " day TEXT NOT NULL, language TEXT NOT NULL, tier TEXT NOT NULL, model TEXT NOT NULL,"
            " tokens_in INTEGER NOT NULL, tokens_out INTEGER NOT NULL, cost_usd REAL NOT NULL,"
            " baseline_usd REAL NOT NULL, latency_ms REAL NOT NULL, outcome TEXT NOT NULL, cached INTEGER NOT NULL)"
        )
        db.execute("INSERT INTO calls VALUES (1,'old',0,'2026-01-01','python','cheap','c',10,5,0.001,0.01,1,'ok',0)")
    ledger = Ledger(tmp_path)
    ledger.record(CallRow("new", "python", "cheap", "c", 10, 5, 0.002, 0.01, 1.0, "ok", False, 3, "reported"))
    with sqlite3.connect(ledger.path) as db:
        rows = db.execute("SELECT request_id, cached_tokens_in, cost_source FROM calls ORDER BY id").fetchall()
    assert rows == [("old", 0, "estimated"), ("new", 3, "reported")]
