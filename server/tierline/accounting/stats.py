"""`tierline.stats`: the ledger's totals joined with what routing knows live about each model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierline.accounting.books import Books
from tierline.config import Config
from tierline.wire import ModelStats, StatsResult

if TYPE_CHECKING:
    from tierline.routing.router import Router


def usage_stats(books: Books, router: Router, config: Config) -> StatsResult:
    summary = books.summary()
    today = books.today()
    live = router.health.model_stats(summary["by_model"].keys())
    by_model: dict[str, ModelStats] = {}
    for name in sorted(set(summary["by_model"]) | set(live)):
        row = dict(summary["by_model"].get(name, {"calls": 0, "failures": 0, "spend_usd": 0.0}))
        row.update(live.get(name, {"ewma_ms": None, "p95_ms": None}))
        by_model[name] = row  # type: ignore[assignment]
    cap = config.budget.daily_usd
    spent = round(books.spent_today(), 6)
    return {
        "requests": summary["requests"],
        "model_calls": summary["model_calls"],
        "cache_hits": summary["cache_hits"],
        "spend_usd": summary["spend_usd"],
        "premium_baseline_usd": summary["premium_baseline_usd"],
        "savings_pct": summary["savings_pct"],
        "by_tier": summary["by_tier"],
        "by_model": by_model,
        "today": {
            "requests": today["requests"],
            "spend_usd": today["spend_usd"],
            "premium_baseline_usd": today["premium_baseline_usd"],
            "savings_pct": today["savings_pct"],
        },
        "budget": {
            "daily_usd": cap,
            "spent_today_usd": spent,
            "remaining_usd": round(max(0.0, cap - spent), 6) if cap > 0 else None,
            "reached": cap > 0 and spent >= cap,
        },
        "escalate_next": router.tiers.escalate_next,
        "warnings": books.warnings,
    }
