"""Providers' documented wire formats, replayed by the simulator on loopback.

A model whose ``base_url`` is ``<simulator>/_wire/<scenario>/v1`` is answered by the scenario:
the bytes a real provider sends for that case, as its API reference documents them (OpenAI,
OpenRouter, DeepSeek, Anthropic, Mistral, Ollama, llama.cpp, vLLM, Azure, LiteLLM), and the
refusals it gives to a request shaped wrong for it (Mistral's 422 for `stream_options`, OpenAI's
400 for `max_tokens` on a reasoning model, Anthropic's 401 without `x-api-key`).

Every request is logged in the simulator's request log with the scenario, its JSON body and its
headers (credentials as ``<present>``, never their value).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tierline.devtools.simulator import Connection, HttpRequest, Simulator

ANSWER = "total = compute(values)\n"
SECRET_HEADERS = frozenset({"authorization", "x-api-key", "api-key"})


@dataclass
class Reply:
    """What to send back: a JSON response, or a stream of raw SSE text ending one of three ways."""

    status: int = 200
    json_body: Any = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    events: list[str] = field(default_factory=list)  # raw SSE text, each ends with its blank line
    end: str = "clean"  # clean (terminating chunk) | cut (connection closed mid-body)


def data(payload: Any) -> str:
    return f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n"


def named(event: str, payload: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(payload)}\n\n"


def chunk(content: str | None = None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    delta: Any = {"content": content} if content is not None else {}
    return {
        "id": "chatcmpl-wire",
        "object": "chat.completion.chunk",
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }


def pieces(text: str) -> list[str]:
    """The answer in a few token-sized pieces."""
    return [text[i : i + 6] for i in range(0, len(text), 6)]


def content_events(text: str = ANSWER) -> list[str]:
    return [data(chunk(p)) for p in pieces(text)]


def usage(prompt: int = 100, completion: int = 7, **extra: Any) -> dict[str, Any]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion, **extra}


def error_json(message: str, kind: str, code: Any = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


# ---------------------------------------------------------------------------------------------
# The scenarios: (request body, request headers) -> Reply

Scenario = Callable[[dict[str, Any], dict[str, str]], Reply]


def openai_chat(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    """OpenAI: usage with cached tokens in the last chunk (choices: []) when asked; [DONE]."""
    model = str(body.get("model", ""))
    if model.startswith(("o1", "o3", "o4", "gpt-5")) and "max_tokens" in body:
        message = (
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."
        )
        return Reply(400, error_json(message, "invalid_request_error", "unsupported_parameter"))
    events = [data(chunk("", role="assistant")), *content_events(), data(chunk(None, "stop"))]
    if (body.get("stream_options") or {}).get("include_usage"):
        cached = usage(2048, 7, prompt_tokens_details={"cached_tokens": 1024, "audio_tokens": 0})
        events.append(data({"id": "chatcmpl-wire", "object": "chat.completion.chunk", "choices": [], "usage": cached}))
    return Reply(events=[*events, data("[DONE]")])


def openai_bad_key(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    """401 that echoes the key back, as some gateways do: it must be masked before anyone sees it."""
    key = headers.get("authorization", "").removeprefix("Bearer ")
    message = (
        f"Incorrect API key provided: {key}. You can find your API key at https://platform.openai.com/account/api-keys."
    )
    return Reply(401, error_json(message, "invalid_request_error", "invalid_api_key"))


def openai_unknown_model(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    message = f"The model `{body.get('model')}` does not exist or you do not have access to it."
    return Reply(404, error_json(message, "invalid_request_error", "model_not_found"))


def openai_moderation(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    return Reply(400, error_json("Your request was rejected by the safety system.", "invalid_request_error"))


def openai_too_large(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    return Reply(413, error_json("Request too large.", "invalid_request_error"))


def openai_rate_limit(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    message = "Rate limit reached for requests. Please try again in 60s."
    return Reply(429, error_json(message, "requests", "rate_limit_exceeded"), [("Retry-After", "60")])


def openai_length(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    """Cut by max_tokens in the middle of the second line's token."""
    text = "total = compute(values)\nreturn tot"
    return Reply(events=[*content_events(text), data(chunk(None, "length")), data("[DONE]")])


