"""The ledger: one SQLite row per model call (and per cache hit), never code, never a key."""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tierline.config.paths import private_dir

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
    cached INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_day ON calls(day);
"""


def utc_day(timestamp: float | None = None) -> str:
    return (
        dt.datetime.fromtimestamp(time.time() if timestamp is None else timestamp, dt.timezone.utc).date().isoformat()
    )


@dataclass(frozen=True)
class CallRow:
    request_id: str
    language: str
    tier: str
    model: str
    tokens_in: int
    tokens_out: int
    cost_usd: float
    baseline_usd: float  # what the premium tier's first model would have cost for these tokens
    latency_ms: float
    outcome: str
    cached: bool
    redactions: int = 0  # secrets replaced by placeholders in the prompt (the count, never a secret)


class Ledger:
    FILENAME = "ledger.sqlite3"

    def __init__(self, directory: Path):
        self.path = directory / self.FILENAME
        self._directory = directory
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            private_dir(self._directory)
            self._db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            _add_column(self._db, "redactions", "INTEGER NOT NULL DEFAULT 0")
        return self._db

    def record(self, row: CallRow, timestamp: float | None = None) -> None:
        ts = time.time() if timestamp is None else timestamp
        self._conn().execute(
            "INSERT INTO calls (request_id, ts, day, language, tier, model, tokens_in, tokens_out, cost_usd,"
            " baseline_usd, latency_ms, outcome, cached, redactions) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
                row.redactions,
            ),
        )

    def spent_on(self, day: str) -> float:
        (total,) = self._conn().execute("SELECT COALESCE(SUM(cost_usd), 0) FROM calls WHERE day = ?", (day,)).fetchone()
        return float(total)

    def summary(self, day: str | None = None) -> dict[str, Any]:
        """Totals, per tier and per model; all time, or one UTC day."""
        where, args = ("WHERE day = ?", (day,)) if day else ("", ())
        db = self._conn()
        totals = db.execute(
            f"SELECT COUNT(DISTINCT request_id), SUM(cached = 0 AND outcome != 'skipped_budget'), SUM(cached),"
            f" COALESCE(SUM(cost_usd), 0), COALESCE(SUM(CASE WHEN outcome = 'ok' THEN baseline_usd ELSE 0 END), 0)"
            f" FROM calls {where}",
            args,
        ).fetchone()
        by_tier = {
            tier: {
                "requests": requests,
                "model_calls": calls or 0,
                "cache_hits": hits or 0,
                "spend_usd": round(spend, 6),
            }
            for tier, requests, calls, hits, spend in db.execute(
                f"SELECT tier, COUNT(DISTINCT request_id), SUM(cached = 0 AND outcome != 'skipped_budget'), SUM(cached),"
                f" COALESCE(SUM(cost_usd), 0) FROM calls {where} GROUP BY tier",
                args,
            )
        }
        by_model = {
            model: {
                "tier": tier,
                "calls": calls or 0,
                "failures": failures or 0,
                "cache_hits": hits or 0,
                "tokens_in": tokens_in or 0,
                "tokens_out": tokens_out or 0,
                "spend_usd": round(spend, 6),
                "avg_latency_ms": round(latency or 0.0, 1),
            }
            for model, tier, calls, failures, hits, tokens_in, tokens_out, spend, latency in db.execute(
                f"SELECT model, MAX(tier), SUM(cached = 0 AND outcome != 'skipped_budget'),"
                f" SUM(cached = 0 AND outcome NOT IN ('ok', 'cancelled', 'skipped_budget')), SUM(cached),"
                f" SUM(tokens_in), SUM(tokens_out), COALESCE(SUM(cost_usd), 0),"
                f" AVG(CASE WHEN cached = 0 AND outcome = 'ok' THEN latency_ms END)"
                f" FROM calls {where} GROUP BY model",
                args,
            )
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

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def savings_pct(spend: float, baseline: float) -> float:
    return round(100.0 * (1 - spend / baseline), 1) if baseline > 0 else 0.0


def _add_column(db: sqlite3.Connection, name: str, declaration: str) -> None:
    """A column added after the first release: older ledgers get it on open (additive)."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(calls)")}
    if name not in columns:
        db.execute(f"ALTER TABLE calls ADD COLUMN {name} {declaration}")
