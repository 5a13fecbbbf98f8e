// Pure formatting of what the status bar and the report show.

export interface Attempt {
  model: string;
  outcome: string;
  latency_ms?: number;
}

/** Params of the `tierline/didRoute` notification. */
export interface Route {
  uri: string;
  position: { line: number; character: number };
  score: number;
  tier: string;
  model: string | null;
  cached: boolean;
  latency_ms: number;
  cost_usd: number;
  attempts: Attempt[];
}

export interface Stats {
  requests?: number;
  model_calls?: number;
  cache_hits?: number;
  spend_usd?: number;
  premium_baseline_usd?: number;
  savings_pct?: number;
  by_tier?: Record<string, Record<string, unknown>>;
  by_model?: Record<string, Record<string, unknown>>;
  today?: {
    requests?: number;
    spend_usd?: number;
    premium_baseline_usd?: number;
    savings_pct?: number;
  };
  budget?: {
    daily_usd?: number;
    spent_today_usd?: number;
    remaining_usd?: number;
    reached?: boolean;
  };
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

/** Attempts whose outcome is not `ok` (the status bar warns about them). */
export function failedAttempts(route: Route | undefined): Attempt[] {
  return (route?.attempts ?? []).filter((a) => a.outcome !== "ok");
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
}

/** What the status bar item shows, as a pure function of what the client knows. */
export function statusView(input: StatusInput): StatusView {
  const { route, stats } = input;
  const reasons: string[] = [];
  if (input.serverDown) reasons.push(`Server down: ${input.serverDown}`);
  const failed = failedAttempts(route);
  if (failed.length) {
    reasons.push(
      "Last completion had failed attempts: " +
        failed.map((a) => `${a.model} ${a.outcome}`).join(", "),
    );
  }
  if (stats?.budget?.reached) {
    reasons.push(
      `Daily budget reached: ${usd(stats.budget.spent_today_usd)} of ${usd(stats.budget.daily_usd)}`,
    );
  }

  let left: string;
  if (input.serverDown) {
    left = "$(warning) tierline: server down";
  } else if (route) {
    const icon = reasons.length ? "$(warning)" : TIER_ICONS[route.tier] ?? "$(zap)";
    const parts = [route.tier, route.model ?? "no model"];
    parts.push(route.cached ? "cached" : ms(route.latency_ms));
    parts.push(usd(route.cost_usd));
    left = `${icon} ${parts.join(" · ")}`;
  } else {
    left = `${reasons.length ? "$(warning)" : "$(zap)"} tierline`;
  }
  if (input.escalatePending && !input.serverDown) left += " · $(arrow-up) premium next";

  let right = "";
  const today = stats?.today;
  if (today && !input.serverDown) {
    const pct = savings(today.savings_pct);
    right = ` | today ${usd(today.spend_usd)}${pct ? ` (${pct})` : ""}`;
    if (stats?.budget?.reached) right += " · budget reached";
  }

  const lines: string[] = [];
  if (reasons.length) lines.push(...reasons.map((r) => `$(warning) ${r}`), "");
  if (route) {
    lines.push(
      `**Last completion**: ${route.tier} · ${route.model ?? "no model"} · score ${route.score.toFixed(2)} · ` +
        `${route.cached ? "cached" : ms(route.latency_ms)} · ${usd(route.cost_usd)}`,
    );
    if (route.attempts?.length) {
      lines.push(
        "",
        "Attempts: " +
          route.attempts.map((a) => `${a.model} ${a.outcome} (${ms(a.latency_ms)})`).join(", "),
      );
    }
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
  lines.push("", "Click for the report.");
  return { text: left + right, tooltip: lines.join("\n"), warning: reasons.length > 0, reasons };
}
