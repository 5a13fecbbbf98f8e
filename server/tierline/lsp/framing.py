"""Reading LSP frames from an untrusted stream: every request gets an answer, nothing kills the server.

pygls' reader drops a message it cannot decode (so a request is never answered, and an edit with
invalid UTF-8 is lost), dies on a header line longer than the stream's limit, and reads whatever
Content-Length says. Here:

- a header line over the limit, a frame without Content-Length, or junk is skipped and reading
  resumes at the next `Content-Length:` anywhere in the bytes (resynchronise: the junk before a
  header rarely ends with a line break); a Content-Length too large is cut where the next frame's
  header starts inside the body; a body over MAX_BODY_BYTES cannot be skipped safely (its end
  is unknown), so the server exits with a message and the editor restarts it;
- the body is decoded with invalid UTF-8 replaced (U+FFFD), and lone surrogates (`\\ud800` escapes)
  are replaced too, so an edit is applied, never dropped, and positions stay aligned (one UTF-16
  unit for one);
- a body that is not JSON gets a Parse error, a message that is not JSON-RPC 2.0 an Invalid request,
  params that do not fit the method an Invalid params error, each with the request's id when it
  has one; requests after shutdown get an error too.

Nothing here is shown to the user: malformed client input is logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import JsonRPCProtocol

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024 * 1024
HEADER_LIMIT_BYTES = 1 << 20
_CONTENT_LENGTH = re.compile(rb"^content-length:\s*(\d{1,12})\s*$", re.IGNORECASE)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603


class FatalFrame(Exception):
    """A frame the stream cannot be resynchronised after."""


def scrub(value: Any) -> Any:
    """Lone surrogates (from `\\uD800`-style escapes) become U+FFFD, in every string of a message."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    return value


# "Content-Length" where a frame may start: anywhere in the bytes, not only at a line start, since
# the junk before it (a body cut short by a wrong length, a body sent without a header) ends
# without a line break.
_HEADER_START = re.compile(rb"content-length[ \t]*:", re.IGNORECASE)
_LENGTH_LINE = re.compile(rb"content-length[ \t]*:[ \t]*(\d{1,12})[ \t]*\r?\n", re.IGNORECASE)
_OTHER_HEADER = re.compile(rb"[A-Za-z0-9-]{1,64}:[^\r\n]{0,4096}\r?\n")
# A header inside a body: a raw line break after "Content-Length: N" cannot be in valid JSON (a
# string escapes it), so it is the next frame, swallowed by a Content-Length that was too large.
_HEADER_IN_BODY = re.compile(rb"content-length[ \t]*:[ \t]*\d{1,12}[ \t]*\r?\n", re.IGNORECASE)


def _partial(word: bytes) -> bytes:
    """A pattern for any non-empty prefix of `word` + ": 123\\r" (nested optional groups)."""
    pattern = rb"(?:[ \t]*(?::[ \t]*\d{0,12}[ \t]*\r?)?)?"
    for char in reversed(word[1:]):
        pattern = rb"(?:" + re.escape(bytes([char])) + pattern + rb")?"
    return re.escape(word[:1]) + pattern


# The first bytes of a header at the very end of a body: "C", "Content-Le", "Content-Length: 12\r".
_PARTIAL_HEADER = re.compile(_partial(b"content-length") + rb"\Z", re.IGNORECASE)
# Skipped junk keeps this much of its tail (a header split across two reads), and a body is
# searched this far past its claimed end: longer than "Content-Length: " + 12 digits + blanks.
_KEEP = 48
_CHUNK = 1 << 16


