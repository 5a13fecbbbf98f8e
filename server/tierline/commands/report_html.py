"""`tierline report --html FILE`: one self-contained page (inline SVG and CSS, no script, nothing
fetched) with the report's charts and tables.

The charts follow the VS Code report's design (editors/vscode/src/report.ts `chart`): one row per
label, the all-premium bar (red) above what was spent (green), values at the bar ends. Every text
from the ledger (languages, model names) is escaped: the ledger is input like any other.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

TIER_COLOURS = {"cheap": "#3a3", "mid": "#d90", "premium": "#d55"}
LABEL_W, BAR_W, ROW_H = 110, 420, 46

STYLE = """
body { font-family: system-ui, sans-serif; color: #222; background: #fff; margin: 24px; max-width: 760px; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
table { border-collapse: collapse; margin: 8px 0; } th, td { padding: 3px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; } thead th { border-bottom: 1px solid #999; }
svg .label, svg .value { fill: #222; font-size: 12px; font-family: system-ui, sans-serif; }
svg .baseline { fill: #d55; opacity: .75; } svg .spend { fill: #3a3; }
.muted { color: #666; font-size: 13px; }
"""


def usd(value: float) -> str:
    return f"${value:.4f}" if value < 100 else f"${value:,.2f}"


def e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def spend_chart(rows: list[dict[str, Any]], chart_id: str, label: str) -> str:
    """Spend against all-premium, one row per day (the VS Code report's chart)."""
    if not rows:
        return f'<p class="muted" id="{chart_id}">No spend recorded yet.</p>'
    top = max([1e-12] + [max(r["spend_usd"], r["premium_baseline_usd"]) for r in rows])
    height, width = len(rows) * ROW_H + 30, LABEL_W + BAR_W + 120
    parts: list[str] = []
    for i, row in enumerate(rows):
        y = 10 + i * ROW_H
        wb = max(1.0, row["premium_baseline_usd"] / top * BAR_W)
        ws = max(1.0, row["spend_usd"] / top * BAR_W)
        parts += [
            f'<text x="0" y="{y + 22}" class="label">{e(row["day"])}</text>',
            f'<rect x="{LABEL_W}" y="{y}" width="{wb:.1f}" height="16" class="baseline">'
            f"<title>all-premium {e(usd(row['premium_baseline_usd']))}</title></rect>",
            f'<text x="{LABEL_W + wb + 6:.1f}" y="{y + 13}" class="value">{e(usd(row["premium_baseline_usd"]))}</text>',
            f'<rect x="{LABEL_W}" y="{y + 18}" width="{ws:.1f}" height="16" class="spend">'
            f"<title>spent {e(usd(row['spend_usd']))}</title></rect>",
            f'<text x="{LABEL_W + ws + 6:.1f}" y="{y + 31}" class="value">{e(usd(row["spend_usd"]))}</text>',
        ]
    ly = height - 12
    parts += [
        f'<rect x="{LABEL_W}" y="{ly - 9}" width="10" height="10" class="baseline"/>',
        f'<text x="{LABEL_W + 14}" y="{ly}" class="value">all-premium</text>',
        f'<rect x="{LABEL_W + 110}" y="{ly - 9}" width="10" height="10" class="spend"/>',
        f'<text x="{LABEL_W + 124}" y="{ly}" class="value">spent</text>',
    ]
    return (
        f'<svg id="{chart_id}" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{e(label)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">{"".join(parts)}</svg>'
    )


def share_chart(by_tier: dict[str, dict[str, Any]]) -> str:
    """Tier shares of requests: one stacked bar, a legend with the percentages."""
    total = sum(row.get("requests", 0) for row in by_tier.values())
    if not total:
        return '<p class="muted" id="chart-tiers">No requests recorded yet.</p>'
    width, parts, x = LABEL_W + BAR_W + 120, [], 0.0
    legend: list[str] = []
    for i, (tier, colour) in enumerate(TIER_COLOURS.items()):
        requests = by_tier.get(tier, {}).get("requests", 0)
        w = requests / total * (width - 20)
        if w > 0:
            parts.append(
                f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="24" fill="{colour}" class="tier-{tier}">'
                f"<title>{e(tier)}: {requests}</title></rect>"
            )
        x += w
        lx = i * 170
        legend.append(
            f'<rect x="{lx}" y="34" width="10" height="10" fill="{colour}"/>'
            f'<text x="{lx + 14}" y="43" class="value">{e(tier)} {100 * requests / total:.1f}% ({requests})</text>'
        )
    return (
        f'<svg id="chart-tiers" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Tier shares" '
        f'width="{width}" height="52" viewBox="0 0 {width} 52">{"".join(parts + legend)}</svg>'
    )


def language_chart(languages: dict[str, dict[str, Any]]) -> str:
    rows = list(languages.items())[:8]
    if not rows:
        return '<p class="muted" id="chart-languages">No requests recorded yet.</p>'
    most = max(row["requests"] for _, row in rows) or 1
    width, height = LABEL_W + BAR_W + 160, len(rows) * 24 + 6
    parts: list[str] = []
    for i, (language, row) in enumerate(rows):
        y = 4 + i * 24
        w = max(1.0, row["requests"] / most * BAR_W)
        parts += [
            f'<text x="0" y="{y + 13}" class="label">{e(language if len(language) <= 15 else language[:14] + "…")}'
            f"<title>{e(language)}</title></text>",
            f'<rect x="{LABEL_W}" y="{y}" width="{w:.1f}" height="16" class="spend"/>',
            f'<text x="{LABEL_W + w + 6:.1f}" y="{y + 13}" class="value">'
            f"{row['requests']} requests, {e(usd(row['spend_usd']))}</text>",
        ]
    return (
        f'<svg id="chart-languages" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Top languages" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">{"".join(parts)}</svg>'
    )


def table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def acceptance_section(acceptance: dict[str, Any] | None) -> str:
    """What became of the completions shown (the terminal report's acceptance section), with the
    share of accepted characters still there after 30 s, 2, 5 and 10 minutes."""
    from tierline.commands.retention import RETENTION_LABELS, retention_cells

    if not acceptance or not acceptance.get("overall", {}).get("shown"):
        return '<p class="muted" id="acceptance">No completions shown yet.</p>'
    headers = ["shown", "accepted", "rate", "accepted chars", "cost / accepted char"]
    kept = [f"still there after {label}" for label in RETENTION_LABELS.values()]

    def cells(name: str, row: dict[str, Any]) -> list[Any]:
        cost = row["cost_per_accepted_char_usd"]
        return [
            name,
            row["shown"],
            row["accepted"],
            f"{row['rate']:.0%}",
            row["accepted_chars"],
            f"${cost:.8f}" if cost is not None else "-",
            *retention_cells(row),
        ]

    parts = []
    for group in ("tier", "model", "language"):
        rows = [cells(name, row) for name, row in sorted(acceptance[f"by_{group}"].items())]
        if group == "tier":
            rows.append(cells("all", acceptance["overall"]))
        parts.append(f'<div id="acceptance-by-{group}">{table([group, *headers, *kept], rows)}</div>')
    return "\n".join(parts)


def render_html(report: dict[str, Any]) -> str:
    all_time, today = report["all_time"], report["today"]
    tiers = [
        [t, r["requests"], r["model_calls"], r["cache_hits"], usd(r["spend_usd"])]
        for t, r in sorted(all_time["by_tier"].items())
    ]
    models = [
        [n, r.get("tier", ""), r["calls"], r["failures"], f"{r.get('avg_latency_ms', 0):.0f} ms", usd(r["spend_usd"])]
        for n, r in sorted(all_time["by_model"].items())
    ]
    summary = (
        f"{all_time['requests']} requests, {all_time['model_calls']} model calls, {all_time['cache_hits']} cache hits; "
        f"spent {usd(all_time['spend_usd'])} against {usd(all_time['premium_baseline_usd'])} all-premium "
        f"(saved {all_time['savings_pct']:.1f}%). Today: {today['requests']} requests, {usd(today['spend_usd'])}."
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>tierline report</title>
<style>{STYLE}</style>
</head>
<body>
<h1>tierline report</h1>
<p>{e(summary)}</p>
<h2>Spend per day against all-premium</h2>
{spend_chart(report["daily"], "chart-daily", "Spend per day against all-premium")}
<h2>Tier shares</h2>
{share_chart(all_time["by_tier"])}
<h2>Top languages</h2>
{language_chart(report["by_language"])}
<h2>Per tier</h2>
{table(["tier", "requests", "model calls", "cache hits", "spend"], tiers)}
<h2>Per model</h2>
{table(["model", "tier", "calls", "failures", "avg latency", "spend"], models)}
<h2>Acceptance</h2>
{acceptance_section((report.get("acceptance") or {}).get("all_time"))}
<p class="muted">ledger: {e(report["ledger"])}</p>
</body>
</html>
"""


def write_html(path: str, report: dict[str, Any]) -> None:
    Path(path).write_text(render_html(report), encoding="utf-8")
