"""completion/alternatives.py in isolation: what "close to a boundary" is, which tiers are asked, and
that a fault there never costs the first answer."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tierline.completion.alternatives import CLOSE, near_boundary, tiers_to_ask, with_alternatives
from tierline.completion.request import Answer, Item, Routed
from tierline.config import Thresholds

THRESHOLDS = Thresholds(0.35, 0.70)


@pytest.mark.parametrize(
    ("score", "near"),
    [(0.25, True), (0.35, True), (0.45, True), (0.46, False), (0.24, False), (0.60, True), (0.80, True), (0.81, False)],
)
def test_close_means_within_a_tenth_of_either_threshold(score, near):
    assert CLOSE == 0.10
    assert near_boundary(score, THRESHOLDS) is near


def test_the_tiers_beside_the_chosen_one():
    assert tiers_to_ask("mid") == ["cheap", "premium"]
    assert tiers_to_ask("cheap") == ["premium"]
    assert tiers_to_ask("premium") == ["cheap"]


class Broken:
    @property
    def config(self):
        raise RuntimeError("a bug in alternatives")


def test_a_fault_in_alternatives_answers_with_the_first_item_alone(caplog):
    route = {"request_id": "r1", "tier": "mid", "model": "m", "alternatives": []}
    routed = Routed("text", route, None, [Item("x", Answer("other", "m2", "cheap"))])  # type: ignore[arg-type]

    with caplog.at_level(logging.ERROR):
        out = asyncio.run(with_alternatives(Broken(), routed, None))  # type: ignore[arg-type]

    assert out.text == "text" and out.alternatives == [] and out.route["alternatives"] == []
    assert "alternatives failed" in caplog.text


def test_a_layer_the_user_did_not_write_may_turn_alternatives_off_never_on():
    from tierline.config.model import DEFAULTS
    from tierline.config.tighten import tighten

    off = {**DEFAULTS, "completion": {**DEFAULTS["completion"], "alternatives": False}}

    assert tighten(DEFAULTS, {"completion": {"alternatives": False}}).data["completion"] == {"alternatives": False}
    loosened = tighten(off, {"completion": {"alternatives": True}})
    assert "alternatives" not in loosened.data.get("completion", {})
    assert loosened.ignored == ["completion.alternatives"]
