// Pure formatting of what the status bar and the report show, from the wire shapes in wire.ts.
import { snoozeLabel } from "./eagerness";
import {
  AttemptPayload,
  BudgetStats,
  DidRoute,
  Outcome,
  StatsResult,
  TodayStats,
  downshiftedFrom,
  isExcluded,
  isFailure,
  isTypedThrough,
  tierLabel,
} from "./wire";
import { gatewayStatus, gatewayTooltip, gatewayWarning } from "./gateway";

export type Attempt = AttemptPayload;

/** Params of the `tierline/didRoute` notification. */
export type Route = DidRoute;

/** A `tierline.stats` answer as the client may hold it: any part may be missing (older server). */
export type Stats = Partial<Omit<StatsResult, "today" | "budget" | "by_tier" | "by_model">> & {
  by_tier?: Record<string, Record<string, unknown>>;
  by_model?: Record<string, Record<string, unknown>>;
  today?: Partial<TodayStats>;
  budget?: Partial<BudgetStats>;
};

/** Text safe inside HTML elements and quoted attributes (the report webview). */
export function escapeHtml(text: unknown): string {
  return String(text)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

const MINUS = "\u2212";

/** USD with two significant digits for small amounts: 0.00004 -> "$0.00004", 0.0021 -> "$0.0021". */
export function usd(value: number | undefined | null): string {
  if (value === undefined || value === null || !Number.isFinite(value)) return "$?";
  const v = Math.abs(value);
  const sign = value < 0 ? MINUS : "";
  if (v === 0) return "$0";
  if (v >= 1) return `${sign}$${v.toFixed(2)}`;
  const decimals = Math.min(10, Math.max(2, 1 - Math.floor(Math.log10(v))));
  let text = v.toFixed(decimals);
  if (text.includes(".")) text = text.replace(/0+$/, "").replace(/\.$/, "");
  if (text === "0") return `${sign}<$0.0000000001`;
  return `${sign}$${text}`;
}

export function ms(value: number | undefined | null): string {
  if (value === undefined || value === null || !Number.isFinite(value)) return "? ms";
  return `${Math.round(value)} ms`;
}

/** Savings against all-premium as a signed change: 93 -> "−93%". */
export function savings(pct: number | undefined | null): string {
  if (pct === undefined || pct === null || !Number.isFinite(pct)) return "";
  const r = Math.round(pct);
  if (r === 0) return "±0%";
  return r > 0 ? `${MINUS}${r}%` : `+${-r}%`;
}

/** Savings as a plain share: 93.4 -> "93%" (negative when spend exceeded all-premium). */
export function saved(pct: number | undefined | null): string {
  if (pct === undefined || pct === null || !Number.isFinite(pct)) return "n/a";
  return `${Math.round(pct)}%`;
}

export const TIER_ICONS: Record<string, string> = {
  cheap: "$(zap)",
  mid: "$(flame)",
  premium: "$(star-full)",
};

/** A difficulty score, or "n/a" when none was computed (typed-through, excluded). */
export function score(value: number | null | undefined): string {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(2) : "n/a";
}

/** Attempts that failed (every outcome but ok, cancelled and skipped_budget). */
export function failedAttempts(route: Route | undefined): Attempt[] {
  return (route?.attempts ?? []).filter((a) => isFailure(a.outcome));
}

/** Attempts a provider refused for good (a permanent error: bad key, unknown model, ...). */
export function rejectedAttempts(route: Route | undefined): Attempt[] {
  return (route?.attempts ?? []).filter((a) => a.outcome === Outcome.REJECTED);
}

/** How the last completion was served: "excluded (nothing sent)", "typed", "cached" or its latency. */
export function served(route: Route): string {
  if (isExcluded(route)) return "excluded (nothing sent)";
  if (isTypedThrough(route)) return "typed";
  if (route.cached) return "cached";
  return ms(route.latency_ms);
}

/** The facts after the cost: a downshift by the budget, the models that rejected the request. */
export function routeNotes(route: Route): string[] {
  const notes: string[] = [];
  const from = downshiftedFrom(route);
  if (from) notes.push(`downshifted from ${from}`);
  const rejected = [...new Set(rejectedAttempts(route).map((a) => a.model))];
  if (rejected.length) notes.push(`${rejected.join(", ")} rejected`);
  return notes;
}

/** One line about a completion: tier · model · score · served · cost [· notes]. */
export function describeRoute(route: Route): string {
  const parts = [tierLabel(route), route.model ?? "no model", `score ${score(route.score)}`, served(route), usd(route.cost_usd)];
  parts.push(...routeNotes(route));
  if (typeof route.redactions === "number" && route.redactions > 0) {
    parts.push(`${route.redactions} secret${route.redactions === 1 ? "" : "s"} redacted`);
  }
  return parts.join(" · ");
}

function attemptText(a: Attempt): string {
  return `${a.model} ${a.outcome} (${ms(a.latency_ms)})${a.detail ? `: ${a.detail}` : ""}`;
}

/** Why the status bar is in its warning state, one line each (empty: not in it). */
export function warningReasons(input: StatusInput): string[] {
  const { route, stats } = input;
  const reasons: string[] = [];
  if (input.serverDown) reasons.push(`Server down: ${input.serverDown}`);
  const rejected = rejectedAttempts(route);
  if (rejected.length) {
    reasons.push(
      "Rejected by the provider (a permanent error, fix the model's config or key): " +
        rejected.map((a) => `${a.model}${a.detail ? ` (${a.detail})` : ""}`).join(", "),
    );
  }
  const failed = failedAttempts(route).filter((a) => a.outcome !== Outcome.REJECTED);
  if (failed.length) {
    reasons.push("Last completion had failed attempts: " + failed.map((a) => `${a.model} ${a.outcome}`).join(", "));
  }
  if (stats?.budget?.reached) {
    reasons.push(`Daily budget reached: ${usd(stats.budget.spent_today_usd)} of ${usd(stats.budget.daily_usd)}`);
  } else if (stats?.budget?.warning) {
    reasons.push(`Budget: 80% of a cap spent (${usd(stats.budget.spent_today_usd)} today)`);
  }
  const gatewaySpent = gatewayWarning(stats?.gateway_budget);
  if (gatewaySpent) reasons.push(gatewaySpent);
  const fromStats: unknown = stats?.warnings;
  const storage = [...(Array.isArray(fromStats) ? fromStats : []), ...(input.storageFaults ?? [])];
  for (const text of new Set(storage.map(String))) reasons.push(`Storage: ${text}`);
  return reasons;
}

export interface StatusView {
  text: string;
  tooltip: string; // markdown
  warning: boolean;
  reasons: string[];
}

export interface StatusInput {
  serverDown: string | undefined; // why, when down
  route: Route | undefined;
  stats: Stats | undefined;
  escalatePending: boolean;
  /** `window/showMessage` storage-fault warnings received (see wire.isStorageFault). */
  storageFaults?: string[];
  /** The time to judge `stats.snoozed_until` against (ms since the epoch; default: now). */
  now?: number;
}

/** What the status bar item shows, as a pure function of what the client knows. */
export function statusView(input: StatusInput): StatusView {
  const { route, stats } = input;
  const reasons = warningReasons(input);

  let left: string;
  if (input.serverDown) {
    left = "$(warning) tierline: server down";
  } else if (route) {
    const icon = reasons.length ? "$(warning)" : isExcluded(route) ? "$(circle-slash)" : TIER_ICONS[tierLabel(route)] ?? "$(zap)";
    const parts = [tierLabel(route), route.model ?? "no model", served(route), usd(route.cost_usd), ...routeNotes(route)];
    left = `${icon} ${parts.join(" · ")}`;
  } else {
    left = `${reasons.length ? "$(warning)" : "$(zap)"} tierline`;
  }
  if (input.escalatePending && !input.serverDown) left += " · $(arrow-up) premium next";
  const snoozed = input.serverDown ? undefined : snoozeLabel(stats?.snoozed_until, input.now ?? Date.now());
  if (snoozed) left = `$(bell-slash) ${snoozed} · ${left}`;

  let right = "";
  const today = stats?.today;
  if (today && !input.serverDown) {
    const pct = savings(today.savings_pct);
    right = ` | today ${usd(today.spend_usd)}${pct ? ` (${pct})` : ""}`;
    if (stats?.budget?.reached) right += " · budget reached";
    right += gatewayStatus(stats?.gateway_budget);
  }

  const lines: string[] = [];
  if (reasons.length) lines.push(...reasons.map((r) => `$(warning) ${r}`), "");
  if (snoozed) lines.push(`**Automatic completions ${snoozed}**; asking (Alt+\\) still answers.`, "");
  if (route) {
    lines.push(`**Last completion**: ${describeRoute(route)}`);
    if (route.attempts?.length) lines.push("", "Attempts: " + route.attempts.map(attemptText).join(", "));
    lines.push("");
  }
  if (today) {
    lines.push(
      `**Today**: ${today.requests ?? 0} requests · ${usd(today.spend_usd)} spent · all-premium ` +
        `${usd(today.premium_baseline_usd)} · saved ${saved(today.savings_pct)}`,
    );
  }
  if (stats?.budget) {
    const b = stats.budget;
    lines.push(
      "",
      b.daily_usd
        ? `**Budget**: ${usd(b.spent_today_usd)} of ${usd(b.daily_usd)} today, ${usd(b.remaining_usd)} left`
        : `**Budget**: no daily cap, ${usd(b.spent_today_usd)} spent today`,
    );
  }
  const gateway = gatewayTooltip(stats?.gateway_budget);
  if (gateway) lines.push("", gateway);
  lines.push("", "Click for the report.");
  return { text: left + right, tooltip: lines.join("\n"), warning: reasons.length > 0, reasons };
}
