"""How hard is the completion at this cursor? Pure functions: bytes and a tree in, numbers out.

``imports.summarize_imports`` runs once per document version (module-level nodes, plus one
tree-sitter query for Rust ``unsafe`` / Java ``native``); ``extract_features`` runs on every
request and only walks the ancestors of the node at the cursor (``nesting``) and bounded ranges
around it (``signals``: what is about to be written); ``score`` is a learned weighted sum of
capped per-feature terms (``router_model``), so ``contributions`` can say which feature made a
position expensive. The tier decision (score against thresholds) lives in ``routing.tiers``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tierline.analysis.imports import ImportSummary, summarize_imports
from tierline.analysis.nesting import nesting_depth
from tierline.analysis.position_kind import enclosing_function_span, position_kind
from tierline.analysis.router_model import RouterModel, load_model
from tierline.analysis.signals import (
    Signals,
    Surroundings,
    fallback_function_span,
    focus_without_function,
    read_signals,
    with_doc_comment,
)

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
    # What the code around the cursor says about the code about to be written (analysis/signals.py).
    atomics: int = 0
    locks: int = 0
    async_: int = 0
    unsafe: int = 0
    system: int = 0
    numeric: int = 0
    parsing: int = 0
    security: int = 0
    bit_ops: int = 0
    window_difficulty: int = 0
    window_atomics: int = 0
    window_locks: int = 0
    window_async: int = 0
    window_unsafe: int = 0
    window_system: int = 0
    window_numeric: int = 0
    window_parsing: int = 0
    window_security: int = 0
    external_calls: int = 0
    member_calls: int = 0
    repetition: int = 0
    sibling_similarity: int = 0
    empty_body: int = 0
    mid_line: int = 0
    simple_line: int = 0
    comment_above: int = 0
    body_lines: int = 0
    signature_words: int = 0
    code_follows: int = 0
    closes_after: int = 0
    sibling_body_lines: int = 0
    doc_lines: int = 0
    routine_name: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))  # flat fields: a copy of __dict__, ten times cheaper than asdict


# ---------------------------------------------------------------------------------------------
# Score: a learned ordinal model (analysis/router_model.py, weights in router_weights.json).
#
# Nesting counts above a baseline: the enclosing function (and, where all code sits in a class or
# module, that wrapper too) is the normal place for code, not a sign of difficulty. Each weights file
# names its own baselines; these are the learned weights' (the training split's median depth is 2
# in each of these languages: tests/data/routing_corpus) and the "nesting depth alone" baseline's.
NESTING_BASELINE = 1
NESTING_BASELINE_BY_LANGUAGE: dict[str, int] = {"java": 2, "kotlin": 2, "swift": 2, "php": 2, "ruby": 2, "csharp": 2}

_model: RouterModel | None = None


def current_model() -> RouterModel:
    """The weights in force: the shipped ones unless ``use_model`` installed others."""
    global _model
    if _model is None:
        _model = load_model()
    return _model


def use_model(model: RouterModel | None) -> None:
    """Install weights (a user's refit), or None for the shipped ones."""
    global _model
    _model = model


def model_inputs(features: Features, model: RouterModel | None = None) -> dict[str, float]:
    """The features as a model reads them (nesting above the model's baseline for the language)."""
    values = {k: float(v) for k, v in features.as_dict().items() if k != "language"}
    baselines = (model or current_model()).nesting_baselines
    values["nesting_depth"] = float(features.nesting_depth - baselines.get(features.language, NESTING_BASELINE))
    return values


def contributions(features: Features, model: RouterModel | None = None) -> dict[str, float]:
    """Each feature's part of the score, plus the language's and the base; the values add up to
    ``score(features)`` before it is clamped into [0, 1]."""
    model = model or current_model()
    return model.parts(model_inputs(features, model), features.language)


def features_json(features: Features) -> str:
    """The numeric features as compact JSON (what the ledger keeps for refitting: counts only)."""
    return json.dumps({k: v for k, v in features.as_dict().items() if k != "language"}, separators=(",", ":"))


# A score of exactly 1.0 is never reached: a threshold of 1.0 then means "never this tier" (as
# `tierline estimate` and users setting 1.0 expect).
MAX_SCORE = 1.0 - 1e-9


def score(features: Features, model: RouterModel | None = None) -> float:
    """Difficulty of the completion in [0, 1)."""
    return min(MAX_SCORE, max(0.0, sum(contributions(features, model).values())))


@dataclass(frozen=True)
class CodeAtCursor:
    """A document's bytes, its tree (None: not parsed) and a utf-8 byte offset in it."""

    source: bytes
    tree: Tree | None
    byte_offset: int
    language: str
    path: str = ""  # the document's path or URI: test files are told by name


# The window a model is sent, in bytes around the cursor (prefix_chars and suffix_chars by default).
WINDOW_BEFORE_BYTES = 3000
WINDOW_AFTER_BYTES = 1000


def signals_at(code: CodeAtCursor, imports: ImportSummary) -> Signals:
    """The signals of analysis/signals.py, read from the enclosing function (or the lines around
    the cursor) and the window sent."""
    offset = max(0, min(code.byte_offset, len(code.source)))
    span = enclosing_function_span(code.source, code.tree, offset) or fallback_function_span(code.source, offset)
    function_start = -1
    if span is not None:
        start, end = span
        function_start = start
        line_end = code.source.find(b"\n", start)
        signature = code.source[start : line_end if line_end >= 0 else end]
        focus = (with_doc_comment(code.source, start), min(end, offset + 600))
    else:
        signature, focus = b"", focus_without_function(code.source, offset)
    window = (offset - WINDOW_BEFORE_BYTES, offset + WINDOW_AFTER_BYTES)
    return read_signals(
        code.source, offset, Surroundings(focus, window, signature, function_start, imports.external_names)
    )


def extract_features(code: CodeAtCursor, imports: ImportSummary, context_tokens: int) -> Features:
    """Features of one cursor position (the offset is clamped into the document)."""
    kind = position_kind(code.source, code.tree, code.byte_offset, code.path)
    signals = signals_at(code, imports)
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
        **vars(signals),
    )


__all__ = [
    "CodeAtCursor",
    "Features",
    "ImportSummary",
    "contributions",
    "current_model",
    "extract_features",
    "features_json",
    "use_model",
    "score",
    "summarize_imports",
]
