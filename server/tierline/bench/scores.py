"""How one answer compares with the code that was really there.

exact: equal after whitespace normalisation (runs of whitespace are one space; leading and
trailing whitespace dropped), the measure FIM benchmarks report. edit_similarity: 1 - Levenshtein
distance / the longer length, on the normalised texts. parses: the completed file has no syntax
error under tree-sitter (None where there is no grammar, or the file did not parse before).
"""

from __future__ import annotations

from tierline.analysis.languages import parser_for

# Longer texts are cut before the edit distance (quadratic); answers are a few lines.
MAX_COMPARED_CHARS = 2000


def normalise(text: str) -> str:
    return " ".join(text.split())


def exact(answer: str, expected: str) -> bool:
    return normalise(answer) == normalise(expected)


def edit_similarity(answer: str, expected: str) -> float:
    a, b = normalise(answer)[:MAX_COMPARED_CHARS], normalise(expected)[:MAX_COMPARED_CHARS]
    if not a and not b:
        return 1.0
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return 1.0 - previous[-1] / max(len(a), len(b))


def parses(language: str, text: str) -> bool | None:
    """Whether the text parses without an error node; None when the language has no grammar."""
    parser = parser_for(language)
    if parser is None:
        return None
    return not parser.parse(text.encode("utf-8")).root_node.has_error
