"""The request pipeline: one inline completion from cursor to answer, read top to bottom in
`CompletionEngine.complete`:

gate -> typing-through -> debounce -> analyse -> tier -> cache -> plan -> call -> clean and
validate -> record -> answer.

No LSP types here: `lsp/server.py` converts positions to byte offsets and the result to LSP.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from tierline.accounting.acceptance import AcceptanceTracker, ShownRow
from tierline.accounting.budget_store import Hold, Refusal
from tierline.accounting.cache import CachedAnswer, cache_key
from tierline.accounting.ledger import CallRow, utc_day
from tierline.accounting.stats import usage_stats
from tierline.analysis import scoring
from tierline.analysis.documents import Document
from tierline.analysis.position_kind import project_path
from tierline.completion import alternatives, downshift, hedging, postprocess
from tierline.completion.collaborators import Collaborators
from tierline.completion.collaborators import collaborators as make_collaborators
from tierline.completion.explain import explain_position
from tierline.completion.request import Analysis, Answer, Charge, CursorRequest, RequestState, Routed
from tierline.completion.session import (
    DocumentSessions,
    Flight,
    ShownCompletion,
    Surroundings,
    agrees,
    current_task_cancelling,
    key_kind,
    typed_through,
    wait_s,
)
from tierline.completion.snooze import Snooze
from tierline.config import Config, ModelSpec
from tierline.context.gather import RepositoryContext
from tierline.privacy.gate import PrivacyGate
from tierline.privacy.redaction import OFF_LOOP_CHARS, Redaction, is_config_file, redact_ahead
from tierline.prompt.tokens import estimate_tokens
from tierline.prompt.window import cut_window, prompt_tokens
from tierline.providers.base import (
    BudgetExceeded,
    CallProgress,
    CallRequest,
    CallResult,
    Flagged,
    Provider,
    ProviderError,
    ProviderTimeout,
    Rejected,
)
from tierline.providers.errors import advice
from tierline.providers.keys import KeyRing, MissingKey
from tierline.routing.auto_calibration import AutoCalibration
from tierline.routing.policy import FallbackWalk
from tierline.routing.refit import weights_in_force
from tierline.routing.router import Router
from tierline.telemetry.hub import Telemetry
from tierline.wire import ExplainResult, Outcome, StatsResult, Tier

log = logging.getLogger(__name__)

# What a wasted call is priced at, besides its prompt: about one line of answer (tokens).
WASTED_ANSWER_TOKENS = 16

Notify = Callable[[str, str], None]


class CompletionEngine:
    """The pipeline and the services it runs on: routing, providers, keys, books, sessions."""

    def __init__(
        self,
        config: Config,
        *,
        env: Mapping[str, str] = os.environ,
        notify_user: Notify = lambda level, text: None,
        workspace_root: Path | None = None,
        collaborators: Collaborators | None = None,
    ):
        # The provider client, the books and the clock: given (a test's fakes) or the real ones.
        given = collaborators or make_collaborators(config, env, notify_user)
        self.clock = given.clock
        self._config = config
        # The score's weights: the user's refit (`tierline calibrate --weights --apply`) when there.
        scoring.use_model(weights_in_force(env, notify_user))
        self.workspace_root = workspace_root
        self.privacy = PrivacyGate(config.privacy, workspace_root)
        # Cross-file snippets (tierline/context): excluded files never give one.
        self.context = RepositoryContext(
            workspace_root, self.privacy.excluded, config.privacy.exclude, lambda text: notify_user("log", text)
        )
        self.router = Router(config, self.clock.now)
        self.providers: Provider = given.providers
        self.keys = KeyRing(env, notify_user)
        self.books = given.books
        self.sessions = DocumentSessions()
        self.acceptance = AcceptanceTracker(self.books.with_fates)
        self.telemetry = Telemetry(config.telemetry, notify_user)  # opt-in exports of figures, never code
        self.auto_calibration = AutoCalibration()
        self.snooze = Snooze(lambda: self.config.ledger.dir)  # `tierline.snooze` (completion/snooze.py)
        self._background: set[asyncio.Task[None]] = set()
        self._notify = notify_user
        self._said: set[str] = set()
        # The debounce's wait (the clock's); a test replaces it to see the wait without waiting.
        self.sleep: Callable[[float], Awaitable[None]] = self.clock.sleep

    @property
    def config(self) -> Config:
        return self._config

    def notify_user(self, level: str, text: str) -> None:
        self._notify(level, text)

    def reconfigure(self, config: Config) -> None:
        old, self._config = self._config, config
        self.router.reconfigure(config)
        self.books.reconfigure(old, config)
        self.privacy.reconfigure(config.privacy)
        self.context.forget_exclusions()
        self.telemetry.reconfigure(config.telemetry)

    # -- the request ---------------------------------------------------------------------------
    async def complete_latest(self, request: CursorRequest) -> Routed:
        """Complete, cancelling an older request still running for the same document."""
        return await self.sessions.run_latest(request.document.uri, lambda: self._complete_items(request), Routed(None))

    async def _complete_items(self, request: CursorRequest) -> Routed:
        """An invoked request near a tier boundary also gets the other tiers' answers (alternatives.py)."""
        routed = await self.complete(request)
        return routed if request.automatic else await alternatives.with_alternatives(self, routed, request)

    async def complete(self, request: CursorRequest) -> Routed:
        document, completion = request.document, self.config.completion
        uri = document.uri
        # 1. Gate: a language turned off, manual mode, a deletion or a snooze never costs a call.
        if not completion.enabled_for(document.language):
            return Routed(None)
        if request.automatic and (
            completion.trigger_for(document.language) == "manual" or document.last_change_was_deletion
        ):
            return Routed(None)
        if request.automatic and self.snooze.active():
            return Routed(None)
        if request.automatic:  # one automatic request per key (or per pause): the typist's rhythm
            typed_at = document.last_change_at or self.clock.now()
            kind = key_kind(document.source, request.offset)
            self.sessions.rhythm.key(uri, kind, typed_at, previous_key_at=document.previous_change_at)
        state = RequestState(request, clock=self.clock.now)
        if not self.config.models:  # the config was refused: fail closed, say why
            return Routed(None, state.route(None, f"no model: the config was refused ({self.config.refused})"))
        # Nothing of an excluded file leaves the machine: no call, no cache entry.
        if (why := self.privacy.excluded(uri)) is not None:
            state.excluded = why
            return Routed(None, state.route(None, f"excluded: {why}; nothing was sent"))

        # 2. Typing through what is shown costs no call, so it does not wait out the debounce.
        self.acceptance.typed_over(uri, document.source, request.offset)
        shown = self.sessions.shown(uri)
        rest = typed_through(shown, document.source, request.offset)
        if rest is not None and shown is not None:
            self.record(state, Charge(shown.tier, shown.model, Outcome.OK, cached=True))
            typed = Answer(rest, shown.model, shown.tier, cached=True)
            self.acceptance.continued(uri, state.request_id)
            return Routed(rest, state.route(typed, "typed through the completion shown"))
        state.surroundings = Surroundings.at(document, request.offset)
        # Nor through an answer that came for an earlier key, after its request was superseded.
        ready = self.sessions.ready(uri)
        rest = typed_through(ready, document.source, request.offset)
        if rest is not None and ready is not None:
            return self._reused(state, Answer(rest, ready.model, ready.tier, cached=True), ready)

        # 3. A call under way for an earlier key whose answer agrees with what was typed since: its
        # answer, minus what was typed, at no new cost (one that no longer agrees is hung up on).
        flight = self.sessions.review(uri, document.source)
        if flight is not None:
            if flight.typed(document.source, request.offset) is not None:
                reused = await self._adopt(state, flight)
                if reused is not None:
                    return reused
                state.note("the call under way for an earlier key did not agree with the typing")
            elif request.automatic and request.offset < flight.cursor(document.source):
                return Routed(None)  # asked at an earlier key than the document has: a newer request follows
            else:
                self.sessions.hang_up(uri)  # asked elsewhere: this request's own call instead

        # 4. Analyse the code at the cursor, 5. pick the tier: the wait depends on what a wasted
        # call to that tier would cost.
        version = document.version
        state.analysis = analysis = await self.analyse_off_loop(document, request.offset)
        # A one-shot escalation is used by the request that calls or is served (`_use_escalation`), not
        # by one a newer key supersedes while it waits.
        state.decision = self.router.decide_tier(analysis.score, document.language, consume_escalation=False)
        state.analysis = analysis = self.with_context(analysis, state.decision.tier)

        # 6. The cache: an identical request costs nothing, and waits for nothing.
        hit = self._cached(state)
        if hit is not None:
            return hit

        # 7. Automatic requests wait for as long as a wasted call costs more than the waiting.
        if request.automatic:
            wait = self.wait_s(state)
            await self.sleep(wait)
            state.restart_clock()
            if wait:
                state.note(f"waited {wait * 1000:.0f} ms for the typing to pause")
            if document.version != version:  # typed meanwhile, in an editor that did not ask again
                state.surroundings = Surroundings.at(document, request.offset)
                state.analysis = analysis = await self.analyse_off_loop(document, request.offset)
                state.decision = self.router.decide_tier(analysis.score, document.language, consume_escalation=False)
                state.analysis = analysis = self.with_context(analysis, state.decision.tier)
                version = document.version
                if (hit := self._cached(state)) is not None:
                    return hit

        # 8. Plan, 9. call, 10. clean and validate, 11. record: first valid answer wins. The call is
        # a flight of its own: a newer request may take its answer when typing agrees with it.
        self._use_escalation(state)
        await self.books.refresh_gateway()  # `store = "litellm"`: the gateway's budget, when due
        self._maybe_probe(state)
        answer = await self._own_flight(state, self._launch(state))
        if answer is None:
            return Routed(None, state.route(None))

        # 12. Answer, unless the user has typed something else meanwhile (then it stays cached).
        if document.version != version and state.surroundings.is_stale(document, request.offset, answer.text):
            return Routed(None, state.route(answer, "dropped as stale: the document moved on"))
        self._show(state, answer)
        return Routed(answer.text, state.route(answer), state)

    def _cached(self, state: RequestState) -> Routed | None:
        """The cache's answer for this window and tier, recorded as a free hit; None on a miss."""
        assert state.analysis is not None and state.decision is not None
        analysis = state.analysis
        hit = self.books.cached(cache_key(analysis.window, state.decision.tier))
        # The cache holds placeholders, never secrets; one it cannot restore is a miss.
        hit_text = analysis.redaction.restore(hit.text) if hit is not None else None
        if hit is None or hit_text is None:
            return None
        self.record(
            state, Charge(hit.tier, hit.model, Outcome.OK, (self.clock.now() - state.started) * 1000, cached=True)
        )
        served = Answer(hit_text, hit.model, hit.tier, cached=True)
        self._use_escalation(state)
        self._show(state, served)
        return Routed(hit_text, state.route(served, "served from cache"), state)

    def _use_escalation(self, state: RequestState) -> None:
        """The user's one-shot escalation (`tierline.escalate`) is used up by this request."""
        if state.decision is not None and state.decision.reason.endswith("escalated by the user"):
            self.router.tiers.escalate_next = False

    def wait_s(self, state: RequestState) -> float:
        """How long this automatic request waits before its call (`session.wait_s`): the tier's
        cheapest model's price for the prompt and a line of answer is what a wasted call costs, its
        time to first token what a call can be hung up within at no cost."""
        assert state.analysis is not None and state.decision is not None
        completion = self.config.completion
        least = completion.debounce_ms / 1000
        models = self.config.models_in(state.decision.tier)
        if not models:
            return least
        tokens = prompt_tokens(state.analysis.window)
        model = min(models, key=lambda m: m.cost_usd(tokens, WASTED_ANSWER_TOKENS))  # the walk's first, mostly
        wasted_usd = model.cost_usd(tokens, WASTED_ANSWER_TOKENS)
        # A call is hung up unbilled only if the next key comes before its first token: the early
        # first tokens count (the 10th percentile of recent ones), not the average.
        samples = sorted(self.router.health.latency(model).first_token_samples)
        first_token_ms = samples[len(samples) // 10] if samples else 0.0
        document = state.cursor.document
        kind = key_kind(document.source, state.cursor.offset)
        wait = wait_s(self.sessions.rhythm, kind, wasted_usd, first_token_ms / 1000, completion.latency_vs_cost)
        # The wait counts from the key: what the editor waited before asking is part of it (VS Code
        # asks 50 ms after the last key; the Neovim plugin at once). The document stamps its changes
        # on the monotonic clock, so that clock, not the engine's, measures since the key.
        # A document nobody typed in since it was opened (`last_change_at` 0: the cursor moved into
        # it) is long past any key: no burst is going on, no next key can waste the call.
        since_key = time.monotonic() - document.last_change_at if document.last_change_at else math.inf
        return max(least, wait - since_key, 0.0)

    def _launch(self, state: RequestState) -> Flight:
        """Start the call for this request as the document's flight; its answer is cached and kept
        for the next keys even if this request is superseded before it comes."""
        assert state.analysis is not None and state.decision is not None and state.surroundings is not None
        analysis, tier, surroundings = state.analysis, state.decision.tier, state.surroundings
        cursor = state.cursor
        walk = self.router.walk(tier, cursor.document.language)

        async def fly() -> Answer | None:
            answer = await self.walk_models(state, walk)
            if answer is not None:
                cached_text = analysis.redaction.hide(answer.text)
                key = cache_key(analysis.window, tier)
                self.books.keep(key, CachedAnswer(cached_text, answer.model, answer.tier, 0, 0, answer.cost_usd))
                came = ShownCompletion(
                    cursor.offset, surroundings.before, answer.text, answer.model, answer.tier, state.request_id
                )
                self.sessions.answered(cursor.document.uri, came)
            return answer

        def partial() -> str | None:
            progress = state.progress
            if progress is None or not progress.accepted:
                return None
            return postprocess.clean(progress.text, analysis.window, analysis.single_line)

        task = asyncio.ensure_future(fly())
        source = cursor.document.source
        flight = Flight(
            cursor.offset, surroundings.before, surroundings.after, len(source), task, partial, state.request_id
        )
        self.sessions.fly(cursor.document.uri, flight)
        return flight

    async def _own_flight(self, state: RequestState, flight: Flight) -> Answer | None:
        """This request's own call. If the request is cancelled (superseded by a newer key, or by
        the editor) the call goes on only while what was typed agrees with its answer."""
        try:
            answer = await asyncio.shield(flight.task)
        except asyncio.CancelledError:
            if flight.task.cancelled() and not current_task_cancelling():
                state.note("hung up on: the typing no longer agreed with it")
                return None
            self.sessions.review(state.cursor.document.uri, state.cursor.document.source)
            raise
        return answer if isinstance(answer, Answer) else None

    async def _adopt(self, state: RequestState, flight: Flight) -> Routed | None:
        """Wait for the call under way for an earlier key; its answer minus what was typed since,
        if it still agrees. None: it did not (it was hung up on, or its answer disagrees)."""
        document, offset = state.cursor.document, state.cursor.offset
        try:
            answer = await asyncio.shield(flight.task)
        except asyncio.CancelledError:
            if flight.task.cancelled() and not current_task_cancelling():
                return None
            self.sessions.review(document.uri, document.source)
            raise
        if not isinstance(answer, Answer):
            return None
        typed = flight.typed(document.source, offset)
        if typed is None or not agrees(answer.text.encode("utf-8"), typed, done=True):
            return None
        rest = answer.text.encode("utf-8")[len(typed) :].decode("utf-8", errors="ignore")
        if not rest.strip():
            return None
        return self._reused(state, Answer(rest, answer.model, answer.tier, cached=True), flight)

    def _reused(self, state: RequestState, answer: Answer, call: Flight | ShownCompletion) -> Routed:
        """The answer of a call made for an earlier key, minus what was typed since: free."""
        self.record(state, Charge(answer.tier, answer.model, Outcome.OK, cached=True))
        self._show(state, answer)
        typed = state.cursor.document.source[call.offset : state.cursor.offset].decode("utf-8", errors="replace")
        why = f"the call of request {call.request_id}, made for an earlier key: typed {typed!r}, the rest shown"
        return Routed(answer.text, state.route(answer, why))

    async def analyse_off_loop(self, document: Document, offset: int) -> Analysis:
        """`analyse`, with a large window's redaction done first in a worker thread (`analyse` then
        finds it done): a huge window never holds the event loop, edits and other requests are
        served meanwhile. The default window is redacted inline (well under a millisecond)."""
        completion = self.config.completion
        if self.privacy.config.redact and completion.prefix_chars + completion.suffix_chars >= OFF_LOOP_CHARS:
            before, after = document.text_around(offset, completion.prefix_chars * 2, completion.suffix_chars * 2)
            window = cut_window(
                before, after, document.language, "", (completion.prefix_chars, completion.suffix_chars)
            )
            config_file = is_config_file(document.uri.rsplit("/", 1)[-1])
            await redact_ahead((window.prefix, window.suffix), config_file=config_file)
        return self.analyse(document, offset)

    def analyse(self, document: Document, offset: int) -> Analysis:
        completion = self.config.completion
        # Bytes >= characters, so twice the character window is always enough to cut from.
        before, after = document.text_around(offset, completion.prefix_chars * 2, completion.suffix_chars * 2)
        filename = document.uri.rsplit("/", 1)[-1]
        window = cut_window(
            before, after, document.language, filename, (completion.prefix_chars, completion.suffix_chars)
        )
        window = dataclasses.replace(window, max_lines=completion.max_lines_for(document.language))
        # Secrets become placeholders here, before the cache key, the cost estimate and the call.
        window, redaction = self.privacy.redact(window)
        # Test files are told by their name and folders inside the project.
        code = dataclasses.replace(document.code_at(offset), path=project_path(document.uri, self.workspace_root))
        features = scoring.extract_features(code, document.imports(scoring.summarize_imports), prompt_tokens(window))
        # Snippets of other files: the tier's budget of them is in the prompt, so in the score
        # (`context_tokens`), the cache key and the cost estimate. The tier is the one the score
        # gives with that tier's snippets (two tries; the budgets differ little).
        sources = self.config.context.sources
        candidates = tuple(self.context.candidates(document, window.prefix, window.suffix, sources))
        if not candidates:
            return Analysis(window, features, scoring.score(features), redaction)
        analysis = Analysis(window, features, 0.0, redaction, candidates=candidates, window_redaction=redaction)
        tier = Tier.CHEAP
        for _ in range(2):
            analysis = self.with_context(analysis, tier)
            decided = self.router.decide_tier(analysis.score, document.language, consume_escalation=False).tier
            if decided == tier:
                break
            tier = decided
        return self.with_context(analysis, tier)

    def with_context(self, analysis: Analysis, tier: Tier) -> Analysis:
        """The analysis with the snippets of `tier`'s budget in its window, its features counting them."""
        if not analysis.candidates or analysis.context_tier == tier:
            return analysis
        budget = self.config.context.budget(tier)
        chosen, hidden = self.context.choose(list(analysis.candidates), budget, self.config.privacy.redact)
        window = dataclasses.replace(analysis.window, context=chosen)
        around = analysis.window_redaction
        redaction = Redaction(dict(around.secrets), around.count)
        redaction.rules.update(around.rules)
        redaction.merge(hidden)
        features = dataclasses.replace(analysis.features, context_tokens=prompt_tokens(window))
        return dataclasses.replace(
            analysis,
            window=window,
            features=features,
            score=scoring.score(features),
            redaction=redaction,
            context_tier=tier,
        )

    async def walk_models(self, state: RequestState, walk: FallbackWalk, downshift_ok: bool = True) -> Answer | None:
        """Try the plan in order (alternatives.py walks through here too); the first valid answer
        wins. ``downshift_ok=False``: a budget refusal ends the walk (an alternative is left out
        rather than moved to another tier)."""
        assert state.analysis is not None
        analysis = state.analysis
        refused: Refusal | None = None
        if not walk.choices:
            state.note("every model is set aside or asked to be left alone (Retry-After): nothing sent")
        for choice in walk:
            model = choice.model
            api_key = self.keys.key_for(model)
            if isinstance(api_key, MissingKey):
                continue
            # Reserve the worst case in the shared store; what does not fit is not sent, and money
            # never moves a request up a tier nor to a model that costs as much or more (the walk's
            # policy: `FallbackWalk.note_refused`).
            worst_case = self._worst_case_usd(model, analysis)
            if not walk.affordable(worst_case):
                continue
            hold = self.books.reserve(worst_case, model)
            if isinstance(hold, Refusal):
                refused = hold
                walk.note_refused(model, worst_case)
                state.add_attempt(model, Outcome.SKIPPED_BUDGET, 0.0, hold.detail)
                self.record(state, Charge.without_call(model, Outcome.SKIPPED_BUDGET))
                continue
            if not state.attempts or state.attempts[-1].outcome == Outcome.SKIPPED_BUDGET:
                state.note(f"{model.name}: {choice.reason}")
            model, call = await self._attempt_hedged(hold, state, walk, model, api_key)
            if call is None:
                continue
            text = postprocess.clean(call.text, analysis.window, analysis.single_line)
            problem = postprocess.invalid_reason(call.text, text, analysis.window)
            restored = analysis.redaction.restore(text)
            if problem is None and restored is None:
                problem = "it holds a redaction placeholder tierline did not send"
            if problem is not None or restored is None:
                state.add_attempt(model, Outcome.INVALID, call.latency_ms, problem or "")
                self.record(state, Charge.of_call(model, Outcome.INVALID, call))
                if self.router.tiers.note_invalid(model.tier, state.language):
                    state.note(f"{state.language} escalated to mid for a while after invalid cheap answers")
                walk.note_invalid(model)
                continue
            state.add_attempt(model, Outcome.OK, call.latency_ms)
            charge = Charge.of_call(model, Outcome.OK, call)
            self.record(state, charge)
            return Answer(restored, model.name, model.tier, charge.cost_usd)
        if refused is None or not downshift_ok:
            return None
        lower = downshift.next_walk(self.config.budget, self.router, (walk.aimed, walk.refused_tier), state)
        if lower is None:
            self._budget_reached(refused)
            return None
        return await self.walk_models(state, lower)

    async def _attempt_held(
        self,
        hold: Hold,
        state: RequestState,
        model: ModelSpec,
        api_key: str | None,
        on_first_token: Callable[[], None] | None = None,
    ) -> CallResult | None:
        """`_attempt` within a budget hold: settled to the real cost; on failure released (0), on a
        call tierline hung up on settled to what the provider bills for it (estimated)."""
        call: CallResult | None = None
        progress = CallProgress()
        state.progress = progress  # the answer so far, for a newer request to judge the call by
        try:
            call = await self._attempt(state, model, api_key, on_first_token, progress)
        finally:
            cost = Charge.of_call(model, Outcome.OK, call).cost_usd if call is not None else progress.charged_usd
            self.books.settle(hold, cost)
        return call

    async def _attempt(
        self,
        state: RequestState,
        model: ModelSpec,
        api_key: str | None,
        on_first_token: Callable[[], None] | None,
        progress: CallProgress,
    ) -> CallResult | None:
        """One call; failures are recorded and return None. Cancellation is recorded and re-raised."""
        assert state.analysis is not None
        health = self.router.health
        call = CallRequest(
            model,
            state.analysis.window,
            api_key or None,
            self.config.completion.max_tokens,
            state.analysis.single_line,
            postprocess.first_line_complete,
            on_first_token,
            progress,
        )
        started = self.clock.now()
        health.mark_probing(model)
        health.started(model)
        try:
            result = await self.providers.complete(call)
        except ProviderError as error:
            latency = (self.clock.now() - started) * 1000
            if isinstance(error, Rejected):
                self._set_aside(model, error)
            elif isinstance(error, BudgetExceeded):  # the gateway's budget: no model through its key now
                self.books.gateway_refused(model, error.detail)
                self._budget_reached(
                    Refusal("gateway", f"the gateway refused the call for its budget ({error.detail})")
                )
            elif not isinstance(error, Flagged):  # a flag judged this input, not the model's health
                health.record_failure(model, error.outcome, error.retry_after_s, latency, error.provider_wide)
            state.add_attempt(model, error.outcome, latency, error.detail)
            hung_up = isinstance(error, ProviderTimeout)  # tierline ended it; a failing provider bills nothing
            self.record(state, self._unanswered_charge(call, error.outcome, latency, hung_up))
            log.info("%s failed: %s (%s)", model.name, error.outcome, error.detail)
            return None
        except asyncio.CancelledError:
            latency = (self.clock.now() - started) * 1000
            health.record_cancelled(model)
            state.add_attempt(model, Outcome.CANCELLED, latency)
            self.record(state, self._unanswered_charge(call, Outcome.CANCELLED, latency, True))
            raise
        finally:
            health.finished(model)
        health.record_success(model, result.latency_ms, result.first_token_ms)
        return result

    async def _attempt_hedged(
        self, hold: Hold, state: RequestState, walk: FallbackWalk, model: ModelSpec, api_key: str | None
    ) -> tuple[ModelSpec, CallResult | None]:
        """`_attempt_held`; past the model's tail latency, also the next model of its tier (with its
        own budget hold, taken only if the hedge starts): the first good answer wins."""
        assert state.analysis is not None
        analysis = state.analysis
        walk.called.add(model.name)
        partner = walk.next_in_tier(model)
        after = hedging.hedge_after(self.router.health.latency(model)) if partner else None
        partner_key = self.keys.key_for(partner, quiet=True) if partner else None
        if partner is None or after is None or isinstance(partner_key, MissingKey):
            return model, await self._attempt_held(hold, state, model, api_key)
        if not self.router.health.healthy(partner):
            return model, await self._attempt_held(hold, state, model, api_key)

        async def hedge() -> CallResult | None:
            assert partner is not None and not isinstance(partner_key, MissingKey)
            partner_hold = self.books.reserve(self._worst_case_usd(partner, analysis), partner)
            if isinstance(partner_hold, Refusal):
                return None  # the budget has no room for a second call: wait for the first
            walk.called.add(partner.name)
            state.note(f"hedged to {partner.name}: {model.name} past its tail latency")
            return await self._attempt_held(partner_hold, state, partner, partner_key)

        started = self.clock.now()
        first_token = asyncio.Event()
        primary = self._attempt_held(hold, state, model, api_key, first_token.set)
        winner, call = await hedging.race(primary, after, first_token, hedge)
        if winner == 1 and call is not None:
            self.router.health.record_hedge_lost(model, (self.clock.now() - started) * 1000)
            return partner, call
        return model, call

    def _set_aside(self, model: ModelSpec, error: Rejected) -> None:
        """A permanent refusal: no more calls to the model until its config changes; said once."""
        rejection = self.router.health.reject(model, error.detail, error.status)
        marker = f"rejected:{rejection.config}"
        if marker in self._said:
            return
        self._said.add(marker)
        when = "in 15 minutes or " if rejection.until is not None else ""
        self._notify(
            "error",
            f"tierline: model {model.name!r} is set aside: {error.detail}. {advice(error.status, model.api_key_env)}. "
            f"It is tried again {when}when its config changes.",
        )

    def _maybe_probe(self, state: RequestState) -> None:
        """A model passed over as slow gets this request too, in the background, to see it recover."""
        assert state.analysis is not None and state.decision is not None
        model = self.router.health.due_probe(state.decision.tier)
        if model is None:
            return
        api_key = self.keys.key_for(model)
        if isinstance(api_key, MissingKey):
            return
        # Its own attempt list (not the user's didRoute), the same request in the ledger.
        probe_state = RequestState(
            state.cursor, request_id=state.request_id, analysis=state.analysis, clock=state.clock
        )
        worst_case = self._worst_case_usd(model, state.analysis)

        async def probe() -> None:
            # Reserved when the probe starts: after the user's own request reserved its call.
            hold = self.books.reserve(worst_case, model)
            if isinstance(hold, Refusal):
                return
            call = await self._attempt_held(hold, probe_state, model, api_key)
            if call is not None:
                self.record(probe_state, Charge.of_call(model, Outcome.OK, call))

        task = asyncio.ensure_future(probe())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- bookkeeping (alternatives.py records through here too) -------------------------------
    def record(self, state: RequestState, charge: Charge) -> None:
        paid_answer = charge.outcome == Outcome.OK and not charge.cached
        self.books.record(
            CallRow(
                request_id=state.request_id,
                language=state.language,
                tier=charge.tier,
                model=charge.model,
                tokens_in=charge.tokens_in,
                tokens_out=charge.tokens_out,
                cost_usd=charge.cost_usd,
                # What the premium tier would have charged for the same tokens; 0 for free answers.
                baseline_usd=self.baseline_cost(charge.tokens_in, charge.tokens_out, charge.cached_tokens_in)
                if paid_answer
                else 0.0,
                latency_ms=charge.latency_ms,
                outcome=charge.outcome,
                cached=charge.cached,
                cached_tokens_in=charge.cached_tokens_in,
                cost_source=charge.cost_source,
                redactions=state.analysis.redaction.count if state.analysis else 0,
            )
        )
        self.telemetry.observe(charge, self.config.model_named(charge.model), state)

    @staticmethod
    def _unanswered_charge(call: CallRequest, outcome: Outcome, latency_ms: float, hung_up: bool) -> Charge:
        """A call with no answer costs nothing, unless tierline hung up on it after the provider
        took it: then the prompt and the tokens already sent, estimated (kept on `call.progress`
        for the budget hold)."""
        if not (hung_up and call.progress.accepted):
            return Charge.without_call(call.model, outcome, latency_ms)
        tokens = (prompt_tokens(call.window), estimate_tokens(call.progress.text))
        charge = Charge.hung_up(call.model, outcome, latency_ms, tokens)
        call.progress.charged_usd = charge.cost_usd
        return charge

    def baseline_cost(self, tokens_in: int, tokens_out: int, cached_in: int = 0) -> float:
        """The same tokens at the premium tier's first model's prices (its cached-input price too)."""
        premium = self.config.models_in(Tier.PREMIUM)
        return premium[0].cost_usd(tokens_in, tokens_out, cached_in) if premium else 0.0

    def _worst_case_usd(self, model: ModelSpec, analysis: Analysis) -> float:
        return model.cost_usd(prompt_tokens(analysis.window), self.config.completion.max_tokens)

    def _budget_reached(self, refused: Refusal) -> None:
        # Held by calls in flight is its own topic: it must not silence the cap really reached later.
        held = " in flight" if refused.held else ""
        self._notify_once(f"budget {refused.cap}{held}", downshift.reached_message(refused))

    def _notify_once(self, topic: str, text: str) -> None:
        """One message per topic per UTC day."""
        marker = f"{topic}:{utc_day()}"
        if marker in self._said:
            return
        self._said.add(marker)
        self._notify("warning", text)

    def _show(self, state: RequestState, answer: Answer) -> None:
        """What is shown now, for typing-through; the context is the code just before the cursor."""
        assert state.surroundings is not None
        uri = state.cursor.document.uri
        self.sessions.show(
            uri, ShownCompletion(state.cursor.offset, state.surroundings.before, answer.text, answer.model, answer.tier)
        )
        score = state.analysis.score if state.analysis else None
        features = scoring.features_json(state.analysis.features) if state.analysis else None
        row = ShownRow(
            state.request_id,
            state.language,
            answer.tier,
            answer.model,
            score,
            answer.cached,
            len(answer.text),
            features,
        )
        self.acceptance.shown(row, uri, state.cursor.offset, answer.text)
        self.auto_calibration.maybe_run(self)

    # -- commands ------------------------------------------------------------------------------
    def explain(self, document: Document, offset: int) -> ExplainResult:
        return explain_position(self, document, offset)

    def stats(self) -> StatsResult:
        self.books.read_gateway_soon()  # the status shows the gateway's budget before the first request
        return {**usage_stats(self.books, self.router, self.config), "snoozed_until": self.snooze.until_iso()}

    def escalate_next(self) -> None:
        self.router.tiers.escalate_next = True

    def clear_cache(self) -> int:
        self.sessions.forget_shown()
        return self.books.clear_cache()

    def forget(self, uri: str) -> None:
        self.sessions.forget(uri)

    async def aclose(self) -> None:
        for task in list(self._background):
            task.cancel()
        self.sessions.cancel_all()
        self.context.close()
        await self.providers.aclose()
        await asyncio.to_thread(self.telemetry.close)  # flushes to the collector: off the loop
        self.books.close()
