"""Reading LSP frames from an untrusted stream: every request gets an answer, nothing kills the server.

pygls' reader drops a message it cannot decode (so a request is never answered, and an edit with
invalid UTF-8 is lost), dies on a header line longer than the stream's limit, and reads whatever
Content-Length says. Here:

- a header line over the limit, or a frame without Content-Length, is skipped and reading resumes
  at the next frame (resynchronise); a body over MAX_BODY_BYTES cannot be skipped safely (its end
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


async def read_frame(reader: asyncio.StreamReader) -> bytes | None:
    """The next frame's body; None at the end of the stream. Skips malformed headers."""
    content_length: int | None = None
    while True:
        try:
            line = await reader.readline()
        except ValueError:  # a line over the limit: asyncio has dropped it
            log.warning("client input: header line over %d bytes skipped", HEADER_LIMIT_BYTES)
            content_length = None
            continue
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            if content_length is None:
                continue  # a blank line without a frame: keep looking for the next header
            break
        match = _CONTENT_LENGTH.match(line.strip())
        if match is not None:
            content_length = int(match.group(1))
        elif not line.lower().startswith(b"content-type:"):
            log.warning("client input: not an LSP header, skipped (%d bytes)", len(line))
    if content_length > MAX_BODY_BYTES:
        raise FatalFrame(f"a message of {content_length} bytes (over {MAX_BODY_BYTES}): cannot resynchronise")
    try:
        return await reader.readexactly(content_length)
    except asyncio.IncompleteReadError:
        return None


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
            self.error(None, PARSE_ERROR, "tierline: the message is not valid JSON")
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
