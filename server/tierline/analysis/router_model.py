"""The learned score: an ordinal logistic model over the features, its weights shipped as data.

``router_weights.json`` beside this file holds the weights that
``tests/benchmarks/routing_corpus/fit.py`` fitted on the training split of the routing corpus
(``tests/data/routing_corpus/``, labelled blind by ``../shared/ROUTING-RUBRIC.md``). A user's own
weights (``tierline calibrate --weights``) take their place from a file of the same shape.

The model: each feature is capped and scaled into [0, 1] (``value = min(x, cap) / cap``), the
latent difficulty is ``z = sum(weight * value) + language offset``, and the ordinal model's two
cut points (cheap|mid and mid|premium) on ``z`` are mapped linearly onto the default thresholds
0.35 and 0.70. So the score is a weighted sum, each feature's part of it is its weight times its
value (``contributions``), the parts and the base add up to the score before it is clamped into
[0, 1], and a user's thresholds move the cut points as before.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

DEFAULT_MID = 0.35
DEFAULT_PREMIUM = 0.70
WEIGHTS_FILE = "router_weights.json"


class WeightsError(ValueError):
    """A weights file that cannot be used (missing keys, wrong types, cut points out of order)."""


@dataclass(frozen=True)
class RouterModel:
    """Weights per feature (with the cap that scales it), per language, and the two cut points."""

    weights: Mapping[str, float]
    caps: Mapping[str, float]
    languages: Mapping[str, float]
    cutpoints: tuple[float, float]
    meta: Mapping[str, Any] = field(default_factory=dict)
    # Nesting counts above a baseline per language (the enclosing function, and the class or module
    # where code sits in one as a rule); languages not named: 1.
    nesting_baselines: Mapping[str, int] = field(default_factory=lambda: {"java": 2})

    @property
    def slope(self) -> float:
        """Score per unit of z: the cut points land on the default thresholds."""
        low, high = self.cutpoints
        return (DEFAULT_PREMIUM - DEFAULT_MID) / (high - low)

    def values(self, features: Mapping[str, float]) -> dict[str, float]:
        """Each feature capped and scaled into [0, 1]."""
        out = {}
        for name, cap in self.caps.items():
            raw = float(features.get(name, 0.0))
            out[name] = min(max(raw, 0.0), cap) / cap if cap > 0 else 0.0
        return out

    def parts(self, features: Mapping[str, float], language: str) -> dict[str, float]:
        """Each feature's part of the score, the language's, and the base; they add up to the
        unclamped score."""
        slope = self.slope
        values = self.values(features)
        parts = {name: slope * self.weights.get(name, 0.0) * value for name, value in values.items()}
        parts["language"] = slope * self.languages.get(language, 0.0)
        parts["base"] = DEFAULT_MID - slope * self.cutpoints[0]
        return parts

    def latent(self, features: Mapping[str, float], language: str) -> float:
        values = self.values(features)
        return sum(self.weights.get(name, 0.0) * value for name, value in values.items()) + self.languages.get(
            language, 0.0
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "weights": dict(self.weights),
            "caps": dict(self.caps),
            "languages": dict(self.languages),
            "cutpoints": list(self.cutpoints),
            "meta": dict(self.meta),
            "nesting_baselines": dict(self.nesting_baselines),
        }


def model_from_json(data: Any) -> RouterModel:
    """A RouterModel from parsed JSON; WeightsError when it is not one."""
    if not isinstance(data, dict):
        raise WeightsError("weights: expected a JSON object")
    try:
        weights = {str(k): float(v) for k, v in data["weights"].items()}
        caps = {str(k): float(v) for k, v in data["caps"].items()}
        languages = {str(k): float(v) for k, v in data.get("languages", {}).items()}
        low, high = (float(x) for x in data["cutpoints"])
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise WeightsError(f"weights: {error}") from None
    numbers = [*weights.values(), *caps.values(), *languages.values(), low, high]
    if not all(math.isfinite(x) for x in numbers):
        raise WeightsError("weights: every number must be finite")
    if not high > low:
        raise WeightsError("weights: the premium cut point must be above the mid one")
    if any(cap <= 0 for cap in caps.values()) or set(weights) - set(caps):
        raise WeightsError("weights: each weighted feature needs a positive cap")
    meta = data.get("meta", {})
    baselines = data.get("nesting_baselines", {"java": 2})
    if not isinstance(baselines, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 10 for v in baselines.values()
    ):
        raise WeightsError("weights: nesting_baselines must map languages to whole numbers 0-10")
    return RouterModel(
        weights,
        caps,
        languages,
        (low, high),
        meta if isinstance(meta, dict) else {},
        {str(k): v for k, v in baselines.items()},
    )


def load_model(path: Path | None = None) -> RouterModel:
    """The weights in ``path``, or the shipped ones."""
    if path is None:
        text = resources.files("tierline.analysis").joinpath(WEIGHTS_FILE).read_text(encoding="utf-8")
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise WeightsError(f"cannot read {path}: {error.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise WeightsError(f"weights: not JSON ({error})") from None
    return model_from_json(data)


__all__ = ["DEFAULT_MID", "DEFAULT_PREMIUM", "RouterModel", "WeightsError", "load_model", "model_from_json"]
