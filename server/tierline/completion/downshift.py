"""Money moves a request down, never up: when the tier asked for does not fit the budget, the
next cheaper tier that fits answers (`[budget] downshift = true`), and didRoute says so."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierline.accounting.budget_store import HOLD_TTL_S, Refusal
from tierline.completion.request import RequestState
from tierline.config import BudgetConfig
from tierline.routing.policy import FallbackWalk
from tierline.wire import Tier

if TYPE_CHECKING:
    from tierline.routing.router import Router


def next_walk(
    config: BudgetConfig, router: Router, tiers: tuple[Tier | None, Tier | None], state: RequestState
) -> FallbackWalk | None:
    """The walk down to the nearest cheaper tier that has a model to try (routing/policy.py:
    `downshift_walk`), or None: downshift off, the tier the budget refused was not the one aimed at
    (a fallback up that did not fit), or nothing cheaper. Called again from the lower walk when that
    tier does not fit either, so the request ends at the dearest tier that fits, down to the cheapest.

    `tiers` = (the tier this walk aimed at, the tier the budget refused)."""
    aimed, refused = tiers
    if not config.downshift or aimed is None or aimed != refused:
        return None
    lower = router.downshift_walk(aimed, state.language)
    if lower is None:
        return None
    tier, walk = lower
    if state.downshifted is None:
        state.downshifted = aimed
    state.note(f"budget: {aimed} does not fit, downshifted to {tier}")
    return walk


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
