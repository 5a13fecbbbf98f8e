// The report webview's HTML: per-tier and per-model tables and an inline SVG chart of spend
// against all-premium. No script and no external resource; a strict Content-Security-Policy.
import { acceptanceHtml } from "./acceptance";
import { Route, Stats, describeRoute, escapeHtml, ms, saved, usd } from "./format";

export { escapeHtml };

function cell(key: string, value: unknown): string {
  if (typeof value === "number") {
    if (key.endsWith("_usd")) return usd(value);
    if (key.endsWith("_ms")) return ms(value);
    if (key.endsWith("_pct")) return `${value.toFixed(1)}%`;
    return Number.isInteger(value) ? String(value) : value.toFixed(3);
  }
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** A table of `{rowName: {column: value}}`, columns = the union of the rows' scalar keys. */
export function table(title: string, first: string, rows: Record<string, Record<string, unknown>> | undefined): string {
  const entries = Object.entries(rows ?? {});
  if (!entries.length) return `<h2>${escapeHtml(title)}</h2><p class="empty">No requests yet.</p>`;
  const columns: string[] = [];
  for (const [, row] of entries) {
    for (const [k, v] of Object.entries(row ?? {})) {
      if (typeof v !== "object" && !columns.includes(k)) columns.push(k);
    }
  }
  const header = (c: string) => c.replace(/_usd$/, "").replace(/_ms$/, "").replace(/_/g, " ");
  const head = [first, ...columns].map((c) => `<th>${escapeHtml(header(c))}</th>`).join("");
  const body = entries
    .map(
      ([name, row]) =>
        `<tr><th scope="row">${escapeHtml(name)}</th>` +
        columns.map((c) => `<td>${escapeHtml(cell(c, (row ?? {})[c]))}</td>`).join("") +
        "</tr>",
    )
    .join("\n");
  return `<h2>${escapeHtml(title)}</h2><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

interface Bar {
  label: string;
  spend: number;
  baseline: number;
}

/** Horizontal bars: actual spend against what all-premium would have cost, per row. */
export function chart(bars: Bar[]): string {
  const rows = bars.filter((b) => Number.isFinite(b.spend) && Number.isFinite(b.baseline));
  if (!rows.length) return "";
  const max = Math.max(1e-12, ...rows.map((b) => Math.max(b.spend, b.baseline)));
  const labelW = 110;
  const barW = 360;
  const rowH = 46;
  const height = rows.length * rowH + 30;
  const width = labelW + barW + 120;
  const parts: string[] = [];
  rows.forEach((b, i) => {
    const y = 10 + i * rowH;
    const ws = Math.max(1, (b.spend / max) * barW);
    const wb = Math.max(1, (b.baseline / max) * barW);
    parts.push(
      `<text x="0" y="${y + 22}" class="label">${escapeHtml(b.label)}</text>`,
      `<rect x="${labelW}" y="${y}" width="${wb.toFixed(1)}" height="16" class="baseline"><title>all-premium ${escapeHtml(usd(b.baseline))}</title></rect>`,
      `<text x="${(labelW + wb + 6).toFixed(1)}" y="${y + 13}" class="value">${escapeHtml(usd(b.baseline))}</text>`,
      `<rect x="${labelW}" y="${y + 18}" width="${ws.toFixed(1)}" height="16" class="spend"><title>spent ${escapeHtml(usd(b.spend))}</title></rect>`,
      `<text x="${(labelW + ws + 6).toFixed(1)}" y="${y + 31}" class="value">${escapeHtml(usd(b.spend))}</text>`,
    );
  });
  const ly = height - 12;
  parts.push(
    `<rect x="${labelW}" y="${ly - 9}" width="10" height="10" class="baseline"/>`,
    `<text x="${labelW + 14}" y="${ly}" class="value">all-premium</text>`,
    `<rect x="${labelW + 110}" y="${ly - 9}" width="10" height="10" class="spend"/>`,
    `<text x="${labelW + 124}" y="${ly}" class="value">spent</text>`,
  );
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Spend against all-premium" ` +
    `width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join("")}</svg>`
  );
}

export interface ReportInput {
  stats: Stats | undefined;
  route: Route | undefined;
  cspSource: string;
  nonce: string;
  error?: string;
}

export function reportHtml({ stats, route, cspSource, nonce, error }: ReportInput): string {
  const csp = [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
  ].join("; ");
  const s = stats ?? {};
  const bars: Bar[] = [];
  if (s.today) bars.push({ label: "today", spend: s.today.spend_usd ?? 0, baseline: s.today.premium_baseline_usd ?? 0 });
  bars.push({ label: "all time", spend: s.spend_usd ?? 0, baseline: s.premium_baseline_usd ?? 0 });
  const summary = [
    ["Requests", String(s.requests ?? 0)],
    ["Model calls", String(s.model_calls ?? 0)],
    ["Cache hits", String(s.cache_hits ?? 0)],
    ["Spent", usd(s.spend_usd ?? 0)],
    ["All-premium would be", usd(s.premium_baseline_usd ?? 0)],
    ["Saved against all-premium", saved(s.savings_pct)],
  ];
  if (s.today) {
    summary.push(["Today", `${s.today.requests ?? 0} requests, ${usd(s.today.spend_usd ?? 0)} spent, ${saved(s.today.savings_pct)} saved`]);
  }
  if (s.budget) {
    summary.push([
      "Budget today",
      s.budget.daily_usd
        ? `${usd(s.budget.spent_today_usd ?? 0)} of ${usd(s.budget.daily_usd)}${s.budget.reached ? " — reached" : ""}`
        : "no cap",
    ]);
  }
  const last = route ? `<p class="last">Last completion: ${escapeHtml(describeRoute(route))}</p>` : "";
  const warnings: unknown[] = Array.isArray(s.warnings) ? s.warnings : [];
  const storage = warnings.length
    ? `<ul class="error">${warnings.map((w) => `<li>Storage: ${escapeHtml(w)}</li>`).join("")}</ul>`
    : "";
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tierline report</title>
<style nonce="${nonce}">
  body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 16px 16px; }
  table { border-collapse: collapse; margin: 4px 0 16px; }
  th, td { border-bottom: 1px solid var(--vscode-panel-border, #8884); padding: 3px 10px; text-align: right; }
  th[scope=row], thead th:first-child { text-align: left; }
  dl { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; }
  dt { opacity: .8; } dd { margin: 0; font-weight: 600; }
  svg .label, svg .value { fill: var(--vscode-foreground); font-size: 12px; }
  svg .baseline { fill: var(--vscode-charts-red, #d55); opacity: .75; }
  svg .spend { fill: var(--vscode-charts-green, #3a3); }
  .error { color: var(--vscode-errorForeground); }
  .empty { opacity: .7; }
</style>
</head>
<body>
<h1>Tierline report</h1>
${error ? `<p class="error">${escapeHtml(error)}</p>` : ""}
${storage}
${last}
<dl>${summary.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join("")}</dl>
<h2>Spend against all-premium</h2>
${chart(bars)}
${table("By tier", "tier", s.by_tier)}
${table("By model", "model", s.by_model)}
${acceptanceHtml(s)}
</body>
</html>`;
}
