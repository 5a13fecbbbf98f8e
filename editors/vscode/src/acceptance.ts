// The report's acceptance part: what became of the completions shown (rate, accepted and retained
// characters, cost per accepted character), overall and per tier, model and language, from
// `tierline.stats` `acceptance`, `by_tier[tier].acceptance`, `acceptance_by_model` and
// `acceptance_by_language`. Pure: HTML text only, every value escaped, any part may be missing.
import { AcceptanceStats, TIERS } from "./wire";
import { escapeHtml as escape, usd } from "./format";

function count(value: unknown): string {
  return typeof value === "number" && Number.isFinite(value) ? String(Math.round(value)) : "?";
}

/** accepted / shown as a percentage: 0.6667 -> "67%". */
export function acceptanceRate(rate: unknown): string {
  return typeof rate === "number" && Number.isFinite(rate) ? `${Math.round(rate * 100)}%` : "?";
}

/** Cost per accepted character; "–" before the first acceptance (the server sends null). */
export function costPerChar(value: unknown): string {
  if (value === null || value === undefined) return "–";
  return typeof value === "number" ? usd(value) : "?";
}

function isAcceptance(value: unknown): value is Partial<AcceptanceStats> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** One line: "3 of 10 shown accepted (30%), 120 characters accepted, 100 retained, $0.0000012 per accepted character". */
export function acceptanceLine(a: Partial<AcceptanceStats>): string {
  return (
    `${count(a.accepted)} of ${count(a.shown)} shown accepted (${acceptanceRate(a.rate)}), ` +
    `${count(a.accepted_chars)} characters accepted, ${count(a.retained_chars)} retained, ` +
    `${costPerChar(a.cost_per_accepted_char_usd)} per accepted character`
  );
}

const CHECKPOINTS: [string, string][] = [
  ["30s", "30 s"],
  ["120s", "2 min"],
  ["300s", "5 min"],
  ["600s", "10 min"],
];

/** "still there after 30 s 93%, 2 min 90%, 5 min –, 10 min –": `retained` shares, "–" where none was measured; "" from an older server. */
export function retentionLine(a: Partial<AcceptanceStats>): string {
  const retained = a.retained;
  if (typeof retained !== "object" || retained === null || Array.isArray(retained)) return "";
  const share = (value: unknown) => (value === null || value === undefined ? "–" : acceptanceRate(value));
  return "accepted characters still there after " + CHECKPOINTS.map(([key, label]) => `${label} ${share(retained[key])}`).join(", ");
}

const COLUMNS: [string, (a: Partial<AcceptanceStats>) => string][] = [
  ["shown", (a) => count(a.shown)],
  ["accepted", (a) => count(a.accepted)],
  ["rate", (a) => acceptanceRate(a.rate)],
  ["accepted chars", (a) => count(a.accepted_chars)],
  ["retained chars", (a) => count(a.retained_chars)],
  ["cost / accepted char", (a) => costPerChar(a.cost_per_accepted_char_usd)],
];

/** A table of `{name: acceptance}`; nothing when there is no row (an older server sends none). */
export function acceptanceTable(title: string, first: string, rows: Record<string, unknown> | undefined): string {
  const entries = Object.entries(rows ?? {}).filter((entry): entry is [string, Partial<AcceptanceStats>] =>
    isAcceptance(entry[1]),
  );
  if (!entries.length) return "";
  const head = [first, ...COLUMNS.map(([name]) => name)].map((c) => `<th>${escape(c)}</th>`).join("");
  const body = entries
    .map(
      ([name, a]) =>
        `<tr><th scope="row">${escape(name)}</th>` + COLUMNS.map(([, show]) => `<td>${escape(show(a))}</td>`).join("") + "</tr>",
    )
    .join("\n");
  return `<h3>${escape(title)}</h3><table class="acceptance"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** `by_tier[tier].acceptance` as `{tier: acceptance}`, cheap → mid → premium first. */
export function acceptanceByTier(byTier: Record<string, Record<string, unknown>> | undefined): Record<string, unknown> {
  const names = Object.keys(byTier ?? {}).sort((a, b) => {
    const order = (t: string) => {
      const i = (TIERS as readonly string[]).indexOf(t);
      return i < 0 ? TIERS.length : i;
    };
    return order(a) - order(b) || a.localeCompare(b);
  });
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const acceptance = byTier?.[name]?.acceptance;
    if (isAcceptance(acceptance)) out[name] = acceptance;
  }
  return out;
}

export interface AcceptanceInput {
  acceptance?: unknown;
  by_tier?: Record<string, Record<string, unknown>>;
  acceptance_by_model?: unknown;
  acceptance_by_language?: unknown;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return isAcceptance(value) ? (value as Record<string, unknown>) : undefined;
}

/** The report's "Acceptance" section; empty when the server reports no acceptance (older server). */
export function acceptanceHtml(stats: AcceptanceInput): string {
  if (!isAcceptance(stats.acceptance)) return "";
  const overall = stats.acceptance;
  if (!overall.shown) {
    return `<h2>Acceptance</h2><p class="empty">No completions shown yet.</p>`;
  }
  return [
    `<h2>Acceptance</h2>`,
    `<p class="acceptance-overall">${escape(acceptanceLine(overall))}</p>`,
    retentionLine(overall) ? `<p class="acceptance-retained">${escape(retentionLine(overall))}</p>` : "",
    acceptanceTable("Acceptance by tier", "tier", acceptanceByTier(stats.by_tier)),
    acceptanceTable("Acceptance by model", "model", record(stats.acceptance_by_model)),
    acceptanceTable("Acceptance by language", "language", record(stats.acceptance_by_language)),
  ].join("\n");
}
