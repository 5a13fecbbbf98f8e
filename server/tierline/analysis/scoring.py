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
from tierline.analysis.position_kind import position_kind

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
    # Kinds of position (analysis/position_kind.py): 0 or 1, and what the enclosing function does.
    in_comment: int = 0
    in_string: int = 0
    in_imports: int = 0
    in_test: int = 0
    signature_line: int = 0
    after_block: int = 0
    end_of_statement: int = 0
    system_ops: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------------------------
# Score: weights and caps.
#
# Each term is WEIGHT * min(x, CAP) / CAP: it grows linearly with its feature and stops at the
# cap, so each unit of a feature is worth a fixed, explainable amount (WEIGHT / CAP) until then.
# The code terms' weights add up to 1.5 and kinds of position take from them; the score is the sum
# clamped into [0, 1], so the contributions add up to it exactly whenever it is inside.
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

# What the enclosing function does: atomics, locks, syscalls, unsafe, raw pointers, FFI. A
# compare-and-swap loop or a syscall sequence in a short, shallow function is as hard as deep
# code: three such operations are worth as much as 3.5 levels of nesting.
WEIGHT_SYSTEM_OPS = 0.50
CAP_SYSTEM_OPS = 3

# Kinds of position that make the completion easier, whatever the code around them (negative:
# they take from the score). A comment or docstring is prose: it never goes premium, even deep
# in system code (the positive terms add up to at most 1.5, so at most 0.5 is left: mid). A string is mostly literal text;
# the import block is names from a short list; test code follows the code under test; a
# signature line, a blank line after a block and the end of a statement slightly.
WEIGHT_COMMENT = -1.00
WEIGHT_STRING = -0.30
WEIGHT_IMPORT_BLOCK = -0.40
WEIGHT_TEST = -0.30
WEIGHT_SIGNATURE = -0.10
WEIGHT_AFTER_BLOCK = -0.05
WEIGHT_END_OF_STATEMENT = -0.03

_TERMS: tuple[tuple[str, float, float], ...] = (
    ("nesting_depth", WEIGHT_NESTING, CAP_NESTING),
    ("system_imports", WEIGHT_SYSTEM, CAP_SYSTEM),
    ("external_imports", WEIGHT_EXTERNAL, CAP_EXTERNAL),
    ("imports", WEIGHT_IMPORTS, CAP_IMPORTS),
    ("context_tokens", WEIGHT_CONTEXT, CAP_CONTEXT),
    ("system_ops", WEIGHT_SYSTEM_OPS, CAP_SYSTEM_OPS),
    ("in_comment", WEIGHT_COMMENT, 1),
    ("in_string", WEIGHT_STRING, 1),
    ("in_imports", WEIGHT_IMPORT_BLOCK, 1),
    ("in_test", WEIGHT_TEST, 1),
    ("signature_line", WEIGHT_SIGNATURE, 1),
    ("after_block", WEIGHT_AFTER_BLOCK, 1),
    ("end_of_statement", WEIGHT_END_OF_STATEMENT, 1),
)


def contributions(features: Features) -> dict[str, float]:
    """Each feature's part of the score; the values add up to ``score(features)`` before it is
    clamped into [0, 1] (kinds of position take from it, so the sum can fall below 0)."""
    values = features.as_dict()
    baseline = NESTING_BASELINE_BY_LANGUAGE.get(features.language, NESTING_BASELINE)
    values["nesting_depth"] = features.nesting_depth - baseline
    return {name: weight * min(max(float(values[name]), 0.0), cap) / cap for name, weight, cap in _TERMS}


# The code terms add up to 1.5, so many positions saturate. They stop a hair under 1.0: a threshold
# of 1.0 then means "never this tier" (as `tierline estimate` and users setting 1.0 expect).
MAX_SCORE = 1.0 - 1e-9


def score(features: Features) -> float:
    """Difficulty of the completion in [0, 1)."""
    return min(MAX_SCORE, max(0.0, sum(contributions(features).values())))


@dataclass(frozen=True)
class CodeAtCursor:
    """A document's bytes, its tree (None: not parsed) and a utf-8 byte offset in it."""

    source: bytes
    tree: Tree | None
    byte_offset: int
    language: str
    path: str = ""  # the document's path or URI: test files are told by name


def extract_features(code: CodeAtCursor, imports: ImportSummary, context_tokens: int) -> Features:
    """Features of one cursor position (the offset is clamped into the document)."""
    kind = position_kind(code.source, code.tree, code.byte_offset, code.path)
    return Features(
        language=code.language,
        nesting_depth=nesting_depth(code.source, code.tree, code.byte_offset, code.language),
        imports=imports.imports,
        stdlib_imports=imports.stdlib_imports,
        external_imports=imports.external_imports,
        system_imports=imports.system_imports,
        context_tokens=max(0, context_tokens),
        in_comment=kind.in_comment,
        in_string=kind.in_string,
        in_imports=kind.in_imports,
        in_test=kind.in_test,
        signature_line=kind.signature_line,
        after_block=kind.after_block,
        end_of_statement=kind.end_of_statement,
        system_ops=kind.system_ops,
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
