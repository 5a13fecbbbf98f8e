"""One call as an HTTP request: URL, headers and JSON body, shaped per model.

The API (`chat`, `fim`, `anthropic`) gives the body's shape; the host gives what it is known to
take or refuse (Mistral's strict schema answers 422 to `stream_options`; OpenAI's reasoning models
refuse `max_tokens`); the model's own keys (`auth`, `headers`, `extra_body`, `path`,
`max_tokens_field`) win over both.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tierline import __version__
from tierline.config import ModelSpec
from tierline.prompt.window import (
    CHAT_SYSTEM,
    CURSOR_MARKER,
    PromptWindow,
    chat_messages,
    comment_blocks,
    context_blocks,
    file_separator_blocks,
)

ANTHROPIC_VERSION = "2023-06-01"
PROJECT_URL = "https://github.com/tierline/tierline"
TEMPERATURE = 0.1

# Hosts whose schema refuses unknown fields such as `stream_options`.
_NO_STREAM_OPTIONS_HOSTS = ("mistral.ai",)
# OpenAI's reasoning models take `max_completion_tokens` and refuse `max_tokens`.
_REASONING_MODEL = re.compile(r"^(o\d|gpt-5)")


@dataclass(frozen=True)
class HttpCall:
    url: str
    headers: dict[str, str]
    body: dict[str, Any]


def host_of(model: ModelSpec) -> str:
    return (urlsplit(model.base_url).hostname or "").lower()


def _host_is(model: ModelSpec, *domains: str) -> bool:
    host = host_of(model)
    return any(host == d or host.endswith("." + d) for d in domains)


def default_path(model: ModelSpec) -> str:
    if model.api == "anthropic":
        return "/messages"
    if model.api == "fim":
        # Mistral's Codestral has its own FIM endpoint; DeepSeek's beta and llama.cpp take /completions.
        return "/fim/completions" if _host_is(model, "mistral.ai") else "/completions"
    return "/chat/completions"


def auth_scheme(model: ModelSpec) -> str:
    if model.auth:
        return model.auth
    if model.api == "anthropic":
        return "x-api-key"
    if ".openai.azure.com" in host_of(model):
        return "api-key"
    return "bearer"


def max_tokens_field(model: ModelSpec) -> str:
    if model.max_tokens_field:
        return model.max_tokens_field
    if _host_is(model, "openai.com") and _REASONING_MODEL.match(model.model):
        return "max_completion_tokens"
    return "max_tokens"


def takes_stream_options(model: ModelSpec) -> bool:
    if model.api == "anthropic":
        return False
    if model.stream_usage is not None:
        return model.stream_usage
    return model.api != "anthropic" and not _host_is(model, *_NO_STREAM_OPTIONS_HOSTS)


def headers_for(model: ModelSpec, api_key: str | None) -> dict[str, str]:
    headers = {
        "Accept": "text/event-stream",
        "Content-Type": "application/json",
        "User-Agent": f"tierline/{__version__}",
    }
    if _host_is(model, "openrouter.ai"):
        # OpenRouter's app attribution (https://openrouter.ai/docs/api-reference/overview#headers).
        headers["HTTP-Referer"] = PROJECT_URL
        headers["X-Title"] = "tierline"
    if model.api == "anthropic":
        headers["anthropic-version"] = ANTHROPIC_VERSION
    scheme = auth_scheme(model)
    if api_key and scheme == "bearer":
        headers["Authorization"] = f"Bearer {api_key}"
    elif api_key and scheme == "x-api-key":
        headers["x-api-key"] = api_key
    elif api_key and scheme == "api-key":
        headers["api-key"] = api_key
    headers.update(model.headers)
    return headers


def merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """`extra_body` merged into the body: tables key by key, anything else replaced."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def anthropic_body(model: ModelSpec, window: PromptWindow, max_tokens: int) -> dict[str, Any]:
    """The Messages API body. The code before the cursor's enclosing lines is the stable part of
    the prompt: it goes first, marked for prompt caching, so consecutive keystrokes in one place
    read it from the cache (Anthropic caches prefixes of 1,024+ tokens; shorter ones cost nothing)."""
    head, _, near = window.prefix.rpartition("\n\n")
    # The cross-file snippets change less than the code at the cursor: they open the cached part.
    intro = (
        f"{context_blocks(window)}Language: {window.language}. File: {window.filename}.\n"
        f"Complete the code at {CURSOR_MARKER}.\n"
    )
    blocks: list[dict[str, Any]] = []
    if head:
        blocks.append({"type": "text", "text": intro + head + "\n\n", "cache_control": {"type": "ephemeral"}})
        blocks.append({"type": "text", "text": f"{near}{CURSOR_MARKER}{window.suffix}"})
    elif window.context:
        blocks.append({"type": "text", "text": intro, "cache_control": {"type": "ephemeral"}})
        blocks.append({"type": "text", "text": f"{window.prefix}{CURSOR_MARKER}{window.suffix}"})
    else:
        blocks.append({"type": "text", "text": f"{intro}{window.prefix}{CURSOR_MARKER}{window.suffix}"})
    return {
        "model": model.model,
        "max_tokens": max_tokens,
        "temperature": TEMPERATURE,
        "stream": True,
        "system": [{"type": "text", "text": CHAT_SYSTEM}],
        "messages": [{"role": "user", "content": blocks}],
    }


