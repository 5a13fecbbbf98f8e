"""An OpenAI-compatible model server on loopback, for the demo, tests and benchmarks.

Plain asyncio streams rather than an HTTP framework, so every fault is exact: a reset is a real
TCP RST, a cut stream really stops mid-body, a hang holds the socket open, and a client that gives
up is seen (EOF on the read side) and recorded.

Endpoints: ``POST /v1/chat/completions``, ``POST /v1/completions`` (FIM: ``prompt`` + ``suffix``),
both with ``stream: true`` (SSE ending in ``data: [DONE]``); ``GET /v1/models``. Admin:
``POST /_sim/behaviour``, ``POST /_sim/reset``, ``GET /_sim/requests``.

Behaviours are layered per request, later wins: the constructor's defaults, ``"*"``, the last
segment of the model id (``claude-opus-4.5``), the default registry's name for it
(``claude-opus``), the exact model id. Setting a behaviour merges the given fields into that key;
setting ``fault`` without ``fault_count`` makes it permanent. Timing: a non-stream answer (or an
error response) starts after ``latency_ms``; a stream's first chunk comes after ``ttft_ms`` and
the last content chunk at ``max(ttft_ms, latency_ms)``.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import dataclasses
import hashlib
import ipaddress
import json
import math
import re
import signal
import socket
import struct
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any, TypeVar

from tierline import config as tl_config
from tierline.config.toml_writer import toml_text, write_toml  # noqa: F401  (tests and the demo write configs)
from tierline.devtools.corpus import corpus_completion
from tierline.devtools.oracle import Oracle
from tierline.devtools.quality import QualityModel
from tierline.prompt.tokens import CHARS_PER_TOKEN, estimate_tokens
from tierline.prompt.window import CURSOR_MARKER

FAULTS: tuple[str, ...] = (
    "rate_limit",
    "server_error",
    "hang",
    "reset",
    "malformed",
    "cut_stream",
    "prose",
    "empty",
    "repeat",
)
PROSE_ANSWER = "I'm sorry, but I can't help with that request."
REPEAT_LINES = 40

_MAX_HEAD_BYTES = 64 * 1024
_MAX_BODY_BYTES = 16 * 1024 * 1024
# How much code on each side of the cursor decides the answer: edits far away keep it stable.
_HASH_WINDOW = 200
_LOOPBACK_NAMES = {"localhost": "127.0.0.1"}

Record = dict[str, Any]
T = TypeVar("T")


# ---------------------------------------------------------------------------------------------
# The deterministic completion


def model_tag(model: str) -> str:
    """The model id's last path segment reduced to [a-z0-9_]: `anthropic/claude-opus-4.5` -> `claude_opus_4_5`."""
    last = model.rstrip("/").rsplit("/", 1)[-1].lower()
    return re.sub(r"[^a-z0-9_]+", "_", last).strip("_") or "model"


def _answer_hash(model: str, prefix: str, suffix: str) -> str:
    key = "\x00".join((model, prefix[-_HASH_WINDOW:], suffix[:_HASH_WINDOW]))
    # surrogatepass: JSON may carry lone surrogates, which strict UTF-8 refuses.
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:4]


# Words after which an expression starts (language-neutral enough for the demo languages).
_EXPRESSION_KEYWORDS = frozenset(
    {"return", "yield", "await", "in", "not", "and", "or", "is", "else", "throw", "new", "case", "go", "defer"}
)
_NO_SPACE_AFTER = "([{.\"'`"


def simulated_completion(model: str, prefix: str, suffix: str) -> str:
    """A code-like answer derived from the cursor's line, tagged with the model that gave it.

    Blank line: ``result = tl_<tag>_<hash4>(value)``; after an opener at the end of a line: that
    statement on a new, deeper-indented line; mid-expression: ``tl_<tag>_<hash4>()``.
    """
    name = f"tl_{model_tag(model)}_{_answer_hash(model, prefix, suffix)}"
    line = prefix.rsplit("\n", 1)[-1]
    code = line.rstrip()
    mid_line = bool(suffix.split("\n", 1)[0].strip())
    if not code.strip():
        return f"result = {name}(value)"
    last = code[-1]
    if last in ":{" and not mid_line:
        indent = line[: len(line) - len(line.lstrip())]
        return f"\n{indent}    result = {name}(value)"
    if last.isalnum() or last == "_":
        word = re.search(r"\w+$", code)
        if word and word.group() in _EXPRESSION_KEYWORDS:
            return f"{'' if line != code else ' '}{name}()"
        return f"_{name}()"  # finishes the identifier being typed
    if last in ")]" and line == code:
        return f".{name}()"
    spacer = "" if line != code or last in _NO_SPACE_AFTER else " "
    return f"{spacer}{name}()"


