"""Fitting the score's weights: an ordinal (proportional-odds) logistic model, in plain Python.

Labels are ordered tiers (cheap < mid < premium). The model has one weight per feature (and per
language) and two cut points ``c1 < c2`` on the latent difficulty ``z = w . x``:
``P(tier <= cheap) = sigmoid(c1 - z)``, ``P(tier <= mid) = sigmoid(c2 - z)``. It is the smallest
model that keeps "a higher score means a dearer tier" and says which features made a position
expensive. Fitted by full-batch gradient descent on the weighted negative log-likelihood plus an
L2 penalty (features are already scaled into [0, 1] by their caps, so one step size suits all);
classes are weighted towards counting each tier as much in total (``balance``: mid and premium
are rarer than cheap, and missing them is what costs quality). Deterministic: same data, same weights.
Used by ``tests/benchmarks/routing_corpus/fit.py`` (the shipped weights) and by
``tierline calibrate --weights`` (a refit on the user's own completions).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tierline.analysis.router_model import RouterModel

TIERS = ("cheap", "mid", "premium")


@dataclass(frozen=True)
class Example:
    """One labelled position: its features scaled into [0, 1], its language and its tier."""

    values: Mapping[str, float]
    language: str
    label: str
    weight: float = 1.0


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def class_weights(examples: Sequence[Example], power: float = 1.0) -> dict[str, float]:
    """Weights per tier: with power 1 each tier's examples together weigh as much as any other
    tier's; 0 weighs every example alike; in between, rarer tiers count more but not fully."""
    counts = {tier: sum(1 for e in examples if e.label == tier) for tier in TIERS}
    present = [t for t in TIERS if counts[t]]
    total = len(examples)
    return {t: (total / (len(present) * counts[t])) ** power if counts[t] else 0.0 for t in TIERS}


@dataclass(frozen=True)
class FitOptions:
    l2: float = 0.02  # penalty on feature weights
    language_l2: float = 0.2  # penalty on language offsets (fewer examples each)
    steps: int = 1200
    rate: float = 0.05
    balance: float = 1.0  # class_weights' power


def fit(
    examples: Sequence[Example], features: Sequence[str], options: FitOptions = FitOptions()
) -> tuple[dict[str, float], dict[str, float], tuple[float, float]]:
    """(feature weights, language offsets, cut points) minimising the penalised, class-weighted
    negative log-likelihood. Languages get their own (more strongly penalised) offsets."""
    l2, language_l2, steps, rate, balance = (
        options.l2,
        options.language_l2,
        options.steps,
        options.rate,
        options.balance,
    )
    languages = sorted({e.language for e in examples})
    n_features = len(features)
    index = {lang: n_features + i for i, lang in enumerate(languages)}
    size = n_features + len(languages)
    # Each row as its non-zero (index, value) pairs: most features are 0 at most positions, and the
    # terms left out add nothing (the same sums, to the last bit, in a third of the time).
    rows = [
        [(j, value) for j, value in enumerate(float(e.values.get(name, 0.0)) for name in features) if value]
        for e in examples
    ]
    tiers = [TIERS.index(e.label) for e in examples]
    language_at = [index[e.language] for e in examples]
    balance_by = class_weights(examples, balance)
    weights_of = [e.weight * balance_by[e.label] for e in examples]
    total_weight = sum(weights_of) or 1.0
    w = [0.0] * size
    c1, c2 = -0.5, 0.5
    # Adam: the cut points and weights move at very different scales early on.
    m = [0.0] * (size + 2)
    v = [0.0] * (size + 2)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for step in range(1, steps + 1):
        grad = [0.0] * (size + 2)
        for row, tier, sample_weight, language in zip(rows, tiers, weights_of, language_at, strict=True):
            z = sum([w[j] * xj for j, xj in row]) + w[language]
            # P(y = k) = F(c_k - z) - F(c_{k-1} - z), with F(c_0) = 0, F(c_3) = 1.
            upper = 1.0 if tier == 2 else _sigmoid((c1, c2)[tier] - z)
            lower = 0.0 if tier == 0 else _sigmoid((c1, c2)[tier - 1] - z)
            p = max(upper - lower, 1e-12)
            d_upper = 0.0 if tier == 2 else upper * (1 - upper)
            d_lower = 0.0 if tier == 0 else lower * (1 - lower)
            # d(-log p)/dz = (d_upper - d_lower) / p ; d/dc_k follow the same terms with sign.
            dz = (d_upper - d_lower) / p * sample_weight
            for j, xj in row:
                grad[j] += dz * xj
            grad[language] += dz
            if tier < 2:
                grad[size + tier] -= d_upper / p * sample_weight
            if tier > 0:
                grad[size + tier - 1] += d_lower / p * sample_weight
        for j in range(size + 2):
            grad[j] /= total_weight
        for j in range(n_features):
            grad[j] += 2 * l2 * w[j]
        for j in range(n_features, size):
            grad[j] += 2 * language_l2 * w[j]
        params = [*w, c1, c2]
        for j in range(size + 2):
            m[j] = beta1 * m[j] + (1 - beta1) * grad[j]
            v[j] = beta2 * v[j] + (1 - beta2) * grad[j] * grad[j]
            m_hat = m[j] / (1 - beta1**step)
            v_hat = v[j] / (1 - beta2**step)
            params[j] -= rate * m_hat / (math.sqrt(v_hat) + eps)
        w = params[:size]
        c1, c2 = params[size], max(params[size + 1], params[size] + 0.05)
    feature_weights = {name: round(w[j], 4) for j, name in enumerate(features)}
    language_offsets = {lang: round(w[index[lang]], 4) for lang in languages}
    return feature_weights, language_offsets, (round(c1, 4), round(c2, 4))


def fitted_model(
    examples: Sequence[Example],
    caps: Mapping[str, float],
    meta: Mapping[str, object] | None = None,
    options: FitOptions = FitOptions(),
) -> RouterModel:
    features = list(caps)
    weights, languages, cutpoints = fit(examples, features, options)
    return RouterModel(weights, dict(caps), languages, cutpoints, dict(meta or {}))


__all__ = ["TIERS", "Example", "FitOptions", "class_weights", "fit", "fitted_model"]
