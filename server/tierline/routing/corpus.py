"""The labelled routing corpus as the router sees it, and the figures that measure a router on it.

The cases themselves (real code, labels and reasons) live in ``tests/data/routing_corpus/``; what
ships with the package is ``corpus_features.json``: for each case its id, repository, language,
split, agreed label, whether both labellers called it the same (``clear``) and the features the
server reads at its cursor (numbers only: no code, no path). ``tierline calibrate --weights``
refits on the training split plus the user's own completions and checks every fit on the frozen
test split before it may be applied.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from tierline.analysis import languages, scoring
from tierline.analysis.documents import Document
from tierline.analysis.router_model import RouterModel
from tierline.config import Thresholds
from tierline.prompt.tokens import estimate_tokens
from tierline.routing.tiers import choose_tier

FEATURES_FILE = "corpus_features.json"
TIERS = ("cheap", "mid", "premium")
PREFIX_CHARS, SUFFIX_CHARS = 3000, 1000  # the default window (config [completion])


@dataclass(frozen=True)
class LabelledPosition:
    id: str
    repository: str
    language: str
    split: str  # "train" | "test"
    kind: str  # "writing" | "editing"
    label: str
    clear: bool  # both labellers gave this label
    features: Mapping[str, float] = field(default_factory=dict)

    def scoring_features(self) -> scoring.Features:
        known = {k: int(v) for k, v in self.features.items() if k in scoring.Features.__dataclass_fields__}
        return scoring.Features(language=self.language, **known)


def position_features(prefix: str, suffix: str, path: str) -> scoring.Features:
    """The features the server reads at a cursor between ``prefix`` and ``suffix`` of a file at
    ``path`` (as CompletionEngine.analyse does for an open document)."""
    language = languages.language_from(path, None, prefix + suffix)
    source = (prefix + suffix).encode("utf-8")
    document = Document("file:///corpus/" + path, language, 0, source, parser=languages.parser_for(language))
    offset = len(prefix.encode("utf-8"))
    code = document.code_at(offset)
    code = scoring.CodeAtCursor(code.source, code.tree, code.byte_offset, code.language, path)
    context = estimate_tokens(prefix[-PREFIX_CHARS:]) + estimate_tokens(suffix[:SUFFIX_CHARS])
    return scoring.extract_features(code, document.imports(scoring.summarize_imports), context)


def load_positions(text: str | None = None) -> list[LabelledPosition]:
    """The shipped features (or those in ``text``)."""
    if text is None:
        text = resources.files("tierline.routing").joinpath(FEATURES_FILE).read_text(encoding="utf-8")
    data: list[dict[str, Any]] = json.loads(text)["positions"]
    return [
        LabelledPosition(
            id=str(row["id"]),
            repository=str(row["repository"]),
            language=str(row["language"]),
            split=str(row["split"]),
            kind=str(row["kind"]),
            label=str(row["label"]),
            clear=bool(row["clear"]),
            features={str(k): float(v) for k, v in row["features"].items()},
        )
        for row in data
    ]


@dataclass(frozen=True)
class Figures:
    """How a router (or a baseline) does on a set of labelled positions."""

    cases: int
    exact: int
    severe: int  # cheap sent premium, or premium sent cheap
    severe_clear: int  # the same, on cases both labellers called the same
    recall: Mapping[str, tuple[int, int]]  # tier -> (right, labelled)
    confusion: Mapping[str, Mapping[str, int]]  # label -> predicted -> count

    @property
    def exact_rate(self) -> float:
        return self.exact / self.cases if self.cases else 0.0

    def recall_rate(self, tier: str) -> float:
        right, total = self.recall[tier]
        return right / total if total else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "exact": self.exact,
            "exact_pct": round(100 * self.exact_rate, 1),
            "severe": self.severe,
            "severe_clear": self.severe_clear,
            "recall": {t: list(v) for t, v in self.recall.items()},
            "confusion": {k: dict(v) for k, v in self.confusion.items()},
        }


def measure(positions: Sequence[LabelledPosition], predicted: Sequence[str]) -> Figures:
    exact = severe = severe_clear = 0
    recall = {t: [0, 0] for t in TIERS}
    confusion = {t: dict.fromkeys(TIERS, 0) for t in TIERS}
    for position, tier in zip(positions, predicted, strict=True):
        confusion[position.label][tier] += 1
        recall[position.label][1] += 1
        if tier == position.label:
            exact += 1
            recall[tier][0] += 1
        if {tier, position.label} == {"cheap", "premium"}:
            severe += 1
            severe_clear += 1 if position.clear else 0
    return Figures(len(positions), exact, severe, severe_clear, {t: (r[0], r[1]) for t, r in recall.items()}, confusion)


def routed(positions: Iterable[LabelledPosition], model: RouterModel, thresholds: Thresholds) -> list[str]:
    """The tier the score gives each position under ``model``."""
    return [choose_tier(scoring.score(position.scoring_features(), model), thresholds).value for position in positions]


def nesting_alone(positions: Iterable[LabelledPosition], mid_depth: int, premium_depth: int) -> list[str]:
    """The baseline "nesting depth alone": depth above the language's baseline against two cut-offs."""
    out = []
    for position in positions:
        baseline = scoring.NESTING_BASELINE_BY_LANGUAGE.get(position.language, scoring.NESTING_BASELINE)
        depth = position.features.get("nesting_depth", 0) - baseline
        out.append("premium" if depth >= premium_depth else "mid" if depth >= mid_depth else "cheap")
    return out


def baselines(positions: Sequence[LabelledPosition], nesting_cutoffs: tuple[int, int] = (2, 4)) -> dict[str, Figures]:
    """ "always cheap", "always mid" and "nesting depth alone" on the same positions."""
    return {
        "always cheap": measure(positions, ["cheap"] * len(positions)),
        "always mid": measure(positions, ["mid"] * len(positions)),
        "nesting depth alone": measure(positions, nesting_alone(positions, *nesting_cutoffs)),
    }


__all__ = [
    "Figures",
    "LabelledPosition",
    "baselines",
    "load_positions",
    "measure",
    "nesting_alone",
    "position_features",
    "routed",
]
