"""Thresholds from what users accepted: pure functions over the ledger's fates (docs/acceptance.md).

Two proposals per language:

* **shares** — quantiles of the recent scores, so that a target share of requests goes to each
  tier (RouteLLM calibrates its router this way): the mid threshold is the score below which
  ``TARGET_SHARES.cheap`` of the requests fall, the premium threshold the one above which
  ``TARGET_SHARES.premium`` lie.
* **parity** — quality: the cheap tier's acceptance rate against the tiers above it, with a
  confidence interval on the difference. If the cheap tier trails by more than ``MARGIN`` (the
  whole interval above it), the mid threshold comes down a step: more goes to mid. If the cheap
  tier matches (the whole interval below the margin), it goes up a step: more goes cheap and
  saves money. Otherwise (too few samples, or an interval straddling the margin) it stays.

* **cheap versus premium** — where invoked requests near a tier boundary showed the cheap and the
  premium answer side by side (completion/alternatives.py), which one the user took. Per language:
  the samples are the groups that showed both and in which the user accepted one of the two; the
  cheap win rate is the share of them where it was the cheap one. When parity leaves the
  thresholds where they are and there are at least ``MIN_WIN_SAMPLES`` samples, a cheap win rate
  of ``CHEAP_WINS`` (50 %) or more moves the mid threshold up a step (users take the cheap answer
  as often as the premium one: send more to cheap), one of ``PREMIUM_WINS`` (premium chosen 80 %
  of the time, cheap 20 % or less) moves it down a step. Never on fewer samples.

Guard rails keep any proposal sane: a step is at most ``STEP``, the mid threshold stays within
``MID_RANGE`` and at least ``MIN_GAP`` under premium. Rows of alternatives other than the first
item are not routed requests: parity and the projections leave them out; only the win rate reads them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from tierline.config import Thresholds
from tierline.routing.tiers import choose_tier
from tierline.wire import Fate, Tier

# Quality parity: the acceptable gap between cheap and the tiers above, and how sure we must be.
MARGIN = 0.10
Z_ONE_SIDED_95 = 1.645
MIN_SAMPLES = 30  # on each side of the mid threshold, per language
STEP = 0.05
MID_RANGE = (0.15, 0.60)
MIN_GAP = 0.10
# Cheap versus premium, side by side: the least samples to act on, and the win rates that act.
MIN_WIN_SAMPLES = 20
CHEAP_WINS = 0.50
PREMIUM_WINS = 0.20  # a cheap win rate at or below this: premium is what users want here
# Shares: what fraction of requests each tier should get (cheap, mid, premium).
TARGET_SHARES = (0.60, 0.30, 0.10)

ACCEPTED = frozenset({Fate.ACCEPTED.value, Fate.PARTIAL.value})


@dataclass(frozen=True)
class Sample:
    """One shown completion: where it was routed, its score, whether it was accepted, its cost."""

    language: str
    tier: str
    score: float
    accepted: bool
    cost_usd: float


@dataclass(frozen=True)
class Parity:
    """The cheap tier against the tiers above in one language."""

    cheap_shown: int
    cheap_rate: float
    above_shown: int
    above_rate: float
    gap: float  # above_rate - cheap_rate
    low: float  # the gap's one-sided 95 % interval
    high: float
    verdict: str  # "trails" | "matches" | "unsure" | "too few samples"


@dataclass(frozen=True)
class WinRate:
    """Cheap against premium where both were shown (alternatives) in one language."""

    samples: int  # groups showing both in which the user took one of them
    cheap_wins: int

    @property
    def rate(self) -> float | None:
        return self.cheap_wins / self.samples if self.samples else None

    @property
    def verdict(self) -> str:
        """ "cheap wins" | "premium wins" | "even" | "too few samples"."""
        rate = self.rate
        if rate is None or self.samples < MIN_WIN_SAMPLES:
            return "too few samples"
        return "cheap wins" if rate >= CHEAP_WINS else "premium wins" if rate <= PREMIUM_WINS else "even"


NO_WINS = WinRate(0, 0)


@dataclass(frozen=True)
class Projection:
    """Spend and acceptance of the recent requests, replayed under some thresholds."""

    spend_usd: float
    acceptance: float
    shares: tuple[float, float, float]


@dataclass(frozen=True)
class Proposal:
    language: str
    samples: int
    current: Thresholds
    shares: Thresholds | None  # None: too few scores
    parity: Thresholds
    evidence: Parity
    before: Projection
    after: Projection
    notes: list[str] = field(default_factory=list)
    wins: WinRate = NO_WINS

    @property
    def changed(self) -> bool:
        return self.parity != self.current


def parity_of(samples: Sequence[Sample], threshold_tier: str = Tier.CHEAP.value) -> Parity:
    cheap = [s.accepted for s in samples if s.tier == threshold_tier]
    above = [s.accepted for s in samples if s.tier != threshold_tier]
    cheap_rate = sum(cheap) / len(cheap) if cheap else 0.0
    above_rate = sum(above) / len(above) if above else 0.0
    gap = above_rate - cheap_rate
    if len(cheap) < MIN_SAMPLES or len(above) < MIN_SAMPLES:
        return Parity(len(cheap), cheap_rate, len(above), above_rate, gap, -1.0, 1.0, "too few samples")
    spread = Z_ONE_SIDED_95 * math.sqrt(
        cheap_rate * (1 - cheap_rate) / len(cheap) + above_rate * (1 - above_rate) / len(above)
    )
    low, high = gap - spread, gap + spread
    verdict = "trails" if low > MARGIN else "matches" if high < MARGIN else "unsure"
    return Parity(len(cheap), cheap_rate, len(above), above_rate, gap, low, high, verdict)


def guarded(mid: float, premium: float) -> Thresholds:
    """A mid threshold within the guard rails (premium stays where it is)."""
    low, high = MID_RANGE
    mid = min(max(mid, low), high, premium - MIN_GAP)
    return Thresholds(mid=round(mid, 2), premium=premium)


def parity_thresholds(current: Thresholds, evidence: Parity) -> Thresholds:
    if evidence.verdict == "trails":
        return guarded(current.mid - STEP, current.premium)
    if evidence.verdict == "matches":
        return guarded(current.mid + STEP, current.premium)
    return current


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile by linear interpolation between closest ranks."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def share_thresholds(scores: Sequence[float], shares: tuple[float, float, float] = TARGET_SHARES) -> Thresholds | None:
    if len(scores) < MIN_SAMPLES:
        return None
    mid = quantile(scores, shares[0])
    premium = max(mid, quantile(scores, shares[0] + shares[1]))
    return Thresholds(mid=round(mid, 3), premium=round(premium, 3))


Figures = tuple[float, float]  # (mean cost per request in USD, acceptance rate)


def figures_of(rows: Sequence[Sample]) -> Figures:
    return sum(r.cost_usd for r in rows) / len(rows), sum(r.accepted for r in rows) / len(rows)


def figures_by_tier(samples: Iterable[Sample]) -> dict[str, Figures]:
    by_tier: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_tier[sample.tier].append(sample)
    return {tier: figures_of(rows) for tier, rows in by_tier.items()}


def project(
    samples: Sequence[Sample], thresholds: Thresholds, pooled: Mapping[str, Figures] | None = None
) -> Projection:
    """Replay the samples under ``thresholds``: each request costs what its new tier's requests
    cost on average and is accepted as often as that tier's were (in this language; a tier with
    no requests here borrows the figures of all languages, ``pooled``)."""
    figures = figures_by_tier(samples)
    spend = accepted = 0.0
    counts = dict.fromkeys((t.value for t in Tier), 0)
    for sample in samples:
        tier = choose_tier(sample.score, thresholds).value
        counts[tier] += 1
        cost, rate = figures.get(tier) or (pooled or {}).get(tier) or (sample.cost_usd, float(sample.accepted))
        spend += cost
        accepted += rate
    n = len(samples) or 1
    shares = (counts["cheap"] / n, counts["mid"] / n, counts["premium"] / n)
    return Projection(round(spend, 8), round(accepted / n, 4), shares)


def win_thresholds(current: Thresholds, wins: WinRate) -> Thresholds:
    """The cheap-versus-premium nudge: a step up where cheap wins, down where premium does."""
    if wins.verdict == "cheap wins":
        return guarded(current.mid + STEP, current.premium)
    if wins.verdict == "premium wins":
        return guarded(current.mid - STEP, current.premium)
    return current


def win_rates(fates: Iterable[Mapping[str, object]]) -> dict[str, WinRate]:
    """Per language, from ledger rows with ``group_id``: how often cheap won when shown beside premium."""
    groups: dict[str, list[Mapping[str, object]]] = defaultdict(list)
    for row in fates:
        group = row.get("group_id")
        if isinstance(group, str) and group:
            groups[group].append(row)
    samples: dict[str, int] = defaultdict(int)
    wins: dict[str, int] = defaultdict(int)
    for rows in groups.values():
        tiers = {str(row.get("tier")) for row in rows}
        if not {Tier.CHEAP.value, Tier.PREMIUM.value} <= tiers:
            continue
        taken = {str(row.get("tier")) for row in rows if row.get("fate") in ACCEPTED}
        if not taken & {Tier.CHEAP.value, Tier.PREMIUM.value}:
            continue  # none taken, or the chosen tier's own (mid) answer
        language = str(rows[0].get("language"))
        samples[language] += 1
        wins[language] += Tier.CHEAP.value in taken and Tier.PREMIUM.value not in taken
    return {language: WinRate(count, wins[language]) for language, count in samples.items()}


def propose(
    samples: Iterable[Sample],
    thresholds_for: Mapping[str, Thresholds],
    default: Thresholds,
    wins: Mapping[str, WinRate] | None = None,
) -> list[Proposal]:
    """One proposal per language seen, in order of samples (most first)."""
    by_language: dict[str, list[Sample]] = defaultdict(list)
    every: list[Sample] = []
    for sample in samples:
        by_language[sample.language].append(sample)
        every.append(sample)
    pooled = figures_by_tier(every)
    proposals = []
    for language, rows in sorted(by_language.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        current = thresholds_for.get(language, default)
        evidence = parity_of(rows)
        proposed = parity_thresholds(current, evidence)
        won = (wins or {}).get(language, NO_WINS)
        notes = []
        if proposed == current and won.verdict in ("cheap wins", "premium wins"):
            proposed = win_thresholds(current, won)
            notes.append(f"{won.verdict} side by side ({won.cheap_wins} of {won.samples})")
        if proposed.mid != current.mid and proposed.mid in (MID_RANGE[0], MID_RANGE[1], current.premium - MIN_GAP):
            notes.append("held by a guard rail")
        proposals.append(
            Proposal(
                language=language,
                samples=len(rows),
                current=current,
                shares=share_thresholds([r.score for r in rows]),
                parity=proposed,
                evidence=evidence,
                before=project(rows, current, pooled),
                after=project(rows, proposed, pooled),
                notes=notes,
                wins=won,
            )
        )
    return proposals


def samples_from(fates: Iterable[Mapping[str, object]], cost_by_request: Mapping[str, float]) -> list[Sample]:
    """Ledger rows (accounting.acceptance.FateLedger.rows) to samples; rows without a score are skipped."""
    out = []
    for row in fates:
        score = row.get("score")
        if not isinstance(score, (int, float)):
            continue
        group = row.get("group_id")
        if group and group != row.get("request_id"):
            continue  # an alternative, not a routed request

        request_id = str(row.get("request_id"))
        out.append(
            Sample(
                language=str(row.get("language")),
                tier=str(row.get("tier")),
                score=float(score),
                accepted=row.get("fate") in ACCEPTED,
                cost_usd=float(cost_by_request.get(request_id, 0.0)),
            )
        )
    return out


__all__ = [
    "MARGIN",
    "MIN_SAMPLES",
    "STEP",
    "WinRate",
    "win_rates",
    "win_thresholds",
    "Parity",
    "Projection",
    "Proposal",
    "Sample",
    "parity_of",
    "parity_thresholds",
    "project",
    "propose",
    "quantile",
    "samples_from",
    "share_thresholds",
]
