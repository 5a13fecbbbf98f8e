"""Provider failures by kind, from an HTTP status or an error object inside a stream.

Transient (429, 408, 5xx, Anthropic's 529 overloaded): another model now, this one later.
Permanent (400, 401, 402, 403, 404, 413, 422): `Rejected`, carrying the provider's own
explanation with anything that looks like a key masked, so the user can be told what to fix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from tierline.providers.base import (
    BudgetExceeded,
    Flagged,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    Rejected,
    ServerError,
    parse_retry_after,
)

PERMANENT_STATUSES = frozenset({400, 401, 402, 403, 404, 413, 422})
MAX_DETAIL_CHARS = 300

# Things that look like credentials: provider key prefixes, bearer tokens, long opaque strings.
_SECRET = re.compile(
    r"(?i)(bearer\s+)\S+"
    r"|\b(?:sk|pk|rk|ak|or|gsk|xai|ghp|gho)[-_][A-Za-z0-9_\-]{6,}"
    r"|\b[A-Za-z0-9_\-]{32,}\b"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")

# What to do, by status, after the provider's own words.
_ADVICE = {
    400: "the provider refused the request; check the model's `extra_body`, `max_tokens_field` and `path`",
    401: "the API key was refused; check the key in {env}",
    402: "the account has no credit left; add credit, then tierline tries again in a while",
    403: "the key may not use this model (or region); check the key's permissions",
    404: "the model or endpoint was not found; check `model` and `base_url`",
    413: "the request is too large for this model; lower [completion] prefix_chars",
    422: "the provider refused the request's fields; check `extra_body` and `max_tokens_field`",
}


def mask_secrets(text: str, secrets: tuple[str, ...] = ()) -> str:
    """The text with known secrets and anything key-shaped replaced by `***`, one line, capped."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _SECRET.sub(lambda m: (m.group(1) or "") + "***", text)
    text = _CONTROL.sub(" ", text).strip()
    if len(text) > MAX_DETAIL_CHARS:
        text = text[: MAX_DETAIL_CHARS - 1] + "…"
    return text


def advice(status: int | None, api_key_env: str | None) -> str:
    text = _ADVICE.get(status or 0, "")
    return text.format(env=f"${api_key_env}" if api_key_env else "the config")


def message_of(payload: Any) -> str:
    """The human part of an error payload: OpenAI/OpenRouter/Anthropic `error.message`, `detail`,
    `message`; Gemini's error bodies are a JSON array of such objects."""
    if isinstance(payload, list):
        return next((found for item in payload[:5] if (found := message_of(item))), "")
    if isinstance(payload, Mapping):
        error = payload.get("error")
        if isinstance(error, Mapping):
            inner = error.get("message")
            if isinstance(inner, str) and inner:
                return inner
            return message_of(error)
        if isinstance(error, str) and error:
            return error
        for key in ("message", "detail", "msg"):
            value = payload.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, (Mapping, list)):
                found = _validation_messages(value)
                if found:
                    return found
    if isinstance(payload, str):
        return payload
    return ""


def _validation_messages(value: Any, depth: int = 0) -> str:
    """FastAPI/pydantic-style details (Mistral's 422): "stream_options: Extra inputs are not permitted"."""
    if depth > 4:
        return ""
    if isinstance(value, list):
        return "; ".join(filter(None, (_validation_messages(v, depth + 1) for v in value[:5])))
    if isinstance(value, Mapping):
        msg = value.get("msg") or value.get("message")
        if isinstance(msg, str):
            loc = value.get("loc")
            where = str(loc[-1]) if isinstance(loc, list) and loc else ""
            return f"{where}: {msg}" if where else msg
        return _validation_messages(value.get("detail"), depth + 1)
    return ""


# A refusal of this input, not of the key or the model: OpenRouter's moderation 403 ("... your input
# was flagged"), Azure's `content_filter` code on a prompt.
_FLAGGED = re.compile(r"(?i)\bflagged\b|\bmoderation\b|content[_ ]filter")
FLAGGED_NOTE = "this input was flagged; the next model answers this request, and this model stays in use"
# LiteLLM's proxy without a database cannot look a key up: it answers any key but its master key
# with 400 "No connected db.". The fix is the key (or the gateway's setup), not the request.
_NO_DB = re.compile(r"(?i)no connected db")
NO_DB_NOTE = (
    "a LiteLLM proxy without a database accepts only its master key: use the master key, "
    "or connect the proxy's database for virtual keys"
)


