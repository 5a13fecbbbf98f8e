"""`tierline.explain` and `tierline score`: why a position goes to which tier and model, no model called."""

from __future__ import annotations

from typing import Protocol

from tierline.analysis import scoring
from tierline.analysis.documents import Document
from tierline.completion.request import Analysis
from tierline.config import Config
from tierline.privacy.gate import PrivacyGate
from tierline.providers.keys import KeyRing, MissingKey
from tierline.routing.router import Router
from tierline.wire import ExplainResult


class ExplainedEngine(Protocol):
    """What an explanation reads of the engine (`completion/pipeline.py:CompletionEngine` is one):
    the analysis of a position and the parts that pick a model, never a model call."""

    @property
    def config(self) -> Config: ...

    @property
    def router(self) -> Router: ...

    @property
    def keys(self) -> KeyRing: ...

    @property
    def privacy(self) -> PrivacyGate: ...

    def analyse(self, document: Document, offset: int) -> Analysis: ...


def explain_position(engine: ExplainedEngine, document: Document, offset: int) -> ExplainResult:
    analysis = engine.analyse(document, offset)
    decision = engine.router.decide_tier(analysis.score, document.language, consume_escalation=False)
    plan = engine.router.plan(decision.tier, document.language) if engine.config.models else []
    first = next((c for c in plan if not isinstance(engine.keys.key_for(c.model), MissingKey)), None)
    if first is not None:
        model, model_reason = first.model.name, first.reason
    elif plan:
        unkeyed = plan[0].model
        model, model_reason = None, f"{unkeyed.name} would answer, but {unkeyed.api_key_env} is not set"
    else:
        model, model_reason = None, "no model configured"
    if engine.config.refused:
        model, model_reason = None, f"no model: the config was refused ({engine.config.refused})"
    excluded = engine.privacy.excluded(document.uri)
    if excluded is not None:
        model, model_reason = None, f"excluded: {excluded}; nothing from this file is sent"
    return {
        "features": analysis.features.as_dict(),
        "score": round(analysis.score, 4),
        "contributions": {k: round(v, 4) for k, v in scoring.contributions(analysis.features).items()},
        "tier": decision.tier,
        "reason": decision.reason,
        "model": model,
        "model_reason": model_reason,
        "single_line": analysis.single_line,
        "excluded": excluded is not None,
        "context": [
            {"path": s.path, "line": s.line, "source": s.source, "tokens": s.tokens, "reason": s.reason}
            for s in (analysis.window.context if excluded is None else ())
        ],
    }
