"""The wire contract, in one place: what the server sends editors and what the ledger stores.

Every value an editor, a script or the ledger's SQL sees is named here once. The VS Code
extension (`editors/vscode/src/wire.ts`) and the Neovim plugin (`editors/nvim/lua/tierline/wire.lua`)
mirror these names; `tests/e2e/test_wire_shapes.py` makes the server produce every shape below and feeds
each to both editors' rendering code.
"""

from __future__ import annotations

import enum
import sys
from typing import Any

if sys.version_info >= (3, 11):
    from typing import NotRequired, TypedDict
else:  # pragma: no cover - exercised on 3.10 only
    from typing_extensions import NotRequired, TypedDict


class _WireEnum(str, enum.Enum):
    """A str on the wire and in SQL; prints as its value, not as `Class.MEMBER`."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class Tier(_WireEnum):
    CHEAP = "cheap"
    MID = "mid"
    PREMIUM = "premium"

    def up(self) -> Tier | None:
        """The next dearer tier, None above premium."""
        order = list(Tier)
        index = order.index(self)
        return order[index + 1] if index + 1 < len(order) else None


TIERS: tuple[Tier, ...] = tuple(Tier)  # cheapest first


class Outcome(_WireEnum):
    """`didRoute.attempts[].outcome` and the ledger's `outcome` column."""

    OK = "ok"
    TIMEOUT = "timeout"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    INVALID = "invalid"
    CANCELLED = "cancelled"
    SKIPPED_BUDGET = "skipped_budget"
    REJECTED = "rejected"  # a permanent provider error (400, 401, 402, 403, 404, 413, 422)


class Fate(_WireEnum):
    """What became of a shown completion: the ledger's `fates.fate` column (docs/acceptance.md)."""

    SHOWN = "shown"  # shown, nothing reported yet
    ACCEPTED = "accepted"  # accepted whole (Tab)
    PARTIAL = "partial"  # accepted in part (word, line)
    DISMISSED = "dismissed"  # the editor reported an explicit dismissal
    IGNORED = "ignored"  # another completion replaced it, or the document closed, with no acceptance


# A failed model call: everything but these.
NOT_FAILURES: frozenset[str] = frozenset({Outcome.OK, Outcome.CANCELLED, Outcome.SKIPPED_BUDGET})

# LSP method and command names.
DID_ROUTE = "tierline/didRoute"
CMD_EXPLAIN = "tierline.explain"
CMD_STATS = "tierline.stats"
CMD_ESCALATE = "tierline.escalate"
CMD_CLEAR_CACHE = "tierline.clearCache"
CMD_ACCEPTED = "tierline.accepted"
CMD_SNOOZE = "tierline.snooze"


class PositionPayload(TypedDict):
    line: int
    character: int


class AttemptPayload(TypedDict):
    model: str
    outcome: Outcome
    latency_ms: float
    detail: NotRequired[str]


class AlternativePayload(TypedDict):
    """One item of an invoked request's answer (`didRoute.alternatives`): its id and whose answer it is."""

    item_id: str  # the item's `tierline.accepted` argument
    tier: Tier
    model: str


class RoutePayload(TypedDict):
    """What the pipeline reports about one routed request (didRoute without uri and position)."""

    request_id: str
    score: float | None  # None: typed-through or excluded, no analysis ran
    tier: Tier | None  # None: no tier was decided (an excluded file, a refused config); nothing sent
    model: str | None  # None: nothing answered
    cached: bool
    latency_ms: float
    cost_usd: float
    attempts: list[AttemptPayload]
    reason: str
    excluded: bool
    redactions: int
    downshifted: Tier | None
    # Every item of an invoked request that got alternatives, in the order given; [] for one item.
    alternatives: list[AlternativePayload]


class DidRoute(RoutePayload):
    """`tierline/didRoute`, sent after each inline completion that reached routing."""

    uri: str
    position: PositionPayload


class ContextSnippetPayload(TypedDict):
    """A snippet of another file chosen for the prompt (`tierline.explain` `context`)."""

    path: str  # relative to the workspace root
    line: int  # 1-based
    source: str  # "definitions", "neighbours" or "recent_edits"
    tokens: int
    reason: str


class ExplainResult(TypedDict):
    features: dict[str, Any]
    score: float | None
    contributions: dict[str, float]
    tier: Tier
    reason: str
    model: str | None
    model_reason: str
    single_line: bool
    excluded: bool
    # The cross-file snippets the prompt would carry at this tier, best first, and why each.
    context: list[ContextSnippetPayload]


