"""`tierline calibrate --from-bench FILE`: thresholds and pass@1 proposed from a bench's JSON.

A bench holds, at each position, its score and the answer of the model each tier would call
first there (`cases[].picks` and `cases[].results`). Any thresholds can so be replayed on the
bench's own positions without a new call: the tier the score gives, that tier's model, whether it
got the code exactly right and what it cost. Per language, the proposal is the cheapest pair of
thresholds (steps of 0.05) whose exact matches are at least those of the current ones; ties go
to the pair nearest the current one. pass@1 per model and language is its exact-match rate there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tierline.config.model import RoutingConfig, Thresholds
from tierline.routing.tiers import choose_tier
from tierline.wire import TIERS

MIN_POSITIONS = 10
STEP = 0.05


@dataclass(frozen=True)
class Replay:
    """Thresholds replayed on a language's positions: exact-match rate and spend (weighted)."""

    exact: float
    cost_usd: float


@dataclass(frozen=True)
class BenchProposal:
    language: str
    positions: int
    current: Thresholds
    proposed: Thresholds
    before: Replay
    after: Replay

    @property
    def changed(self) -> bool:
        return self.proposed != self.current


def _complete(case: Mapping[str, Any]) -> bool:
    picks, results = case.get("picks", {}), case.get("results", {})
    return all(tier in picks and picks[tier] in results for tier in TIERS)


def replay(cases: list[Mapping[str, Any]], thresholds: Thresholds) -> Replay:
    weight = sum(float(c["weight"]) for c in cases) or 1.0
    exact = cost = 0.0
    for case in cases:
        result = case["results"][case["picks"][str(choose_tier(float(case["score"]), thresholds))]]
        exact += float(case["weight"]) * bool(result["exact"])
        cost += float(case["weight"]) * float(result["cost_usd"])
    return Replay(round(exact / weight, 4), round(cost, 8))


def _grid() -> list[Thresholds]:
    steps = [round(STEP * i, 2) for i in range(0, round(1 / STEP) + 1)]
    return [Thresholds(mid, premium) for mid in steps for premium in steps if premium >= mid]


def propose_thresholds(result: Mapping[str, Any], routing: RoutingConfig) -> list[BenchProposal]:
    by_language: dict[str, list[Mapping[str, Any]]] = {}
    for case in result.get("cases", []):
        if _complete(case):
            by_language.setdefault(str(case["language"]), []).append(case)
    proposals = []
    for language, cases in sorted(by_language.items()):
        if len(cases) < MIN_POSITIONS:
            continue
        current = routing.thresholds_for(language)
        before = replay(cases, current)

        def rank(
            t: Thresholds, cases: list[Mapping[str, Any]] = cases, current: Thresholds = current
        ) -> tuple[float, float]:
            return replay(cases, t).cost_usd, abs(t.mid - current.mid) + abs(t.premium - current.premium)

        fit = [t for t in _grid() if replay(cases, t).exact >= before.exact]
        best = min(fit, key=rank) if fit else current
        if replay(cases, best).cost_usd >= before.cost_usd:
            best = current  # no cheaper way to keep the exact matches: leave it
        proposals.append(BenchProposal(language, len(cases), current, best, before, replay(cases, best)))
    return proposals


def propose_pass_at_1(result: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Each model's exact-match rate, overall (`default`) and per language with enough positions."""
    scored: dict[str, dict[str, list[bool]]] = {}
    for case in result.get("cases", []):
        for model, row in case.get("results", {}).items():
            languages = scored.setdefault(model, {})
            languages.setdefault("default", []).append(bool(row["exact"]))
            languages.setdefault(str(case["language"]), []).append(bool(row["exact"]))
    return {
        model: {
            language: round(sum(values) / len(values), 2)
            for language, values in languages.items()
            if language == "default" or len(values) >= MIN_POSITIONS
        }
        for model, languages in scored.items()
    }
