"""Refitting the score's weights on the user's own completions, guarded by the frozen test split.

What a user did with a shown completion says something about the tier its position needed:

* accepted at tier T: T was enough there (label T: the fit learns that positions like this one
  belong at T, not above it);
* not accepted (dismissed, or replaced and never accepted) at tier T: T was not enough (label: the tier above T; a
  rejected premium answer stays premium, there is nothing above).

These labels are added, with the weight ``USER_WEIGHT`` each, to the routing corpus's training
split, and the model is fitted again with the shipped weights' options (``routing/fitting.py``).
Weights the shipped model holds fixed (the rubric's rules for comments and imports) stay fixed.
The refit is then measured on the corpus's frozen test split and may only be applied when it
makes no more severe misroutes there than the weights in force, overall and on clear cases
(``tierline calibrate --weights``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tierline.analysis import scoring
from tierline.analysis.router_model import RouterModel, WeightsError, load_model
from tierline.config import Thresholds
from tierline.config.writing import user_config_path
from tierline.routing.corpus import Figures, LabelledPosition, load_positions, measure, routed
from tierline.routing.fitting import TIERS, Example, FitOptions, fitted_model
from tierline.routing.tiers import choose_tier
from tierline.wire import Fate

MAX_FEATURE = 1e9  # no feature counts past this; a row saying more was not written by the server
MIN_USER_SAMPLES = 100  # shown completions with features and a decided fate
USER_WEIGHT = 1.0
WEIGHTS_FILENAME = "router_weights.json"  # beside the user's config file
ACCEPTED = frozenset({Fate.ACCEPTED.value, Fate.PARTIAL.value})


@dataclass(frozen=True)
class UserSample:
    """One shown completion whose fate is known, with the features its score was read from."""

    language: str
    tier: str
    accepted: bool
    features: Mapping[str, float]

    def label(self) -> str:
        """The tier this position needed, as far as its fate tells."""
        if self.accepted or self.tier not in TIERS:
            return self.tier if self.tier in TIERS else "mid"
        return TIERS[min(TIERS.index(self.tier) + 1, len(TIERS) - 1)]


def samples_from_rows(rows: Iterable[Mapping[str, object]]) -> list[UserSample]:
    """Ledger fate rows (FateLedger.rows) with features and a decided fate: accepted (whole or in
    part) or not accepted once decided; rows still only shown, or without features, are skipped."""
    out = []
    for row in rows:
        text, fate = row.get("features"), row.get("fate")
        if not isinstance(text, str) or fate == Fate.SHOWN.value:
            continue
        try:
            raw = json.loads(text)
        except ValueError:
            continue  # a row that was tampered with: skip it, never fail the command
        if not isinstance(raw, dict):
            continue
        # A ledger row is input like any other: only finite numbers, no larger than a feature can be.
        features = {
            str(k): float(v)
            for k, v in raw.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and abs(v) <= MAX_FEATURE
        }
        out.append(UserSample(str(row.get("language")), str(row.get("tier")), fate in ACCEPTED, features))
    return out


def _features_of(language: str, values: Mapping[str, float]) -> scoring.Features:
    position = LabelledPosition("", "", language, "", "", "cheap", True, values)
    return position.scoring_features()


def _examples(model: RouterModel, positions: Iterable[LabelledPosition], users: Iterable[UserSample]) -> list[Example]:
    learned = {name: cap for name, cap in model.caps.items() if name not in _fixed(model)}
    probe = RouterModel({}, learned, {}, (0.0, 1.0), {}, model.nesting_baselines)
    out = [
        Example(probe.values(scoring.model_inputs(p.scoring_features(), probe)), p.language, p.label) for p in positions
    ]
    for sample in users:
        features = _features_of(sample.language, sample.features)
        inputs = scoring.model_inputs(features, probe)
        out.append(Example(probe.values(inputs), sample.language, sample.label(), USER_WEIGHT))
    return out


def _fixed(model: RouterModel) -> set[str]:
    fixed = model.meta.get("fixed", [])
    return {str(name) for name in fixed} if isinstance(fixed, list) else set()


def refit(model: RouterModel, users: Sequence[UserSample], positions: Sequence[LabelledPosition]) -> RouterModel:
    """The model fitted again on the training split plus the user's samples."""
    fixed = _fixed(model)
    learned_caps = {name: cap for name, cap in model.caps.items() if name not in fixed}
    train = [p for p in positions if p.split == "train"]
    options = FitOptions(l2=float(model.meta.get("l2", 0.03)), balance=float(model.meta.get("balance", 0.5)))
    fitted = fitted_model(_examples(model, train, users), learned_caps, options=options)
    meta = {**dict(model.meta), "refitted_on_user_samples": len(users)}
    return RouterModel(
        {**fitted.weights, **{name: model.weights[name] for name in fixed if name in model.weights}},
        {**fitted.caps, **{name: model.caps[name] for name in fixed}},
        fitted.languages,
        fitted.cutpoints,
        meta,
        model.nesting_baselines,
    )


