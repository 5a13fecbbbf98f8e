"""What tierline knows about each model and provider right now: latency statistics, circuit breakers,
calls in flight, models set aside after a permanent refusal, and when a model passed over as slow
is due a probe.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tierline.config import Config, ModelSpec
from tierline.wire import Outcome, Tier

# A breaker opens after this many failures in a row (at once on a 429 or a timeout: waiting out
# a rate limit or a hang again costs the user far more than a fallback does).
FAILURES_TO_OPEN = 2
COOLDOWN_S = 5.0
MAX_COOLDOWN_S = 30.0
# A provider (endpoint) opens on a refused connection, or after failures across its models in a row.
PROVIDER_FAILURES_TO_OPEN = 4
# A model passed over for being slow gets one request now and then, so recovery is seen.
PROBE_INTERVAL_S = 3.0
# A model that lost a hedge (no slow answer seen: it may be one hung call) is probed with the very
# next request, in the background: a fault on one request then costs a request or two on a dearer
# model, not a whole probe interval.
FIRST_PROBE_S = 0.0
# A slowdown confirmed by a slow answer ends only when the model has answered fast for this long
# (several probes in a row), as a load balancer's healthy threshold: a model flapping between slow
# and fast phases shorter than this is not sent traffic in each fast phase, only to cost a slow
# request when it turns slow again. While its probes stay slow they come less often, up to this.
STABLE_S = 8.0
MAX_PROBE_INTERVAL_S = 12.0
# Flap damping (as routers damp a flapping route): a model that turns slow again within this long
# of coming back is held off, still probed, for HOLD_DOWN_S, doubling with each relapse in a row.
RELAPSE_WINDOW_S = 60.0
HOLD_DOWN_S = 20.0
MAX_HOLD_DOWN_S = 300.0
TAIL_SAMPLES = 50
# A permanent refusal sets a model aside until its config changes; no credit (402) or no access
# (403) may be fixed outside tierline (a top-up, a grant), so those are tried again after this.
LONG_COOLDOWN_S = 15 * 60.0
COOLDOWN_STATUSES = frozenset({402, 403})
FAST_ADAPT_ALPHA = 0.6


@dataclass
class LatencyStats:
    """EWMA of latency, a tail estimate, time to first token and calls in flight."""

    ewma_ms: float | None = None
    deviation_ms: float = 0.0
    first_token_ewma_ms: float | None = None
    in_flight: int = 0
    samples: deque[float] = field(default_factory=lambda: deque(maxlen=TAIL_SAMPLES))
    last_sample_at: float = 0.0
    first_token_samples: deque[float] = field(default_factory=lambda: deque(maxlen=TAIL_SAMPLES))
    # When each sample above was taken (same order), so a slow spell's samples can be forgotten.
    sample_times: deque[float] = field(default_factory=lambda: deque(maxlen=TAIL_SAMPLES))
    first_token_times: deque[float] = field(default_factory=lambda: deque(maxlen=TAIL_SAMPLES))

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
            self.first_token_samples.append(first_token_ms)
            self.first_token_times.append(now)
            previous = self.first_token_ewma_ms
            self.first_token_ewma_ms = (
                first_token_ms if previous is None else (1 - alpha) * previous + alpha * first_token_ms
            )
        self.samples.append(latency_ms)
        self.sample_times.append(now)
        self.last_sample_at = now

    def forget_between(self, start: float, end: float) -> None:
        """Drop the samples taken from `start` up to (not including) `end`."""
        for values, times in ((self.samples, self.sample_times), (self.first_token_samples, self.first_token_times)):
            kept = [(v, t) for v, t in zip(values, times, strict=True) if not start <= t < end]
            values.clear()
            times.clear()
            for v, t in kept:
                values.append(v)
                times.append(t)

    def first_token_p95_ms(self) -> float | None:
        if not self.first_token_samples:
            return None
        ordered = sorted(self.first_token_samples)
        return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]

    def p95_ms(self) -> float | None:
        if not self.samples:
            return None
        if len(self.samples) < 5:
            return (self.ewma_ms or 0.0) + 2 * self.deviation_ms
        ordered = sorted(self.samples)
        return float(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))])


@dataclass
class Breaker:
    """closed -> open (failures, 429) -> half-open after the cooldown (one probe) -> closed on success."""

    failures_to_open: int = FAILURES_TO_OPEN
    max_cooldown_s: float = MAX_COOLDOWN_S
    consecutive_failures: int = 0
    open_until: float = 0.0
    opened_times: int = 0
    probing: bool = False
    # Until when the provider asked not to be called again (Retry-After): honoured even when
    # every model is down, rather than "trying anyway" on every keystroke.
    retry_after_until: float = 0.0

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
                self.retry_after_until = now + cooldown
            self.open_until = now + cooldown
            self.opened_times += 1


@dataclass
class Damping:
    """A model's slow spells: when it last turned slow and came back, whether a slow answer confirmed
    it (a lost hedge alone may be one hung call), since when it has answered fast, how often it
    relapsed, and how often it is probed while it stays slow."""

    demoted_at: float | None = None
    back_at: float | None = None
    confirmed: bool = False
    fast_since: float | None = None
    relapses: int = 0
    hold_until: float = 0.0
    probe_interval_s: float = PROBE_INTERVAL_S

    def turned_slow(self, now: float, confirmed: bool) -> None:
        back_since = None if self.back_at is None else max(self.back_at, self.hold_until)
        if back_since is not None and now - back_since < RELAPSE_WINDOW_S:
            self.relapses += 1
            self.hold_until = now + min(MAX_HOLD_DOWN_S, HOLD_DOWN_S * 2 ** (self.relapses - 1))
        else:
            self.relapses = 0
        self.demoted_at, self.confirmed, self.fast_since = now, confirmed, None
        self.probe_interval_s = PROBE_INTERVAL_S

    def answered_while_off(self, now: float, slow: bool) -> None:
        """An answer (a probe's) while the model is passed over as slow."""
        if slow:
            if self.confirmed:
                self.probe_interval_s = min(MAX_PROBE_INTERVAL_S, self.probe_interval_s * 2)
            self.confirmed, self.fast_since = True, None
            return
        self.probe_interval_s = PROBE_INTERVAL_S
        if self.fast_since is None:
            self.fast_since = now
        if now - self.fast_since >= STABLE_S:
            self.confirmed = False

    def holds(self, now: float) -> bool:
        """Kept off whatever its latest answers say: a confirmed slowdown not yet stably over, or a hold."""
        return self.confirmed or now < self.hold_until


@dataclass(frozen=True)
class Rejection:
    """A model set aside after a permanent refusal: what the provider said, until when."""

    detail: str
    status: int | None
    config: str  # the model's config when refused: any change to it lifts the rejection
    until: float | None  # None: until the config changes


class Health:
    """Latency and breakers per model and per provider (endpoint)."""

    def __init__(self, config: Config, clock: Callable[[], float] = time.monotonic):
        self.config = config
        self.clock = clock
        self.model_latency: dict[str, LatencyStats] = {}
        self.provider_latency: dict[str, LatencyStats] = {}
        self.model_breakers: dict[str, Breaker] = {}
        self.provider_breakers: dict[str, Breaker] = {}
        self._last_probe_at: dict[str, float] = {}
        self.rejections: dict[str, Rejection] = {}
        self.damping: dict[str, Damping] = {}

    def reconfigure(self, config: Config) -> None:
        """New config: keep what was learned about models that are still there; a model whose
        config changed gets another chance after a permanent refusal."""
        self.config = config
        names = {m.name for m in config.models}
        for table in (self.model_latency, self.model_breakers, self.damping):
            for name in [n for n in table if n not in names]:
                del table[name]
        current = {m.name: repr(m) for m in config.models}
        for name in [n for n, r in self.rejections.items() if current.get(n) != r.config]:
            del self.rejections[name]

    def reject(self, model: ModelSpec, detail: str, status: int | None) -> Rejection:
        """Set the model aside after a permanent refusal."""
        until = self.clock() + LONG_COOLDOWN_S if status in COOLDOWN_STATUSES else None
        rejection = Rejection(detail, status, repr(model), until)
        self.rejections[model.name] = rejection
        return rejection

    def rejection(self, model: ModelSpec) -> Rejection | None:
        rejection = self.rejections.get(model.name)
        if rejection is not None and rejection.until is not None and self.clock() >= rejection.until:
            del self.rejections[model.name]
            return None
        return rejection

    def worth_trying_anyway(self, model: ModelSpec) -> bool:
        """When every breaker is open: not a model set aside, nor one whose provider said when to come back."""
        breaker = self.model_breakers.setdefault(model.name, Breaker())
        return self.rejection(model) is None and self.clock() >= breaker.retry_after_until

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
        if self.held(model):
            estimate = max(estimate, self.config.routing.latency_budget_ms + 1.0)
        return estimate * (1 + 0.25 * own.in_flight)

    def held(self, model: ModelSpec) -> bool:
        """Kept off as over the budget after a slowdown (until stably fast) or a relapse (a hold)."""
        damping = self.damping.get(model.name)
        return damping is not None and damping.holds(self.clock())

    def _off(self, model: ModelSpec) -> bool:
        """Passed over as slow: its average over the latency budget, or held."""
        ewma = self.latency(model).ewma_ms
        return (ewma is not None and ewma > self.config.routing.latency_budget_ms) or self.held(model)

    def _note_transition(self, model: ModelSpec, was_off: bool, now: float, confirmed: bool) -> None:
        """A model turning slow or coming back: flap damping, probes, and its tail forgets the spell."""
        off = self._off(model)
        damping = self.damping.setdefault(model.name, Damping())
        if off and not was_off:
            damping.turned_slow(now, confirmed)
        elif was_off and not off:
            damping.back_at = now
            if damping.demoted_at is not None:
                # The slow spell's answers (probes) do not set the hedge moments once it is fast again.
                self.latency(model).forget_between(damping.demoted_at, now)

    def _provider_breaker(self, model: ModelSpec) -> Breaker:
        # A flat cooldown: a refused connection costs a millisecond to retry, and a provider back
        # from an outage should get its traffic back within seconds, not after a doubled wait.
        return self.provider_breakers.setdefault(
            model.provider, Breaker(failures_to_open=PROVIDER_FAILURES_TO_OPEN, max_cooldown_s=COOLDOWN_S)
        )

    def healthy(self, model: ModelSpec) -> bool:
        if self.rejection(model) is not None:
            return False
        now = self.clock()
        return all(
            breaker.allows(now)
            for breaker in (
                self.model_breakers.setdefault(model.name, Breaker()),
                self._provider_breaker(model),
            )
        )

    def breaker_state(self, model: ModelSpec) -> str:
        if self.rejection(model) is not None:
            return "rejected"
        now = self.clock()
        states = {
            self.model_breakers.setdefault(model.name, Breaker()).state(now),
            self._provider_breaker(model).state(now),
        }
        return "open" if "open" in states else "half_open" if "half_open" in states else "closed"

    def due_probe(self, tier: Tier) -> ModelSpec | None:
        """A healthy model passed over as slow and not heard from lately: worth a shadow request."""
        budget = self.config.routing.latency_budget_ms
        now = self.clock()
        for model in self.config.models_in(tier):
            expected = self.expected_ms(model)
            if expected is None or expected <= budget or not self.healthy(model):
                continue
            last_probe = self._last_probe_at.get(model.name, 0.0)
            last = max(last_probe, self.latency(model).last_sample_at)
            damping = self.damping.get(model.name, Damping())
            # A lost hedge, no slow answer seen yet: probe with the next request.
            first = damping.demoted_at is not None and last_probe < damping.demoted_at and not damping.confirmed
            if now - last >= (FIRST_PROBE_S if first else damping.probe_interval_s):
                self._last_probe_at[model.name] = now
                return model
        return None

    def started(self, model: ModelSpec) -> None:
        self.latency(model).in_flight += 1

    def finished(self, model: ModelSpec) -> None:
        stats = self.latency(model)
        stats.in_flight = max(0, stats.in_flight - 1)

    def record_success(self, model: ModelSpec, latency_ms: float, first_token_ms: float | None = None) -> None:
        now, alpha = self.clock(), self.config.routing.ewma_alpha
        budget = self.config.routing.latency_budget_ms
        was_off = self._off(model)
        if was_off:
            self.damping.setdefault(model.name, Damping()).answered_while_off(now, latency_ms > budget)
        for stats in (self.latency(model), self.provider_latency.setdefault(model.provider, LatencyStats())):
            # One answer over the budget and far above the average is a brownout: leave now,
            # rather than pay for a second slow answer while the average catches up.
            jump = stats.ewma_ms is not None and latency_ms > budget and latency_ms > 2 * stats.ewma_ms
            stats.observe(latency_ms, 1.0 if jump else alpha, now, first_token_ms)
        self._note_transition(model, was_off, now, confirmed=latency_ms > budget)
        self.model_breakers.setdefault(model.name, Breaker()).on_success()
        self._provider_breaker(model).on_success()

    def record_failure(
        self,
        model: ModelSpec,
        outcome: Outcome,
        retry_after_s: float | None,
        latency_ms: float,
        provider_wide: bool = False,
    ) -> None:
        now = self.clock()
        open_now = outcome in (Outcome.RATE_LIMITED, Outcome.TIMEOUT)
        if outcome == Outcome.TIMEOUT:
            # A timeout is a latency sample too: the model was at least this slow.
            was_off = self._off(model)
            self.latency(model).observe(latency_ms, self.config.routing.ewma_alpha, now)
            self._note_transition(model, was_off, now, confirmed=False)
        breaker = self.model_breakers.setdefault(model.name, Breaker())
        breaker.on_failure(now, open_now, retry_after_s)
        if outcome == Outcome.RATE_LIMITED:
            # A 429 says "slow down" even without a Retry-After: its cooldown is honoured too.
            breaker.retry_after_until = max(breaker.retry_after_until, breaker.open_until)
        # One model's 429 or bad answers do not take its siblings down at once; a refused
        # connection speaks for the whole endpoint.
        self._provider_breaker(model).on_failure(now, provider_wide, None)

    def record_hedge_lost(self, model: ModelSpec, elapsed_ms: float) -> None:
        """A hedge answered before this model did: it turned slow. It is taken as over the latency
        budget until a probe (or a later answer) says otherwise, so the next requests do not each
        wait out a hedge delay on it. No latency sample is invented: its tail stays what was seen."""
        stats = self.latency(model)
        budget = self.config.routing.latency_budget_ms
        was_off = self._off(model)
        stats.ewma_ms = max(stats.ewma_ms or 0.0, elapsed_ms, budget + 1.0)
        stats.last_sample_at = now = self.clock()
        self._note_transition(model, was_off, now, confirmed=False)

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
            if model.name not in names and model.name not in self.model_latency and model.name not in self.rejections:
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
            rejection = self.rejection(model)
            if rejection is not None:
                out[model.name]["rejected"] = rejection.detail
        return out
