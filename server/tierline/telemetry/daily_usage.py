"""`tierline report --ndjson`: one JSON line per UTC day, in GitHub Copilot's usage-metrics field names
where they apply, so a team's existing Copilot dashboards read tierline's usage too.

From the ledger only (the `calls` and `fates` tables: counts, tokens and spend, never code):

- Copilot's usage-metrics export (NDJSON, one record per day): `day`,
  `code_generation_activity_count` (completions shown), `code_acceptance_activity_count`
  (accepted, whole or partly), `totals_by_feature` and `totals_by_language_feature` with
  `feature = "code_completion"`.
- The earlier Copilot usage API: `total_suggestions_count`, `total_acceptances_count`,
  `total_active_users`, and `breakdown` per language (`suggestions_count`, `acceptances_count`,
  `active_users`).
- The Copilot metrics API: `date`, `total_active_users`, `total_engaged_users`, and
  `copilot_ide_code_completions` (`total_engaged_users`, `languages` with `name`).

Left out because the ledger does not know them: lines of code (tierline counts characters:
`tierline_accepted_chars`), the editor (`editor`, `totals_by_ide`, `editors`). One ledger is one
user, so the user counts are 1 on a day with a completion shown (active) or accepted (engaged), else 0.

tierline's own fields start with `tierline_`: spend, the all-premium baseline, requests, model
calls, cache hits, tokens and characters, and the same per tier in `tierline_by_tier`.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from tierline.accounting.acceptance import ACCEPTED_FATES
from tierline.wire import Outcome

FEATURE = "code_completion"
TIER_ORDER = ("cheap", "mid", "premium")


def _calls_by_day_tier(db: sqlite3.Connection) -> dict[tuple[str, str], dict[str, Any]]:
    rows = db.execute(
        "SELECT day, tier, COUNT(DISTINCT request_id), SUM(cached = 0 AND outcome != ?), SUM(cached),"
        " COALESCE(SUM(cost_usd), 0), COALESCE(SUM(CASE WHEN outcome = ? THEN baseline_usd ELSE 0 END), 0),"
        " COALESCE(SUM(tokens_in), 0), COALESCE(SUM(tokens_out), 0)"
        " FROM calls GROUP BY day, tier",
        (Outcome.SKIPPED_BUDGET.value, Outcome.OK.value),
    )
    return {
        (str(day), str(tier)): {
            "requests": int(requests),
            "model_calls": int(calls or 0),
            "cache_hits": int(hits or 0),
            "cost_usd": float(cost),
            "premium_baseline_usd": float(baseline),
            "tokens_in": int(tokens_in),
            "tokens_out": int(tokens_out),
        }
        for day, tier, requests, calls, hits, cost, baseline, tokens_in, tokens_out in rows
    }


def _requests_by_day(db: sqlite3.Connection) -> dict[str, int]:
    """Requests per day, each once (a request that moved down a tier has rows in two)."""
    return {str(day): int(n) for day, n in db.execute("SELECT day, COUNT(DISTINCT request_id) FROM calls GROUP BY day")}


def _fates_by_day(db: sqlite3.Connection, column: str) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(shown, accepted, accepted characters) per (day, tier or language)."""
    try:
        rows = db.execute(
            f"SELECT day, {column}, COUNT(*), SUM(fate IN (?, ?)), COALESCE(SUM(accepted_chars), 0)"
            f" FROM fates GROUP BY day, {column}",
            ACCEPTED_FATES,
        ).fetchall()
    except sqlite3.OperationalError:  # no fates table yet: nothing was shown
        return {}
    return {
        (str(day), str(key)): (int(shown), int(accepted or 0), int(chars)) for day, key, shown, accepted, chars in rows
    }


def _tier_key(tier: str) -> tuple[int, str]:
    return (TIER_ORDER.index(tier) if tier in TIER_ORDER else len(TIER_ORDER), tier)


@dataclass(frozen=True)
class LedgerTables:
    """The ledger read once: calls per (day, tier), requests per day, fates per (day, tier|language)."""

    calls: dict[tuple[str, str], dict[str, Any]]
    requests: dict[str, int]
    by_tier: dict[tuple[str, str], tuple[int, int, int]]
    by_language: dict[tuple[str, str], tuple[int, int, int]]