def _fenced(code: str, language: str | None) -> str:
    return f"```{language or ''}\n{code}\n```"


def _apply_limits(text: str, stop: tuple[str, ...], max_tokens: int | None) -> tuple[str, str]:
    """Cut at the first stop sequence, then at max_tokens; returns (text, finish_reason)."""
    cuts = [i for i in (text.find(s) for s in stop if s) if i >= 0]
    if cuts:
        text = text[: min(cuts)]
    if max_tokens is not None and len(text) > max_tokens * CHARS_PER_TOKEN:
        return text[: int(max_tokens * CHARS_PER_TOKEN)], "length"
    return text, "stop"


# ---------------------------------------------------------------------------------------------
# Behaviours


@dataclass(frozen=True)
class Behaviour:
    latency_ms: float = 0.0
    ttft_ms: float = 0.0
    fault: str | None = None
    fault_count: int | None = None  # None: every following request; N: the next N only
    retry_after_s: float = 1.0
    answer: str | None = None  # sent as is (no fence added), so tests control the raw text
    corpus: bool = False  # plausible code for the language and position (devtools/corpus.py), for the demo


BEHAVIOUR_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Behaviour))


def _checked_field(name: str, value: Any) -> Any:
    if name in ("latency_ms", "ttft_ms", "retry_after_s"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
            raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        return float(value)
    if name == "fault":
        if value is not None and value not in FAULTS:
            raise ValueError(f"fault must be null or one of {', '.join(FAULTS)}, got {value!r}")
        return value
    if name == "fault_count":
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ValueError(f"fault_count must be null or a whole number >= 0, got {value!r}")
        return value
    if name == "corpus":
        if not isinstance(value, bool):
            raise ValueError(f"corpus must be true or false, got {value!r}")
        return value
    if value is not None and not isinstance(value, str):
        raise ValueError(f"answer must be null or a string, got {value!r}")
    return value


def checked_behaviour_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - set(BEHAVIOUR_FIELDS))
    if unknown:
        raise ValueError(f"unknown behaviour field(s) {', '.join(unknown)} (known: {', '.join(BEHAVIOUR_FIELDS)})")
    return {name: _checked_field(name, value) for name, value in fields.items()}


def _behaviour_keys(model_id: str) -> list[str]:
    """The keys a request's model id matches, least specific first."""
    names = [m["name"] for m in tl_config.DEFAULT_MODELS if m["model"] == model_id]
    keys = ["*", model_id.rstrip("/").rsplit("/", 1)[-1], *names, model_id]
    return list(dict.fromkeys(keys))


