"""The ledger: one SQLite row per model call (and per cache hit), never code, never a key."""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tierline.config.paths import private_dir
from tierline.wire import NOT_FAILURES, TIERS, LedgerSummary, ModelStats, Outcome, Tier, TierStats


def _sql_text(value: str) -> str:
    """An enum value as an SQL string literal (the wire's own values: letters and underscores)."""
    assert value.replace("_", "").isalnum(), value
    return f"'{value}'"


# The SQL spells outcomes from the wire's enum, never by hand.
_OK = _sql_text(Outcome.OK.value)
_MADE_A_CALL = f"cached = 0 AND outcome != {_sql_text(Outcome.SKIPPED_BUDGET.value)}"
_FAILED = f"cached = 0 AND outcome NOT IN ({', '.join(sorted(_sql_text(str(o)) for o in NOT_FAILURES))})"

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY,
    request_id TEXT NOT NULL,
    ts REAL NOT NULL,
    day TEXT NOT NULL,
    language TEXT NOT NULL,
    tier TEXT NOT NULL,
    model TEXT NOT NULL,
    tokens_in INTEGER NOT NULL,
    tokens_out INTEGER NOT NULL,
    cost_usd REAL NOT NULL,
    baseline_usd REAL NOT NULL,
    latency_ms REAL NOT NULL,
    outcome TEXT NOT NULL,
    cached INTEGER NOT NULL,
    cached_tokens_in INTEGER NOT NULL DEFAULT 0,
    cost_source TEXT NOT NULL DEFAULT 'estimated'
);
CREATE INDEX IF NOT EXISTS calls_day ON calls(day);
"""
# Columns added after the first release: added to an older ledger when it is opened.
ADDED_COLUMNS = {
    "cached_tokens_in": "INTEGER NOT NULL DEFAULT 0",
    "cost_source": "TEXT NOT NULL DEFAULT 'estimated'",
    "redactions": "INTEGER NOT NULL DEFAULT 0",
    "bench": "INTEGER NOT NULL DEFAULT 0",
}
COST_SOURCES: tuple[str, ...] = ("reported", "usage", "estimated")


def utc_day(timestamp: float | None = None) -> str:
    return (
        dt.datetime.fromtimestamp(time.time() if timestamp is None else timestamp, dt.timezone.utc).date().isoformat()
    )


@dataclass(frozen=True)
class CallRow:
    request_id: str
    language: str
    tier: Tier
    model: str
    tokens_in: int
    tokens_out: int
    cost_usd: float
    baseline_usd: float  # what the premium tier's first model would have cost for these tokens
    latency_ms: float
    outcome: Outcome
    cached: bool
    cached_tokens_in: int = 0  # input tokens the provider served from its prompt cache
    cost_source: str = "estimated"  # "reported" by the provider, "usage" (its tokens x prices) or "estimated"
    redactions: int = 0  # secrets replaced by placeholders in the prompt (the count, never a secret)
    bench: bool = False  # a `tierline bench` call: real spend, never shown to a user (no fate, no acceptance)


class Ledger:
    FILENAME = "ledger.sqlite3"

    def __init__(self, directory: Path):
        self.path = directory / self.FILENAME
        self._directory = directory
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = open_ledger_file(self._directory, SCHEMA)
            present = {name for _, name, *_ in self._db.execute("PRAGMA table_info(calls)")}
            for name, kind in ADDED_COLUMNS.items():
                if name not in present:
                    self._db.execute(f"ALTER TABLE calls ADD COLUMN {name} {kind}")
        return self._db

    def record(self, row: CallRow, timestamp: float | None = None) -> None:
        ts = time.time() if timestamp is None else timestamp
        self._conn().execute(
            "INSERT INTO calls (request_id, ts, day, language, tier, model, tokens_in, tokens_out, cost_usd,"
            " baseline_usd, latency_ms, outcome, cached, cached_tokens_in, cost_source, redactions, bench)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                row.request_id,
                ts,
                utc_day(ts),
                row.language,
                row.tier,
                row.model,
                row.tokens_in,
                row.tokens_out,
                row.cost_usd,
                row.baseline_usd,
                row.latency_ms,
                row.outcome,
                int(row.cached),
                row.cached_tokens_in,
                row.cost_source if row.cost_source in COST_SOURCES else "estimated",
                row.redactions,
                int(row.bench),
            ),
        )

    def spent_on(self, day: str) -> float:
        (total,) = self._conn().execute("SELECT COALESCE(SUM(cost_usd), 0) FROM calls WHERE day = ?", (day,)).fetchone()
        return float(total)

    def summary(self, day: str | None = None) -> LedgerSummary:
        """Totals, per tier and per model; all time, or one UTC day."""
        where, args = ("WHERE day = ?", (day,)) if day else ("", ())
        db = self._conn()
        totals = db.execute(
            f"SELECT COUNT(DISTINCT request_id), SUM({_MADE_A_CALL}), SUM(cached),"
            f" COALESCE(SUM(cost_usd), 0), COALESCE(SUM(CASE WHEN outcome = {_OK} THEN baseline_usd ELSE 0 END), 0)"
            f" FROM calls {where}",
            args,
        ).fetchone()
        by_tier: dict[Tier, TierStats] = {
            Tier(tier): {
                "requests": requests,
                "model_calls": calls or 0,
                "cache_hits": hits or 0,
                "spend_usd": round(spend, 6),
            }
            for tier, requests, calls, hits, spend in db.execute(
                f"SELECT tier, COUNT(DISTINCT request_id), SUM({_MADE_A_CALL}), SUM(cached),"
                f" COALESCE(SUM(cost_usd), 0) FROM calls {where} GROUP BY tier",
                args,
            )
            if tier in TIERS  # every row tierline writes has one; a foreign row is no tier's
        }
        by_model: dict[str, ModelStats] = {
            model: {
                "tier": Tier(tier),
                "calls": calls or 0,
                "failures": failures or 0,
                "cache_hits": hits or 0,
                "tokens_in": tokens_in or 0,
                "tokens_out": tokens_out or 0,
                "spend_usd": round(spend, 6),
                "avg_latency_ms": round(latency or 0.0, 1),
            }
            for model, tier, calls, failures, hits, tokens_in, tokens_out, spend, latency in db.execute(
                f"SELECT model, MAX(tier), SUM({_MADE_A_CALL}),"
                f" SUM({_FAILED}), SUM(cached),"
                f" SUM(tokens_in), SUM(tokens_out), COALESCE(SUM(cost_usd), 0),"
                f" AVG(CASE WHEN cached = 0 AND outcome = {_OK} THEN latency_ms END)"
                f" FROM calls {where} GROUP BY model",
                args,
            )
            if tier in TIERS
        }
        requests, calls, hits, spend, baseline = totals
        return {
            "requests": requests or 0,
            "model_calls": calls or 0,
            "cache_hits": hits or 0,
            "spend_usd": round(spend, 6),
            "premium_baseline_usd": round(baseline, 6),
            "savings_pct": savings_pct(spend, baseline),
            "by_tier": by_tier,
            "by_model": by_model,
        }

    def daily(self, days: int = 30) -> list[dict[str, Any]]:
        """Spend and the all-premium baseline per UTC day, the last `days` days that have rows, oldest first."""
        rows = (
            self._conn()
            .execute(
                "SELECT day, COUNT(DISTINCT request_id), COALESCE(SUM(cost_usd), 0),"
                f" COALESCE(SUM(CASE WHEN outcome = {_OK} THEN baseline_usd ELSE 0 END), 0)"
                " FROM calls GROUP BY day ORDER BY day DESC LIMIT ?",
                (days,),
            )
            .fetchall()
        )
        return [
            {"day": day, "requests": requests, "spend_usd": round(spend, 9), "premium_baseline_usd": round(base, 9)}
            for day, requests, spend, base in reversed(rows)
        ]

    def by_language(self, day: str | None = None) -> dict[str, dict[str, Any]]:
        """Requests and spend per language, most requested first."""
        where, args = ("WHERE day = ?", (day,)) if day else ("", ())
        return {
            language: {"requests": requests, "spend_usd": round(spend, 9)}
            for language, requests, spend in self._conn().execute(
                f"SELECT language, COUNT(DISTINCT request_id), COALESCE(SUM(cost_usd), 0) FROM calls {where}"
                " GROUP BY language ORDER BY COUNT(DISTINCT request_id) DESC, language",
                args,
            )
        }

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def savings_pct(spend: float, baseline: float) -> float:
    return round(100.0 * (1 - spend / baseline), 1) if baseline > 0 else 0.0


def open_ledger_file(directory: Path, schema: str) -> sqlite3.Connection:
    """A connection to the ledger's SQLite file (its directory created 0700), with `schema` applied.
    The calls table and the fates table each open their own, on the same file."""
    private_dir(directory)
    db = sqlite3.connect(str(directory / Ledger.FILENAME), isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(schema)
    return db
