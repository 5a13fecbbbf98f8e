"""What a bench found: per model (and language), per tier, routed against all-premium, misroutes.

"routed" is, at each position, the answer of the model tierline would have called first there (the
tier its score picks, that tier's first model); "all premium" the premium tier's first model at
every position. The positions are stratified so each tier gets enough; the routed and all-premium
figures weight them back to the repository's own tier mix (measured on the whole candidate pool),
so the headline speaks for the code as it is. The interval is a bootstrap over positions (95 %).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tierline.bench.runner import Case, Result
from tierline.wire import TIERS

BOOTSTRAP_DRAWS = 1000
MISROUTES_SHOWN = 10


@dataclass(frozen=True)
class Picks:
    """The model each tier would call first at a position, and the one tierline routes to."""

    by_tier: Mapping[str, str]
    routed: str

    @property
    def premium(self) -> str | None:
        return self.by_tier.get("premium")


def _rate(values: Iterable[float]) -> float:
    values = list(values)
    return round(sum(values) / len(values), 4) if values else 0.0


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)


def model_figures(results: list[Result]) -> dict[str, Any]:
    judged = [r.parses for r in results if r.parses is not None]
    latencies = [r.latency_ms for r in results if r.answered]
    return {
        "positions": len(results),
        "exact": _rate(float(r.exact) for r in results),
        "edit_similarity": _rate(r.edit_similarity for r in results),
        "parse_rate": _rate(float(p) for p in judged) if judged else None,  # no grammar, or no file parsed before
        "cost_usd": round(sum(r.cost_usd for r in results), 8),
        "p50_ms": _percentile(latencies, 0.5),
        "p95_ms": _percentile(latencies, 0.95),
        "failed": sum(not r.answered for r in results),
    }


def _pair(case: Case, picks: Picks, results: Mapping[tuple[str, str], Result]) -> tuple[Result, Result] | None:
    if picks.premium is None:
        return None
    routed, premium = results.get((case.ident, picks.routed)), results.get((case.ident, picks.premium))
    return (routed, premium) if routed is not None and premium is not None else None


def _headline(pairs: list[tuple[float, Result, Result]]) -> dict[str, float]:
    weight = sum(w for w, _, _ in pairs) or 1.0
    routed_exact = sum(w * r.exact for w, r, _ in pairs) / weight
    premium_exact = sum(w * p.exact for w, _, p in pairs) / weight
    routed_cost = sum(w * r.cost_usd for w, r, _ in pairs)
    premium_cost = sum(w * p.cost_usd for w, _, p in pairs)
    return {
        "routed_exact": routed_exact,
        "premium_exact": premium_exact,
        "routed_similarity": sum(w * r.edit_similarity for w, r, _ in pairs) / weight,
        "premium_similarity": sum(w * p.edit_similarity for w, _, p in pairs) / weight,
        "routed_cost": routed_cost,
        "premium_cost": premium_cost,
        "quality_retained": routed_exact / premium_exact if premium_exact else 0.0,
        "cost_ratio": routed_cost / premium_cost if premium_cost else 0.0,
    }


def _interval(pairs: list[tuple[float, Result, Result]], key: str, seed: int) -> list[float]:
    if len(pairs) < 2:
        return [0.0, 0.0]
    rng = random.Random(seed)
    draws = sorted(_headline(rng.choices(pairs, k=len(pairs)))[key] for _ in range(BOOTSTRAP_DRAWS))
    return [round(draws[int(0.025 * BOOTSTRAP_DRAWS)], 4), round(draws[int(0.975 * BOOTSTRAP_DRAWS) - 1], 4)]


def summarise(
    cases: list[Case],
    picks: Mapping[str, Picks],
    results: Mapping[tuple[str, str], Result],
    model_tiers: Mapping[str, str],
    seed: int,
) -> dict[str, Any]:
    """The bench's JSON (CONTRACT.md's keys first)."""
    by_model: dict[str, Any] = {}
    by_model_language: dict[str, dict[str, Any]] = {}
    for name, tier in model_tiers.items():
        rows = [results[(c.ident, name)] for c in cases if (c.ident, name) in results]
        if not rows:
            continue
        by_model[name] = {"tier": tier, **model_figures(rows)}
        languages = sorted({r.language for r in rows})
        by_model_language[name] = {
            language: model_figures([r for r in rows if r.language == language]) for language in languages
        }
    compared = [(c, pair) for c in cases if (pair := _pair(c, picks[c.ident], results)) is not None]
    pairs = [(c.weight, r, p) for c, (r, p) in compared]
    head = _headline(pairs)
    by_tier: dict[str, Any] = {}
    for tier in TIERS:
        in_tier = [(c.weight, r, p) for c, (r, p) in compared if c.tier == tier]
        tier_head = _headline(in_tier)
        by_tier[tier] = {
            "positions": len(in_tier),
            "routed_exact": round(tier_head["routed_exact"], 4),
            "premium_exact": round(tier_head["premium_exact"], 4),
            "routed_cost_usd": round(sum(r.cost_usd for _, r, _ in in_tier), 8),
            "premium_cost_usd": round(sum(p.cost_usd for _, _, p in in_tier), 8),
        }
    misroutes = []
    for case in cases:
        pair = _pair(case, picks[case.ident], results)
        if pair is None or case.tier == "premium":
            continue
        routed, premium = pair
        if not routed.exact and premium.exact:
            misroutes.append(
                {
                    "position": case.ident,
                    "tier": case.tier,
                    "model": routed.model,
                    "answer": routed.answer,
                    "expected": case.position.hidden,
                    "premium_model": premium.model,
                }
            )
    return {
        "positions": len(cases),
        "by_model": by_model,
        "routed": {
            "exact": round(head["routed_exact"], 4),
            "edit_similarity": round(head["routed_similarity"], 4),
            "cost_usd": round(head["routed_cost"], 8),
        },
        "all_premium": {
            "exact": round(head["premium_exact"], 4),
            "edit_similarity": round(head["premium_similarity"], 4),
            "cost_usd": round(head["premium_cost"], 8),
        },
        "quality_retained": round(head["quality_retained"], 4),
        "cost_ratio": round(head["cost_ratio"], 4),
        "interval": {
            "quality_retained": _interval(pairs, "quality_retained", seed),
            "cost_ratio": _interval(pairs, "cost_ratio", seed),
        },
        "compared": len(pairs),
        "by_model_language": by_model_language,
        "by_tier": by_tier,
        "misroutes": misroutes,
        "cases": [
            {
                "position": c.ident,
                "language": c.position.language,
                "kind": c.position.kind,
                "score": round(c.analysis.score, 4),
                "tier": c.tier,
                "weight": round(c.weight, 4),
                "picks": dict(picks[c.ident].by_tier),
                "results": {
                    name: {"exact": r.exact, "edit_similarity": r.edit_similarity, "cost_usd": round(r.cost_usd, 8)}
                    for name in model_tiers
                    if (r := results.get((c.ident, name))) is not None
                },
            }
            for c in cases
        ],
    }
