"""One inline completion request's state, in one object, from the editor's cursor to the answer."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from tierline.analysis import scoring
from tierline.analysis.documents import Document
from tierline.completion.session import Surroundings
from tierline.config import ModelSpec
from tierline.privacy.redaction import Redaction
from tierline.prompt.snippet import Snippet
from tierline.prompt.window import PromptWindow
from tierline.providers.base import CallProgress, CallResult
from tierline.routing.tiers import TierDecision
from tierline.wire import AttemptPayload, Outcome, RoutePayload, Tier


@dataclass(frozen=True)
class CursorRequest:
    """What the editor asked: a document, a utf-8 byte offset in it, and how it was triggered."""

    document: Document
    offset: int
    automatic: bool = False


@dataclass(frozen=True)
class Analysis:
    """The code at the cursor: the prompt windows, their features and the score."""

    window: PromptWindow
    features: scoring.Features
    score: float
    # The secrets hidden in `window` (already redacted), to restore in the answer.
    redaction: Redaction = field(default_factory=Redaction)
    # Cross-file snippets that may go into the prompt (tierline/context), and the tier whose budget
    # of them `window.context` holds (None before one was chosen).
    candidates: tuple[Snippet, ...] = ()
    context_tier: Tier | None = None
    # The secrets of the code around the cursor alone (`redaction` adds the snippets').
    window_redaction: Redaction = field(default_factory=Redaction)

    @property
    def single_line(self) -> bool:
        return self.window.mid_line


@dataclass
class Attempt:
    model: str
    outcome: Outcome
    latency_ms: float
    detail: str = ""

    def as_payload(self) -> AttemptPayload:
        out: AttemptPayload = {
            "model": self.model,
            "outcome": self.outcome,
            "latency_ms": round(self.latency_ms, 1),
        }
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass(frozen=True)
class Charge:
    """One ledger row's worth: which model, how it went, what it cost. Never code."""

    tier: Tier
    model: str
    outcome: Outcome
    latency_ms: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    cached: bool = False
    cached_tokens_in: int = 0
    # "reported": the provider said what the call cost; "usage": its token counts x the model's
    # prices; "estimated": tierline's own count (no usage sent, an early stop, a call hung up on).
    cost_source: str = "estimated"
    first_token_ms: float | None = None  # for telemetry's time to first chunk (not in the ledger)

    @staticmethod
    def of_call(model: ModelSpec, outcome: Outcome, call: CallResult) -> Charge:
        """A call that returned: the provider's reported cost if it sent one (OpenRouter's `usage.cost`,
        LiteLLM's response-cost header), else its tokens (as the provider reported them when it did)
        at the model's prices: cached input at the cached price, prompt-cache writes at 1.25x input
        as Anthropic bills them."""
        reported = call.cost_usd_reported
        cost = reported
        if cost is None:
            cost = model.cost_usd(call.tokens_in, call.tokens_out, call.cached_tokens_in)
            cost += call.cache_write_tokens_in * model.input_per_mtok * 0.25 / 1_000_000
        return Charge(
            model.tier,
            model.name,
            outcome,
            call.latency_ms,
            call.tokens_in,
            call.tokens_out,
            cost,
            cached_tokens_in=call.cached_tokens_in,
            cost_source="reported" if reported is not None else "usage" if call.usage_reported else "estimated",
            first_token_ms=call.first_token_ms,
        )

    @staticmethod
    def hung_up(model: ModelSpec, outcome: Outcome, latency_ms: float, tokens: tuple[int, int]) -> Charge:
        """A call tierline ended (cancelled, timed out) after the provider took it: providers bill
        the prompt they read and the tokens they sent, so the row carries them, estimated."""
        tokens_in, tokens_out = tokens
        cost = model.cost_usd(tokens_in, tokens_out)
        return Charge(model.tier, model.name, outcome, latency_ms, tokens_in, tokens_out, cost)

    @staticmethod
    def without_call(model: ModelSpec, outcome: Outcome, latency_ms: float = 0.0) -> Charge:
        """A call that failed, was cancelled or was never sent: no tokens, no cost."""
        return Charge(model.tier, model.name, outcome, latency_ms)


@dataclass(frozen=True)
class Answer:
    """A valid answer from a model (or the cache): what to insert and what it cost."""

    text: str
    model: str
    tier: Tier
    cost_usd: float = 0.0
    cached: bool = False


@dataclass
class RequestState:
    """Everything one request learns on its way through the pipeline."""

    cursor: CursorRequest
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started: float = math.nan  # the clock's time the request started (set from `clock` when not given)
    surroundings: Surroundings | None = None
    analysis: Analysis | None = None
    decision: TierDecision | None = None
    attempts: list[Attempt] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    downshifted: Tier | None = None  # the tier asked for, when the budget moved the request down
    # Why the document is excluded (nothing is sent), or "".
    excluded: str = ""
    # The call under way (its answer so far), once one started.
    progress: CallProgress | None = None
    # The engine's clock (completion/collaborators.py:Clock.now): latencies are measured on it.
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    def __post_init__(self) -> None:
        if math.isnan(self.started):
            self.started = self.clock()

    @property
    def language(self) -> str:
        return self.cursor.document.language

    def restart_clock(self) -> None:
        self.started = self.clock()

    def note(self, text: str) -> None:
        self.notes.append(text)

    def add_attempt(self, model: ModelSpec, outcome: Outcome, latency_ms: float, detail: str = "") -> None:
        self.attempts.append(Attempt(model.name, outcome, latency_ms, detail))

    def route(self, answer: Answer | None, extra_reason: str = "") -> RoutePayload:
        """What didRoute says about this request (uri and position are the LSP layer's)."""
        # No tier before routing decided one: an excluded file's request, a refused config's.
        tier = answer.tier if answer else (self.decision.tier if self.decision else None)
        reason = self.decision.reason if self.decision else ""
        reason = "; ".join(part for part in [reason, *self.notes, extra_reason] if part)
        return {
            "request_id": self.request_id,
            "score": round(self.analysis.score, 4) if self.analysis else None,
            "tier": tier,
            "model": answer.model if answer else None,
            "cached": bool(answer and answer.cached),
            "latency_ms": round((self.clock() - self.started) * 1000, 1),
            "cost_usd": round(answer.cost_usd, 8) if answer else 0.0,
            "attempts": [a.as_payload() for a in self.attempts],
            "reason": reason,
            "excluded": bool(self.excluded),
            "redactions": self.analysis.redaction.count if self.analysis else 0,
            "downshifted": self.downshifted,
            "alternatives": [],
        }


@dataclass(frozen=True)
class Item:
    """One more item of an invoked request's answer: its own id (its ledger request id) and answer."""

    item_id: str
    answer: Answer


@dataclass
class Routed:
    """The answer for the editor, and what to tell it about the routing (None: routing not reached)."""

    text: str | None
    route: RoutePayload | None = None
    # The request's state when it answered from its own call or the cache (alternatives start from it).
    state: RequestState | None = None
    # The other items of an invoked request near a tier boundary (completion/alternatives.py).
    alternatives: list[Item] = field(default_factory=list)
