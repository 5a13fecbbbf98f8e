"""A reference text that applies LSP edits the simple way, to compare the server's documents with."""

from __future__ import annotations

from dataclasses import dataclass


def units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text)


@dataclass
class Reference:
    """The editor's copy of the document: a str and LSP positions in the negotiated encoding."""

    text: str
    encoding: str

    def lines(self) -> list[str]:
        return self.text.split("\n")

    def index(self, line: int, character: int) -> int:
        """LSP clamping: past the last line is the end; past a line's end is that end (before \\r)."""
        lines = self.lines()
        if line >= len(lines):
            return len(self.text)
        start = sum(len(x) + 1 for x in lines[:line])
        content = lines[line][:-1] if lines[line].endswith("\r") else lines[line]
        count = 0
        for i, char in enumerate(content):
            if count >= character:
                return start + i
            count += units(char, self.encoding)
        return start + len(content)

    def position(self, index: int) -> tuple[int, int]:
        before = self.text[:index]
        line = before.count("\n")
        return line, units(before[before.rfind("\n") + 1 :], self.encoding)

    def apply(self, start: tuple[int, int], end: tuple[int, int], new: str) -> None:
        a, b = self.index(*start), self.index(*end)
        b = max(a, b)
        self.text = self.text[:a] + new + self.text[b:]
