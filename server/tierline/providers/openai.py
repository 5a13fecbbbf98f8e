"""The OpenAI-compatible adapter: chat (/chat/completions) and FIM (/completions).

One shared ``httpx.AsyncClient`` (connection pooling); each call streams, so time-to-first-token
is seen and a single-line completion stops reading as soon as its line is complete. Cancelling
the awaiting task closes the HTTP response, and so the connection.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

from tierline import __version__
from tierline.completion.prompts import PromptWindow, chat_messages, estimate_tokens, prompt_tokens
from tierline.config import ModelSpec
from tierline.providers.base import (
    CallRequest,
    CallResult,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    ServerError,
    parse_retry_after,
)

if TYPE_CHECKING:
    import httpx


def request_body(
    model: ModelSpec, window: PromptWindow, max_tokens: int, single_line: bool
) -> tuple[str, dict[str, Any]]:
    """Endpoint path and JSON body for one call."""
    if model.api == "fim":
        body: dict[str, Any] = {
            "model": model.model,
            "prompt": window.prefix,
            "suffix": window.suffix,
            "max_tokens": max_tokens,
            "temperature": 0.1,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if single_line:
            body["stop"] = ["\n"]
        return "/completions", body
    return "/chat/completions", {
        "model": model.model,
        "messages": chat_messages(window),
        "max_tokens": max_tokens,
        "temperature": 0.1,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def _delta_text(chunk: dict[str, Any]) -> str:
    choices = chunk.get("choices") or []
    if not choices:
        return ""
    choice = choices[0]
    if "delta" in choice:
        return choice["delta"].get("content") or ""
    if "message" in choice:
        return (choice.get("message") or {}).get("content") or ""
    return choice.get("text") or ""


class ProviderClient:
    """The shared HTTP client; created on first use so `initialize` does not pay for httpx."""

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(
                limits=httpx.Limits(max_connections=32, max_keepalive_connections=16, keepalive_expiry=30),
                http2=False,
                trust_env=False,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def complete(self, call: CallRequest) -> CallResult:
        """One call. Raises ProviderError; asyncio.CancelledError passes through (connection closed)."""
        try:
            return await asyncio.wait_for(self._stream(call), call.model.timeout_ms / 1000)
        except asyncio.TimeoutError:
            raise ProviderTimeout(f"no complete answer within {call.model.timeout_ms} ms") from None

    async def _stream(self, call: CallRequest) -> CallResult:
        import httpx

        model, window, single_line, line_complete = call.model, call.window, call.single_line, call.line_complete
        path, body = request_body(model, window, call.max_tokens, single_line)
        headers = {"Accept": "text/event-stream", "User-Agent": f"tierline/{__version__}"}
        if call.api_key:
            headers["Authorization"] = f"Bearer {call.api_key}"
        # The model's own timeout, not httpx's 5 s default: a 10 s model must get its 10 s.
        timeout = httpx.Timeout(model.timeout_ms / 1000)
        started = time.monotonic()
        first_token_ms: float | None = None
        text = ""
        usage: dict[str, Any] | None = None
        done = stopped_early = False
        try:
            async with self._http().stream(
                "POST", model.base_url + path, json=body, headers=headers, timeout=timeout
            ) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise _http_error(response.status_code, response.headers.get("retry-after"))
                if "text/event-stream" not in response.headers.get("content-type", ""):
                    # A server that ignores `stream`: one JSON document.
                    payload = _json(await response.aread())
                    text = _delta_text(payload)
                    usage = payload.get("usage")
                    done = True
                else:
                    async for line in response.aiter_lines():
                        if not line.startswith("data:"):
                            continue
                        data = line[5:].strip()
                        if data == "[DONE]":
                            # Read on to the end of the body so the connection goes back to the pool.
                            done = True
                            continue
                        chunk = _json(data.encode())
                        if chunk.get("usage"):
                            usage = chunk["usage"]
                        piece = _delta_text(chunk)
                        if piece and first_token_ms is None:
                            first_token_ms = (time.monotonic() - started) * 1000
                        text += piece
                        if single_line and line_complete is not None and line_complete(text):
                            stopped_early = True
                            break
        except httpx.TimeoutException as exc:
            raise ProviderTimeout(type(exc).__name__) from None
        except httpx.ConnectError as exc:
            raise ServerError(f"connection failed: {type(exc).__name__}", provider_wide=True) from None
        except httpx.TransportError as exc:
            raise ServerError(f"connection failed: {type(exc).__name__}") from None
        if not done and not stopped_early:
            raise ServerError("stream ended before [DONE]")
        latency_ms = (time.monotonic() - started) * 1000
        tokens_in = prompt_tokens(window)
        tokens_out = estimate_tokens(text)
        cached = 0
        if usage:
            tokens_in = int(usage.get("prompt_tokens") or tokens_in)
            tokens_out = int(usage.get("completion_tokens") or tokens_out)
            cached = int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
        return CallResult(
            text=text,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cached_tokens_in=cached,
            usage_reported=bool(usage),
            latency_ms=latency_ms,
            first_token_ms=first_token_ms,
        )


def _json(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError:
        raise ServerError("malformed JSON from provider") from None
    if not isinstance(value, dict):
        raise ServerError("unexpected JSON shape from provider")
    return value


def _http_error(status: int, retry_after: str | None) -> ProviderError:
    if status == 429:
        return RateLimited("HTTP 429 rate limited", parse_retry_after(retry_after))
    if status in (401, 403):
        return ServerError(f"HTTP {status}: the provider refused the API key")
    return ServerError(f"HTTP {status}")