def daily_usage(db: sqlite3.Connection) -> list[dict[str, Any]]:
    """One record per UTC day that has calls or shown completions, oldest first."""
    tables = LedgerTables(
        _calls_by_day_tier(db), _requests_by_day(db), _fates_by_day(db, "tier"), _fates_by_day(db, "language")
    )
    keys = [*tables.calls, *tables.by_tier, *tables.by_language]
    tiers: dict[str, set[str]] = defaultdict(set)
    for day, tier in [*tables.calls, *tables.by_tier]:
        tiers[day].add(tier)
    return [_day_record(day, sorted(tiers[day], key=_tier_key), tables) for day in sorted({day for day, _ in keys})]


def _day_record(day: str, tiers: list[str], tables: LedgerTables) -> dict[str, Any]:
    calls, by_tier, by_language = tables.calls, tables.by_tier, tables.by_language
    empty_calls = {"requests": 0, "model_calls": 0, "cache_hits": 0, "cost_usd": 0.0}
    empty_calls |= {"premium_baseline_usd": 0.0, "tokens_in": 0, "tokens_out": 0}
    tier_rows: dict[str, dict[str, Any]] = {}
    for tier in tiers:
        spent = calls.get((day, tier), empty_calls)
        shown, accepted, chars = by_tier.get((day, tier), (0, 0, 0))
        tier_rows[tier] = {
            "suggestions_count": shown,
            "acceptances_count": accepted,
            "accepted_chars": chars,
            "requests": spent["requests"],
            "model_calls": spent["model_calls"],
            "cache_hits": spent["cache_hits"],
            "tokens_in": spent["tokens_in"],
            "tokens_out": spent["tokens_out"],
            "cost_usd": round(spent["cost_usd"], 9),
        }
    languages = sorted(language for d, language in by_language if d == day)
    shown = sum(row["suggestions_count"] for row in tier_rows.values())
    accepted = sum(row["acceptances_count"] for row in tier_rows.values())
    active, engaged = int(shown > 0), int(accepted > 0)

    def language_counts(language: str) -> tuple[int, int]:
        counts = by_language[(day, language)]
        return counts[0], counts[1]

    return {
        "day": day,
        "date": day,
        # Copilot's usage-metrics export.
        "code_generation_activity_count": shown,
        "code_acceptance_activity_count": accepted,
        "totals_by_feature": [
            {"feature": FEATURE, "code_generation_activity_count": shown, "code_acceptance_activity_count": accepted}
        ],
        "totals_by_language_feature": [
            {
                "language": language,
                "feature": FEATURE,
                "code_generation_activity_count": language_counts(language)[0],
                "code_acceptance_activity_count": language_counts(language)[1],
            }
            for language in languages
        ],
        # The earlier usage API and the metrics API.
        "total_suggestions_count": shown,
        "total_acceptances_count": accepted,
        "total_active_users": active,
        "total_engaged_users": engaged,
        "breakdown": [
            {
                "language": language,
                "suggestions_count": language_counts(language)[0],
                "acceptances_count": language_counts(language)[1],
                "active_users": int(language_counts(language)[0] > 0),
            }
            for language in languages
        ],
        "copilot_ide_code_completions": {
            "total_engaged_users": engaged,
            "languages": [
                {"name": language, "total_engaged_users": int(language_counts(language)[1] > 0)}
                for language in languages
            ],
        },
        # tierline's own.
        "tierline_cost_usd": round(sum(calls.get((day, t), empty_calls)["cost_usd"] for t in tiers), 9),
        "tierline_premium_baseline_usd": round(
            sum(calls.get((day, t), empty_calls)["premium_baseline_usd"] for t in tiers), 9
        ),
        "tierline_requests": tables.requests.get(day, 0),  # each request once, whatever its tiers
        "tierline_model_calls": sum(row["model_calls"] for row in tier_rows.values()),
        "tierline_cache_hits": sum(row["cache_hits"] for row in tier_rows.values()),
        "tierline_tokens_in": sum(row["tokens_in"] for row in tier_rows.values()),
        "tierline_tokens_out": sum(row["tokens_out"] for row in tier_rows.values()),
        "tierline_accepted_chars": sum(row["accepted_chars"] for row in tier_rows.values()),
        "tierline_by_tier": tier_rows,
    }