def openrouter_chat(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    """OpenRouter: SSE comments while it routes, `usage.cost` in credits (USD) in the last chunk."""
    events = [": OPENROUTER PROCESSING\n\n", ": OPENROUTER PROCESSING\n\n", *content_events()]
    events.append(data(chunk(None, "stop", usage=usage(100, 7, cost=0.0004213, is_byok=False))))
    return Reply(events=[*events, data("[DONE]")])


def openrouter_error_in_stream(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    """OpenRouter's mid-stream error: HTTP 200 already sent, so the error is a chunk, then [DONE]."""
    events = [data(chunk("return json.lo"))]
    error = {"code": 502, "message": "Provider returned error", "metadata": {"provider_name": "Upstream"}}
    events.append(data({**chunk("", "error"), "error": error}))
    return Reply(events=[*events, data("[DONE]")])


def openrouter_no_credits(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    message = "This request requires more credits, or fewer max_tokens. You requested up to 128 tokens, but can only afford 3."
    return Reply(402, {"error": {"code": 402, "message": message}})


def deepseek_chat(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    """DeepSeek: keep-alive comments, `reasoning_content` deltas, prompt cache hit/miss tokens."""
    events = [": keep-alive\n\n", *[data(_reasoning(p)) for p in ("Think", "ing.")], *content_events()]
    cache = usage(1500, 7, prompt_cache_hit_tokens=1280, prompt_cache_miss_tokens=220)
    events.append(data(chunk(None, "stop", usage=cache)))
    return Reply(events=[*events, data("[DONE]")])


def _reasoning(piece: str) -> dict[str, Any]:
    out = chunk()
    out["choices"][0]["delta"] = {"content": None, "reasoning_content": piece}
    return out


def text_completion_events(text: str = ANSWER) -> list[str]:
    """OpenAI's legacy /completions stream (DeepSeek's FIM beta, llama.cpp, vLLM)."""
    return [
        data(
            {
                "id": "cmpl-wire",
                "object": "text_completion",
                "choices": [{"index": 0, "text": p, "finish_reason": None}],
            }
        )
        for p in pieces(text)
    ]


def deepseek_fim(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    if "prompt" not in body:
        return Reply(422, {"error": {"message": "Failed to deserialize the JSON body: missing field `prompt`"}})
    last: dict[str, Any] = {
        "id": "cmpl-wire",
        "object": "text_completion",
        "choices": [{"index": 0, "text": "", "finish_reason": "stop"}],
    }
    last["usage"] = usage(300, 7, prompt_cache_hit_tokens=256, prompt_cache_miss_tokens=44)
    return Reply(events=[*text_completion_events(), data(last), data("[DONE]")])


def anthropic_messages(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    """The Messages API stream, with prompt-cache usage in message_start."""
    if "x-api-key" not in headers:
        return Reply(401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}})
    if "anthropic-version" not in headers:
        message = "anthropic-version: header is required"
        return Reply(400, {"type": "error", "error": {"type": "invalid_request_error", "message": message}})
    start_usage = {
        "input_tokens": 40,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 1800,
        "output_tokens": 1,
    }
    events = [
        named(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_wire",
                    "type": "message",
                    "role": "assistant",
                    "content": [],
                    "model": body.get("model"),
                    "stop_reason": None,
                    "usage": start_usage,
                },
            },
        ),  # noqa: E501
        named(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),  # noqa: E501
        named("ping", {"type": "ping"}),
    ]
    for piece in pieces(ANSWER):
        delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}
        events.append(named("content_block_delta", delta))
    events += [
        named("content_block_stop", {"type": "content_block_stop", "index": 0}),
        named(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 9},
            },
        ),  # noqa: E501
        named("message_stop", {"type": "message_stop"}),
    ]
    return Reply(events=events)


def anthropic_overloaded(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    """An `error` event in the middle of a 200 stream."""
    start = {"type": "message_start", "message": {"usage": {"input_tokens": 40, "output_tokens": 1}}}
    delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "total = "}}
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    return Reply(events=[named("message_start", start), named("content_block_delta", delta), named("error", error)])