# FIM models trained with repository-level tokens: the other files go before the current one,
# each after the separator token and its path (Qwen2.5-Coder's and StarCoder2's formats).
_FILE_SEPARATORS: tuple[tuple[str, str], ...] = (
    ("qwen2.5-coder", "<|file_sep|>"),
    ("qwen-2.5-coder", "<|file_sep|>"),
    ("qwen3-coder", "<|file_sep|>"),
    ("starcoder2", "<file_sep>"),
)
_LINE_COMMENTS = {"python": "#", "ruby": "#", "shellscript": "#", "perl": "#", "r": "#", "elixir": "#"}


def file_separator(model: ModelSpec) -> str | None:
    name = model.model.lower()
    return next((token for family, token in _FILE_SEPARATORS if family in name), None)


def fim_prompt(model: ModelSpec, window: PromptWindow) -> str:
    """The FIM prompt: the snippets in the model's repository format when it has one, else as a
    comment block headed by each snippet's path, then the code before the cursor."""
    if not window.context:
        return window.prefix
    separator = file_separator(model)
    if separator is not None:
        return file_separator_blocks(window, separator) + window.prefix
    comment = _LINE_COMMENTS.get(window.language, "--" if window.language in ("sql", "lua", "haskell") else "//")
    return comment_blocks(window, comment) + window.prefix


def body_for(model: ModelSpec, window: PromptWindow, max_tokens: int, single_line: bool) -> dict[str, Any]:
    if model.api == "anthropic":
        body = anthropic_body(model, window, max_tokens)
        if single_line:
            body["stop_sequences"] = ["\n\n"]
        return merge(body, model.extra_body)
    body = {"model": model.model}
    if model.api == "fim":
        body.update({"prompt": fim_prompt(model, window), "suffix": window.suffix})
        if single_line:
            body["stop"] = ["\n"]
    else:
        body["messages"] = chat_messages(window)
    body.update({max_tokens_field(model): max_tokens, "temperature": TEMPERATURE, "stream": True})
    if takes_stream_options(model):
        body["stream_options"] = {"include_usage": True}
    return merge(body, model.extra_body)


def shape(model: ModelSpec, window: PromptWindow, api_key: str | None, limits: tuple[int, bool]) -> HttpCall:
    """The whole request for one call; `limits` = (max_tokens, single_line)."""
    max_tokens, single_line = limits
    url = model.base_url + (model.path or default_path(model))
    return HttpCall(url, headers_for(model, api_key), body_for(model, window, max_tokens, single_line))
