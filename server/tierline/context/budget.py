"""Snippets ranked and cut to a tier's token budget.

Best score first; a snippet that does not fit whole is cut to its first lines when at least
`MIN_CUT_TOKENS` of it fit, else passed over for a smaller one. A snippet whose lines another
chosen snippet of the same file already covers is left out.
"""

from __future__ import annotations

from collections.abc import Iterable

from tierline.prompt.snippet import Snippet

MIN_CUT_TOKENS = 24


def _overlaps(a: Snippet, b: Snippet) -> bool:
    if a.path != b.path:
        return False
    a_end, b_end = a.line + a.text.count("\n"), b.line + b.text.count("\n")
    return a.line <= b_end and b.line <= a_end


def fit(candidates: Iterable[Snippet], max_tokens: int) -> tuple[Snippet, ...]:
    """The snippets sent under `max_tokens`, in rank order."""
    chosen: list[Snippet] = []
    left = max_tokens
    for snippet in sorted(candidates, key=lambda s: -s.score):
        if left < MIN_CUT_TOKENS:
            break
        if any(_overlaps(snippet, other) for other in chosen):
            continue
        if snippet.tokens <= left:
            chosen.append(snippet)
            left -= snippet.tokens
        elif left >= MIN_CUT_TOKENS and (cut := snippet.cut(left)) is not None:
            chosen.append(cut)
            left -= cut.tokens
    return tuple(chosen)


def tokens(snippets: Iterable[Snippet]) -> int:
    return sum(s.tokens for s in snippets)
