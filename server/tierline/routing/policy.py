"""The fallback policy, in one place: every order in which models are tried is decided here.

Choice inside a tier (`order_tier`): among healthy models, the cheapest (blended price) whose
expected latency fits the latency budget, the untried among them; a model clearly weaker for the
language after a comparable one; then those over the budget, fastest first. The config's list
order only breaks ties (the sorts are stable). Fallback (`plan`): the other models of the tier,
then the next tier up, never down to a cheaper tier. A model without its key is passed over (the
pipeline's walk); an invalid answer gets one retry on another model of its tier, then the walk
moves a tier up (`FallbackWalk.note_invalid`). The budget (`FallbackWalk.note_refused`): after a
refusal no tier above the refused model and no model whose worst case costs as much or more; a
downshift (`downshift_walk`) walks the nearest cheaper tier that has a model. An alternative
(`tier_walk`) walks its own tier only. A hedge (`FallbackWalk.next_in_tier`) goes to the next model
of the same tier.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from tierline.config import Config, ModelSpec
from tierline.routing.health import Health
from tierline.wire import TIERS, Tier

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


def tiers_above(tier: Tier) -> set[Tier]:
    """The dearer tiers: a walk that met the budget at `tier` must not go on to them."""
    return set(TIERS[TIERS.index(tier) + 1 :])


def tiers_below(tier: Tier) -> list[Tier]:
    """The cheaper tiers, nearest first: where a downshift looks."""
    return list(reversed(TIERS[: TIERS.index(tier)]))


def order_tier(config: Config, health: Health, tier: Tier, language: str) -> list[Choice]:
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


def plan(config: Config, health: Health, tier: Tier, language: str) -> list[Choice]:
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
    invalid_in_tier: dict[Tier, int] = field(default_factory=dict)
    skipped_tiers: set[Tier] = field(default_factory=set)
    # Models already called in this request (a hedge): not called again.
    called: set[str] = field(default_factory=set)
    # The last model the budget refused in this walk, and its worst case (USD).
    refused_tier: Tier | None = None
    refused_usd: float = 0.0

    def __iter__(self) -> Iterator[Choice]:
        for choice in self.choices:
            if choice.model.tier not in self.skipped_tiers and choice.model.name not in self.called:
                yield choice

    def note_refused(self, model: ModelSpec, worst_case_usd: float) -> None:
        """The budget refused `model`'s worst case: money never moves the request up a tier."""
        self.refused_tier, self.refused_usd = model.tier, worst_case_usd
        self.skipped_tiers.update(tiers_above(model.tier))

    def affordable(self, worst_case_usd: float) -> bool:
        """After a budget refusal, only a model whose worst case costs less is tried."""
        return self.refused_tier is None or worst_case_usd < self.refused_usd

    @property
    def aimed(self) -> Tier | None:
        """The tier this walk starts at (its first choice's), None for an empty walk."""
        return self.choices[0].model.tier if self.choices else None

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


def tier_walk(config: Config, health: Health, tier: Tier, language: str) -> FallbackWalk:
    """A walk through `tier`'s own models only (an alternative's: never another tier)."""
    return FallbackWalk([choice for choice in plan(config, health, tier, language) if choice.model.tier == tier])


def downshift_walk(config: Config, health: Health, aimed: Tier, language: str) -> tuple[Tier, FallbackWalk] | None:
    """The walk of the nearest tier below `aimed` that has a model to try (a tier with none is passed
    through: the request goes on down rather than being refused), never back up to `aimed` or above;
    None when nothing cheaper has one."""
    for lower in tiers_below(aimed):
        walk = FallbackWalk(plan(config, health, lower, language))
        if not any(choice.model.tier == lower for choice in walk.choices):
            continue  # no model in that tier (or none worth trying): on down
        walk.skipped_tiers.update({aimed, *tiers_above(aimed)})
        return lower, walk
    return None