@dataclass(frozen=True)
class WeightsProposal:
    samples: int
    current: Figures  # the weights in force, on the frozen test split
    proposed: Figures | None  # the refit, on the same split (None: too few samples)
    moves: Mapping[str, int]  # on the user's own samples: "cheap->mid" -> count, ...
    model: RouterModel | None
    verdict: str  # "applicable" | "refused: ..." | "too few samples"

    @property
    def applicable(self) -> bool:
        return self.verdict == "applicable"


def propose_weights(
    users: Sequence[UserSample], current: RouterModel, positions: Sequence[LabelledPosition] | None = None
) -> WeightsProposal:
    positions = list(positions if positions is not None else load_positions())
    test = [p for p in positions if p.split == "test"]
    thresholds = Thresholds()
    now = measure(test, routed(test, current, thresholds))
    if len(users) < MIN_USER_SAMPLES:
        return WeightsProposal(len(users), now, None, {}, None, "too few samples")
    model = refit(current, users, positions)
    then = measure(test, routed(test, model, thresholds))
    moves: dict[str, int] = {}
    for sample in users:
        features = _features_of(sample.language, sample.features)
        before = choose_tier(scoring.score(features, current), thresholds).value
        after = choose_tier(scoring.score(features, model), thresholds).value
        if before != after:
            key = f"{before}->{after}"
            moves[key] = moves.get(key, 0) + 1
    if then.severe > now.severe or then.severe_clear > now.severe_clear:
        verdict = (
            f"refused: on the frozen test split it makes {then.severe} severe misroutes ({then.severe_clear} on clear"
            f" cases) where the weights in force make {now.severe} ({now.severe_clear})"
        )
    else:
        verdict = "applicable"
    return WeightsProposal(len(users), now, then, moves, model, verdict)


def user_weights_path(config_file: Path) -> Path:
    """Where the user's refitted weights live: beside their config file."""
    return config_file.parent / WEIGHTS_FILENAME


def write_weights(path: Path, model: RouterModel) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(model.as_json(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(path)


def load_user_weights(path: Path) -> RouterModel | None:
    """The user's weights when the file is there; None when it is not. WeightsError when it is
    there but unusable (the caller says so and keeps the shipped weights)."""
    if not path.is_file():
        return None
    model = load_model(path)
    if not model.caps:
        raise WeightsError(f"{path}: no features")
    return model


def weights_in_force(env: Mapping[str, str], notify: Callable[[str, str], None]) -> RouterModel | None:
    """The user's refitted weights when they have some and they load; None (the shipped weights)
    otherwise, with a warning when their file is there but unusable."""
    path = user_weights_path(user_config_path(env))
    try:
        return load_user_weights(path)
    except WeightsError as error:
        notify("warning", f"tierline: your routing weights are unusable, the shipped ones are used ({error})")
        return None


__all__ = [
    "MIN_USER_SAMPLES",
    "UserSample",
    "WeightsProposal",
    "load_user_weights",
    "propose_weights",
    "refit",
    "samples_from_rows",
    "user_weights_path",
    "weights_in_force",
    "write_weights",
]
