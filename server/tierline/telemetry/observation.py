"""One ledger row as telemetry: the allow-listed figures and names, and their OpenTelemetry attributes.

Everything exported is built here from named fields of the row and the model's config, so nothing
the pipeline holds (the window, the answer, the document's URI) can slip into an attribute. The
GenAI semantic conventions name the call (`gen_ai.*`); tierline's own figures are `tierline.*`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from tierline.config.model import ModelSpec
from tierline.wire import Outcome


# What an observation reads of a ledger row and its request (`completion/request.py:Charge` and
# `RequestState` are such): named here, telemetry sits below the engine that calls it.
class Charge(Protocol):
    @property
    def tier(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def outcome(self) -> str: ...
    @property
    def latency_ms(self) -> float: ...
    @property
    def tokens_in(self) -> int: ...
    @property
    def tokens_out(self) -> int: ...
    @property
    def cost_usd(self) -> float: ...
    @property
    def cached(self) -> bool: ...
    @property
    def first_token_ms(self) -> float | None: ...


class _Scored(Protocol):
    @property
    def score(self) -> float: ...


class RequestState(Protocol):
    @property
    def request_id(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def analysis(self) -> _Scored | None: ...


# `gen_ai.provider.name` by the host of well-known APIs; any other OpenAI-compatible host speaks
# OpenAI's API ("openai"), an Anthropic-style one Anthropic's. Never the host itself: it may name a
# team's internal gateway.
KNOWN_HOSTS: dict[str, str] = {
    "openrouter.ai": "openrouter",
    "api.openai.com": "openai",
    "api.anthropic.com": "anthropic",
    "api.deepseek.com": "deepseek",
    "api.mistral.ai": "mistral_ai",
    "codestral.mistral.ai": "mistral_ai",
    "api.groq.com": "groq",
    "api.x.ai": "x_ai",
    "api.fireworks.ai": "fireworks",
    "api.together.xyz": "together",
    "generativelanguage.googleapis.com": "gcp.gemini",
}
# The model API each `[[models]] api` speaks, as the conventions name the operation.
OPERATIONS: dict[str, str] = {"chat": "chat", "anthropic": "chat", "fim": "text_completion"}


@dataclass(frozen=True)
class Observation:
    """What telemetry knows of one model call or cache hit: figures and configured names only."""

    request_id: str  # random, per request: groups a request's calls (fallback, hedge); never a path
    language: str
    tier: str
    model: str  # the `[[models]] name`
    request_model: str  # the `[[models]] model` sent to the API
    provider: str
    operation: str
    tokens_in: int
    tokens_out: int
    cost_usd: float
    latency_s: float
    first_chunk_s: float | None
    outcome: str
    cached: bool
    score: float | None

    @property
    def ok(self) -> bool:
        return self.outcome == Outcome.OK


def provider_name(spec: ModelSpec | None) -> str:
    if spec is None:
        return "unknown"
    host = (urlsplit(spec.base_url).hostname or "").lower()
    if host in KNOWN_HOSTS:
        return KNOWN_HOSTS[host]
    return "anthropic" if spec.api == "anthropic" else "openai"


def observe_charge(charge: Charge, spec: ModelSpec | None, state: RequestState) -> Observation:
    """The figures of one ledger row (`CompletionEngine.record`): from named fields only."""
    first_chunk_ms = charge.first_token_ms
    score = state.analysis.score if state.analysis is not None else None
    return Observation(
        request_id=str(state.request_id),
        language=str(state.language),
        tier=str(charge.tier),
        model=str(charge.model),
        request_model=spec.model if spec is not None else str(charge.model),
        provider=provider_name(spec),
        operation=OPERATIONS.get(spec.api, "chat") if spec is not None else "chat",
        tokens_in=int(charge.tokens_in),
        tokens_out=int(charge.tokens_out),
        cost_usd=_figure(charge.cost_usd),
        latency_s=_figure(charge.latency_ms) / 1000,
        first_chunk_s=_figure(first_chunk_ms) / 1000 if first_chunk_ms is not None else None,
        outcome=str(charge.outcome),
        cached=bool(charge.cached),
        score=float(score) if score is not None and math.isfinite(score) else None,
    )


def _figure(value: float) -> float:
    """A cost or a duration as exported: a provider's NaN, infinity or negative cost becomes 0, so one
    hostile answer cannot poison a counter the team sums."""
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else 0.0


Attributes = dict[str, "str | bool | int | float"]


def call_attributes(obs: Observation) -> Attributes:
    """The attributes shared by the span and the GenAI metrics (low cardinality: no request id)."""
    attributes: Attributes = {
        "gen_ai.operation.name": obs.operation,
        "gen_ai.provider.name": obs.provider,
        "gen_ai.system": obs.provider,  # the conventions' earlier name, still read by many backends
        "gen_ai.request.model": obs.request_model,
        # tierline does not read the model name the provider echoes back: the one it asked for.
        "gen_ai.response.model": obs.request_model,
        "tierline.tier": obs.tier,
        "tierline.model": obs.model,
        "tierline.language": obs.language,
        "tierline.outcome": obs.outcome,
        "tierline.cached": obs.cached,
    }
    if not obs.ok:
        attributes["error.type"] = obs.outcome
    return attributes


def span_attributes(obs: Observation) -> Attributes:
    attributes = call_attributes(obs)
    attributes.update(
        {
            "gen_ai.usage.input_tokens": obs.tokens_in,
            "gen_ai.usage.output_tokens": obs.tokens_out,
            "tierline.cost_usd": obs.cost_usd,
            "tierline.request_id": obs.request_id,
        }
    )
    if obs.score is not None:
        attributes["tierline.score"] = round(float(obs.score), 4)
    if obs.first_chunk_s is not None:
        attributes["tierline.time_to_first_chunk_s"] = obs.first_chunk_s
    return attributes


def span_name(obs: Observation) -> str:
    """`{gen_ai.operation.name} {gen_ai.request.model}`, as the conventions name a client span."""
    return f"{obs.operation} {obs.request_model}"
