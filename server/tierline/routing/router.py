"""Routing's face to the pipeline: the tier decision (`tiers`), model health (`health`) and the
fallback plan (`policy`) over one config."""

from __future__ import annotations

import time
from collections.abc import Callable

from tierline.config import Config
from tierline.routing import policy
from tierline.routing.health import Health
from tierline.routing.policy import Choice, FallbackWalk
from tierline.routing.tiers import TierDecider, TierDecision
from tierline.wire import Tier


class Router:
    def __init__(self, config: Config, clock: Callable[[], float] = time.monotonic):
        self.config = config
        self.health = Health(config, clock)
        self.tiers = TierDecider(clock)

    def reconfigure(self, config: Config) -> None:
        self.config = config
        self.health.reconfigure(config)

    def decide_tier(self, score: float, language: str, consume_escalation: bool = True) -> TierDecision:
        thresholds = self.config.routing.thresholds_for(language)
        return self.tiers.decide(score, language, thresholds, consume_escalation)

    def order_tier(self, tier: Tier, language: str) -> list[Choice]:
        return policy.order_tier(self.config, self.health, tier, language)

    def plan(self, tier: Tier, language: str) -> list[Choice]:
        return policy.plan(self.config, self.health, tier, language)

    def walk(self, tier: Tier, language: str) -> FallbackWalk:
        return FallbackWalk(self.plan(tier, language))

    def tier_walk(self, tier: Tier, language: str) -> FallbackWalk:
        return policy.tier_walk(self.config, self.health, tier, language)

    def downshift_walk(self, aimed: Tier, language: str) -> tuple[Tier, FallbackWalk] | None:
        return policy.downshift_walk(self.config, self.health, aimed, language)
