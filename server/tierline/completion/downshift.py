"""Money moves a request down, never up: when the tier asked for does not fit the budget, the
next cheaper tier that fits answers (`[budget] downshift = true`), and didRoute says so."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierline.accounting.budget_store import Refusal
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
    """The walk one tier down, or None: downshift off, the tier the budget refused was not the one
    aimed at (a fallback up that did not fit), or nothing cheaper.

    `tiers` = (the tier this walk aimed at, the tier the budget refused)."""
    aimed, refused = tiers
    if not config.downshift or aimed != refused or aimed not in TIERS or TIERS.index(aimed) == 0:
        return None
    lower = TIERS[TIERS.index(aimed) - 1]
    walk = router.walk(lower, state.language)
    walk.skipped_tiers.update({aimed, *tiers_above(aimed)})
    if state.downshifted is None:
        state.downshifted = aimed
    state.note(f"budget: {aimed} does not fit, downshifted to {lower}")
    return walk


def reached_message(refused: Refusal) -> str:
    until, key = {
        "daily": ("00:00 UTC", "daily_usd"),
        "monthly": ("the 1st of next month (UTC)", "monthly_usd"),
        "user daily": ("00:00 UTC", "user_daily_usd"),
    }.get(refused.cap, ("the budget store answers again", "store"))
    return f"tierline: {refused.detail}; completions pause until {until}. Raise [budget] {key} to continue."
