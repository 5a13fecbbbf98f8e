"""Money moves a request down, never up: when the tier asked for does not fit the budget, the
next cheaper tier that fits answers (`[budget] downshift = true`), and didRoute says so."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierline.accounting.budget_store import HOLD_TTL_S, Refusal
from tierline.completion.request import RequestState
from tierline.config import BudgetConfig
from tierline.routing.policy import FallbackWalk
from tierline.wire import TIERS

if TYPE_CHECKING:
    from tierline.routing.router import Router


def tiers_above(tier: str) -> set[str]:
    """The dearer tiers: a walk that met the budget here must not go on to them."""
    return set(TIERS[TIERS.index(tier) + 1 :]) if tier in TIERS else set()


def next_walk(config: BudgetConfig, router: Router, tiers: tuple[str, str], state: RequestState) -> FallbackWalk | None:
    """The walk down to the nearest cheaper tier that has a model to try, or None: downshift off,
    the tier the budget refused was not the one aimed at (a fallback up that did not fit), or
    nothing cheaper. A tier with no model (cheap and premium configured, no mid) is passed through:
    the request goes on down rather than being refused. Called again from the lower walk when that
    tier does not fit either, so the request ends at the dearest tier that fits, down to the cheapest.

    `tiers` = (the tier this walk aimed at, the tier the budget refused)."""
    aimed, refused = tiers
    if not config.downshift or aimed != refused or aimed not in TIERS:
        return None
    for lower in reversed(TIERS[: TIERS.index(aimed)]):
        walk = router.walk(lower, state.language)
        if not any(choice.model.tier == lower for choice in walk.choices):
            continue  # no model in that tier (or none worth trying): on down
        walk.skipped_tiers.update({aimed, *tiers_above(aimed)})
        if state.downshifted is None:
            state.downshifted = aimed
        state.note(f"budget: {aimed} does not fit, downshifted to {lower}")
        return walk
    return None


def reached_message(refused: Refusal) -> str:
    if refused.held:
        # Spent money leaves room; calls in flight hold the rest until they settle.
        return (
            f"tierline: {refused.detail}; calls in flight hold the rest of it, so completions pause until they "
            f"settle (seconds; at most {HOLD_TTL_S:.0f} s)."
        )
    if refused.cap == "gateway":
        return (
            f"tierline: {refused.detail}; completions through the gateway pause until its budget is raised "
            "or resets (tierline reads it again every 30 s). `tierline doctor` shows what is left."
        )
    until, key = {
        "daily": ("00:00 UTC", "daily_usd"),
        "monthly": ("the 1st of next month (UTC)", "monthly_usd"),
        "user daily": ("00:00 UTC", "user_daily_usd"),
    }.get(refused.cap, ("the budget store answers again", "store"))
    return f"tierline: {refused.detail}; completions pause until {until}. Raise [budget] {key} to continue."
