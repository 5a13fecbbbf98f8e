"""Reading a completion stream: text, usage, why it stopped, and errors inside it.

One reader per wire format (OpenAI-compatible chunks; Anthropic's Messages events). A reader is
fed one SSE event (or one whole JSON document, for a server that ignores `stream`) at a time and
raises a ProviderError for an `error` object anywhere in the stream or a shape it cannot read:
that fails the attempt, never the request. Unknown fields, `delta: null`, `choices: []`, and
`reasoning_content` are tolerated.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from tierline.providers.base import Flagged, ProviderError, ServerError
from tierline.providers.errors import error_from_object
from tierline.providers.sse import SseEvent

# A provider that streams without end is cut off here (characters): an inline completion is short.
MAX_TEXT_CHARS = 64_000
# finish_reason values meaning "cut by the token limit".
LENGTH_REASONS = frozenset({"length", "max_tokens", "model_length"})


@dataclass
class Usage:
    tokens_in: int = 0
    tokens_out: int = 0
    cached_in: int = 0
    cache_write_in: int = 0
    cost_usd: float | None = None


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return 0
    return int(value)


def _object(data: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError:
        raise ServerError("malformed JSON in the stream") from None
    if not isinstance(value, dict):
        raise ServerError("unexpected JSON shape in the stream")
    return value


class StreamReader:
    """What a stream has said so far."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        self.secrets = secrets
        self.text = ""
        self.usage: Usage | None = None
        self.finish_reason: str | None = None
        self.done = False

    def feed(self, event: SseEvent) -> None:
        raise NotImplementedError

    def feed_document(self, data: bytes) -> None:
        """A whole (non-streamed) JSON answer."""
        raise NotImplementedError

    def _append(self, piece: Any) -> None:
        if isinstance(piece, str):
            self.text += piece
            if len(self.text) > MAX_TEXT_CHARS:
                raise ServerError(f"answer longer than {MAX_TEXT_CHARS} characters")

    def _fail(self, error: Any) -> ProviderError:
        return error_from_object(error, self.secrets)


class OpenAIStreamReader(StreamReader):
    """`chat.completion.chunk` / `text_completion` chunks ending in `data: [DONE]` (or not)."""

    def feed(self, event: SseEvent) -> None:
        data = event.data.strip()
        if data == "[DONE]":
            self.done = True
            return
        self._chunk(_object(data))

    def feed_document(self, data: bytes) -> None:
        self._chunk(_object(data.decode("utf-8", "replace")))
        self.done = True

    def _chunk(self, chunk: dict[str, Any]) -> None:
        if chunk.get("error"):
            raise self._fail(chunk["error"])
        usage = chunk.get("usage")
        groq = chunk.get("x_groq")
        if not isinstance(usage, dict) and isinstance(groq, dict):
            usage = groq.get("usage")  # Groq puts the usage of a stream under `x_groq`
        if isinstance(usage, dict):
            self.usage = openai_usage(usage)
        choices = chunk.get("choices")
        if choices is None:
            return
        if not isinstance(choices, list):
            raise ServerError("unexpected `choices` in the stream")
        if not choices:
            return
        choice = choices[0]
        if not isinstance(choice, dict):
            raise ServerError("unexpected choice in the stream")
        if choice.get("error"):
            raise self._fail(choice["error"])
        for holder in ("delta", "message"):
            part = choice.get(holder)
            if isinstance(part, dict):
                self._append(part.get("content"))
                break
        else:
            self._append(choice.get("text"))
        finish = choice.get("finish_reason")
        if isinstance(finish, str) and finish:
            if finish == "error":
                raise ServerError("the provider ended the stream with finish_reason `error`")
            if finish == "content_filter":
                # Azure cuts the answer where its filter fired ("total = compute(va"): never shown.
                raise Flagged(
                    "the provider's content filter cut the answer (finish_reason `content_filter`); "
                    "the next model answers this request"
                )
            self.finish_reason = finish


def openai_usage(usage: dict[str, Any]) -> Usage:
    """OpenAI's usage, with DeepSeek's and OpenRouter's additions."""
    details = usage.get("prompt_tokens_details")
    cached = _int(details.get("cached_tokens")) if isinstance(details, dict) else 0
    # DeepSeek: prompt_cache_hit_tokens + prompt_cache_miss_tokens = prompt_tokens.
    cached = cached or _int(usage.get("prompt_cache_hit_tokens"))
    cost = usage.get("cost")  # OpenRouter: what the call was billed, in USD (credits)
    reported = float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) else None
    if reported is not None and not (math.isfinite(reported) and reported >= 0):
        reported = None
    return Usage(_int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens")), cached, 0, reported)


class AnthropicStreamReader(StreamReader):
    """The Messages API: message_start, content_block_delta, message_delta, message_stop; ping; error."""

    def feed(self, event: SseEvent) -> None:
        payload = _object(event.data)
        kind = payload.get("type") or event.event
        if kind == "error":
            raise self._fail(payload.get("error") or payload)
        if kind == "message_start":
            message = payload.get("message")
            if isinstance(message, dict) and isinstance(message.get("usage"), dict):
                self._usage(message["usage"])
        elif kind == "content_block_delta":
            delta = payload.get("delta")
            if isinstance(delta, dict) and delta.get("type", "text_delta") == "text_delta":
                self._append(delta.get("text"))
        elif kind == "message_delta":
            delta = payload.get("delta")
            if isinstance(delta, dict) and isinstance(delta.get("stop_reason"), str):
                self.finish_reason = delta["stop_reason"]
            if isinstance(payload.get("usage"), dict):
                self._usage(payload["usage"])
        elif kind == "message_stop":
            self.done = True

    def feed_document(self, data: bytes) -> None:
        payload = _object(data.decode("utf-8", "replace"))
        if payload.get("type") == "error" or payload.get("error"):
            raise self._fail(payload.get("error") or payload)
        content = payload.get("content")
        for block in content if isinstance(content, list) else []:
            if isinstance(block, dict) and block.get("type") == "text":
                self._append(block.get("text"))
        if isinstance(payload.get("stop_reason"), str):
            self.finish_reason = payload["stop_reason"]
        if isinstance(payload.get("usage"), dict):
            self._usage(payload["usage"])
        self.done = True

    def _usage(self, raw: dict[str, Any]) -> None:
        usage = self.usage or Usage()
        # message_start carries the input side; message_delta the running output count.
        if "input_tokens" in raw:
            read, write = _int(raw.get("cache_read_input_tokens")), _int(raw.get("cache_creation_input_tokens"))
            # Anthropic's input_tokens excludes cached reads and writes: the prompt is all three.
            usage.tokens_in = _int(raw.get("input_tokens")) + read + write
            usage.cached_in, usage.cache_write_in = read, write
        if "output_tokens" in raw:
            usage.tokens_out = _int(raw.get("output_tokens"))
        self.usage = usage


def reader_for(api: str, secrets: tuple[str, ...] = ()) -> StreamReader:
    return AnthropicStreamReader(secrets) if api == "anthropic" else OpenAIStreamReader(secrets)


def trim_cut_answer(text: str) -> str:
    """An answer cut by the token limit, down to its last complete line ("" when there is none):
    a cut token is never served or cached."""
    if text.endswith("\n"):
        return text
    end = text.rfind("\n")
    if end < 0:
        return ""
    return text[: end + 1]
