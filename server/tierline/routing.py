"""Which tier, and which model in it: latency per model and provider, circuit breakers, fallbacks.

Choice inside a tier: among healthy models, the cheapest whose expected latency fits the latency
budget; if none fits, the fastest. Fallback: the other models of the tier, then the next tier up,
never down to a cheaper tier.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterable

from tierline.config import TIERS, Config, ModelSpec
from tierline.scoring import choose_tier

# A breaker opens after this many failures in a row (at once on a 429 or a timeout: waiting out
# a rate limit or a hang again costs the user far more than a fallback does).
FAILURES_TO_OPEN = 2
COOLDOWN_S = 5.0
MAX_COOLDOWN_S = 30.0
# A provider (endpoint) opens on a refused connection, or after failures across its models in a row.
PROVIDER_FAILURES_TO_OPEN = 4
# A model passed over for being slow gets one request now and then, so recovery is seen.
PROBE_INTERVAL_S = 3.0
# Invalid answers: two from the cheap tier within this window escalate the language for a while.
INVALID_WINDOW_S = 120.0
INVALID_TO_ESCALATE = 2
LANGUAGE_ESCALATION_S = 300.0
# "Clearly weaker" for the language: pass@1 this much below the best comparable model.
STRENGTH_MARGIN = 0.05
TAIL_SAMPLES = 50
FAST_ADAPT_ALPHA = 0.6


@dataclass
class LatencyStats:
    """EWMA of latency, a tail estimate, time to first token and calls in flight."""

    ewma_ms: float | None = None
    deviation_ms: float = 0.0
    first_token_ewma_ms: float | None = None
    in_flight: int = 0
    samples: deque = field(default_factory=lambda: deque(maxlen=TAIL_SAMPLES))
    last_sample_at: float = 0.0

    def observe(self, latency_ms: float, alpha: float, now: float, first_token_ms: float | None = None) -> None:
        if self.ewma_ms is None:
            self.ewma_ms = latency_ms
        else:
            if latency_ms > 2 * self.ewma_ms or latency_ms < self.ewma_ms / 2:
                # A step change (brownout, recovery) should move the estimate in a request or two,
                # not ten: steady jitter keeps the configured smoothing.
                alpha = max(alpha, FAST_ADAPT_ALPHA)
            self.deviation_ms = (1 - alpha) * self.deviation_ms + alpha * abs(latency_ms - self.ewma_ms)
            self.ewma_ms = (1 - alpha) * self.ewma_ms + alpha * latency_ms
        if first_token_ms is not None:
            previous = self.first_token_ewma_ms
            self.first_token_ewma_ms = first_token_ms if previous is None else (1 - alpha) * previous + alpha * first_token_ms
        self.samples.append(latency_ms)
        self.last_sample_at = now

    def p95_ms(self) -> float | None:
        if not self.samples:
            return None
        if len(self.samples) < 5:
            return (self.ewma_ms or 0.0) + 2 * self.deviation_ms
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


@dataclass
class Breaker:
    """closed -> open (failures, 429) -> half-open after the cooldown (one probe) -> closed on success."""

    failures_to_open: int = FAILURES_TO_OPEN
    max_cooldown_s: float = MAX_COOLDOWN_S
    consecutive_failures: int = 0
    open_until: float = 0.0
    opened_times: int = 0
    probing: bool = False

    def state(self, now: float) -> str:
        if self.open_until == 0.0:
            return "closed"
        return "open" if now < self.open_until else "half_open"

    def allows(self, now: float) -> bool:
        state = self.state(now)
        return state == "closed" or (state == "half_open" and not self.probing)

    def on_success(self) -> None:
        self.consecutive_failures = 0
        self.open_until = 0.0
        self.opened_times = 0
        self.probing = False

    def on_failure(self, now: float, open_now: bool, retry_after_s: float | None) -> None:
        self.consecutive_failures += 1
        self.probing = False
        if open_now or self.consecutive_failures >= self.failures_to_open or self.state(now) == "half_open":
            cooldown = min(self.max_cooldown_s, COOLDOWN_S * (2**self.opened_times))
            if retry_after_s is not None:
                cooldown = min(MAX_COOLDOWN_S * 4, max(retry_after_s, 0.5))
            self.open_until = now + cooldown
            self.opened_times += 1


@dataclass(frozen=True)
class Choice:
    model: ModelSpec
    reason: str


@dataclass(frozen=True)
class TierDecision:
    tier: str
    reason: str


def blended_price(model: ModelSpec) -> float:
    """USD per typical inline request: ~1,000 tokens in, ~50 out."""
    return model.input_per_mtok * 1000 + model.output_per_mtok * 50


def next_tier(tier: str) -> str | None:
    index = TIERS.index(tier)
    return TIERS[index + 1] if index + 1 < len(TIERS) else None


class Router:
    def __init__(self, config: Config, clock: Callable[[], float] = time.monotonic):
        self.config = config
        self.clock = clock
        self.model_latency: dict[str, LatencyStats] = {}
        self.provider_latency: dict[str, LatencyStats] = {}
        self.model_breakers: dict[str, Breaker] = {}
        self.provider_breakers: dict[str, Breaker] = {}
        self.escalate_next = False
        self.language_escalated_until: dict[str, float] = {}
        self.invalid_at: dict[str, deque] = {}
        self._last_probe_at: dict[str, float] = {}

    def reconfigure(self, config: Config) -> None:
        """New config: keep what was learned about models that are still there."""
        self.config = config
        names = {m.name for m in config.models}
        for table in (self.model_latency, self.model_breakers):
            for name in [n for n in table if n not in names]:
                del table[name]

    # -- tiers --------------------------------------------------------------------------------
    def decide_tier(self, score: float, language: str, consume_escalation: bool = True) -> TierDecision:
        thresholds = self.config.routing.thresholds
        tier = choose_tier(score, thresholds)
        reason = f"score {score:.2f} " + {
            "cheap": f"< mid {thresholds.mid:.2f}",
            "mid": f">= mid {thresholds.mid:.2f}",
            "premium": f">= premium {thresholds.premium:.2f}",
        }[tier]
        if self.escalate_next:
            if consume_escalation:
                self.escalate_next = False
            return TierDecision("premium", reason + "; escalated by the user")
        until = self.language_escalated_until.get(language, 0.0)
        if tier == "cheap" and self.clock() < until:
            return TierDecision("mid", reason + f"; {language} escalated after invalid cheap answers")
        return TierDecision(tier, reason)

    def note_invalid(self, tier: str, language: str) -> bool:
        """An invalid answer; True when this escalates the language."""
        if tier != "cheap":
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

    # -- models -------------------------------------------------------------------------------
    def latency(self, model: ModelSpec) -> LatencyStats:
        return self.model_latency.setdefault(model.name, LatencyStats())

    def expected_ms(self, model: ModelSpec) -> float | None:
        """Own EWMA; for an untried model, its provider's; None when nothing is known yet."""
        own = self.latency(model)
        estimate = own.ewma_ms
        if estimate is None:
            estimate = self.provider_latency.get(model.provider, LatencyStats()).ewma_ms
        if estimate is None:
            return None
        return estimate * (1 + 0.25 * own.in_flight)

    def _provider_breaker(self, model: ModelSpec) -> Breaker:
        # A flat cooldown: a refused connection costs a millisecond to retry, and a provider back
        # from an outage should get its traffic back within seconds, not after a doubled wait.
        return self.provider_breakers.setdefault(
            model.provider, Breaker(failures_to_open=PROVIDER_FAILURES_TO_OPEN, max_cooldown_s=COOLDOWN_S)
        )

    def healthy(self, model: ModelSpec) -> bool:
        now = self.clock()
        return all(
            breaker.allows(now)
            for breaker in (
                self.model_breakers.setdefault(model.name, Breaker()),
                self._provider_breaker(model),
            )
        )

    def breaker_state(self, model: ModelSpec) -> str:
        now = self.clock()
        states = {
            self.model_breakers.setdefault(model.name, Breaker()).state(now),
            self._provider_breaker(model).state(now),
        }
        return "open" if "open" in states else "half_open" if "half_open" in states else "closed"

    def order_tier(self, tier: str, language: str) -> list[Choice]:
        """The tier's healthy models, best first, each with why."""
        budget = self.config.routing.latency_budget_ms
        healthy = [m for m in self.config.models_in(tier) if self.healthy(m)]
        if not healthy:
            return []
        strengths = [s for s in (m.strength(language) for m in healthy) if s is not None]
        best_strength = max(strengths) if strengths else None

        def weak(model: ModelSpec) -> bool:
            strength = model.strength(language)
            return best_strength is not None and strength is not None and strength < best_strength - STRENGTH_MARGIN

        fitting, slow = [], []
        for model in healthy:
            expected = self.expected_ms(model)
            (fitting if expected is None or expected <= budget else slow).append(model)
        fitting.sort(key=lambda m: (weak(m), blended_price(m)))
        slow.sort(key=lambda m: self.expected_ms(m) or 0.0)
        choices: list[Choice] = []
        for model in fitting:
            expected = self.expected_ms(model)
            if expected is None:
                why = "untried: explored"
            else:
                why = f"cheapest within {budget} ms (ewma {expected:.0f} ms)"
            if weak(model):
                why += f"; weaker for {language}"
            choices.append(Choice(model, why))
        for model in slow:
            why = f"over the {budget} ms budget (ewma {self.expected_ms(model):.0f} ms)"
            if not fitting and model is slow[0]:
                why = f"fastest in tier; none within {budget} ms (ewma {self.expected_ms(model):.0f} ms)"
            choices.append(Choice(model, why))
        return choices

    def due_probe(self, tier: str) -> ModelSpec | None:
        """A healthy model passed over as slow and not heard from lately: worth a shadow request."""
        budget = self.config.routing.latency_budget_ms
        now = self.clock()
        for model in self.config.models_in(tier):
            expected = self.expected_ms(model)
            if expected is None or expected <= budget or not self.healthy(model):
                continue
            last = max(self._last_probe_at.get(model.name, 0.0), self.latency(model).last_sample_at)
            if now - last >= PROBE_INTERVAL_S:
                self._last_probe_at[model.name] = now
                return model
        return None

    def plan(self, tier: str, language: str) -> list[Choice]:
        """Fallback order: the tier's models, then each tier up. Never down."""
        plan: list[Choice] = []
        current: str | None = tier
        while current is not None:
            plan.extend(self.order_tier(current, language))
            current = next_tier(current)
        if not plan:
            # Every breaker is open: try the tier's first model rather than give up unseen.
            models = self.config.models_in(tier) or self.config.models
            plan = [Choice(models[0], "all breakers open: trying anyway")]
        return plan

    # -- outcomes ------------------------------------------------------------------------------
    def started(self, model: ModelSpec) -> None:
        self.latency(model).in_flight += 1

    def finished(self, model: ModelSpec) -> None:
        stats = self.latency(model)
        stats.in_flight = max(0, stats.in_flight - 1)

    def record_success(self, model: ModelSpec, latency_ms: float, first_token_ms: float | None = None) -> None:
        now, alpha = self.clock(), self.config.routing.ewma_alpha
        budget = self.config.routing.latency_budget_ms
        for stats in (self.latency(model), self.provider_latency.setdefault(model.provider, LatencyStats())):
            # One answer over the budget and far above the average is a brownout: leave now,
            # rather than pay for a second slow answer while the average catches up.
            jump = stats.ewma_ms is not None and latency_ms > budget and latency_ms > 2 * stats.ewma_ms
            stats.observe(latency_ms, 1.0 if jump else alpha, now, first_token_ms)
        self.model_breakers.setdefault(model.name, Breaker()).on_success()
        self._provider_breaker(model).on_success()

    def record_failure(
        self, model: ModelSpec, outcome: str, retry_after_s: float | None, latency_ms: float, provider_wide: bool = False
    ) -> None:
        now = self.clock()
        open_now = outcome in ("rate_limited", "timeout")
        if outcome == "timeout":
            # A timeout is a latency sample too: the model was at least this slow.
            self.latency(model).observe(latency_ms, self.config.routing.ewma_alpha, now)
        self.model_breakers.setdefault(model.name, Breaker()).on_failure(now, open_now, retry_after_s)
        # One model's 429 or bad answers do not take its siblings down at once; a refused
        # connection speaks for the whole endpoint.
        self._provider_breaker(model).on_failure(now, provider_wide, None)

    def record_cancelled(self, model: ModelSpec) -> None:
        """A cancelled call says nothing about the model; a half-open probe may run again."""
        self.model_breakers.setdefault(model.name, Breaker()).probing = False

    def mark_probing(self, model: ModelSpec) -> None:
        now = self.clock()
        for breaker in (self.model_breakers.get(model.name), self._provider_breaker(model)):
            if breaker is not None and breaker.state(now) == "half_open":
                breaker.probing = True

    def model_stats(self, names: Iterable[str]) -> dict[str, dict[str, float | None | str]]:
        out: dict[str, dict[str, float | None | str]] = {}
        for model in self.config.models:
            if model.name not in names and model.name not in self.model_latency:
                continue
            stats = self.latency(model)
            p95 = stats.p95_ms()
            out[model.name] = {
                "ewma_ms": round(stats.ewma_ms, 1) if stats.ewma_ms is not None else None,
                "p95_ms": round(p95, 1) if p95 is not None else None,
                "first_token_ewma_ms": round(stats.first_token_ewma_ms, 1) if stats.first_token_ewma_ms else None,
                "in_flight": stats.in_flight,
                "breaker": self.breaker_state(model),
            }
        return out
