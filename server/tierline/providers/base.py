"""What every provider adapter agrees on: the call it is given, the result it returns, and the
errors it raises, as a class hierarchy by kind (transient: try another model; permanent: stop
calling this model until its config changes).
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from tierline.config import ModelSpec
from tierline.prompt.window import PromptWindow
from tierline.wire import Outcome


@dataclass
class CallProgress:
    """How far a call got, for the one that never returns a result: a call tierline hangs up on
    (cancelled, timed out) after the provider took it is billed for the prompt and what it sent."""

    accepted: bool = False  # the provider answered 200 and began its answer
    text: str = ""  # what had arrived when the call ended
    charged_usd: float = 0.0  # what the ledger charged for it when tierline hung up


@dataclass(frozen=True)
class CallRequest:
    """One call to one model."""

    model: ModelSpec
    window: PromptWindow
    api_key: str | None
    max_tokens: int
    single_line: bool
    # For single-line completions: stop reading once this says the first line is complete.
    line_complete: Callable[[str], bool] | None = None
    # Called once, when the first token arrives (hedging waits on it).
    on_first_token: Callable[[], None] | None = None
    progress: CallProgress = field(default_factory=CallProgress)


@dataclass(frozen=True)
class CallResult:
    text: str
    tokens_in: int
    tokens_out: int
    cached_tokens_in: int
    usage_reported: bool
    latency_ms: float
    first_token_ms: float | None
    # Why the model stopped ("stop", "length", ...), when it said.
    finish_reason: str | None = None
    # What the provider said the call cost (OpenRouter `usage.cost`, LiteLLM's response-cost header).
    cost_usd_reported: float | None = None
    # Input tokens written to the provider's prompt cache (Anthropic bills them at 1.25x input).
    cache_write_tokens_in: int = 0


class ProviderError(Exception):
    """A failed call, classified. The message never contains a key or the code sent."""

    outcome: Outcome = Outcome.SERVER_ERROR

    def __init__(
        self,
        detail: str,
        retry_after_s: float | None = None,
        provider_wide: bool = False,
        status: int | None = None,
    ):
        super().__init__(detail)
        self.detail = detail
        self.retry_after_s = retry_after_s
        # True when the failure speaks for the whole endpoint (connection refused), not one model.
        self.provider_wide = provider_wide
        # The HTTP status (or the status an in-stream error object named), when there was one.
        self.status = status


class TransientError(ProviderError):
    """Worth another model now and this one again later."""


class ProviderTimeout(TransientError):
    outcome = Outcome.TIMEOUT


class RateLimited(TransientError):
    outcome = Outcome.RATE_LIMITED


class ServerError(TransientError):
    outcome = Outcome.SERVER_ERROR


class Rejected(ProviderError):
    """A permanent refusal (bad key, no credit, unknown model, bad request): calling again will not help."""

    outcome = Outcome.REJECTED


class Flagged(ProviderError):
    """The provider's moderation or content filter refused this input, or cut this answer (OpenRouter's
    403 "input was flagged", Azure's `finish_reason: content_filter`): another model answers this
    request, and this one stays in use, since another input passes. Not the key's fault."""

    outcome = Outcome.REJECTED


class BudgetExceeded(ProviderError):
    """The gateway refused the call because a budget it keeps is spent (LiteLLM's proxy: error type
    `budget_exceeded`, "Budget has been exceeded!"). A budget refusal, not a failure of the model: no
    breaker trip, and no other model through the same key is tried (it would be refused too)."""

    outcome = Outcome.SKIPPED_BUDGET


class Provider(Protocol):
    async def complete(self, call: CallRequest) -> CallResult:
        """One call. Raises ProviderError; asyncio.CancelledError passes through (connection closed)."""
        ...

    async def aclose(self) -> None: ...


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds from now: a number of seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, parsed.timestamp() - time.time()) if parsed else None
