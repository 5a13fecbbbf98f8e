"""Open documents as utf-8 bytes with a line index and an incrementally edited tree-sitter tree.

Tree-sitter works in utf-8 byte offsets; LSP positions count utf-16 code units (VS Code) or
bytes (Neovim, which negotiates utf-8). Every position is converted here, once.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tierline.analysis.lines import LineIndex, line_starts
from tierline.analysis.scoring import CodeAtCursor

if TYPE_CHECKING:
    from tree_sitter import Parser, Tree

    from tierline.analysis.scoring import ImportSummary

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class PositionError(ValueError):
    """A position that is not in the document (negative, or not a number)."""


def utf8(text: str) -> bytes:
    """The editor's text as UTF-8; a lone surrogate (invalid in UTF-8) becomes U+FFFD, one UTF-16
    unit for one, so the edit is kept and later positions stay aligned with the editor's."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub("\ufffd", text).encode("utf-8")


# Over this many lines, a request parses the top-level statement around the cursor on its own
# (a one-character edit costs an incremental reparse of the whole tree otherwise: ~2.5 ms at
# 50,000 lines, growing with the number of top-level statements).
LARGE_DOCUMENT_LINES = 5000
MAX_CHUNK_LINES = 3000
# A line in column 0 that starts a statement: not blank, not a comment or preprocessor line, not a
# bracket (a body or a closing), and not the continuation of a statement above (else/elif/except/finally).
_TOP_LEVEL_START = re.compile(rb"[^\s#/*{}()[\]]")
_CONTINUATION = re.compile(rb"(else|elif|except|finally|catch)\b")

# Words that can start or change an import (or an `unsafe`/`native` the import summary counts):
# an edit whose lines have none of them keeps the summary of the previous version.
_IMPORT_WORDS = re.compile(rb"\b(import|from|include|use|require|extern|package|mod|unsafe|native|crate)\b|#")


def column_to_bytes(line: bytes, character: int, encoding: str) -> int:
    """Byte length of the first `character` units of `line` (clamped to the line)."""
    if encoding == UTF8 or line.isascii():
        return min(character, len(line))
    text = line.decode("utf-8", errors="replace")
    if encoding == UTF32:
        return len(text[:character].encode("utf-8"))
    units = 0
    for index, char in enumerate(text):
        if units >= character:
            return len(text[:index].encode("utf-8"))
        units += 2 if ord(char) > 0xFFFF else 1
    return len(line)


def bytes_to_column(line: bytes, byte_column: int, encoding: str) -> int:
    """The inverse of column_to_bytes: units of the negotiated encoding before `byte_column`."""
    head = line[:byte_column]
    if encoding == UTF8 or head.isascii():
        return len(head)
    text = head.decode("utf-8", errors="ignore")
    if encoding == UTF32:
        return len(text)
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text)


