"""How hard is the completion at this cursor? Pure functions: bytes and a tree in, numbers out.

``imports.summarize_imports`` runs once per document version (module-level nodes, plus one
tree-sitter query for Rust ``unsafe`` / Java ``native``); ``extract_features`` runs on every
request and only walks the ancestors of the node at the cursor (``nesting``); ``score`` is a
weighted sum of capped per-feature terms, so ``contributions`` can say which feature made a
position expensive. The tier decision (score against thresholds) lives in ``routing.tiers``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from tierline.analysis.imports import ImportSummary, summarize_imports
from tierline.analysis.nesting import nesting_depth

if TYPE_CHECKING:  # pragma: no cover
    from tree_sitter import Tree

# ---------------------------------------------------------------------------------------------
# Data


@dataclass(frozen=True)
class Features:
    """What the score is computed from, for one cursor position."""

    language: str
    nesting_depth: int
    imports: int
    stdlib_imports: int
    external_imports: int
    system_imports: int
    context_tokens: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------------------------
# Score: weights and caps.
#
# Each term is WEIGHT * min(x, CAP) / CAP: it grows linearly with its feature and stops at the
# cap, so each unit of a feature is worth a fixed, explainable amount (WEIGHT / CAP) until then.
# The weights add up to 1: the score stays in [0, 1] and the contributions add up to it exactly.
# Calibrated with tests/benchmarks/calibrate_tiers.py on the fixtures (docs/benchmarks.md): most
# positions are cheap; premium takes deep code, or fairly deep code in a demanding file.

# Nesting is the main per-position signal: deep branches and closures are where small models
# lose track of scope. 0.14 per level above the baseline, up to 5 levels. The baseline is the
# enclosing function (and, in Java, its class: all Java code sits in one), the normal place for
# code to be rather than a sign of difficulty.
WEIGHT_NESTING = 0.70
CAP_NESTING = 5
NESTING_BASELINE = 1
NESTING_BASELINE_BY_LANGUAGE: dict[str, int] = {"java": 2}

# System-level code (processes, sockets, threads, FFI, unsafe) is where a plausible-looking
# completion is most often subtly wrong: 0.03 per system import, up to 4.
WEIGHT_SYSTEM = 0.12
CAP_SYSTEM = 4

# Third-party APIs: a small model knows the stdlib well, long-tail libraries less. 0.008 each,
# up to 10.
WEIGHT_EXTERNAL = 0.08
CAP_EXTERNAL = 10

# Many imports at all means a file that glues many things together: small, up to 30.
WEIGHT_IMPORTS = 0.04
CAP_IMPORTS = 30

# A long prompt is more to reason over. The default window caps it near 1,230 tokens, so in
# practice this separates the top of a file (little context) from the rest.
WEIGHT_CONTEXT = 0.06
CAP_CONTEXT = 1200

_TERMS: tuple[tuple[str, float, float], ...] = (
    ("nesting_depth", WEIGHT_NESTING, CAP_NESTING),
    ("system_imports", WEIGHT_SYSTEM, CAP_SYSTEM),
    ("external_imports", WEIGHT_EXTERNAL, CAP_EXTERNAL),
    ("imports", WEIGHT_IMPORTS, CAP_IMPORTS),
    ("context_tokens", WEIGHT_CONTEXT, CAP_CONTEXT),
)


def contributions(features: Features) -> dict[str, float]:
    """Each feature's part of the score; the values add up to ``score(features)``."""
    values = features.as_dict()
    baseline = NESTING_BASELINE_BY_LANGUAGE.get(features.language, NESTING_BASELINE)
    values["nesting_depth"] = features.nesting_depth - baseline
    return {name: weight * min(max(float(values[name]), 0.0), cap) / cap for name, weight, cap in _TERMS}


def score(features: Features) -> float:
    """Difficulty of the completion in [0, 1]."""
    return min(1.0, max(0.0, sum(contributions(features).values())))


@dataclass(frozen=True)
class CodeAtCursor:
    """A document's bytes, its tree (None: not parsed) and a utf-8 byte offset in it."""

    source: bytes
    tree: Tree | None
    byte_offset: int
    language: str


def extract_features(code: CodeAtCursor, imports: ImportSummary, context_tokens: int) -> Features:
    """Features of one cursor position (the offset is clamped into the document)."""
    return Features(
        language=code.language,
        nesting_depth=nesting_depth(code.source, code.tree, code.byte_offset, code.language),
        imports=imports.imports,
        stdlib_imports=imports.stdlib_imports,
        external_imports=imports.external_imports,
        system_imports=imports.system_imports,
        context_tokens=max(0, context_tokens),
    )


__all__ = [
    "CodeAtCursor",
    "Features",
    "ImportSummary",
    "contributions",
    "extract_features",
    "score",
    "summarize_imports",
]
