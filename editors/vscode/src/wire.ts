// The wire contract as the extension sees it: a mirror of server/tierline/wire.py (names, enum
// values and payload shapes). Everything the status bar and the report read comes through here.
// tests/e2e/test_wire_shapes.py feeds every shape the server sends to format.ts and report.ts.

/** `Tier` in wire.py. */
export const Tier = {
  CHEAP: "cheap",
  MID: "mid",
  PREMIUM: "premium",
} as const;
export type Tier = (typeof Tier)[keyof typeof Tier];
export const TIERS: readonly Tier[] = [Tier.CHEAP, Tier.MID, Tier.PREMIUM];

/** `Outcome` in wire.py: `didRoute.attempts[].outcome` and the ledger's `outcome` column. */
export const Outcome = {
  OK: "ok",
  TIMEOUT: "timeout",
  RATE_LIMITED: "rate_limited",
  SERVER_ERROR: "server_error",
  INVALID: "invalid",
  CANCELLED: "cancelled",
  SKIPPED_BUDGET: "skipped_budget",
  REJECTED: "rejected", // a permanent provider error (400, 401, 402, 403, 404, 413, 422)
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

/** A failed model call: every outcome but these (`NOT_FAILURES` in wire.py). */
export const NOT_FAILURES: readonly string[] = [Outcome.OK, Outcome.CANCELLED, Outcome.SKIPPED_BUDGET];

// LSP method and command names.
export const DID_ROUTE = "tierline/didRoute";
export const CMD_EXPLAIN = "tierline.explain";
export const CMD_STATS = "tierline.stats";
export const CMD_ESCALATE = "tierline.escalate";
export const CMD_CLEAR_CACHE = "tierline.clearCache";
export const CMD_ACCEPTED = "tierline.accepted";
export const CMD_SNOOZE = "tierline.snooze";

export interface PositionPayload {
  line: number;
  character: number;
}

export interface AttemptPayload {
  model: string;
  /** An `Outcome`; typed as string so that a newer server's outcome is shown, not dropped. */
  outcome: string;
  latency_ms: number;
  detail?: string;
}

/** What the pipeline reports about one routed request (didRoute without uri and position). */
export interface RoutePayload {
  request_id: string;
  /** null: typed-through or excluded, no analysis ran. */
  score: number | null;
  /** null: no tier was decided (an excluded file, a refused config), nothing was sent; see tierLabel. */
  tier: string | null;
  /** null: nothing answered. */
  model: string | null;
  cached: boolean;
  latency_ms: number;
  cost_usd: number;
  attempts: AttemptPayload[];
  reason: string;
  /** The file is excluded: nothing was sent. */
  excluded: boolean;
  redactions: number;
  /** The tier asked for when the budget moved the request down a tier. */
  downshifted: string | null;
  /** Every item of an invoked request that got alternatives, in order; [] for one item (absent from older servers). */
  alternatives?: AlternativePayload[];
}

/** One item of an invoked request's answer: its `tierline.accepted` id and whose answer it is. */
export interface AlternativePayload {
  item_id: string;
  tier: string;
  model: string;
}

/** `tierline/didRoute`, sent after each inline completion that reached routing. */
export interface DidRoute extends RoutePayload {
  uri: string;
  position: PositionPayload;
}

export interface ExplainResult {
  features: Record<string, unknown>;
  score: number | null;
  contributions: Record<string, number>;
  tier: string;
  reason: string;
  model: string | null;
  model_reason: string;
  single_line: boolean;
  excluded: boolean;
  /** The cross-file snippets the prompt would carry at this tier, best first. */
  context: ContextSnippet[];
}

/** A snippet of another file chosen for the prompt, and why. */
export interface ContextSnippet {
  path: string;
  line: number;
  source: string;
  tokens: number;
  reason: string;
}

/** `tierline.stats` `acceptance` (overall and per tier): what became of the completions shown. */
export interface AcceptanceStats {
  shown: number;
  accepted: number;
  rate: number;
  accepted_chars: number;
  retained_chars: number;
  cost_per_accepted_char_usd: number | null;
  /** "30s", "120s", "300s", "600s": the share of accepted characters still there; null before one was measured (absent from older servers). */
  retained?: Record<string, number | null>;
}

export interface TierStats {
  requests: number;
  model_calls: number;
  cache_hits: number;
  spend_usd: number;
  acceptance?: AcceptanceStats;
}

export interface ModelStats {
  tier?: string;
  calls?: number;
  failures?: number;
  cache_hits?: number;
  tokens_in?: number;
  tokens_out?: number;
  spend_usd?: number;
  avg_latency_ms?: number;
  ewma_ms?: number | null;
  p95_ms?: number | null;
  first_token_ewma_ms?: number | null;
  in_flight?: number;
  breaker?: string; // closed | half_open | open | rejected
  rejected?: string; // while the model is set aside: the provider's message, keys masked
}

export interface TodayStats {
  requests: number;
  spend_usd: number;
  premium_baseline_usd: number;
  savings_pct: number;
}

export interface BudgetStats {
  daily_usd: number;
  spent_today_usd: number;
  remaining_usd: number | null;
  reached: boolean;
  monthly_usd: number;
  spent_month_usd: number;
  remaining_month_usd: number | null;
  /** Held by calls in flight (reserved at their worst case, settled to their real cost). */
  reserved_usd: number;
  user: string;
  user_spent_today_usd: number;
  /** "local", "memory" (the local store is broken) or the team store's URL without password. */
  store: string;
  downshift: boolean;
  /** 80 % of a cap was reached (the server also said so once, in window/showMessage). */
  warning: boolean;
}

/** `tierline.stats` `gateway_budget`, with `[budget] store = "litellm"` (docs/budget.md). */
export interface GatewayBudgetStats {
  url: string;
  /** The key's alias at the gateway, or its last four characters; never the key. */
  key: string;
  team: string | null;
  key_remaining_usd: number | null;
  team_remaining_usd: number | null;
  /** The tighter of the key's and the team's budget left, at the last read. */
  remaining_usd: number | null;
  /** `remaining_usd` less what tierline spent since that read and holds for calls in flight. */
  available_usd: number | null;
  checked_at: string | null;
  /** The reading caps now (else the local caps do). */
  capping: boolean;
  error: string | null;
  /** The gateway answered budget_exceeded: calls through it wait. */
  exhausted: boolean;
}

/** `tierline.stats`. */
export interface StatsResult {
  requests: number;
  model_calls: number;
  cache_hits: number;
  spend_usd: number;
  premium_baseline_usd: number;
  savings_pct: number;
  by_tier: Record<string, TierStats>;
  by_model: Record<string, ModelStats>;
  today: TodayStats;
  budget: BudgetStats;
  /** null unless `[budget] store = "litellm"`. */
  gateway_budget: GatewayBudgetStats | null;
  escalate_next: boolean;
  /** Storage faults (cache, ledger) the server worked around; non-empty = warning state. */
  warnings: string[];
  acceptance?: AcceptanceStats;
  /** Acceptance per model name and per languageId (same shape as `acceptance`). */
  acceptance_by_model?: Record<string, AcceptanceStats>;
  acceptance_by_language?: Record<string, AcceptanceStats>;
  /** `tierline.snooze`: when automatic completions resume (ISO time, UTC), or null. */
  snoozed_until?: string | null;
}

// --- reading a route: the facts the contract implies --------------------------------------------

/** The file is excluded: nothing was sent to any model. */
export function isExcluded(route: RoutePayload): boolean {
  return route.excluded === true;
}

/** Typing through the completion shown: served from it, no analysis (score null), no call. */
export function isTypedThrough(route: RoutePayload): boolean {
  return route.cached === true && route.score === null && !isExcluded(route);
}

/** What to show in the tier's place: the tier, or "no tier" when none was decided (excluded file, refused config). */
export function tierLabel(route: RoutePayload): string {
  return typeof route.tier === "string" && route.tier ? route.tier : NO_TIER;
}
export const NO_TIER = "no tier";

/** The tier the budget moved this request down from, or undefined. */
export function downshiftedFrom(route: RoutePayload): string | undefined {
  return typeof route.downshifted === "string" && route.downshifted ? route.downshifted : undefined;
}

export function isFailure(outcome: string): boolean {
  return !NOT_FAILURES.includes(outcome);
}

// `window/showMessage` types (LSP MessageType).
export const MESSAGE_ERROR = 1;
export const MESSAGE_WARNING = 2;

/**
 * A `window/showMessage` about a storage fault: the cache or the ledger is not usable and the
 * server works around it ("tierline: the response cache is not usable, ...", "tierline: the
 * ledger is not writable, ..."). `StatsResult.warnings` is the authoritative list.
 */
export function isStorageFault(type: number, message: string): boolean {
  return type <= MESSAGE_WARNING && /\b(cache|ledger)\b[^.;]*\bnot (usable|writable)\b/i.test(message);
}
