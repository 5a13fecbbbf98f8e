"""A ring of recently changed (typed or pasted) chunks of the workspace's documents.

A change costs one dictionary move on the event loop: the ring keeps (path, line) and the chunk's
text is cut from the document when a request asks, so a burst of keystrokes in one place is one
entry. Chunks are `CHUNK_LINES` lines around the change; the ring keeps `RING_SIZE` of them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

RING_SIZE = 16
CHUNK_LINES = 10
_BUCKET = CHUNK_LINES  # changes within the same 10 lines are one chunk


@dataclass(frozen=True)
class Edit:
    path: str
    line: int  # 1-based, the chunk's first line
    text: str
    age: int  # 0 = the most recent


class RecentEdits:
    def __init__(self) -> None:
        # (path, bucket) -> the changed line (0-based), most recent last
        self._ring: OrderedDict[tuple[str, int], int] = OrderedDict()

    def changed(self, path: str, row: int) -> None:
        key = (path, row // _BUCKET)
        self._ring[key] = row
        self._ring.move_to_end(key)
        while len(self._ring) > RING_SIZE:
            self._ring.popitem(last=False)

    def forget(self, path: str) -> None:
        for key in [k for k in self._ring if k[0] == path]:
            del self._ring[key]

    def chunks(self, lines_of: Callable[[str, int, int], str | None], skip: Callable[[str, int], bool]) -> list[Edit]:
        """The chunks, most recent first. `lines_of(path, first, last)`: the current text of lines
        first..last (0-based) or None when the document is gone; `skip(path, row)`: a chunk the
        prompt already shows."""
        out: list[Edit] = []
        for age, ((path, _), row) in enumerate(reversed(self._ring.items())):
            if skip(path, row):
                continue
            first = max(0, row - CHUNK_LINES // 2)
            text = lines_of(path, first, first + CHUNK_LINES - 1)
            if text is not None and text.strip():
                out.append(Edit(path, first + 1, text, age))
        return out