@dataclass
class Document:
    uri: str
    language: str
    version: int
    source: bytes
    parser: Parser | None = None
    line_starts: LineIndex = field(default_factory=LineIndex)
    tree: Tree | None = None
    # Edits since the last parse: tree-sitter takes several edits and one reparse.
    needs_parse: bool = True
    last_change_was_deletion: bool = False
    last_change_at: float = 0.0
    # The change before the last one: the gap between the two is the typist's, even when the
    # editor's request for the earlier key never reached the completion pipeline.
    previous_change_at: float = 0.0
    _imports: ImportSummary | None = None
    # Large documents: the last top-level statement parsed on its own, and its tree.
    _chunk: tuple[bytes, Tree] | None = None

    def __post_init__(self) -> None:
        self.line_starts = LineIndex.of(self.source)

    # -- positions ------------------------------------------------------------------------------
    def line_bytes(self, line: int) -> bytes:
        if line >= len(self.line_starts):
            return b""
        start = self.line_starts[line]
        end = self.line_starts[line + 1] - 1 if line + 1 < len(self.line_starts) else len(self.source)
        return self.source[start:end]

    def _lines_between(self, first: int, last: int) -> bytes:
        """The whole lines first..last (inclusive)."""
        start = self.line_starts[first]
        end = self.line_starts[last + 1] if last + 1 < len(self.line_starts) else len(self.source)
        return self.source[start:end]

    def offset_at(self, line: int, character: int, encoding: str) -> int:
        """Byte offset of an LSP position; past the end clamps to the end, as LSP asks."""
        if line < 0 or character < 0:
            raise PositionError(f"position ({line}, {character}) is negative")
        if line >= len(self.line_starts):
            return len(self.source)
        content = self.line_bytes(line)
        if content.endswith(b"\r"):  # a CRLF line: past its end clamps before the \r, as in the editor
            content = content[:-1]
        return self.line_starts[line] + column_to_bytes(content, character, encoding)

    def point_at(self, offset: int) -> tuple[int, int]:
        """Tree-sitter point (row, byte column) of a byte offset."""
        row = self.line_starts.line_of(offset)
        return row, offset - self.line_starts[row]

    # -- edits ----------------------------------------------------------------------------------
    def apply_change(
        self, start: tuple[int, int] | None, end: tuple[int, int] | None, text: str, encoding: str
    ) -> None:
        """One LSP content change: a range replacement, or the whole text when no range."""
        new_bytes = utf8(text)
        self.previous_change_at, self.last_change_at = self.last_change_at, time.monotonic()
        if start is None or end is None:
            self._imports = None
            self.source = new_bytes
            self.line_starts = LineIndex.of(new_bytes)
            self.tree = None
            self.needs_parse = True
            self.last_change_was_deletion = False
            return
        start_byte = self.offset_at(start[0], start[1], encoding)
        old_end_byte = max(start_byte, self.offset_at(end[0], end[1], encoding))
        start_point = self.point_at(start_byte)
        old_end_point = self.point_at(old_end_byte)
        self.last_change_was_deletion = not new_bytes and old_end_byte > start_byte

        if self._imports is not None and _IMPORT_WORDS.search(self._lines_between(start_point[0], old_end_point[0])):
            self._imports = None

        # One copy of the text, not three (slices, then two concatenations): it adds up at 2 MB.
        with memoryview(self.source) as view:
            self.source = b"".join((view[:start_byte], new_bytes, view[old_end_byte:]))
        delta = len(new_bytes) - (old_end_byte - start_byte)
        start_row, old_end_row = start_point[0], old_end_point[0]
        self.line_starts.replace(start_row, old_end_row, line_starts(new_bytes, start_byte), delta)

        new_end_byte = start_byte + len(new_bytes)
        if self._imports is not None and _IMPORT_WORDS.search(
            self._lines_between(start_row, self.point_at(new_end_byte)[0])
        ):
            self._imports = None
        if self.tree is not None:
            self.tree.edit(
                start_byte=start_byte,
                old_end_byte=old_end_byte,
                new_end_byte=new_end_byte,
                start_point=start_point,
                old_end_point=old_end_point,
                new_end_point=self.point_at(new_end_byte),
            )
        self.needs_parse = True

    # -- derived, computed on demand ----------------------------------------------------------
    def syntax_tree(self) -> Tree | None:
        """The tree for the current text: reparsed incrementally from the edited old tree."""
        if self.parser is None:
            return None
        if self.needs_parse:
            self.tree = self.parser.parse(self.source, self.tree) if self.tree else self.parser.parse(self.source)
            self.needs_parse = False
        return self.tree

    def code_at(self, offset: int) -> CodeAtCursor:
        """What the score reads at a cursor. A large document gives the top-level statement around
        the cursor, parsed on its own: the per-keystroke cost follows that statement, not the file."""
        if self.parser is None or len(self.line_starts) <= LARGE_DOCUMENT_LINES:
            return CodeAtCursor(self.source, self.syntax_tree(), offset, self.language)
        span = self._top_level_span(offset)
        if span is None:
            return CodeAtCursor(self.source, self.syntax_tree(), offset, self.language)
        start, end = span
        chunk = self.source[start:end]
        if self._chunk is None or self._chunk[0] != chunk:
            self._chunk = (chunk, self.parser.parse(chunk))
        return CodeAtCursor(chunk, self._chunk[1], offset - start, self.language)

    def _top_level_span(self, offset: int) -> tuple[int, int] | None:
        """Byte range of the top-level statement holding `offset`: from the last line at or before
        the cursor's that starts one (code in column 0) to the next such line; None when either
        is more than MAX_CHUNK_LINES away."""
        row = self.line_starts.line_of(min(offset, len(self.source)))
        total = len(self.line_starts)
        first = next((r for r in range(row, max(-1, row - MAX_CHUNK_LINES), -1) if self._starts_statement(r)), None)
        if first is None:
            return None
        after = next((r for r in range(row + 1, min(total, row + MAX_CHUNK_LINES)) if self._starts_statement(r)), None)
        if after is None and total - row >= MAX_CHUNK_LINES:
            return None
        end = self.line_starts[after] if after is not None else len(self.source)
        return self.line_starts[first], end

    def _starts_statement(self, row: int) -> bool:
        line = self.line_bytes(row)
        return bool(line) and _TOP_LEVEL_START.match(line) is not None and not _CONTINUATION.match(line)

    def imports(self, summarize: Callable[[bytes, Tree | None, str], ImportSummary]) -> ImportSummary:
        """Import summary, once per document version."""
        if self._imports is None:
            self._imports = summarize(self.source, self.syntax_tree(), self.language)
        return self._imports

    def text_around(self, offset: int, before_bytes: int, after_bytes: int) -> tuple[str, str]:
        """Decoded text before and after a byte offset, at most the given byte counts."""
        head = self.source[max(0, offset - before_bytes) : offset].decode("utf-8", errors="ignore")
        tail = self.source[offset : offset + after_bytes].decode("utf-8", errors="ignore")
        return head, tail


class DocumentStore:
    """The open documents, keyed by URI."""

    def __init__(self, parser_for: Callable[[str], Parser | None]):
        self._parser_for = parser_for
        self._documents: dict[str, Document] = {}

    def open(self, uri: str, language: str, version: int, text: str) -> Document:
        document = Document(uri, language, version, utf8(text), parser=self._parser_for(language))
        self._documents[uri] = document
        return document

    def get(self, uri: str) -> Document | None:
        return self._documents.get(uri)

    def close(self, uri: str) -> None:
        self._documents.pop(uri, None)

    def __len__(self) -> int:
        return len(self._documents)
