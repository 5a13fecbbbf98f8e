"""The tier decision, in one place: the score against the thresholds (per language where
calibrated), then the user's one-shot escalation and a language's escalation after invalid cheap
answers. Never down: nothing here moves a request to a cheaper tier.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from tierline.config import Thresholds
from tierline.wire import Tier

# Invalid answers: two from the cheap tier within this window escalate the language for a while.
INVALID_WINDOW_S = 120.0
INVALID_TO_ESCALATE = 2
LANGUAGE_ESCALATION_S = 300.0


def choose_tier(score: float, thresholds: Thresholds) -> Tier:
    """Premium at or above thresholds.premium, mid at or above thresholds.mid, else cheap."""
    if score >= thresholds.premium:
        return Tier.PREMIUM
    if score >= thresholds.mid:
        return Tier.MID
    return Tier.CHEAP


def score_reason(score: float, tier: Tier, thresholds: Thresholds) -> str:
    """Why the score alone gives this tier, e.g. 'score 0.48 >= mid 0.35'."""
    comparison = {
        Tier.CHEAP: f"< mid {thresholds.mid:.2f}",
        Tier.MID: f">= mid {thresholds.mid:.2f}",
        Tier.PREMIUM: f">= premium {thresholds.premium:.2f}",
    }[tier]
    return f"score {score:.2f} {comparison}"


@dataclass(frozen=True)
class TierDecision:
    tier: Tier
    reason: str


@dataclass
class TierDecider:
    """Scores to tiers, plus the escalations that move a request up for a while."""

    clock: Callable[[], float] = time.monotonic
    escalate_next: bool = False
    language_escalated_until: dict[str, float] = field(default_factory=dict)
    invalid_at: dict[str, deque[float]] = field(default_factory=dict)

    def decide(
        self, score: float, language: str, thresholds: Thresholds, consume_escalation: bool = True
    ) -> TierDecision:
        tier = choose_tier(score, thresholds)
        reason = score_reason(score, tier, thresholds)
        if self.escalate_next:
            if consume_escalation:
                self.escalate_next = False
            return TierDecision(Tier.PREMIUM, reason + "; escalated by the user")
        until = self.language_escalated_until.get(language, 0.0)
        if tier == Tier.CHEAP and self.clock() < until:
            return TierDecision(Tier.MID, reason + f"; {language} escalated after invalid cheap answers")
        return TierDecision(tier, reason)

    def note_invalid(self, tier: Tier, language: str) -> bool:
        """An invalid answer; True when this escalates the language."""
        if tier != Tier.CHEAP:
            return False
        now = self.clock()
        events = self.invalid_at.setdefault(language, deque())
        events.append(now)
        while events and now - events[0] > INVALID_WINDOW_S:
            events.popleft()
        if len(events) >= INVALID_TO_ESCALATE:
            self.language_escalated_until[language] = now + LANGUAGE_ESCALATION_S
            events.clear()
            return True
        return False
