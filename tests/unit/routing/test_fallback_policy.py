"""The orders routing/policy.py decides besides `plan`: the budget's (never up a tier, never a
model that costs as much or more), the downshift's (the nearest cheaper tier with a model) and an
alternative's (its own tier only). No LSP, no HTTP."""

from __future__ import annotations

from typing import Any

from tierline.config import DEFAULTS, deep_merge, parse_config
from tierline.routing.policy import FallbackWalk, tiers_above, tiers_below
from tierline.routing.router import Router
from tierline.wire import Tier


def router_for(*models: dict[str, Any]) -> Router:
    return Router(parse_config(deep_merge(DEFAULTS, {"models": list(models)})))


def model(name: str, tier: str, price: float) -> dict[str, Any]:
    return {
        "name": name,
        "tier": tier,
        "base_url": f"http://{name}.test/v1",
        "model": name,
        "input_per_mtok": price,
        "output_per_mtok": price * 2,
    }


CHEAP_A, CHEAP_B = model("cheap-a", "cheap", 0.1), model("cheap-b", "cheap", 0.2)
MID, TOP = model("mid", "mid", 1.0), model("top", "premium", 5.0)


def names(walk: FallbackWalk) -> list[str]:
    return [choice.model.name for choice in walk]


def test_tiers_above_and_below_are_the_dearer_and_the_cheaper_nearest_first() -> None:
    assert tiers_above(Tier.CHEAP) == {Tier.MID, Tier.PREMIUM}
    assert tiers_above(Tier.PREMIUM) == set()
    assert tiers_below(Tier.PREMIUM) == [Tier.MID, Tier.CHEAP]
    assert tiers_below(Tier.CHEAP) == []


def test_a_budget_refusal_ends_the_way_up_and_leaves_only_cheaper_models() -> None:
    walk = router_for(CHEAP_A, CHEAP_B, MID, TOP).walk(Tier.CHEAP, "python")
    assert names(walk) == ["cheap-a", "cheap-b", "mid", "top"]
    first = walk.choices[0].model
    walk.note_refused(first, 0.002)
    assert names(walk) == ["cheap-a", "cheap-b"]  # no tier above the refused model's
    assert walk.refused_tier == Tier.CHEAP and walk.aimed == Tier.CHEAP
    assert walk.affordable(0.0019) and not walk.affordable(0.002) and not walk.affordable(0.003)


def test_a_walk_with_no_refusal_affords_anything() -> None:
    walk = router_for(CHEAP_A).walk(Tier.CHEAP, "python")
    assert walk.affordable(1e9) and walk.refused_tier is None


def test_the_downshift_walks_the_nearest_cheaper_tier_with_a_model_and_never_back_up() -> None:
    router = router_for(CHEAP_A, MID, TOP)
    lower = router.downshift_walk(Tier.PREMIUM, "python")
    assert lower is not None
    tier, walk = lower
    assert tier == Tier.MID and names(walk) == ["mid"]  # its fallback up stops below premium
    # No mid model: on down to cheap rather than refused.
    lower = router_for(CHEAP_A, TOP).downshift_walk(Tier.PREMIUM, "python")
    assert lower is not None and lower[0] == Tier.CHEAP and names(lower[1]) == ["cheap-a"]
    assert router.downshift_walk(Tier.CHEAP, "python") is None  # nothing cheaper


def test_an_alternative_walks_its_own_tier_only() -> None:
    router = router_for(CHEAP_A, CHEAP_B, MID, TOP)
    assert names(router.tier_walk(Tier.CHEAP, "python")) == ["cheap-a", "cheap-b"]
    assert names(router.tier_walk(Tier.PREMIUM, "python")) == ["top"]
    assert names(router_for(CHEAP_A, TOP).tier_walk(Tier.MID, "python")) == []
