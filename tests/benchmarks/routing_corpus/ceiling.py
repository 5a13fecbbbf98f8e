"""How far any small model can get on the routing corpus's training split: the ceiling of issue 16.

    .venv/bin/pip install scikit-learn       # an analysis tool only: tierline never imports it
    .venv/bin/python tests/benchmarks/routing_corpus/ceiling.py

The shipped router is one ordinal logistic model over the signals ``tierline score`` reads. This
script asks whether a different model class or more text would do better, and how much better a
router could do if it knew the code about to be written. Everything is cross-validated within the
*training* split, five folds grouped by repository, as ``fit.py`` chooses its penalty: the frozen
test split is never read. Rows:

- the signals alone, under logistic regression (plain and class-balanced), gradient boosting and
  a random forest;
- the signals plus a bag of words (identifier parts of the 400 characters before the cursor and
  150 after, tf-idf);
- two oracles no router has: the signals plus the number of lines really written at the cursor,
  and plus that code's difficulty-family counts (what a router that first drafted the completion
  with a cheap model, then routed on the draft, could at best read).

Figures are printed in the form docs/benchmarks.md logs them. Deterministic (fixed seeds).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from tierline.analysis.signals import family_counts
from tierline.routing.corpus import load_positions

ROOT = Path(__file__).resolve().parents[3]
CASES = ROOT / "tests" / "data" / "routing_corpus" / "cases.jsonl"
FEATURES = ROOT / "server" / "tierline" / "routing" / "corpus_features.json"
TIERS = ("cheap", "mid", "premium")
FOLDS = 5


def identifier_parts(text: str) -> list[str]:
    parts = []
    for name in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text):
        parts += [p.lower() for p in re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+", name) if len(p) > 1]
    return parts


class Split:
    """The training split: signals, language, the hidden code's size and families, labels."""

    def __init__(self) -> None:
        lines = CASES.read_text(encoding="utf-8").splitlines()
        cases = {case["id"]: case for case in (json.loads(line) for line in lines if line.strip())}
        positions = [p for p in load_positions(FEATURES.read_text(encoding="utf-8")) if p.split == "train"]
        names = sorted(positions[0].features)
        languages = sorted({p.language for p in positions})
        self.repositories = [p.repository for p in positions]
        self.labels = np.array([TIERS.index(p.label) for p in positions])
        signals = np.log1p(np.clip([[p.features[n] for n in names] for p in positions], 0, None))
        language = np.array([[float(p.language == lang) for lang in languages] for p in positions])
        self.signals = np.hstack([signals, language])
        hidden = [str(cases[p.id]["hidden"]) for p in positions]
        self.hidden_lines = np.log1p([[len(h.splitlines())] for h in hidden])
        self.hidden_families = np.log1p([list(family_counts(h.encode("utf-8")).values()) for h in hidden])
        self.texts = [
            " ".join(identifier_parts(str(cases[p.id]["prefix"])[-400:] + " " + str(cases[p.id]["suffix"])[:150]))
            for p in positions
        ]

    def folds(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        repositories = sorted(set(self.repositories))
        for fold in range(FOLDS):
            held = set(repositories[fold::FOLDS])
            train = np.array([r not in held for r in self.repositories])
            yield train, ~train


Inputs = Callable[[np.ndarray, np.ndarray], tuple[Any, Any]]


def scaled(columns: np.ndarray) -> Inputs:
    def inputs(train: np.ndarray, held: np.ndarray) -> tuple[Any, Any]:
        scaler = StandardScaler().fit(columns[train])
        return scaler.transform(columns[train]), scaler.transform(columns[held])

    return inputs


def with_words(split: Split) -> Inputs:
    def inputs(train: np.ndarray, held: np.ndarray) -> tuple[Any, Any]:
        vectoriser = TfidfVectorizer(min_df=2, sublinear_tf=True, token_pattern=r"\S+")
        words_train = vectoriser.fit_transform([t for t, keep in zip(split.texts, train, strict=True) if keep])
        words_held = vectoriser.transform([t for t, keep in zip(split.texts, held, strict=True) if keep])
        signals_train, signals_held = scaled(split.signals)(train, held)
        return (
            hstack([words_train, csr_matrix(signals_train)]).tocsr(),
            hstack([words_held, csr_matrix(signals_held)]).tocsr(),
        )

    return inputs


def figures(name: str, labels: np.ndarray, predicted: np.ndarray) -> str:
    exact = int((predicted == labels).sum())
    severe = int((((predicted == 2) & (labels == 0)) | ((predicted == 0) & (labels == 2))).sum())
    recall = ", ".join(f"{int(((predicted == k) & (labels == k)).sum())}/{int((labels == k).sum())}" for k in range(3))
    return f"| {name} | {exact}/{len(labels)} ({100 * exact / len(labels):.1f} %) | {severe} | {recall} |"


def cross_validated(split: Split, make: Callable[[], Any], inputs: Inputs) -> np.ndarray:
    predicted = np.zeros(len(split.labels), dtype=int)
    for train, held in split.folds():
        x_train, x_held = inputs(train, held)
        model = make().fit(x_train, split.labels[train])
        predicted[held] = model.predict(x_held)
    return predicted


def main() -> int:
    split = Split()

    def logistic(c: float, balanced: bool = False) -> Callable[[], Any]:
        return lambda: LogisticRegression(C=c, max_iter=5000, class_weight="balanced" if balanced else None)

    def boosting() -> Any:
        return GradientBoostingClassifier(n_estimators=150, max_depth=2, learning_rate=0.05, random_state=0)

    def forest() -> Any:
        return RandomForestClassifier(n_estimators=300, min_samples_leaf=3, class_weight="balanced", random_state=0)

    signals = scaled(split.signals)
    knows_length = scaled(np.hstack([split.signals, split.hidden_lines]))
    knows_draft = scaled(np.hstack([split.signals, split.hidden_lines, split.hidden_families]))
    rows: list[tuple[str, Callable[[], Any], Inputs]] = [
        ("signals, logistic (C 0.03)", logistic(0.03), signals),
        ("signals, logistic (C 1)", logistic(1), signals),
        ("signals, logistic balanced (C 0.1)", logistic(0.1, True), signals),
        ("signals, gradient boosting", boosting, signals),
        ("signals, random forest balanced", forest, signals),
        ("signals + words, logistic (C 1)", logistic(1), with_words(split)),
        ("signals + words, logistic balanced (C 1)", logistic(1, True), with_words(split)),
        ("oracle: + lines written, logistic (C 0.03)", logistic(0.03), knows_length),
        ("oracle: + the written code's size and families, logistic (C 0.03)", logistic(0.03), knows_draft),
        ("oracle: the same, balanced (C 1)", logistic(1, True), knows_draft),
        ("oracle: the same, gradient boosting", boosting, knows_draft),
    ]
    print("| model (5-fold CV by repository, training split) | exact | severe | recall cheap, mid, premium |")
    print("|---|---:|---:|---|")
    for name, make, inputs in rows:
        print(figures(name, split.labels, cross_validated(split, make, inputs)))
    print(figures("always cheap", split.labels, np.zeros_like(split.labels)))
    print(figures("always mid", split.labels, np.ones_like(split.labels)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