class FrameReader:
    """Frames from an untrusted byte stream. Malformed input is skipped and reading resumes at the
    next `Content-Length:`, wherever it is in the bytes; a body whose length was too large is cut
    where the next frame's header starts, so the requests after a bad frame are still answered.
    The buffer holds at most one frame plus one read: skipped bytes are dropped as they are seen,
    so a stream of junk costs time in proportion to its length."""

    def __init__(self, reader: asyncio.StreamReader):
        self._reader = reader
        self._buffer = bytearray()
        self._eof = False
        self.skipped = 0  # bytes skipped as junk
        self._run = 0  # of them, since the last frame
        self._why: str | None = None  # the first reason worth a warning in this run

    async def _fill(self) -> bool:
        if self._eof:
            return False
        chunk = await self._reader.read(_CHUNK)
        if not chunk:
            self._eof = True
            return False
        self._buffer += chunk
        return True

    def _skip(self, count: int, why: str) -> None:
        if count <= 0:
            return
        junk = bytes(self._buffer[:count])
        del self._buffer[:count]
        self.skipped += count
        # Other headers (Content-Type) and blank lines before a frame are not worth a warning;
        # anything else is, once per run of junk (a 2 MiB line is one warning, not thirty).
        if (
            self._why is None
            and junk.strip()
            and not all(_OTHER_HEADER.fullmatch(line + b"\n") for line in junk.strip().splitlines())
        ):
            self._why = why
        self._run += count

    def _resynchronised(self) -> None:
        if self._why is not None:
            log.warning("client input: %s, %d bytes skipped before the next frame", self._why, self._run)
        self._why, self._run = None, 0

    async def next(self) -> bytes | None:
        """The next frame's body; None at the end of the stream."""
        while True:
            start = _HEADER_START.search(self._buffer)
            if start is None:
                # No header yet: drop the junk but a tail that may be the start of one.
                self._skip(len(self._buffer) - _KEEP, "no Content-Length header")
                if not await self._fill():
                    return None
                continue
            self._skip(start.start(), "junk before a header")
            header = await self._header()
            if header is None:
                continue
            length, body_start = header
            if length > MAX_BODY_BYTES:
                raise FatalFrame(f"a message of {length} bytes (over {MAX_BODY_BYTES}): cannot resynchronise")
            self._resynchronised()
            return await self._body(body_start, length)

    async def _header(self) -> tuple[int, int] | None:
        """At a `Content-Length` that starts the buffer: (length, where the body starts), or None
        when it is not a valid header block (it is skipped, and the search resumes after it)."""
        while True:
            line = _LENGTH_LINE.match(self._buffer)
            if line is not None:
                break
            # Undecided while the line is still arriving; anything else is not a header.
            if b"\n" in self._buffer[:64] or len(self._buffer) >= 64 or not await self._fill():
                self._skip(1, "a Content-Length header that is not one")
                return None
        at = line.end()
        while True:
            if self._buffer.startswith(b"\r\n", at) or self._buffer.startswith(b"\n", at):
                end = at + (2 if self._buffer[at] == 13 else 1)
                return int(line.group(1)), end
            other = _OTHER_HEADER.match(self._buffer, at)
            if other is not None:
                at = other.end()
                continue
            pending = len(self._buffer) - at
            if pending < 4200 and b"\n" not in self._buffer[at:] and await self._fill():
                continue  # the next header line is still arriving
            self._skip(1, "a header block with a line that is not a header")
            return None

    async def _body(self, start: int, length: int) -> bytes | None:
        """`length` bytes from `start`, or fewer when the next frame's header turns up inside them
        (the length was too large: waiting for the rest would never answer again)."""
        claimed = start + length
        scanned = start
        while True:
            available = len(self._buffer)
            # A little past the claimed end too: a header that straddles it started inside the body.
            found = _HEADER_IN_BODY.search(self._buffer, max(start, scanned - _KEEP), min(available, claimed + _KEEP))
            if found is not None and found.start() < claimed:
                log.warning("client input: a Content-Length too large (the next frame starts inside the body)")
                return self._take(start, found.start())
            if available >= claimed:
                # The body may end with the first bytes of a header whose rest has not arrived yet
                # (valid JSON never ends so: this waits only on a frame that is junk anyway).
                tail = _PARTIAL_HEADER.search(self._buffer, max(start, claimed - _KEEP), claimed)
                if tail is not None and available < claimed + _KEEP and await self._fill():
                    continue
                return self._take(start, claimed)
            scanned = available
            if not await self._fill():
                return None

    def _take(self, start: int, end: int) -> bytes:
        body = bytes(self._buffer[start:end])
        del self._buffer[:end]
        return body


