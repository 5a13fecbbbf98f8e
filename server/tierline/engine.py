"""One inline completion end to end, without LSP types: score, tier, cache, call, clean, record."""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from tierline import postprocess, scoring
from tierline.cache import AnswerCache, CachedAnswer, ShownCompletion, TYPING_CONTEXT_BYTES, cache_key, typed_through
from tierline.config import Config, ModelSpec
from tierline.documents import Document
from tierline.ledger import CallRow, Ledger, savings_pct, utc_day
from tierline.prompts import PromptWindow, cut_window, prompt_tokens
from tierline.providers import (
    CANCELLED, INVALID, OK, SKIPPED_BUDGET, CallResult, ProviderClient, ProviderError,
)
from tierline.routing import Router

log = logging.getLogger(__name__)

# Debounce of automatic requests: a multiple of the user's recent gap between keystrokes, so a
# request waits out the next key while they type fast and fires soon after they pause.
DEBOUNCE_GAP_FACTOR = 1.6
DEBOUNCE_MAX_FACTOR = 4
# Invalid answers: one retry on another model of the tier, then the next tier up.
INVALID_RETRIES_IN_TIER = 1


@dataclass(frozen=True)
class CursorRequest:
    document: Document
    offset: int
    automatic: bool = False


@dataclass(frozen=True)
class Analysis:
    window: PromptWindow
    features: scoring.Features
    score: float

    @property
    def single_line(self) -> bool:
        return self.window.mid_line


@dataclass
class Routed:
    """The answer for the editor, and what to tell it about the routing (None: routing not reached)."""

    text: str | None
    route: dict[str, Any] | None = None


