"""The fallback policy, in one place.

Choice inside a tier: among healthy models, the cheapest whose expected latency fits the latency
budget; if none fits, the fastest; a model clearly weaker for the language is not preferred over a
comparable one. Fallback: the other models of the tier, then the next tier up, never down to a
cheaper tier. A model without its key is passed over; an invalid answer gets one retry on another
model of its tier, then the walk moves a tier up.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from tierline.config import Config, ModelSpec
from tierline.routing.health import Health
from tierline.wire import Tier

# "Clearly weaker" for the language: pass@1 this much below the best comparable model.
STRENGTH_MARGIN = 0.05
# Invalid answers: one retry on another model of the tier, then the next tier up.
INVALID_RETRIES_IN_TIER = 1


@dataclass(frozen=True)
class Choice:
    model: ModelSpec
    reason: str


def blended_price(model: ModelSpec) -> float:
    """USD per typical inline request: ~1,000 tokens in, ~50 out."""
    return model.input_per_mtok * 1000 + model.output_per_mtok * 50


def order_tier(config: Config, health: Health, tier: str, language: str) -> list[Choice]:
    """The tier's healthy models, best first, each with why."""
    budget = config.routing.latency_budget_ms
    healthy = [m for m in config.models_in(tier) if health.healthy(m)]
    if not healthy:
        return []
    strengths = [s for s in (m.strength(language) for m in healthy) if s is not None]
    best_strength = max(strengths) if strengths else None

    def weak(model: ModelSpec) -> bool:
        strength = model.strength(language)
        return best_strength is not None and strength is not None and strength < best_strength - STRENGTH_MARGIN

    fitting: list[ModelSpec] = []
    slow: list[ModelSpec] = []
    for model in healthy:
        expected = health.expected_ms(model)
        (fitting if expected is None or expected <= budget else slow).append(model)
    fitting.sort(key=lambda m: (weak(m), blended_price(m)))
    slow.sort(key=lambda m: health.expected_ms(m) or 0.0)
    choices: list[Choice] = []
    for model in fitting:
        expected = health.expected_ms(model)
        why = "untried: explored" if expected is None else f"cheapest within {budget} ms (ewma {expected:.0f} ms)"
        if weak(model):
            why += f"; weaker for {language}"
        choices.append(Choice(model, why))
    for model in slow:
        why = f"over the {budget} ms budget (ewma {health.expected_ms(model) or 0.0:.0f} ms)"
        if not fitting and model is slow[0]:
            why = f"fastest in tier; none within {budget} ms (ewma {health.expected_ms(model) or 0.0:.0f} ms)"
        choices.append(Choice(model, why))
    return choices


def plan(config: Config, health: Health, tier: str, language: str) -> list[Choice]:
    """Fallback order: the tier's models, then each tier up. Never down."""
    choices: list[Choice] = []
    current: Tier | None = Tier(tier)
    while current is not None:
        choices.extend(order_tier(config, health, current, language))
        current = current.up()
    if not choices:
        # Every breaker is open: try the tier's first model rather than give up unseen; but never
        # one set aside after a refusal or whose provider said when to come back (Retry-After):
        # then nothing is sent, at once.
        models = [m for m in (*config.models_in(tier), *config.models) if health.worth_trying_anyway(m)]
        choices = [Choice(models[0], "all breakers open: trying anyway")] if models else []
    return choices


@dataclass
class FallbackWalk:
    """One request's way through the plan: which model next, given what happened so far."""

    choices: list[Choice]
    invalid_in_tier: dict[str, int] = field(default_factory=dict)
    skipped_tiers: set[str] = field(default_factory=set)
    # Models already called in this request (a hedge): not called again.
    called: set[str] = field(default_factory=set)

    def __iter__(self) -> Iterator[Choice]:
        for choice in self.choices:
            if choice.model.tier not in self.skipped_tiers and choice.model.name not in self.called:
                yield choice

    def next_in_tier(self, model: ModelSpec) -> ModelSpec | None:
        """The model after `model` in the plan, in the same tier and not called yet: a hedge's target."""
        names = [c.model.name for c in self.choices]
        if model.name not in names:
            return None
        for choice in self.choices[names.index(model.name) + 1 :]:
            if choice.model.tier == model.tier and choice.model.name not in self.called:
                return choice.model
        return None

    def note_invalid(self, model: ModelSpec) -> None:
        """An invalid answer: after the retries a tier allows, the walk leaves that tier."""
        count = self.invalid_in_tier.get(model.tier, 0) + 1
        self.invalid_in_tier[model.tier] = count
        if count > INVALID_RETRIES_IN_TIER:
            self.skipped_tiers.add(model.tier)