# LiteLLM's proxy refusing for a spent budget (key, team, user, end user, global): error type
# `budget_exceeded` with HTTP 422 (400 or 429 in older releases and with
# `litellm.budget_exceeded_status_code`), messages "Budget has been exceeded! ..." or
# "ExceededBudget: ..." (proxy/auth/auth_checks.py, exceptions.BudgetExceededError).
_BUDGET_EXCEEDED = re.compile(r"(?i)budget has been exceeded|\bexceeded ?budget\b|\bbudget_exceeded\b")
BUDGET_STATUSES = frozenset({400, 402, 403, 422, 429})


def _type_of(payload: Any) -> str:
    error = payload.get("error") if isinstance(payload, Mapping) else None
    kind = error.get("type") if isinstance(error, Mapping) else None
    return str(kind or "").lower()


def is_budget_exceeded(status: int | None, payload: Any, said: str) -> bool:
    """The gateway's "your budget is spent" answer (by its error type, or its words on a refusal)."""
    if status is not None and status not in BUDGET_STATUSES:
        return False
    return _type_of(payload) == "budget_exceeded" or bool(_BUDGET_EXCEEDED.search(said))


def _code_of(payload: Any) -> str:
    error = payload.get("error") if isinstance(payload, Mapping) else None
    code = error.get("code") if isinstance(error, Mapping) else None
    return str(code or "").lower()


def error_from_status(
    status: int, body: bytes, retry_after: str | None, secrets: tuple[str, ...] = ()
) -> ProviderError:
    """An HTTP error response as a ProviderError of its kind."""
    try:
        payload: Any = json.loads(body) if body else None
    except ValueError:
        payload = body.decode("utf-8", "replace")
    said = mask_secrets(message_of(payload), secrets)
    detail = f"HTTP {status}" + (f": {said}" if said else "")
    if is_budget_exceeded(status, payload, said):
        return BudgetExceeded(detail, status=status)
    if status in (400, 403, 422) and (_FLAGGED.search(said) or _code_of(payload) == "content_filter"):
        return Flagged(f"{detail} ({FLAGGED_NOTE})", status=status)
    if status in (400, 401) and _NO_DB.search(said):
        # Told as the key's refusal (401): the advice then points at the key.
        return Rejected(f"{detail} ({NO_DB_NOTE})", status=401)
    if status == 429 or (status == 503 and retry_after):
        # A 503 with Retry-After says "come back then", as a 429 does: honoured the same way.
        return RateLimited(detail, parse_retry_after(retry_after), status=status)
    if status == 408:
        return ProviderTimeout(detail, status=status)
    if status in PERMANENT_STATUSES:
        return Rejected(detail, status=status)
    return ServerError(detail, parse_retry_after(retry_after) if status == 503 else None, status=status)


def error_from_object(error: Any, secrets: tuple[str, ...] = ()) -> ProviderError:
    """An `error` object inside a 200 stream (OpenRouter, Anthropic's `error` event) by its code or type."""
    said = mask_secrets(message_of({"error": error}), secrets)
    code: Any = error.get("code") if isinstance(error, Mapping) else None
    kind = str(error.get("type") or "") if isinstance(error, Mapping) else ""
    status = code if isinstance(code, int) and not isinstance(code, bool) else None
    if status is None and isinstance(code, str) and code.isdigit():
        status = int(code)
    words = f"{kind} {code if isinstance(code, str) else ''}".lower()
    detail = "error in stream" + (f": {said}" if said else "")
    if is_budget_exceeded(status, {"error": error}, said):
        return BudgetExceeded(detail, status=status)
    if status == 429 or "rate_limit" in words:
        return RateLimited(detail, status=status)
    if status in PERMANENT_STATUSES or any(
        word in words for word in ("invalid_request", "authentication", "permission", "not_found", "billing")
    ):
        return Rejected(detail, status=status or 400)
    return ServerError(detail, status=status)