class Dispatcher:
    """Turns one frame's body into a handled message, or into an error answer for its sender."""

    def __init__(self, protocol: JsonRPCProtocol):
        self.protocol = protocol

    def error(self, msg_id: Any, code: int, message: str) -> None:
        self.protocol._send_response(msg_id, None, types.ResponseError(code=code, message=message))

    def handle(self, body: bytes) -> None:
        text = body.decode("utf-8", errors="replace")
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as problem:
            log.warning("client input: not JSON (%s)", type(problem).__name__)
            # A request nested too deeply to parse still has an id its sender waits on (an
            # `initialize` with 20,000 levels of options): answer that id, so the editor is told.
            too_deep = isinstance(problem, RecursionError)
            message = (
                "tierline: the message nests too deeply" if too_deep else "tierline: the message is not valid JSON"
            )
            self.error(top_level_id(text) if too_deep else None, PARSE_ERROR, message)
            return
        if "\\ud" in text or "\\uD" in text:
            data = scrub(data)
        if not isinstance(data, dict):
            log.warning("client input: not a JSON-RPC message (%s)", type(data).__name__)
            self.error(None, INVALID_REQUEST, "tierline: expected one JSON-RPC message object")
            return
        method, msg_id = data.get("method"), data.get("id")
        is_request = "id" in data and isinstance(method, str)
        if is_request and (isinstance(msg_id, bool) or not isinstance(msg_id, (int, str))):
            log.warning("client input: request id of type %s", type(msg_id).__name__)
            self.error(None, INVALID_REQUEST, "tierline: a request id must be a number or a string")
            return
        if data.get("jsonrpc") != "2.0":
            log.warning("client input: not JSON-RPC 2.0 (method %r)", method)
            if is_request:
                self.error(msg_id, INVALID_REQUEST, 'tierline: expected "jsonrpc": "2.0"')
            return
        if is_request and self.protocol._shutdown and method != "exit":
            self.error(msg_id, INVALID_REQUEST, "tierline: the server is shutting down")
            return
        self._dispatch(data, method, msg_id if is_request else None)

    def _dispatch(self, data: dict[str, Any], method: Any, msg_id: Any) -> None:
        if not positions_well_typed(data.get("params")):
            # pygls' converter would read "3" as 3, 1.5 as 1 and true as 1: refuse, do not guess.
            log.warning("client input: %r with a position that is not two whole numbers", method)
            if msg_id is not None:
                self.error(msg_id, INVALID_PARAMS, f"tierline: {method}: line and character must be whole numbers")
            return
        try:
            message = self.protocol.structure_message(data)
        except JsonRpcException:
            log.warning("client input: params of %r do not fit the method", method)
            if msg_id is not None:
                self.error(msg_id, INVALID_PARAMS, f"tierline: invalid params for {method}")
            return
        except Exception:
            log.exception("client input: cannot read %r", method)
            if msg_id is not None:
                self.error(msg_id, INVALID_PARAMS, f"tierline: invalid params for {method}")
            return
        try:
            self.protocol.handle_message(message)
        except Exception:
            log.exception("error handling %r", method)
            if msg_id is not None:
                self.error(msg_id, INTERNAL_ERROR, f"tierline: could not handle {method}")


_JSON_TOKEN = re.compile(r'[{}\[\]]|"(?:[^"\\]|\\.)*"')
_ID_VALUE = re.compile(r'\s*:\s*(-?\d{1,15}(?![\d.eE])|"(?:[^"\\]|\\.){0,256}")')
MAX_ID_SCAN_CHARS = 4 << 20


def top_level_id(text: str) -> int | str | None:
    """The `id` of a JSON-RPC object that is too deep for the parser, read from its top level
    (depth 1, outside strings) without parsing the rest; None when there is none."""
    depth = 0
    for match in _JSON_TOKEN.finditer(text, 0, min(len(text), MAX_ID_SCAN_CHARS)):
        token = match.group()
        if token in "{[":
            depth += 1
        elif token in "}]":
            depth -= 1
        elif depth == 1 and token == '"id"':
            value = _ID_VALUE.match(text, match.end())
            if value is None:
                return None
            raw = value.group(1)
            try:
                parsed = json.loads(raw)
            except ValueError:
                return None
            return parsed if isinstance(parsed, (int, str)) and not isinstance(parsed, bool) else None
    return None


def positions_well_typed(value: Any, depth: int = 0) -> bool:
    """Every `{line, character}` object in the params holds two non-negative ints (not bools)."""
    if depth > 8:
        return True  # positions are never this deep; the converter checks the rest
    if isinstance(value, dict):
        if "line" in value and "character" in value:
            line, character = value["line"], value["character"]
            if not all(type(v) is int and v >= 0 for v in (line, character)):
                return False
        return all(positions_well_typed(v, depth + 1) for v in value.values() if isinstance(v, (dict, list)))
    if isinstance(value, list):
        return all(positions_well_typed(v, depth + 1) for v in value if isinstance(v, (dict, list)))
    return True
