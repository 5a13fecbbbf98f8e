"""The HTTP client for every model: OpenAI-compatible chat and FIM, and Anthropic's Messages API.

One shared ``httpx.AsyncClient`` per network route (connection pooling); each call streams, so
time-to-first-token is seen and a single-line completion stops reading as soon as its line is
complete. Cancelling the awaiting task closes the HTTP response, and so the connection.

The request's shape is `shaping`'s, the stream's reading `streaming`'s, failures by kind `errors`'.
Remote endpoints go through `HTTPS_PROXY`/`NO_PROXY` and trust the OS certificate store (or
`SSL_CERT_FILE`); loopback endpoints (a local Ollama, llama.cpp, LiteLLM) never go through a proxy.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tierline.config import ModelSpec
from tierline.prompt.tokens import estimate_tokens
from tierline.prompt.window import PromptWindow, lines_complete, prompt_tokens
from tierline.providers.base import (
    CallRequest,
    CallResult,
    ProviderTimeout,
    ServerError,
)
from tierline.providers.errors import error_from_status, mask_secrets
from tierline.providers.shaping import body_for, default_path, shape
from tierline.providers.sse import SseParser
from tierline.providers.streaming import LENGTH_REASONS, StreamReader, reader_for, trim_cut_answer

if TYPE_CHECKING:
    import ssl

    import httpx

# An error body is read up to this many bytes: enough for any provider's explanation.
MAX_ERROR_BODY = 64 * 1024
# LiteLLM's proxy reports what a call cost in this response header.
LITELLM_COST_HEADER = "x-litellm-response-cost"


def request_body(
    model: ModelSpec, window: PromptWindow, max_tokens: int, single_line: bool
) -> tuple[str, dict[str, Any]]:
    """Endpoint path and JSON body for one call."""
    return model.path or default_path(model), body_for(model, window, max_tokens, single_line)


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tls_context() -> ssl.SSLContext | bool:
    """`SSL_CERT_FILE`/`SSL_CERT_DIR` when set; else the OS trust store (corporate CAs included)
    through `truststore` when it is installed; else httpx's default (certifi)."""
    import ssl

    if os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(
            cafile=os.environ.get("SSL_CERT_FILE") or None, capath=os.environ.get("SSL_CERT_DIR") or None
        )
    try:
        import truststore
    except ImportError:
        return True
    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class ProviderClient:
    """The shared HTTP clients; created on first use so `initialize` does not pay for httpx."""

    def __init__(self) -> None:
        self._clients: dict[bool, httpx.AsyncClient] = {}

    def _http(self, url: str) -> httpx.AsyncClient:
        local = is_loopback(url)
        client = self._clients.get(local)
        if client is None:
            import httpx

            client = httpx.AsyncClient(
                limits=httpx.Limits(max_connections=32, max_keepalive_connections=16, keepalive_expiry=30),
                http2=False,
                # Remote: the user's proxy settings and certificate authorities. Loopback: neither.
                trust_env=not local,
                verify=True if local else tls_context(),
            )
            self._clients[local] = client
        return client

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    async def complete(self, call: CallRequest) -> CallResult:
        """One call. Raises ProviderError; asyncio.CancelledError passes through (connection closed)."""
        try:
            return await asyncio.wait_for(self._stream(call), call.model.timeout_ms / 1000)
        except asyncio.TimeoutError:
            raise ProviderTimeout(f"no complete answer within {call.model.timeout_ms} ms") from None

    async def _stream(self, call: CallRequest) -> CallResult:
        import httpx

        model = call.model
        request = shape(model, call.window, call.api_key, (call.max_tokens, call.single_line))
        secrets = (call.api_key,) if call.api_key else ()
        reader = reader_for(model.api, secrets)
        # The model's own timeout, not httpx's 5 s default: a 10 s model must get its 10 s.
        timeout = httpx.Timeout(model.timeout_ms / 1000)
        started = time.monotonic()
        first_token_ms: float | None = None
        stopped_early = False
        reported_cost: float | None = None
        try:
            async with self._http(request.url).stream(
                "POST", request.url, json=request.body, headers=request.headers, timeout=timeout
            ) as response:
                if response.status_code != 200:
                    body = await _read_capped(response)
                    raise error_from_status(response.status_code, body, _retry_after(response.headers), secrets)
                call.progress.accepted = True
                reported_cost = _header_cost(response.headers.get(LITELLM_COST_HEADER))
                if "text/event-stream" not in response.headers.get("content-type", ""):
                    # A server that ignores `stream`: one JSON document.
                    reader.feed_document(await _read_capped(response, limit=4 * MAX_ERROR_BODY))
                else:
                    parser = SseParser()
                    async for line in response.aiter_lines():
                        event = parser.line(line)
                        if event is None:
                            continue
                        reader.feed(event)
                        call.progress.text = reader.text
                        if reader.text and first_token_ms is None:
                            first_token_ms = (time.monotonic() - started) * 1000
                            if call.on_first_token is not None:
                                call.on_first_token()
                        if _read_enough(call, reader.text):
                            stopped_early = True
                            break
                    if not stopped_early:
                        # An event the body ended without a blank line after.
                        last = parser.flush()
                        if last is not None:
                            reader.feed(last)
        except httpx.TimeoutException as exc:
            raise ProviderTimeout(type(exc).__name__) from None
        except httpx.ConnectError as exc:
            why = _connect_failure(exc)
            raise ServerError(f"connection failed: {type(exc).__name__}{why}", provider_wide=True) from None
        except httpx.ProxyError as exc:
            # The proxy's own status line ("407 Proxy Authentication Required"); never its URL.
            said = mask_secrets(str(exc)[:120], secrets)  # the proxy's words: input like a provider's
            raise ServerError(f"connection failed: the proxy refused it ({said})", provider_wide=True) from None
        except httpx.TransportError as exc:
            # A body cut before its end (no terminating chunk) lands here: not a clean end.
            raise ServerError(f"connection failed: {type(exc).__name__}") from None
        return _result(call, reader, (started, first_token_ms), reported_cost)