class AcceptanceStats(TypedDict):
    """`tierline.stats` `acceptance`: what became of the completions shown (overall or one tier)."""

    shown: int
    accepted: int  # accepted whole or in part
    rate: float  # accepted / shown, 0 when nothing was shown
    accepted_chars: int
    retained_chars: int  # accepted characters still in the document a while later
    cost_per_accepted_char_usd: float | None  # spend / accepted_chars; None before the first acceptance
    # {"30s", "120s", "300s", "600s"}: the share of accepted characters still there after that long
    # (of the acceptances measured at that checkpoint; None before the first).
    retained: dict[str, float | None]


class TierStats(TypedDict):
    requests: int
    model_calls: int
    cache_hits: int
    spend_usd: float
    acceptance: NotRequired[AcceptanceStats]


class ModelStats(TypedDict, total=False):
    tier: Tier
    calls: int
    failures: int
    cache_hits: int
    tokens_in: int
    tokens_out: int
    spend_usd: float
    avg_latency_ms: float
    ewma_ms: float | None
    p95_ms: float | None
    first_token_ewma_ms: float | None
    in_flight: int
    breaker: str  # closed | half_open | open | rejected
    rejected: str  # present while the model is set aside: the provider's message, keys masked


class LedgerSummary(TypedDict):
    """The ledger's totals (`accounting/ledger.py:Ledger.summary`): `tierline.stats` and `tierline report`."""

    requests: int
    model_calls: int
    cache_hits: int
    spend_usd: float
    premium_baseline_usd: float
    savings_pct: float
    by_tier: dict[Tier, TierStats]  # only the tiers with rows: a request with no tier has none
    by_model: dict[str, ModelStats]


class TodayStats(TypedDict):
    requests: int
    spend_usd: float
    premium_baseline_usd: float
    savings_pct: float


class BudgetStats(TypedDict):
    daily_usd: float
    spent_today_usd: float
    remaining_usd: float | None
    reached: bool  # a cap (daily or monthly) is spent
    monthly_usd: float  # 0 = no monthly cap
    spent_month_usd: float  # this UTC month, every process sharing the store
    remaining_month_usd: float | None
    reserved_usd: float  # held for calls in flight
    user: str  # who spends (the shared store's per-user column)
    user_spent_today_usd: float
    store: str  # "local", "memory" (the local store is broken) or the team store's URL without password
    downshift: bool
    warning: bool  # 80 % of a cap was reached (told once)


class GatewayBudgetStats(TypedDict):
    """`tierline.stats` `gateway_budget` with `[budget] store = "litellm"` (docs/budget.md)."""

    url: str  # the gateway's root, without credentials
    key: str  # the key's alias at the gateway, or its last four characters; never the key
    team: str | None  # the key's team (alias or id), when it has one
    key_remaining_usd: float | None  # the key's max_budget - spend at the last read (None: no budget)
    team_remaining_usd: float | None  # the team's, likewise
    remaining_usd: float | None  # the tighter of the two
    available_usd: float | None  # remaining less what tierline spent since the read and holds in flight
    checked_at: str | None  # ISO time of the last good read
    capping: bool  # the reading caps now (else the local caps do)
    error: str | None  # why the last read failed
    exhausted: bool  # the gateway answered budget_exceeded: calls through it wait


class StatsResult(LedgerSummary):
    """`tierline.stats`: the ledger's totals, then today, the budget and the rest."""

    today: TodayStats
    budget: BudgetStats
    gateway_budget: GatewayBudgetStats | None  # null unless [budget] store = "litellm"
    escalate_next: bool
    warnings: list[str]
    acceptance: NotRequired[AcceptanceStats]
    acceptance_by_model: NotRequired[dict[str, AcceptanceStats]]  # model name -> its completions' fates
    acceptance_by_language: NotRequired[dict[str, AcceptanceStats]]  # languageId -> its completions' fates
    snoozed_until: NotRequired[str | None]  # `tierline.snooze`: ISO time (UTC) automatic requests resume, or null


__all__ = [
    "CMD_ACCEPTED",
    "AcceptanceStats",
    "Fate",
    "CMD_CLEAR_CACHE",
    "CMD_ESCALATE",
    "CMD_SNOOZE",
    "CMD_EXPLAIN",
    "CMD_STATS",
    "DID_ROUTE",
    "NOT_FAILURES",
    "TIERS",
    "AlternativePayload",
    "AttemptPayload",
    "BudgetStats",
    "GatewayBudgetStats",
    "DidRoute",
    "ContextSnippetPayload",
    "ExplainResult",
    "LedgerSummary",
    "ModelStats",
    "Outcome",
    "PositionPayload",
    "RoutePayload",
    "StatsResult",
    "Tier",
    "TierStats",
    "TodayStats",
]