@dataclass
class Attempt:
    model: str
    outcome: str
    latency_ms: float
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.model, "outcome": self.outcome, "latency_ms": round(self.latency_ms, 1)}
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass
class _RequestState:
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    attempts: list[Attempt] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class CompletionEngine:
    def __init__(
        self,
        config: Config,
        *,
        env: Mapping[str, str] = os.environ,
        notify_user: Callable[[str, str], None] = lambda level, text: None,
    ):
        self.env = env
        self.notify_user = notify_user
        self.providers = ProviderClient()
        self._config = config
        self.router = Router(config)
        self.cache = AnswerCache(config.cache.dir, config.cache.ttl_seconds, config.cache.size_limit_mb)
        self.ledger = Ledger(config.ledger.dir)
        self._shown: dict[str, ShownCompletion] = {}
        self._inflight: dict[str, asyncio.Task] = {}
        self._superseded: set[asyncio.Task] = set()
        self._warned_missing_keys: set[str] = set()
        self._budget_warned_day = ""
        self._spent_day = ""
        self._spent_today = 0.0
        self._background: set[asyncio.Task] = set()

    # -- configuration -------------------------------------------------------------------------
    @property
    def config(self) -> Config:
        return self._config

    def reconfigure(self, config: Config) -> None:
        old = self._config
        self._config = config
        self.router.reconfigure(config)
        if (config.cache.dir, config.cache.ttl_seconds, config.cache.size_limit_mb) != (
            old.cache.dir, old.cache.ttl_seconds, old.cache.size_limit_mb,
        ):
            self.cache.close()
            self.cache = AnswerCache(config.cache.dir, config.cache.ttl_seconds, config.cache.size_limit_mb)
        if config.ledger.dir != old.ledger.dir:
            self.ledger.close()
            self.ledger = Ledger(config.ledger.dir)
            self._spent_day = ""

    # -- analysis ------------------------------------------------------------------------------
    def analyse(self, document: Document, offset: int) -> Analysis:
        completion = self.config.completion
        # Bytes >= characters, so twice the character window is always enough to cut from.
        before, after = document.text_around(offset, completion.prefix_chars * 2, completion.suffix_chars * 2)
        filename = document.uri.rsplit("/", 1)[-1]
        window = cut_window(before, after, document.language, filename, completion.prefix_chars, completion.suffix_chars)
        features = scoring.extract_features(
            document.source,
            document.syntax_tree(),
            offset,
            document.language,
            document.imports(scoring.summarize_imports),
            prompt_tokens(window),
        )
        return Analysis(window, features, scoring.score(features))

    def explain(self, document: Document, offset: int) -> dict[str, Any]:
        analysis = self.analyse(document, offset)
        decision = self.router.decide_tier(analysis.score, document.language, consume_escalation=False)
        plan = self.router.plan(decision.tier, document.language)
        first = next((c for c in plan if self.key_for(c.model) is not False), None)
        unkeyed = plan[0].model if plan and first is None else None
        return {
            "features": analysis.features.as_dict(),
            "score": round(analysis.score, 4),
            "contributions": {k: round(v, 4) for k, v in scoring.contributions(analysis.features).items()},
            "tier": decision.tier,
            "reason": decision.reason,
            "model": first.model.name if first else None,
            "model_reason": first.reason if first else (
                f"{unkeyed.name} would answer, but {unkeyed.api_key_env} is not set" if unkeyed else "no model configured"
            ),
            "single_line": analysis.single_line,
        }

    def escalate_next(self) -> None:
        self.router.escalate_next = True

    def clear_cache(self) -> int:
        self._shown.clear()
        return self.cache.clear()

    # -- keys and budget -----------------------------------------------------------------------
    def key_for(self, model: ModelSpec) -> str | None | bool:
        """The API key, None when the model needs none, False when its variable is unset."""
        if not model.api_key_env:
            return None
        key = self.env.get(model.api_key_env)
        if key:
            return key
        if model.name not in self._warned_missing_keys:
            self._warned_missing_keys.add(model.name)
            self.notify_user(
                "warning",
                f"tierline: model {model.name!r} is skipped: environment variable {model.api_key_env} is not set.",
            )
        return False

    def spent_today(self) -> float:
        day = utc_day()
        if day != self._spent_day:
            self._spent_day = day
            self._spent_today = self.ledger.spent_on(day)
        return self._spent_today

    def _over_budget(self, model: ModelSpec, window: PromptWindow) -> bool:
        cap = self.config.budget.daily_usd
        if cap <= 0:
            return False
        estimate = model.cost_usd(prompt_tokens(window), self.config.completion.max_tokens)
        if self.spent_today() + estimate <= cap:
            return False
        day = utc_day()
        if self._budget_warned_day != day:
            self._budget_warned_day = day
            self.notify_user(
                "warning",
                f"tierline: daily budget ${cap:.2f} reached (spent ${self.spent_today():.4f}); "
                "completions pause until 00:00 UTC. Raise [budget] daily_usd to continue.",
            )
        return True

    def baseline_cost(self, tokens_in: int, tokens_out: int) -> float:
        premium = self.config.models_in("premium")
        return premium[0].cost_usd(tokens_in, tokens_out) if premium else 0.0

    def _record(self, state: _RequestState, language: str, tier: str, model: ModelSpec | None, outcome: str,
                latency_ms: float, tokens_in: int = 0, tokens_out: int = 0, cost: float = 0.0,
                cached: bool = False) -> None:
        self.ledger.record(
            CallRow(
                request_id=state.request_id,
                language=language,
                tier=tier,
                model=model.name if model else "",
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                cost_usd=cost,
                baseline_usd=self.baseline_cost(tokens_in, tokens_out) if outcome == OK and not cached else 0.0,
                latency_ms=latency_ms,
                outcome=outcome,
                cached=cached,
            )
        )
        if cost:
            self.spent_today()
            self._spent_today += cost

    # -- the request ---------------------------------------------------------------------------
    async def complete_latest(self, request: CursorRequest) -> Routed:
        """Complete, cancelling an older request still running for the same document."""
        uri = request.document.uri
        previous = self._inflight.get(uri)
        if previous is not None and not previous.done():
            self._superseded.add(previous)
            previous.cancel()
        task = asyncio.ensure_future(self.complete(request))
        self._inflight[uri] = task
        try:
            return await task
        except asyncio.CancelledError:
            if task in self._superseded and not _current_task_cancelling():
                return Routed(None)
            raise
        finally:
            self._superseded.discard(task)
            if self._inflight.get(uri) is task:
                del self._inflight[uri]

    def debounce_s(self, document: Document) -> float:
        base = self.config.completion.debounce_ms / 1000
        return min(max(base, DEBOUNCE_GAP_FACTOR * document.typing_gap_s), DEBOUNCE_MAX_FACTOR * base)

    async def complete(self, request: CursorRequest) -> Routed:
        document, config = request.document, self.config
        if not config.completion.enabled_for(document.language):
            return Routed(None)
        if request.automatic and (config.completion.trigger == "manual" or document.last_change_was_deletion):
            return Routed(None)
        started = time.monotonic()
        state = _RequestState()
        # Typing through what is shown costs no call, so it does not wait out the debounce.
        rest = typed_through(self._shown.get(document.uri), document.source, request.offset)
        if rest is not None:
            shown = self._shown[document.uri]
            self._record(state, document.language, shown.tier, self.config.model_named(shown.model), OK, 0.0, cached=True)
            return Routed(rest, self._route(None, shown.tier, shown.model, True, started, 0.0, state,
                                           "typed through the completion shown"))
        if request.automatic and config.completion.debounce_ms:
            await asyncio.sleep(self.debounce_s(document))
            started = time.monotonic()
        version = document.version
        before = _Surroundings.at(document, request.offset)

        analysis = self.analyse(document, request.offset)
        decision = self.router.decide_tier(analysis.score, document.language)
        key = cache_key(analysis.window, decision.tier)
        hit = self.cache.get(key)
        if hit is not None:
            self._record(state, document.language, hit.tier, self.config.model_named(hit.model), OK,
                         (time.monotonic() - started) * 1000, cached=True)
            self._remember(document.uri, request.offset, before.before, hit.text, hit.model, hit.tier)
            return Routed(hit.text, self._route(analysis, hit.tier, hit.model, True, started, 0.0, state,
                                               decision.reason + "; served from cache"))

        self._maybe_probe(decision.tier, analysis, document.language, state)
        text, model, tier, cost = await self._call_in_order(analysis, decision.tier, key, document.language, state)
        reason = decision.reason + "".join(f"; {note}" for note in state.notes)
        if text is None:
            return Routed(None, self._route(analysis, decision.tier, None, False, started, 0.0, state, reason))
        assert model is not None
        if document.version != version and _is_stale(document, request.offset, before, text):
            # The user kept typing something else: the answer is cached for later, not shown.
            return Routed(None, self._route(analysis, tier, model.name, False, started, cost, state,
                                            reason + "; dropped as stale: the document moved on"))
        self._remember(document.uri, request.offset, before.before, text, model.name, tier)
        return Routed(text, self._route(analysis, tier, model.name, False, started, cost, state, reason))

    def _remember(self, uri: str, offset: int, context: bytes, text: str, model: str, tier: str) -> None:
        """What is shown now, for typing-through; `context` is the code just before `offset`."""
        self._shown[uri] = ShownCompletion(offset, context, text, model, tier)

    def forget(self, uri: str) -> None:
        self._shown.pop(uri, None)
        task = self._inflight.pop(uri, None)
        if task is not None and not task.done():
            task.cancel()

    def _route(self, analysis: Analysis | None, tier: str, model: str | None, cached: bool, started: float,
               cost: float, state: _RequestState, reason: str) -> dict[str, Any]:
        return {
            "score": round(analysis.score, 4) if analysis else None,
            "tier": tier,
            "model": model,
            "cached": cached,
            "latency_ms": round((time.monotonic() - started) * 1000, 1),
            "cost_usd": round(cost, 8),
            "attempts": [a.as_dict() for a in state.attempts],
            "reason": reason,
        }

    async def _call_in_order(
        self, analysis: Analysis, tier: str, key: str, language: str, state: _RequestState
    ) -> tuple[str | None, ModelSpec | None, str, float]:
        """Try the plan in order; the first valid answer wins."""
        invalid_in_tier: dict[str, int] = {}
        skip_tiers: set[str] = set()
        for choice in self.router.plan(tier, language):
            model = choice.model
            if model.tier in skip_tiers:
                continue
            api_key = self.key_for(model)
            if api_key is False:
                continue
            if self._over_budget(model, analysis.window):
                state.attempts.append(Attempt(model.name, SKIPPED_BUDGET, 0.0, "daily budget reached"))
                self._record(state, language, model.tier, model, SKIPPED_BUDGET, 0.0)
                return None, None, tier, 0.0
            if not state.attempts:
                state.notes.append(f"{model.name}: {choice.reason}")
            result = await self._attempt(model, analysis, api_key, language, state)
            if result is None:
                continue
            raw, call = result
            text = postprocess.clean(raw, analysis.window, analysis.single_line)
            problem = postprocess.invalid_reason(raw, text, analysis.window)
            cost = model.cost_usd(call.tokens_in, call.tokens_out, call.cached_tokens_in)
            if problem is not None:
                state.attempts.append(Attempt(model.name, INVALID, call.latency_ms, problem))
                self._record(state, language, model.tier, model, INVALID, call.latency_ms, call.tokens_in,
                             call.tokens_out, cost)
                if self.router.note_invalid(model.tier, language):
                    state.notes.append(f"{language} escalated to mid for a while after invalid cheap answers")
                invalid_in_tier[model.tier] = invalid_in_tier.get(model.tier, 0) + 1
                if invalid_in_tier[model.tier] > INVALID_RETRIES_IN_TIER:
                    skip_tiers.add(model.tier)
                continue
            state.attempts.append(Attempt(model.name, OK, call.latency_ms))
            self._record(state, language, model.tier, model, OK, call.latency_ms, call.tokens_in, call.tokens_out, cost)
            self.cache.put(
                key,
                CachedAnswer(text, model.name, model.tier, call.tokens_in, call.tokens_out, cost),
            )
            return text, model, model.tier, cost
        return None, None, tier, 0.0

    async def _attempt(
        self, model: ModelSpec, analysis: Analysis, api_key: str | None, language: str, state: _RequestState
    ) -> tuple[str, CallResult] | None:
        """One call; failures are recorded and return None. Cancellation is recorded and re-raised."""
        started = time.monotonic()
        self.router.mark_probing(model)
        self.router.started(model)
        try:
            call = await self.providers.complete(
                model,
                analysis.window,
                api_key=api_key or None,
                max_tokens=self.config.completion.max_tokens,
                single_line=analysis.single_line,
                line_complete=postprocess.first_line_complete,
            )
        except ProviderError as error:
            latency = (time.monotonic() - started) * 1000
            self.router.record_failure(model, error.outcome, error.retry_after_s, latency, error.provider_wide)
            state.attempts.append(Attempt(model.name, error.outcome, latency, error.detail))
            self._record(state, language, model.tier, model, error.outcome, latency)
            log.info("%s failed: %s (%s)", model.name, error.outcome, error.detail)
            return None
        except asyncio.CancelledError:
            latency = (time.monotonic() - started) * 1000
            self.router.record_cancelled(model)
            state.attempts.append(Attempt(model.name, CANCELLED, latency))
            self._record(state, language, model.tier, model, CANCELLED, latency)
            raise
        finally:
            self.router.finished(model)
        self.router.record_success(model, call.latency_ms, call.first_token_ms)
        return call.text, call

    def _maybe_probe(self, tier: str, analysis: Analysis, language: str, state: _RequestState) -> None:
        """A model passed over as slow gets this request too, in the background, to see it recover."""
        model = self.router.due_probe(tier)
        if model is None:
            return
        api_key = self.key_for(model)
        if api_key is False or self._over_budget(model, analysis.window):
            return

        async def probe() -> None:
            # Its own attempt list (not the user's didRoute), the same request in the ledger.
            probe_state = _RequestState(request_id=state.request_id)
            result = await self._attempt(model, analysis, api_key, language, probe_state)
            if result is not None:
                call = result[1]
                cost = model.cost_usd(call.tokens_in, call.tokens_out, call.cached_tokens_in)
                self._record(probe_state, language, model.tier, model, OK, call.latency_ms, call.tokens_in,
                             call.tokens_out, cost)

        task = asyncio.ensure_future(probe())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- stats ---------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        summary = self.ledger.summary()
        today = self.ledger.summary(utc_day())
        live = self.router.model_stats(summary["by_model"].keys())
        by_model = {}
        for name in sorted(set(summary["by_model"]) | set(live)):
            row = dict(summary["by_model"].get(name, {"calls": 0, "failures": 0, "spend_usd": 0.0}))
            row.update(live.get(name, {"ewma_ms": None, "p95_ms": None}))
            by_model[name] = row
        cap = self.config.budget.daily_usd
        spent = today["spend_usd"]
        return {
            **{k: summary[k] for k in ("requests", "model_calls", "cache_hits", "spend_usd", "premium_baseline_usd", "savings_pct")},
            "by_tier": summary["by_tier"],
            "by_model": by_model,
            "today": {k: today[k] for k in ("requests", "spend_usd", "premium_baseline_usd", "savings_pct")},
            "budget": {
                "daily_usd": cap,
                "spent_today_usd": spent,
                "remaining_usd": round(max(0.0, cap - spent), 6) if cap > 0 else None,
                "reached": cap > 0 and spent >= cap,
            },
            "escalate_next": self.router.escalate_next,
        }

    async def aclose(self) -> None:
        for task in list(self._background) + list(self._inflight.values()):
            task.cancel()
        await self.providers.aclose()
        self.cache.close()
        self.ledger.close()


def _current_task_cancelling() -> bool:
    task = asyncio.current_task()
    return bool(task is not None and hasattr(task, "cancelling") and task.cancelling())


@dataclass(frozen=True)
class _Surroundings:
    """The bytes around the insertion point when the request started, to tell a stale answer."""

    before: bytes
    after: bytes

    @staticmethod
    def at(document: Document, offset: int) -> "_Surroundings":
        return _Surroundings(document.source[max(0, offset - TYPING_CONTEXT_BYTES) : offset], document.source[offset : offset + 32])


def _is_stale(document: Document, offset: int, then: _Surroundings, text: str) -> bool:
    """Stale unless the code before is unchanged and whatever was typed at the cursor agrees with the completion."""
    if document.source[max(0, offset - TYPING_CONTEXT_BYTES) : offset] != then.before:
        return True
    now_after = document.source[offset : offset + 256]
    if now_after.startswith(then.after):
        return False
    resume = now_after.find(then.after[:8]) if then.after else len(now_after)
    typed = now_after[: resume if resume >= 0 else len(now_after)]
    return not text.encode("utf-8").startswith(typed)


__all__ = ["CompletionEngine", "CursorRequest", "Routed", "Analysis", "savings_pct"]
