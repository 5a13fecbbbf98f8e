"""Where each line starts, kept up to date at a cost in proportion to the edit, not the file.

Line starts are held in blocks of a few hundred lines, each with a base offset: an edit rewrites
the block(s) it touches and moves the base of every later block by the edit's length change
(a few dozen additions for a 50,000-line file) instead of shifting every later line.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field

BLOCK_LINES = 512


@dataclass
class _Block:
    base: int  # absolute offset of the block's first line
    starts: list[int]  # line starts relative to base; starts[0] == 0


def line_starts(source: bytes, base: int = 0) -> list[int]:
    """Offsets (plus base) just after each newline in source."""
    starts = []
    find = source.find
    i = find(b"\n")
    while i >= 0:
        starts.append(base + i + 1)
        i = find(b"\n", i + 1)
    return starts


@dataclass
class LineIndex:
    """The start offset of every line of a document; line 0 starts at 0."""

    _blocks: list[_Block] = field(default_factory=list)
    _first_lines: list[int] = field(default_factory=list)  # the line number each block starts at
    _bases: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, source: bytes) -> LineIndex:
        index = cls()
        index._blocks = _blocks_of([0, *line_starts(source)])
        index._reindex()
        return index

    def __len__(self) -> int:
        last = self._blocks[-1]
        return self._first_lines[-1] + len(last.starts)

    def __getitem__(self, line: int) -> int:
        if line < 0:
            line += len(self)
        block = bisect_right(self._first_lines, line) - 1
        if block < 0 or line - self._first_lines[block] >= len(self._blocks[block].starts):
            raise IndexError(line)
        item = self._blocks[block]
        return item.base + item.starts[line - self._first_lines[block]]

    def __iter__(self) -> Iterator[int]:
        for item in self._blocks:
            yield from (item.base + s for s in item.starts)

    def line_of(self, offset: int) -> int:
        """The line that holds byte `offset` (the last line for offsets past the end)."""
        block = max(0, bisect_right(self._bases, offset) - 1)
        item = self._blocks[block]
        return self._first_lines[block] + bisect_right(item.starts, offset - item.base) - 1

    def replace(self, first_row: int, last_row: int, inserted: list[int], delta: int) -> None:
        """Lines first_row+1 .. last_row are gone, `inserted` (absolute starts) take their place, and
        every line after last_row moves by delta bytes."""
        lo = max(0, bisect_right(self._first_lines, first_row + 1) - 1)
        hi = max(lo, bisect_right(self._first_lines, last_row + 1) - 1)
        absolute: list[int] = []
        for item in self._blocks[lo : hi + 1]:
            absolute.extend(item.base + s for s in item.starts)
        start_line = self._first_lines[lo]
        keep_before = absolute[: first_row + 1 - start_line]
        keep_after = [s + delta for s in absolute[last_row + 1 - start_line :]]
        rebuilt = _blocks_of(keep_before + inserted + keep_after)
        for item in self._blocks[hi + 1 :]:
            item.base += delta
        self._blocks[lo : hi + 1] = rebuilt
        self._reindex()

    def _reindex(self) -> None:
        first = 0
        self._first_lines = []
        self._bases = []
        for item in self._blocks:
            self._first_lines.append(first)
            self._bases.append(item.base)
            first += len(item.starts)


def _blocks_of(absolute: list[int]) -> list[_Block]:
    blocks = []
    for i in range(0, len(absolute), BLOCK_LINES):
        chunk = absolute[i : i + BLOCK_LINES]
        blocks.append(_Block(chunk[0], [s - chunk[0] for s in chunk]))
    return blocks


def lines_around(source: bytes, at: int, above: int, below: int) -> tuple[int, int]:
    """Byte range from the start of the line ``above`` lines before the one holding ``at`` to the
    end of the line ``below`` lines after it (clamped to the source)."""
    start = at
    for _ in range(above):
        previous = source.rfind(b"\n", 0, max(0, start - 1))
        if previous < 0:
            start = 0
            break
        start = previous + 1
    end = at
    for _ in range(below):
        following = source.find(b"\n", end + 1)
        if following < 0:
            end = len(source)
            break
        end = following
    return start, end