class BehaviourTable:
    """Explicitly set fields per key; a request sees them merged in `_behaviour_keys` order."""

    def __init__(self, base: Mapping[str, Any]):
        self._base = checked_behaviour_fields(base)
        self._by_key: dict[str, dict[str, Any]] = {}

    def set(self, key: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        checked = checked_behaviour_fields(fields)
        if "fault" in checked and "fault_count" not in checked:
            checked["fault_count"] = None  # a new fault without a count is permanent
        entry = self._by_key.setdefault(key, {})
        entry.update(checked)
        if entry.get("fault_count") == 0:
            entry.pop("fault", None)
            entry.pop("fault_count")
        return dict(entry)

    def clear(self) -> None:
        self._by_key.clear()

    def take(self, model_id: str) -> Behaviour:
        """The behaviour for one request; consumes one use of a counted fault."""
        entries = [self._base] + [self._by_key[k] for k in _behaviour_keys(model_id) if k in self._by_key]
        merged: dict[str, Any] = {}
        for entry in entries:
            merged.update(entry)
        source = next((e for e in reversed(entries) if "fault" in e), None)
        if source is not None and source["fault"] is not None:
            _consume_fault(source)
        return Behaviour(**merged)


def _consume_fault(entry: dict[str, Any]) -> None:
    count = entry.get("fault_count")
    if count is None:
        return
    if count <= 1:
        entry.pop("fault", None)
        entry.pop("fault_count", None)
    else:
        entry["fault_count"] = count - 1


# ---------------------------------------------------------------------------------------------
# HTTP/1.1 on asyncio streams


class _HttpError(Exception):
    """A request we cannot parse: answered with this status, then the connection is closed."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class _PeerGone(Exception):
    """The client closed the connection in the middle of a request."""


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str
    version: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    received_at: float  # time.monotonic() when the head had arrived

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in connection
        return "close" not in connection


def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    lines = head.lstrip(b"\r\n").decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _HttpError(400, f"bad request line {lines[0]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise _HttpError(400, f"bad header line {line!r}")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    return parts[0], parts[1], parts[2], headers


class Connection:
    """One client connection: our own read buffer (so bytes read while watching for a
    disconnect are kept for the next request) and the response writers."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer
        self.buffer = bytearray()
        self.closed_by_peer = False
        self.keep_alive = True
        self._watch: asyncio.Task[None] | None = None

    # -- reading

    async def _fill(self) -> bool:
        """Read more into the buffer; False once the peer has closed (or reset) the connection."""
        try:
            chunk = await self.reader.read(65536)
        except OSError:
            chunk = b""
        if not chunk:
            self.closed_by_peer = True
            return False
        self.buffer += chunk
        return True

    async def _read_until(self, separator: bytes, limit: int) -> bytes | None:
        while True:
            index = self.buffer.find(separator)
            if index >= 0:
                data = bytes(self.buffer[:index])
                del self.buffer[: index + len(separator)]
                return data
            if len(self.buffer) > limit:
                raise _HttpError(431, "request head too large")
            if not await self._fill():
                return None

    async def _read_exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            if not await self._fill():
                raise _PeerGone()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    async def _read_line(self) -> bytes:
        line = await self._read_until(b"\r\n", 8192)
        if line is None:
            raise _PeerGone()
        return line

    async def read_request(self) -> HttpRequest | None:
        """The next request, or None when the client closed the connection between requests."""
        head = await self._read_until(b"\r\n\r\n", _MAX_HEAD_BYTES)
        if head is None:
            return None
        received_at = time.monotonic()
        method, target, version, headers = _parse_head(head)
        if headers.get("expect", "").lower() == "100-continue":
            await self.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = await self._read_body(headers)
        return HttpRequest(method, target, version, headers, body, received_at)

    async def _read_body(self, headers: Mapping[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return await self._read_chunked_body()
        length_text = headers.get("content-length", "0")
        if not length_text.isdigit():
            raise _HttpError(400, f"bad Content-Length {length_text!r}")
        if int(length_text) > _MAX_BODY_BYTES:
            raise _HttpError(413, "request body too large")
        return await self._read_exactly(int(length_text))

    async def _read_chunked_body(self) -> bytes:
        body = bytearray()
        while True:
            size_text = (await self._read_line()).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise _HttpError(400, f"bad chunk size {size_text!r}") from None
            if size == 0:
                break
            if len(body) + size > _MAX_BODY_BYTES:
                raise _HttpError(413, "request body too large")
            body += await self._read_exactly(size)
            if await self._read_exactly(2) != b"\r\n":
                raise _HttpError(400, "chunk not followed by CRLF")
        while await self._read_line():  # trailers, up to the empty line
            pass
        return bytes(body)

    # -- watching for a disconnect while we make the client wait

    async def _read_until_eof(self) -> None:
        while await self._fill():
            pass

    def _watcher(self) -> asyncio.Task[None]:
        if self._watch is None:
            self._watch = asyncio.ensure_future(self._read_until_eof())
        return self._watch

    async def wait_or_disconnect(self, seconds: float) -> bool:
        """Wait; True if the client went away first."""
        if self.closed_by_peer:
            return True
        if seconds <= 0:
            return False
        done, _ = await asyncio.wait({self._watcher()}, timeout=seconds)
        return bool(done)

    async def wait_for_disconnect(self) -> None:
        if not self.closed_by_peer:
            await self._watcher()

    async def stop_watching(self) -> None:
        # Cancelling a pending StreamReader.read loses no data: nothing is consumed until it returns.
        watch, self._watch = self._watch, None
        if watch is not None and not watch.done():
            watch.cancel()
            try:
                await watch
            except asyncio.CancelledError:
                pass

    # -- writing

    async def write(self, data: bytes) -> None:
        if self.closed_by_peer or self.writer.is_closing():
            raise ConnectionResetError("client went away")
        self.writer.write(data)
        await self.writer.drain()

    def _head(self, status: int, headers: list[tuple[str, str]]) -> bytes:
        lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", "Server: tierline-simulator"]
        lines += [f"{name}: {value}" for name, value in headers]
        lines.append(f"Connection: {'keep-alive' if self.keep_alive else 'close'}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def send(self, status: int, body: bytes, content_type: str, extra: Sequence[tuple[str, str]] = ()) -> None:
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), *extra]
        await self.write(self._head(status, headers) + body)

    async def send_json(self, status: int, payload: Any, extra: Sequence[tuple[str, str]] = ()) -> None:
        await self.send(status, json.dumps(payload).encode(), "application/json", extra)

    async def send_cut(self, status: int, body: bytes, content_type: str) -> None:
        """Announce the whole body, send half of it, close: the client sees an incomplete body."""
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        await self.write(self._head(status, headers) + body[: len(body) // 2])
        self.close()

    async def start_event_stream(self) -> None:
        headers = [
            ("Content-Type", "text/event-stream"),
            ("Cache-Control", "no-cache"),
            ("Transfer-Encoding", "chunked"),
        ]
        await self.write(self._head(200, headers))

    async def send_event(self, data: str) -> None:
        payload = f"data: {data}\n\n".encode()
        await self.write(b"%x\r\n%s\r\n" % (len(payload), payload))

    async def end_chunked(self) -> None:
        await self.write(b"0\r\n\r\n")

    def reset(self) -> None:
        """Abort with SO_LINGER 0: the kernel sends an RST instead of a FIN."""
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            linger = struct.pack("HH" if sys.platform == "win32" else "ii", 1, 0)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        self.writer.transport.abort()

    def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()


# ---------------------------------------------------------------------------------------------
# The OpenAI-shaped requests and answers


class _BadRequest(Exception):
    """An API request we refuse with 400 and an OpenAI-style error."""


@dataclass(frozen=True)
class CompletionRequest:
    api: str  # "chat" | "fim"
    model: str
    stream: bool
    include_usage: bool
    max_tokens: int | None
    stop: tuple[str, ...]
    prefix: str
    suffix: str
    language: str | None  # from the chat prompt's "Language: x." line, for the fence
    prompt_tokens: int


def _message_text(message: Any) -> str:
    if not isinstance(message, dict):
        raise _BadRequest("each message must be an object")
    content = message.get("content")
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
        return "".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    raise _BadRequest("message content must be a string or a list of parts")


def _chat_cursor(messages: Any) -> tuple[str, str, str | None, str]:
    """(prefix, suffix, language, whole prompt text) from the last user message's cursor marker."""
    if not isinstance(messages, list) or not messages:
        raise _BadRequest("messages must be a non-empty array")
    texts = [_message_text(m) for m in messages]
    user_texts = [t for m, t in zip(messages, texts, strict=True) if m.get("role") == "user"]
    cursor_text = user_texts[-1] if user_texts else texts[-1]
    # The last marker is the cursor: the instruction line above the code mentions it too.
    prefix, marker, suffix = cursor_text.rpartition(CURSOR_MARKER)
    if not marker:
        prefix, suffix = cursor_text, ""
    language = re.search(r"^Language: ([\w+#-]+)", cursor_text, re.MULTILINE)
    return prefix, suffix, language.group(1) if language else None, "\n".join(texts)


def _stop_sequences(stop: Any) -> tuple[str, ...]:
    if stop is None:
        return ()
    if isinstance(stop, str):
        return (stop,)
    if isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        return tuple(stop)
    raise _BadRequest("stop must be a string or an array of strings")


def _optional_max_tokens(payload: Mapping[str, Any]) -> int | None:
    value = payload.get("max_tokens", payload.get("max_completion_tokens"))
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _BadRequest(f"max_tokens must be a positive integer, got {value!r}")
    return value


def _fim_cursor(payload: Mapping[str, Any]) -> tuple[str, str]:
    prompt, suffix = payload.get("prompt"), payload.get("suffix") or ""
    if not isinstance(prompt, str) or not isinstance(suffix, str):
        raise _BadRequest("prompt (and suffix, if given) must be strings")
    return prompt, suffix


def parse_completion_request(api: str, body: bytes) -> CompletionRequest:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise _BadRequest("the body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise _BadRequest("the body must be a JSON object")
    model = payload.get("model")
    if not isinstance(model, str) or not model:
        raise _BadRequest("model is required")
    stream = payload.get("stream") is True
    options = payload.get("stream_options")
    include_usage = stream and isinstance(options, dict) and options.get("include_usage") is True
    if api == "chat":
        prefix, suffix, language, prompt_text = _chat_cursor(payload.get("messages"))
    else:
        (prefix, suffix), language = _fim_cursor(payload), None
        prompt_text = prefix + suffix
    return CompletionRequest(
        api=api,
        model=model,
        stream=stream,
        include_usage=include_usage,
        max_tokens=_optional_max_tokens(payload),
        stop=_stop_sequences(payload.get("stop")),
        prefix=prefix,
        suffix=suffix,
        language=language,
        prompt_tokens=estimate_tokens(prompt_text),
    )


def answer_text(request: CompletionRequest, behaviour: Behaviour) -> str:
    """The raw content a model with this behaviour would send, before stop/max_tokens."""
    if behaviour.fault == "prose":
        return PROSE_ANSWER
    if behaviour.fault == "empty":
        return ""
    if behaviour.answer is not None:
        code = behaviour.answer
    elif behaviour.corpus:
        code = corpus_completion(request.model, request.prefix, request.suffix, request.language)
    else:
        code = simulated_completion(request.model, request.prefix, request.suffix)
    if behaviour.fault == "repeat":
        line = code.strip("\n").split("\n", 1)[0]
        code = "\n".join([line] * REPEAT_LINES)
    if request.api == "chat" and behaviour.answer is None:
        return _fenced(code, request.language)
    return code


def _usage(prompt_tokens: int, text: str) -> dict[str, int]:
    completion_tokens = estimate_tokens(text)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _envelope(request: CompletionRequest, ident: str, *, chunk: bool) -> dict[str, Any]:
    kind = ("chat.completion.chunk" if chunk else "chat.completion") if request.api == "chat" else "text_completion"
    return {"id": ident, "object": kind, "created": int(time.time()), "model": request.model}


def completion_body(request: CompletionRequest, ident: str, text: str, finish: str) -> dict[str, Any]:
    if request.api == "chat":
        choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}
    else:
        choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": finish}
    return {**_envelope(request, ident, chunk=False), "choices": [choice], "usage": _usage(request.prompt_tokens, text)}


def _stream_choice(request: CompletionRequest, piece: str | None, finish: str | None, first: bool) -> dict[str, Any]:
    if request.api == "fim":
        return {"index": 0, "text": piece or "", "logprobs": None, "finish_reason": finish}
    delta: dict[str, str] = {} if piece is None else {"content": piece}
    if first:
        delta["role"] = "assistant"
    return {"index": 0, "delta": delta, "finish_reason": finish}


def stream_events(request: CompletionRequest, ident: str, text: str, finish: str) -> tuple[list[str], list[str]]:
    """(content events, closing events): the closing ones carry finish_reason and usage."""
    pieces = [p for p in re.split(r"(?<=\S)(?=\s)", text) if p]  # word-ish tokens; joins back to text
    content = [
        json.dumps({**_envelope(request, ident, chunk=True), "choices": [_stream_choice(request, p, None, i == 0)]})
        for i, p in enumerate(pieces)
    ]
    closing = [
        json.dumps(
            {**_envelope(request, ident, chunk=True), "choices": [_stream_choice(request, None, finish, not pieces)]}
        )
    ]
    if request.include_usage:  # OpenAI's shape: a last chunk with no choices
        usage = {**_envelope(request, ident, chunk=True), "choices": [], "usage": _usage(request.prompt_tokens, text)}
        closing.append(json.dumps(usage))
    return content, closing


def error_body(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


# ---------------------------------------------------------------------------------------------
# The server


@dataclass(frozen=True)
class _Outcome:
    outcome: str
    status: int | None
    keep_alive: bool


def _loopback_address(host: str) -> str:
    host = _LOOPBACK_NAMES.get(host, host)
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"the simulator binds only to loopback; refusing host {host!r}")
    return host


class Simulator:
    """The simulator in the current event loop. ``latency_ms``/``ttft_ms`` are defaults that
    survive :meth:`reset` (the CLI's ``--latency-ms``)."""

    def __init__(self, *, latency_ms: float = 0.0, ttft_ms: float = 0.0):
        self._behaviours = BehaviourTable({"latency_ms": latency_ms, "ttft_ms": ttft_ms})
        self._records: list[Record] = []
        self._next_id = 1
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[asyncio.Task[Any]] = set()
        self._changed = asyncio.Event()
        self.base_url = ""
        self.quality = QualityModel()  # the simulated user's verdict on each answer (devtools/quality.py)
        self.oracle: Oracle | None = None  # the code really there, for `tierline bench` (devtools/oracle.py)

    # -- control

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        address = _loopback_address(host)
        self._server = await asyncio.start_server(self._serve_connection, address, port)
        bound_port = self._server.sockets[0].getsockname()[1]
        url_host = f"[{address}]" if ":" in address else address
        self.base_url = f"http://{url_host}:{bound_port}/v1"
        return self.base_url

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for task in list(self._connections):  # idle keep-alive connections and hangs included
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await server.wait_closed()

    def set_behaviour(self, model: str = "*", **fields: Any) -> dict[str, Any]:
        """Merge fields into the behaviour for a model id, its last segment, a registry name or "*"."""
        return self._behaviours.set(model, fields)

    def reset(self) -> None:
        self._behaviours.clear()
        self._records.clear()
        self._notify()

    @property
    def requests(self) -> list[Record]:
        return [dict(r) for r in self._records]

    async def wait_for(self, predicate: Callable[[Record], bool], timeout: float = 5.0) -> Record:
        """The first logged request matching predicate, waiting (up to timeout) for it to finish."""

        async def first_match() -> Record:
            while True:
                match = next((r for r in self._records if predicate(r)), None)
                if match is not None:
                    return dict(match)
                await self._changed.wait()

        return await asyncio.wait_for(first_match(), timeout)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # -- connections

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        connection = Connection(reader, writer)
        try:
            while await self._serve_one(connection):
                pass
        except (_PeerGone, OSError):
            pass
        except asyncio.CancelledError:
            # stop(): end quietly. Python 3.11's stream callback calls task.exception() on this
            # task and would log a cancelled one as an error.
            pass
        finally:
            self._connections.discard(task)
            connection.close()

    async def _serve_one(self, connection: Connection) -> bool:
        """Read and answer one request; False when the connection should end."""
        try:
            request = await connection.read_request()
        except _HttpError as exc:
            connection.keep_alive = False
            await connection.send_json(exc.status, error_body(str(exc), "invalid_request_error"))
            return False
        if request is None:
            return False
        connection.keep_alive = request.keep_alive
        try:
            keep_alive = await self._route(connection, request)
        finally:
            await connection.stop_watching()
        return keep_alive and request.keep_alive and not connection.closed_by_peer

    async def _route(self, connection: Connection, request: HttpRequest) -> bool:
        routes: dict[str, tuple[str, Callable[[Connection, HttpRequest], Awaitable[bool]]]] = {
            "/v1/chat/completions": ("POST", self._chat),
            "/v1/completions": ("POST", self._fim),
            "/v1/models": ("GET", self._models),
            "/_sim/behaviour": ("POST", self._admin_behaviour),
            "/_sim/reset": ("POST", self._admin_reset),
            "/_sim/requests": ("GET", self._admin_requests),
        }
        route = routes.get(request.path.rstrip("/"))
        if request.path.startswith("/_wire/"):  # providers' documented wire formats, replayed
            from tierline.devtools import provider_formats

            return await provider_formats.serve(self, connection, request)
        if route is None:
            await connection.send_json(404, error_body(f"no route {request.path}", "invalid_request_error"))
            return True
        method, handler = route
        if request.method != method:
            body = error_body(f"{request.path} takes {method}", "invalid_request_error")
            await connection.send_json(405, body, [("Allow", method)])
            return True
        return await handler(connection, request)

    # -- the model API

    async def _models(self, connection: Connection, request: HttpRequest) -> bool:
        data = [
            {"id": m["model"], "object": "model", "created": 0, "owned_by": "tierline-simulator"}
            for m in tl_config.DEFAULT_MODELS
        ]
        await connection.send_json(200, {"object": "list", "data": data})
        return True

    async def _chat(self, connection: Connection, request: HttpRequest) -> bool:
        return await self._completion(connection, request, "chat")

    async def _fim(self, connection: Connection, request: HttpRequest) -> bool:
        return await self._completion(connection, request, "fim")

    async def _completion(self, connection: Connection, request: HttpRequest, api: str) -> bool:
        try:
            parsed = parse_completion_request(api, request.body)
        except _BadRequest as exc:
            record = self._open_record(request, "", False)
            await connection.send_json(400, error_body(str(exc), "invalid_request_error"))
            self._close_record(record, _Outcome("bad_request", 400, True))
            return True
        record = self._open_record(request, parsed.model, parsed.stream)
        record["prefix"], record["suffix"] = parsed.prefix, parsed.suffix  # what left the machine (privacy tests)
        behaviour = self._behaviours.take(parsed.model)
        if self.oracle is not None and behaviour.answer is None and behaviour.fault is None:
            truth = self.oracle.answer(self.quality, parsed.model, parsed.prefix, parsed.suffix, parsed.language)
            behaviour = behaviour if truth is None else dataclasses.replace(behaviour, answer=truth)
        try:
            result = await self._answer(connection, parsed, behaviour, record)
        except OSError:  # ConnectionResetError, BrokenPipeError: the client left while we wrote
            result = _Outcome("disconnected", None, False)
        if result.outcome == "ok":
            self.quality.record(
                answer_text(parsed, behaviour), parsed.model, parsed.prefix, parsed.suffix, parsed.language
            )
        self._close_record(record, result)
        return result.keep_alive

    async def _answer(
        self, connection: Connection, request: CompletionRequest, behaviour: Behaviour, record: Record
    ) -> _Outcome:
        fault = behaviour.fault
        if fault == "hang":
            await connection.wait_for_disconnect()
            return _Outcome("disconnected", None, False)
        started = asyncio.get_running_loop().time()
        delay_ms = behaviour.ttft_ms if request.stream else behaviour.latency_ms
        if await connection.wait_or_disconnect(delay_ms / 1000):
            return _Outcome("disconnected", None, False)
        if fault == "reset":
            connection.reset()
            return _Outcome("reset", None, False)
        if fault in ("rate_limit", "server_error"):
            return await self._send_error(connection, behaviour)
        text, finish = _apply_limits(answer_text(request, behaviour), request.stop, request.max_tokens)
        ident = f"{'chatcmpl' if request.api == 'chat' else 'cmpl'}-sim{record['id']}"
        if request.stream:
            return await self._send_stream(connection, (request, started), behaviour, ident, text, finish, record)
        return await self._send_whole(connection, request, fault, ident, text, finish)

    async def _send_error(self, connection: Connection, behaviour: Behaviour) -> _Outcome:
        if behaviour.fault == "rate_limit":
            seconds = behaviour.retry_after_s
            # Retry-After must be whole seconds; retry-after-ms (as OpenAI sends) keeps the exact value.
            headers = [("Retry-After", str(math.ceil(seconds))), ("retry-after-ms", str(round(seconds * 1000)))]
            body = error_body("Rate limit reached (simulated).", "rate_limit_error", "rate_limit_exceeded")
            await connection.send_json(429, body, headers)
            return _Outcome("rate_limit", 429, True)
        await connection.send_json(503, error_body("The server is overloaded (simulated).", "server_error"))
        return _Outcome("server_error", 503, True)

    async def _send_whole(
        self, connection: Connection, request: CompletionRequest, fault: str | None, ident: str, text: str, finish: str
    ) -> _Outcome:
        body = json.dumps(completion_body(request, ident, text, finish)).encode()
        if fault == "cut_stream":
            await connection.send_cut(200, body, "application/json")
            return _Outcome("cut_stream", 200, False)
        if fault == "malformed":
            await connection.send(200, body[: len(body) // 2], "application/json")
            return _Outcome("malformed", 200, True)
        await connection.send(200, body, "application/json")
        return _Outcome(fault or "ok", 200, True)

    async def _send_stream(
        self,
        connection: Connection,
        timed: tuple[CompletionRequest, float],
        behaviour: Behaviour,
        ident: str,
        text: str,
        finish: str,
        record: Record,
    ) -> _Outcome:
        request, started = timed
        content, closing = stream_events(request, ident, text, finish)
        if behaviour.fault == "malformed" and content:
            content[0] = content[0][: len(content[0]) // 2]
        if behaviour.fault == "cut_stream":
            content, closing = content[: max(1, len(content) // 2)], []
        # The first chunk went out at ttft; the last content chunk lands at latency_ms. Each chunk
        # waits for its own moment, counted from the request's arrival as a whole answer's is: a
        # sleep per gap would add each wake-up's overshoot (~1 ms), and a streamed answer would
        # end later than the same answer whole.
        rest_s = max(0.0, behaviour.latency_ms - behaviour.ttft_ms) / 1000
        gap_s = rest_s / (len(content) - 1) if len(content) > 1 else 0.0
        clock = asyncio.get_running_loop().time
        first_at = started + behaviour.ttft_ms / 1000
        await connection.start_event_stream()
        for index, event in enumerate(content):
            if index and await connection.wait_or_disconnect(first_at + index * gap_s - clock()):
                return _Outcome("disconnected", 200, False)
            await connection.send_event(event)
            if not index:  # the first token is out: billed from here (tests wait on it)
                record["first_token"] = True
                self._notify()
        if behaviour.fault == "cut_stream":
            connection.close()  # no [DONE], no terminating chunk
            return _Outcome("cut_stream", 200, False)
        if len(content) <= 1 and await connection.wait_or_disconnect(first_at + rest_s - clock()):
            return _Outcome("disconnected", 200, False)
        for event in [*closing, "[DONE]"]:
            await connection.send_event(event)
        await connection.end_chunked()
        return _Outcome(behaviour.fault or "ok", 200, True)

    # -- admin

    async def _admin_behaviour(self, connection: Connection, request: HttpRequest) -> bool:
        try:
            payload = json.loads(request.body or b"{}")
            if not isinstance(payload, dict):
                raise ValueError("the body must be a JSON object")
            model = payload.pop("model", "*")
            if not isinstance(model, str) or not model:
                raise ValueError('model must be a model id, a name or "*"')
            stored = self.set_behaviour(model, **payload)
        except ValueError as exc:  # json.JSONDecodeError included
            await connection.send_json(400, error_body(str(exc), "invalid_request_error"))
            return True
        await connection.send_json(200, {"model": model, "behaviour": stored})
        return True

    async def _admin_reset(self, connection: Connection, request: HttpRequest) -> bool:
        self.reset()
        await connection.send_json(200, {"ok": True})
        return True

    async def _admin_requests(self, connection: Connection, request: HttpRequest) -> bool:
        await connection.send_json(200, self.requests)
        return True

    # -- the request log

    def _open_record(self, request: HttpRequest, model: str, stream: bool) -> Record:
        record: Record = {
            "id": self._next_id,
            "model": model,
            "path": request.path,
            "stream": stream,
            "status": None,
            "outcome": "pending",
            "first_token": False,
            "received_at": request.received_at,
            "duration_ms": None,
            "authorization": "authorization" in request.headers,  # presence only, never the value
        }
        self._next_id += 1
        self._records.append(record)
        self._notify()
        return record

    def _close_record(self, record: Record, result: _Outcome) -> None:
        record.update(
            status=result.status,
            outcome=result.outcome,
            duration_ms=round((time.monotonic() - record["received_at"]) * 1000, 3),
        )
        self._notify()


# ---------------------------------------------------------------------------------------------
# For synchronous code: a Simulator in its own thread and event loop


class SimulatorThread:
    """``with SimulatorThread() as sim: ... sim.base_url ...`` — calls run on the simulator's loop."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, latency_ms: float = 0.0, ttft_ms: float = 0.0):
        self._host, self._port = _loopback_address(host), port
        self._simulator = Simulator(latency_ms=latency_ms, ttft_ms=ttft_ms)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    def start(self) -> str:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="tierline-simulator", daemon=True)
        self._thread.start()
        try:
            self.base_url = self._run(self._simulator.start(self._host, self._port))
        except BaseException:
            self.stop()
            raise
        return self.base_url

    def stop(self) -> None:
        loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._simulator.stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()

    def __enter__(self) -> SimulatorThread:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self, coroutine: Awaitable[T], timeout: float | None = 10.0) -> T:
        if self._loop is None:
            raise RuntimeError("the simulator thread is not running")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)  # type: ignore[arg-type]

    def _call(self, function: Callable[[], T]) -> T:
        async def call() -> T:
            return function()

        return self._run(call())

    def set_behaviour(self, model: str = "*", **fields: Any) -> dict[str, Any]:
        return self._call(lambda: self._simulator.set_behaviour(model, **fields))

    def requests(self) -> list[Record]:
        return self._call(lambda: self._simulator.requests)

    def reset(self) -> None:
        self._call(self._simulator.reset)

    def wait_for(self, predicate: Callable[[Record], bool], timeout: float = 5.0) -> Record:
        return self._run(self._simulator.wait_for(predicate, timeout), timeout=timeout + 5)


# ---------------------------------------------------------------------------------------------
# A tierline config pointed at the simulator, and a tiny TOML writer for its shape


def sim_config(base_url: str, *, cache_dir: str = "", ledger_dir: str = "") -> dict[str, Any]:
    """The default config with the default registry (names, prices) pointed at ``base_url``;
    the second cheap model speaks FIM so both APIs are exercised."""
    config = copy.deepcopy(tl_config.DEFAULTS)
    models = []
    for model in copy.deepcopy(tl_config.DEFAULT_MODELS):
        model.pop("api_key_env", None)
        model["base_url"] = base_url
        models.append(model)
    cheap = [m for m in models if m["tier"] == "cheap"]
    if len(cheap) > 1:
        cheap[1]["api"] = "fim"
    config["models"] = models
    config["cache"]["dir"] = str(cache_dir)
    config["ledger"]["dir"] = str(ledger_dir)
    return config


# ---------------------------------------------------------------------------------------------
# CLI: python -m tierline.devtools.simulator / tierline simulator


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="tierline simulator", description="Run the OpenAI-compatible model simulator on loopback."
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="default latency of every answer")
    parser.add_argument("--write-config", metavar="FILE", help="write a tierline config pointed at the simulator")
    parser.add_argument("--cache-dir", default="", help="[cache] dir for the written config")
    parser.add_argument("--ledger-dir", default="", help="[ledger] dir for the written config")
    parser.add_argument("--oracle", metavar="DIR", help="answer with the code really in DIR (tierline bench)")
    parser.add_argument(
        "--tagged",
        action="store_true",
        help="answer tl_<model>_<hash>(...) lines naming the model (tests) instead of plausible code per language",
    )
    return parser.parse_args(argv)


def _stop_on_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows, or not the main thread
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))


async def _serve(args: argparse.Namespace) -> int:
    simulator = Simulator(latency_ms=args.latency_ms)
    simulator.oracle = Oracle(Path(args.oracle)) if args.oracle else None
    if not args.tagged:  # plausible code for the language and position, as in `tierline demo`
        simulator.set_behaviour("*", corpus=True)
    base_url = await simulator.start(args.host, args.port)
    try:
        if args.write_config:
            config = sim_config(base_url, cache_dir=args.cache_dir, ledger_dir=args.ledger_dir)
            write_toml(config, args.write_config)
        # The config is written before this line, so a script that waits for it can read the file.
        print(f"tierline simulator listening on {base_url}", flush=True)
        stop = asyncio.Event()
        _stop_on_signals(asyncio.get_running_loop(), stop)
        await stop.wait()
    finally:
        await simulator.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    try:
        _loopback_address(args.host)
        checked_behaviour_fields({"latency_ms": args.latency_ms})
    except ValueError as exc:
        print(f"tierline simulator: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_serve(args))
    except OSError as exc:  # port in use, config file not writable
        print(f"tierline simulator: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
