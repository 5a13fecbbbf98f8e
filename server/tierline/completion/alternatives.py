"""Alternatives: an explicitly invoked request near a tier boundary shows the tiers side by side.

When the user asks for a completion (LSP `InlineCompletionTriggerKind.Invoked`: VS Code's
"Trigger Inline Suggestion", the Neovim plugin's keymap) and the position's score is *close* to a
tier boundary — within ``CLOSE`` (0.10) of the mid or the premium threshold of its language — the
router is unsure which tier the position needs. The answer then carries up to ``MAX_ITEMS`` (3)
items: the answer of the chosen tier first, then the cheap and the premium tier's answers (a tier
already shown is not asked again; a text already given is dropped). An automatic request always
returns one item: alternatives cost money, and only a user who asked is shown them.

Each alternative is a request of its own in the books (its own id, its ledger rows, its fate row
in the group of the first item): accepting it counts under its tier and settles the others as not
chosen, which is what `tierline calibrate` reads as "cheap won" or "premium won" (routing/
calibration.py, `win_rates`). An alternative's call obeys everything a call obeys: the cache
first, privacy (the window is the first item's, already redacted; an excluded file never gets
here), and the budget: its worst case is reserved first, and an alternative that does not fit is
left out (never moved to another tier, never overshooting the cap).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from tierline.accounting.acceptance import AcceptanceTracker, ShownRow
from tierline.accounting.books import Books
from tierline.accounting.cache import CachedAnswer, cache_key
from tierline.analysis import scoring
from tierline.analysis.documents import Document
from tierline.completion.collaborators import Clock
from tierline.completion.request import Analysis, Answer, Charge, CursorRequest, Item, RequestState, Routed
from tierline.completion.session import Surroundings
from tierline.config import Config, Thresholds
from tierline.routing.policy import FallbackWalk
from tierline.routing.router import Router
from tierline.routing.tiers import TierDecision
from tierline.wire import AlternativePayload, Outcome, Tier


class CompletionEngine(Protocol):
    """What asking the other tiers uses of the engine (`completion/pipeline.py:CompletionEngine`,
    which imports this module, is one): the same analysis, walk, books and bookkeeping as any call."""

    @property
    def config(self) -> Config: ...

    @property
    def router(self) -> Router: ...

    @property
    def books(self) -> Books: ...

    @property
    def acceptance(self) -> AcceptanceTracker: ...

    @property
    def clock(self) -> Clock: ...

    async def analyse_off_loop(self, document: Document, offset: int) -> Analysis: ...

    def with_context(self, analysis: Analysis, tier: Tier) -> Analysis: ...

    async def walk_models(
        self, state: RequestState, walk: FallbackWalk, downshift_ok: bool = True
    ) -> Answer | None: ...

    def record(self, state: RequestState, charge: Charge) -> None: ...


log = logging.getLogger(__name__)

# How close a score must be to a threshold for the router to be unsure (scores are in [0, 1]).
CLOSE = 0.10
# The first item and at most two alternatives.
MAX_ITEMS = 3
# The tiers whose answers are put side by side with the chosen one.
SIDE_BY_SIDE = (Tier.CHEAP, Tier.PREMIUM)


def near_boundary(score: float, thresholds: Thresholds) -> bool:
    """Within ``CLOSE`` of the mid or the premium threshold (inclusive)."""
    return min(abs(score - thresholds.mid), abs(score - thresholds.premium)) <= CLOSE + 1e-9


def tiers_to_ask(shown_tier: Tier | None) -> list[Tier]:
    """The side-by-side tiers other than the one already answering."""
    return [tier for tier in SIDE_BY_SIDE if tier != shown_tier][: MAX_ITEMS - 1]


async def with_alternatives(engine: CompletionEngine, routed: Routed, request: CursorRequest) -> Routed:
    """``routed`` (an invoked request's answer) with the other tiers' answers when it is near a
    boundary. A fault here never costs the first answer: it is logged and the answer goes alone."""
    try:
        return await _with_alternatives(engine, routed, request)
    except Exception:  # any fault: the chosen tier's answer still goes out
        log.exception("tierline: alternatives failed; answering with the chosen tier's item alone")
        routed.alternatives = []
        if routed.route is not None:
            routed.route["alternatives"] = []
        return routed


async def _with_alternatives(engine: CompletionEngine, routed: Routed, request: CursorRequest) -> Routed:
    state, route = routed.state, routed.route
    if not engine.config.completion.alternatives:
        return routed
    if route is None or not routed.text or route["model"] is None or route["tier"] is None:
        return routed
    # The group is the completion the first item's acceptance counts for: a typed-through answer's is
    # the completion first shown (its `tierline.accepted` id is an alias of that one).
    group = engine.acceptance.canonical(route["request_id"])
    if state is None:
        # Served without routing (typing through what was shown, an earlier key's call): the user
        # asked, so the position is analysed now to see whether the tiers go side by side.
        analysis = await engine.analyse_off_loop(request.document, request.offset)
        surroundings = Surroundings.at(request.document, request.offset)
        state = RequestState(
            request, request_id=group, surroundings=surroundings, analysis=analysis, clock=engine.clock.now
        )
    if state.analysis is None:
        return routed
    thresholds = engine.config.routing.thresholds_for(state.language)
    if not near_boundary(state.analysis.score, thresholds):
        return routed
    shown_tier = route["tier"]
    asked = await asyncio.gather(*(_ask(engine, state, tier) for tier in tiers_to_ask(shown_tier)))
    texts = {routed.text}
    document, offset = state.cursor.document, state.cursor.offset
    for alternative, answer in asked:
        if answer is None or answer.text in texts:
            continue
        texts.add(answer.text)
        routed.alternatives.append(Item(alternative.request_id, answer))
        features = scoring.features_json(state.analysis.features)
        row = ShownRow(
            alternative.request_id,
            state.language,
            answer.tier,
            answer.model,
            state.analysis.score,
            answer.cached,
            len(answer.text),
            features,
            group_id=group,
        )
        engine.acceptance.shown_alternative(row, document.uri, offset, answer.text)
    if routed.alternatives:
        first: AlternativePayload = {"item_id": route["request_id"], "tier": shown_tier, "model": route["model"]}
        others: list[AlternativePayload] = [
            {"item_id": item.item_id, "tier": item.answer.tier, "model": item.answer.model}
            for item in routed.alternatives
        ]
        route["alternatives"] = [first, *others]
    return routed


async def _ask(engine: CompletionEngine, first: RequestState, tier: Tier) -> tuple[RequestState, Answer | None]:
    """One tier's answer for the first item's window, as a request of its own: cache, then a walk
    through that tier's models only, with no downshift when the budget refuses (the engine's own
    walk and books, so that the call is recorded, reserved and validated as any other)."""
    assert first.analysis is not None
    analysis = engine.with_context(first.analysis, tier)
    decision = TierDecision(tier, f"an alternative to request {first.request_id}")
    state = RequestState(
        first.cursor, surroundings=first.surroundings, analysis=analysis, decision=decision, clock=first.clock
    )
    key = cache_key(analysis.window, tier)
    hit = engine.books.cached(key)
    text = analysis.redaction.restore(hit.text) if hit is not None else None
    if hit is not None and text is not None:
        engine.record(state, Charge(hit.tier, hit.model, Outcome.OK, cached=True))
        return state, Answer(text, hit.model, hit.tier, cached=True)
    answer = await engine.walk_models(state, engine.router.tier_walk(tier, state.language), downshift_ok=False)
    if answer is not None:
        cached = CachedAnswer(analysis.redaction.hide(answer.text), answer.model, answer.tier, 0, 0, answer.cost_usd)
        engine.books.keep(key, cached)
    return state, answer


__all__ = ["CLOSE", "MAX_ITEMS", "near_boundary", "tiers_to_ask", "with_alternatives"]