def mistral_fim(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    """Codestral's /v1/fim/completions: a strict schema (422 on unknown fields), chat-shaped chunks."""
    unknown = sorted(
        set(body)
        - {
            "model",
            "prompt",
            "suffix",
            "max_tokens",
            "min_tokens",
            "temperature",
            "top_p",
            "stream",
            "stop",
            "random_seed",
        }
    )  # noqa: E501
    if unknown:
        detail = [
            {"type": "extra_forbidden", "loc": ["body", name], "msg": "Extra inputs are not permitted"}
            for name in unknown
        ]  # noqa: E501
        return Reply(
            422,
            {"object": "error", "message": {"detail": detail}, "type": "invalid_request_message_error", "code": None},
        )  # noqa: E501
    events = content_events()
    events.append(data(chunk(None, "stop", usage=usage(300, 7))))
    return Reply(events=[*events, data("[DONE]")])


def ollama_chat(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    """Ollama's OpenAI-compatible endpoint: no key needed, usage only when asked, [DONE]."""
    events = [*content_events(), data(chunk(None, "stop"))]
    if (body.get("stream_options") or {}).get("include_usage"):
        events.append(
            data({"id": "chatcmpl-wire", "object": "chat.completion.chunk", "choices": [], "usage": usage(90, 7)})
        )
    return Reply(events=[*events, data("[DONE]")])


def ollama_fim(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    """Ollama's OpenAI-compatible /v1/completions (prompt + suffix): text chunks, a finish_reason,
    usage only when asked, [DONE]."""
    if not isinstance(body.get("prompt"), str):
        return Reply(400, error_json("invalid prompt: prompt must be a string", "invalid_request_error"))
    last: dict[str, Any] = {
        "id": "cmpl-wire",
        "object": "text_completion",
        "system_fingerprint": "fp_ollama",
        "choices": [{"index": 0, "text": "", "finish_reason": "stop"}],
    }
    events = [*text_completion_events(), data(last)]
    if (body.get("stream_options") or {}).get("include_usage"):
        events.append(data({"id": "cmpl-wire", "object": "text_completion", "choices": [], "usage": usage(90, 7)}))
    return Reply(events=[*events, data("[DONE]")])


def llamacpp_no_done(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    """llama.cpp's server: a finish_reason, then the body simply ends (no [DONE])."""
    return Reply(events=[*content_events(), data(chunk(None, "stop", usage=usage(80, 7)))])


def vllm_bare_end(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    """A stream that just ends cleanly: no finish_reason, no [DONE]."""
    return Reply(events=content_events())


def azure_chat(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    """Azure OpenAI: `api-key` auth; a first chunk with `choices: []` and prompt filter results."""
    if "api-key" not in headers:
        return Reply(
            401,
            {
                "error": {
                    "code": "401",
                    "message": "Access denied due to invalid subscription key or wrong API endpoint.",
                }
            },
        )  # noqa: E501
    first = {
        "id": "",
        "object": "",
        "choices": [],
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}],
    }  # noqa: E501
    return Reply(events=[data(first), *content_events(), data(chunk(None, "stop")), data("[DONE]")])


def delta_null(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    """Chunks some gateways send: `delta: null`, `choices: null`, unknown fields."""
    odd = chunk()
    odd["choices"][0]["delta"] = None
    events = [data(odd), data({"id": "x", "choices": None, "system_fingerprint": "fp"}), *content_events()]
    return Reply(events=[*events, data(chunk(None, "stop", provider_extra={"a": 1})), data("[DONE]")])


def bad_shape(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    return Reply(events=[data(chunk("x")), data({"choices": "oops"}), data("[DONE]")])


def cut(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    """The connection closes in the middle of the chunked body."""
    return Reply(events=content_events()[:2], end="cut")


def litellm_cost(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    """LiteLLM's proxy: what the call cost, in a response header."""
    events = [*content_events(), data(chunk(None, "stop")), data("[DONE]")]
    return Reply(events=events, headers=[("x-litellm-response-cost", "0.000321")])


def azure_content_filter(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    """Azure OpenAI: the content filter fires mid-answer; the stream ends with `content_filter`."""
    events = [*content_events("total = compute(va"), data(chunk(None, "content_filter")), data("[DONE]")]
    return Reply(events=events)


def openrouter_moderation(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    """OpenRouter: a model that requires moderation, and this input was flagged (403, with metadata)."""
    metadata = {"reasons": ["violence"], "flagged_input": "def total_of(values):", "provider_name": "OpenAI"}
    message = "deepseek/deepseek-v4-flash requires moderation on OpenRouter. Your input was flagged."
    return Reply(403, {"error": {"code": 403, "message": message, "metadata": metadata}})


def groq_chat(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    """Groq: a stream's usage under `x_groq.usage` in the last chunk, not `usage`."""
    last = chunk(None, "stop", x_groq={"id": "req_01", "usage": usage(120, 7, queue_time=0.01)})
    return Reply(events=[*content_events(), data(last), data("[DONE]")])


def gemini_error_array(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    """Gemini's OpenAI-compatible endpoint: an error body that is a JSON array of error objects."""
    error = {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT"}
    return Reply(400, [{"error": error}])


def busy_retry_after(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    """A single 503 that says when to come back."""
    return Reply(503, error_json("The server is busy.", "server_error"), [("Retry-After", "30")])


def litellm_no_db(body: dict[str, Any], headers: dict[str, str]) -> Reply:
    """LiteLLM's proxy started without a database: a key that is not its master key."""
    return Reply(400, error_json("Authentication Error, No connected db.", "auth_error", "400"))


SCENARIOS: dict[str, Scenario] = {
    "azure-content-filter": azure_content_filter,
    "openrouter-moderation": openrouter_moderation,
    "groq-chat": groq_chat,
    "gemini-error-array": gemini_error_array,
    "busy-retry-after": busy_retry_after,
    "litellm-no-db": litellm_no_db,
    "openai-chat": openai_chat,
    "openai-bad-key": openai_bad_key,
    "openai-unknown-model": openai_unknown_model,
    "openai-moderation": openai_moderation,
    "openai-too-large": openai_too_large,
    "openai-rate-limit": openai_rate_limit,
    "openai-length": openai_length,
    "openrouter-chat": openrouter_chat,
    "openrouter-error-in-stream": openrouter_error_in_stream,
    "openrouter-no-credits": openrouter_no_credits,
    "deepseek-chat": deepseek_chat,
    "deepseek-fim": deepseek_fim,
    "anthropic-messages": anthropic_messages,
    "anthropic-overloaded": anthropic_overloaded,
    "mistral-fim": mistral_fim,
    "ollama-chat": ollama_chat,
    "ollama-fim": ollama_fim,
    "llamacpp-no-done": llamacpp_no_done,
    "vllm-bare-end": vllm_bare_end,
    "azure-chat": azure_chat,
    "delta-null": delta_null,
    "bad-shape": bad_shape,
    "cut": cut,
    "litellm-cost": litellm_cost,
}


# ---------------------------------------------------------------------------------------------
# Serving


def scenario_of(path: str) -> str:
    """`/_wire/<scenario>/...` -> scenario."""
    return path.split("/")[2] if path.count("/") >= 2 else ""


async def _write_chunk(connection: Connection, text: str) -> None:
    payload = text.encode()
    await connection.write(b"%x\r\n%s\r\n" % (len(payload), payload))


async def serve(simulator: Simulator, connection: Connection, request: HttpRequest) -> bool:
    """Answer one request under `/_wire/`; True to keep the connection."""
    from tierline.devtools import simulator as sim

    name = scenario_of(request.path)
    scenario = SCENARIOS.get(name)
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    record = simulator._open_record(request, str(body.get("model", "")), bool(body.get("stream")))
    record["wire"] = name
    record["body"] = body
    record["headers"] = {k: ("<present>" if k in SECRET_HEADERS else v) for k, v in request.headers.items()}
    if scenario is None:
        await connection.send_json(404, sim.error_body(f"no wire scenario {name!r}", "invalid_request_error"))
        simulator._close_record(record, sim._Outcome("bad_request", 404, True))
        return True
    reply = scenario(body, request.headers)
    try:
        keep = await _send(connection, reply)
    except OSError:
        simulator._close_record(record, sim._Outcome("disconnected", None, False))
        return False
    simulator._close_record(record, sim._Outcome(name, reply.status, keep))
    return keep


async def _send(connection: Connection, reply: Reply) -> bool:
    if reply.json_body is not None or reply.status != 200:
        await connection.send_json(reply.status, reply.json_body or {}, reply.headers)
        return True
    head = [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"), ("Transfer-Encoding", "chunked")]
    await connection.write(connection._head(200, [*head, *reply.headers]))
    for event in reply.events:
        await _write_chunk(connection, event)
    if reply.end == "cut":
        connection.close()
        return False
    await connection.end_chunked()
    return True
