"""Where `tierline bench` hides code: positions like real typing, in the repository's own files.

Three kinds, as an inline completion meets them: the rest of a line (the cursor stopped after a
token), the next line (the cursor after the indentation of a line about to be written), and a
block body about to be written (the cursor on the first line of a body just opened by a line
ending in ``:`` or ``{``). The hidden code is what really followed; the document the models see
is the file without it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

KINDS: tuple[str, ...] = ("rest_of_line", "next_line", "block_body")
KIND_WEIGHTS: tuple[float, ...] = (0.45, 0.35, 0.2)
MAX_HIDDEN_CHARS = 400
MAX_BODY_LINES = 10
# A token just ended here: a place where people pause and a completion is asked for.
_BOUNDARY = " ([{.,=:"


@dataclass(frozen=True)
class Position:
    """One cursor position: the code before it, the hidden code, the code after it."""

    ident: str  # "path:line:col:kind" (1-based line and column), or "suite:N"
    path: str  # relative to the repository ("" in a suite)
    language: str
    kind: str
    before: str
    hidden: str
    after: str

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[-1] if self.path else f"{self.ident.replace(':', '_')}"


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _starts(lines: list[str]) -> list[int]:
    starts, offset = [], 0
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    return starts


def _make(where: tuple[str, str, str], text: str, cut: tuple[int, int], row_col: tuple[int, int]) -> Position:
    rel, language, kind = where
    start, end = cut
    row, col = row_col
    return Position(f"{rel}:{row + 1}:{col + 1}:{kind}", rel, language, kind, text[:start], text[start:end], text[end:])


def rest_of_line(rel: str, language: str, text: str, rng: random.Random) -> Position | None:
    lines = text.split("\n")
    starts = _starts(lines)
    rows = [i for i, line in enumerate(lines) if len(line.strip()) >= 8]
    if not rows:
        return None
    row = rng.choice(rows)
    line = lines[row].rstrip()
    indent = len(_indent(line))
    columns = [c for c in range(indent + 1, len(line) - 1) if line[c - 1] in _BOUNDARY and line[c:].strip()]
    if not columns:
        return None
    col = rng.choice(columns)
    return _make((rel, language, "rest_of_line"), text, (starts[row] + col, starts[row] + len(line)), (row, col))


def next_line(rel: str, language: str, text: str, rng: random.Random) -> Position | None:
    lines = text.split("\n")
    starts = _starts(lines)
    rows = [i for i, line in enumerate(lines) if i and len(line.strip()) >= 3]
    if not rows:
        return None
    row = rng.choice(rows)
    line = lines[row].rstrip()
    col = len(_indent(line))
    return _make((rel, language, "next_line"), text, (starts[row] + col, starts[row] + len(line)), (row, col))


def block_body(rel: str, language: str, text: str, rng: random.Random) -> Position | None:
    lines = text.split("\n")
    starts = _starts(lines)
    headers = [i for i, line in enumerate(lines[:-1]) if line.rstrip().endswith((":", "{")) and line.strip()]
    rng.shuffle(headers)
    for header in headers[:20]:
        outer = len(_indent(lines[header]))
        body: list[int] = []
        for row in range(header + 1, len(lines)):
            if lines[row].strip() and len(_indent(lines[row])) <= outer:
                break
            body.append(row)
        while body and not lines[body[-1]].strip():
            body.pop()
        if not body or not lines[body[0]].strip() or len(body) > MAX_BODY_LINES:
            continue
        first, last = body[0], body[-1]
        col = len(_indent(lines[first]))
        cut = (starts[first] + col, starts[last] + len(lines[last].rstrip()))
        return _make((rel, language, "block_body"), text, cut, (first, col))
    return None


MAKERS = {"rest_of_line": rest_of_line, "next_line": next_line, "block_body": block_body}


def sample_in_file(rel: str, language: str, text: str, rng: random.Random) -> Position | None:
    """One position of a kind drawn like real typing; None when the file has none of that kind."""
    kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
    position = MAKERS[kind](rel, language, text, rng)
    if position is None or not position.hidden.strip() or len(position.hidden) > MAX_HIDDEN_CHARS:
        return None
    return position


@dataclass(frozen=True)
class SourceFile:
    path: Path
    rel: str
    language: str
    lines: int


def candidate_pool(files: list[SourceFile], count: int, seed: int) -> list[Position]:
    """Up to `count` distinct positions, languages taken in turn, a file drawn by its lines."""
    rng = random.Random(seed)
    by_language: dict[str, list[SourceFile]] = {}
    for source in files:
        by_language.setdefault(source.language, []).append(source)
    languages = sorted(by_language)
    texts: dict[Path, str | None] = {}
    pool: dict[str, Position] = {}
    attempts = 0
    while len(pool) < count and languages and attempts < count * 6:
        language = languages[attempts % len(languages)]
        attempts += 1
        group = by_language[language]
        source = rng.choices(group, [f.lines for f in group])[0]
        if source.path not in texts:
            try:
                texts[source.path] = source.path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                texts[source.path] = None
        text = texts[source.path]
        if text is None:
            continue
        position = sample_in_file(source.rel, language, text, rng)
        if position is not None:
            pool.setdefault(position.ident, position)
    return list(pool.values())


def stratify(pool: list[tuple[Position, str]], count: int, tiers: tuple[str, ...]) -> list[tuple[Position, str]]:
    """`count` positions with each tier given an equal share where the pool has enough (the rest
    filled in pool order), languages in turn inside a tier."""
    by_tier: dict[str, list[tuple[Position, str]]] = {tier: [] for tier in tiers}
    for item in pool:
        by_tier.setdefault(item[1], []).append(item)
    share = -(-count // len(tiers))
    chosen: list[tuple[Position, str]] = []
    for tier in tiers:
        chosen += _languages_in_turn(by_tier[tier])[:share]
    chosen = chosen[:count]
    taken = {p.ident for p, _ in chosen}
    chosen += [item for item in pool if item[0].ident not in taken][: count - len(chosen)]
    return chosen


def _languages_in_turn(items: list[tuple[Position, str]]) -> list[tuple[Position, str]]:
    queues: dict[str, list[tuple[Position, str]]] = {}
    for item in items:
        queues.setdefault(item[0].language, []).append(item)
    out: list[tuple[Position, str]] = []
    while any(queues.values()):
        for language in sorted(queues):
            if queues[language]:
                out.append(queues[language].pop(0))
    return out
