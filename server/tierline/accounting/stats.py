"""`tierline.stats`: the ledger's totals joined with what routing knows live about each model."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, cast

from tierline.accounting.acceptance import empty_acceptance, empty_summary
from tierline.accounting.books import Books
from tierline.config import Config
from tierline.wire import BudgetStats, GatewayBudgetStats, ModelStats, StatsResult, Tier, TierStats


# What the stats read of routing (`routing/router.py:Router` is one), named here so that
# accounting, below routing, does not import it.
class _LiveHealth(Protocol):
    def model_stats(self, names: Iterable[str]) -> dict[str, dict[str, float | None | str]]: ...


class _Escalation(Protocol):
    @property
    def escalate_next(self) -> bool: ...


class LiveRouting(Protocol):
    @property
    def health(self) -> _LiveHealth: ...

    @property
    def tiers(self) -> _Escalation: ...


def usage_stats(books: Books, router: LiveRouting, config: Config) -> StatsResult:
    summary = books.summary()
    today = books.today()
    live = router.health.model_stats(summary["by_model"].keys())
    by_model: dict[str, ModelStats] = {}
    for name in sorted(set(summary["by_model"]) | set(live)):
        row = dict(summary["by_model"].get(name, {"calls": 0, "failures": 0, "spend_usd": 0.0}))
        row.update(live.get(name, {"ewma_ms": None, "p95_ms": None}))
        by_model[name] = row  # type: ignore[assignment]
    budget = cast(BudgetStats, books.budget_status()) or fallback_budget(config)
    acceptance = books.with_fates(lambda fates: fates.summary(), None) or empty_summary()
    by_tier: dict[Tier, TierStats] = {
        tier: {**row, "acceptance": acceptance["by_tier"].get(tier, empty_acceptance())}
        for tier, row in summary["by_tier"].items()
    }
    return {
        "requests": summary["requests"],
        "model_calls": summary["model_calls"],
        "cache_hits": summary["cache_hits"],
        "spend_usd": summary["spend_usd"],
        "premium_baseline_usd": summary["premium_baseline_usd"],
        "savings_pct": summary["savings_pct"],
        "by_tier": by_tier,
        "by_model": by_model,
        "today": {
            "requests": today["requests"],
            "spend_usd": today["spend_usd"],
            "premium_baseline_usd": today["premium_baseline_usd"],
            "savings_pct": today["savings_pct"],
        },
        "budget": budget,
        "gateway_budget": cast(GatewayBudgetStats | None, books.gateway_status()),
        "escalate_next": router.tiers.escalate_next,
        "warnings": books.warnings,
        "acceptance": acceptance["overall"],
        "acceptance_by_model": acceptance["by_model"],
        "acceptance_by_language": acceptance["by_language"],
    }


def fallback_budget(config: Config) -> BudgetStats:
    """What stats say when the budget itself cannot be read (its fault is in `warnings`)."""
    b = config.budget
    return {
        "daily_usd": b.daily_usd,
        "spent_today_usd": 0.0,
        "remaining_usd": None,
        "reached": False,
        "monthly_usd": b.monthly_usd,
        "spent_month_usd": 0.0,
        "remaining_month_usd": None,
        "reserved_usd": 0.0,
        "user": b.user,
        "user_spent_today_usd": 0.0,
        "store": "unknown",
        "downshift": b.downshift,
        "warning": False,
    }