def _read_enough(call: CallRequest, text: str) -> bool:
    """Stop reading (hang up): a single-line completion's line is complete, or the lines the
    language's `max_lines` keeps (and a little slack) have arrived."""
    if call.single_line and call.line_complete is not None and call.line_complete(text):
        return True
    return lines_complete(text, call.window.max_lines)


def _connect_failure(exc: Exception) -> str:
    """Why a connection failed, when a user can act on it: a certificate no trusted authority signed
    (a corporate CA missing from the trust store)."""
    import ssl

    cause: BaseException | None = exc
    for _ in range(8):  # a chain is a few links; never follow a cycle
        if cause is None:
            break
        if isinstance(cause, ssl.SSLCertVerificationError):
            return (
                f" (the server's certificate is not trusted: {cause.verify_message}; "
                "add your CA to SSL_CERT_FILE or the system trust store)"
            )
        cause = cause.__cause__ or cause.__context__
    return ""


def _result(
    call: CallRequest, reader: StreamReader, timing: tuple[float, float | None], reported_cost: float | None
) -> CallResult:
    """A stream that ended cleanly, as a result. Success is `[DONE]`, a finish reason or a clean end
    of the body alike (vLLM and llama.cpp send no `[DONE]`); a cut at the token limit keeps only
    whole lines."""
    started, first_token_ms = timing
    text = reader.text
    if reader.finish_reason in LENGTH_REASONS:
        text = trim_cut_answer(text)
    usage = reader.usage
    tokens_in = usage.tokens_in if usage and usage.tokens_in else prompt_tokens(call.window)
    tokens_out = usage.tokens_out if usage and usage.tokens_out else estimate_tokens(reader.text)
    cost = usage.cost_usd if usage and usage.cost_usd is not None else reported_cost
    return CallResult(
        text=text,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        cached_tokens_in=min(usage.cached_in, tokens_in) if usage else 0,
        usage_reported=usage is not None and bool(usage.tokens_in and usage.tokens_out),
        latency_ms=(time.monotonic() - started) * 1000,
        first_token_ms=first_token_ms,
        finish_reason=reader.finish_reason,
        cost_usd_reported=cost,
        cache_write_tokens_in=usage.cache_write_in if usage else 0,
    )


async def _read_capped(response: httpx.Response, limit: int = MAX_ERROR_BODY) -> bytes:
    """The body, up to `limit` bytes: a hostile server cannot make tierline read forever."""
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data.extend(chunk)
        if len(data) >= limit:
            break
    return bytes(data[:limit])


def _retry_after(headers: httpx.Headers) -> str | None:
    """`Retry-After`, or OpenAI's millisecond variant (more exact) when present."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return str(float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    return str(value) if value else None


def _header_cost(value: str | None) -> float | None:
    if not value:
        return None
    try:
        cost = float(value)
    except ValueError:
        return None
    return cost if 0 <= cost < 1e6 else None
