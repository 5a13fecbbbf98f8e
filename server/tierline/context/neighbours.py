"""Windows of open and recently opened documents most similar to the code at the cursor.

Each document is cut into windows of `WINDOW_LINES` lines (every `STEP` lines); a window is its set
of identifiers. The similarity is Jaccard's (shared identifiers / identifiers of either). The
windows of a document are computed off the event loop (`background.py`) from its text when it
opens or changes; a request only intersects sets, through an inverted index that skips the
identifiers found in most windows of a document.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from tierline.context.symbols import IDENTIFIER, KEYWORDS

WINDOW_LINES = 20
STEP = 10
QUERY_LINES = 20
RECENT_DOCUMENTS = 20  # open and recently closed documents compared
MIN_JACCARD = 0.12
COMMON_SHARE = 0.1  # an identifier in more than this share of a document's windows is not indexed


@dataclass(frozen=True)
class Windows:
    lines: tuple[str, ...]
    sets: tuple[frozenset[str], ...]
    postings: dict[str, tuple[int, ...]]


@dataclass(frozen=True)
class Neighbour:
    path: str
    line: int  # 1-based
    text: str
    jaccard: float


def identifiers(text: str) -> frozenset[str]:
    return frozenset(name for name in IDENTIFIER.findall(text) if name not in KEYWORDS and len(name) > 1)


def windows_of(text: str) -> Windows:
    lines = tuple(text.splitlines())
    starts = range(0, max(1, len(lines) - WINDOW_LINES + STEP), STEP)
    sets = tuple(identifiers("\n".join(lines[s : s + WINDOW_LINES])) for s in starts)
    counts: dict[str, list[int]] = {}
    for i, names in enumerate(sets):
        for name in names:
            counts.setdefault(name, []).append(i)
    limit = max(2, int(len(sets) * COMMON_SHARE))
    postings = {name: tuple(ids) for name, ids in counts.items() if len(ids) <= limit}
    return Windows(lines, sets, postings)


class Neighbours:
    """The documents compared, most recently used last."""

    def __init__(self) -> None:
        self._documents: OrderedDict[str, Windows] = OrderedDict()
        self._lock = threading.Lock()

    def set_windows(self, path: str, windows: Windows) -> None:
        """A document's windows (computed off the event loop, `background.read_text`)."""
        with self._lock:
            self._documents[path] = windows
            self._documents.move_to_end(path)
            while len(self._documents) > RECENT_DOCUMENTS:
                self._documents.popitem(last=False)

    def touch(self, path: str) -> None:
        with self._lock:
            if path in self._documents:
                self._documents.move_to_end(path)

    def forget(self, path: str) -> None:
        with self._lock:
            self._documents.pop(path, None)

    def paths(self) -> list[str]:
        return list(self._documents)

    def best(self, query_text: str, exclude: Iterable[str] = (), count: int = 3) -> list[Neighbour]:
        """The most similar window of each other document, best first (at most `count`)."""
        query = identifiers(query_text)
        if not query:
            return []
        skip = set(exclude)
        with self._lock:
            documents = [(path, w) for path, w in self._documents.items() if path not in skip]
        found: list[Neighbour] = []
        for path, windows in documents:
            shared: dict[int, int] = {}
            for name in query:
                for i in windows.postings.get(name, ()):
                    shared[i] = shared.get(i, 0) + 1
            if not shared:
                continue
            best_i, best_j = -1, 0.0
            for i, n in shared.items():
                j = n / (len(query) + len(windows.sets[i]) - n)
                if j > best_j:
                    best_i, best_j = i, j
            if best_j >= MIN_JACCARD:
                start = best_i * STEP
                text = "\n".join(windows.lines[start : start + WINDOW_LINES]) + "\n"
                found.append(Neighbour(path, start + 1, text, best_j))
        found.sort(key=lambda n: -n.jaccard)
        return found[:count]
