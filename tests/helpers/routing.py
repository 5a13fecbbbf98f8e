"""A router over hand-written models, with a clock the test moves."""

from __future__ import annotations

from tierline.config import DEFAULTS, deep_merge, parse_config
from tierline.routing.router import Router


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def model(name: str, tier: str, price: float, host: str = "a", **extra) -> dict:
    return {
        "name": name,
        "tier": tier,
        "base_url": f"http://{host}.test/v1",
        "model": name,
        "input_per_mtok": price,
        "output_per_mtok": price * 2,
        **extra,
    }


def router_for(models: list[dict], **routing) -> tuple[Router, Clock]:
    config = parse_config(deep_merge(DEFAULTS, {"models": models, "routing": routing}))
    clock = Clock()
    return Router(config, clock), clock


TWO_CHEAP = [
    model("cheaper", "cheap", 0.1, "a"),
    model("pricier", "cheap", 0.2, "b"),
    model("mid", "mid", 1.0, "c"),
    model("top", "premium", 5.0, "d"),
]


def names(choices) -> list[str]:
    return [c.model.name for c in choices]
