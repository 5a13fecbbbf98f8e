"""A bench's result as text for the terminal and as one self-contained HTML page."""

from __future__ import annotations

import html
from typing import Any

from tierline.text_table import render_table

MODEL_HEADERS = ["model", "tier", "positions", "exact", "edit sim", "parses", "cost", "p50 ms", "p95 ms", "failed"]


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def headline(result: dict[str, Any]) -> str:
    if not result["compared"]:
        return "routed: nothing to compare with (no position has both a routed and a premium answer: is a premium model configured, with its key?)"
    return (
        f"routed: {_pct(result['quality_retained'])} of all-premium's exact matches "
        f"at {_pct(result['cost_ratio'])} of its cost"
    )


def interval_line(result: dict[str, Any]) -> str:
    quality, cost = result["interval"]["quality_retained"], result["interval"]["cost_ratio"]
    mix = ", ".join(f"{tier} {_pct(share)}" for tier, share in result.get("tier_mix", {}).items())
    return (
        f"95% interval: {_pct(quality[0])}-{_pct(quality[1])} of the exact matches, "
        f"{_pct(cost[0])}-{_pct(cost[1])} of the cost ({result['compared']} positions"
        + (f"; weighted to this code's tier mix: {mix})" if mix else ")")
    )


def _model_row(name: str, row: dict[str, Any], tier: str | None = None) -> list[Any]:
    return [
        name,
        tier if tier is not None else row["tier"],
        row["positions"],
        _pct(row["exact"]),
        f"{row['edit_similarity']:.3f}",
        _pct(row["parse_rate"]) if row["parse_rate"] is not None else "-",
        f"${row['cost_usd']:.6f}",
        f"{row['p50_ms']:.0f}",
        f"{row['p95_ms']:.0f}",
        row["failed"],
    ]


def _tables(result: dict[str, Any]) -> list[tuple[str, list[str], list[list[Any]]]]:
    models = [_model_row(name, row) for name, row in result["by_model"].items()]
    languages = [
        _model_row(name, row, language)
        for name, by_language in result["by_model_language"].items()
        for language, row in by_language.items()
    ]
    tiers = [
        [
            tier,
            row["positions"],
            _pct(row["routed_exact"]),
            _pct(row["premium_exact"]),
            f"${row['routed_cost_usd']:.6f}",
            f"${row['premium_cost_usd']:.6f}",
        ]
        for tier, row in result["by_tier"].items()
        if row["positions"]  # a tier this code never routes to has no row
    ]
    return [
        ("per model", MODEL_HEADERS, models),
        (
            "per tier tierline routes to",
            ["tier", "positions", "routed exact", "premium exact", "routed cost", "premium cost"],
            tiers,
        ),
        ("per model and language", ["model", "language", *MODEL_HEADERS[2:]], [[r[0], *r[1:]] for r in languages]),
    ]


def _first_line(text: str, width: int = 60) -> str:
    line = text.strip().split("\n", 1)[0]
    more = " ..." if "\n" in text.strip() else ""
    return (line[: width - 3] + "..." if len(line) > width else line) + more


def _language_matrix(result: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Exact matches per language (rows) and model (columns): the terminal's short form."""
    models = list(result["by_model_language"])
    languages = sorted({language for rows in result["by_model_language"].values() for language in rows})
    rows = []
    for language in languages:
        cells = [result["by_model_language"][m].get(language) for m in models]
        positions = max((c["positions"] for c in cells if c), default=0)
        rows.append([language, positions, *[_pct(c["exact"]) if c else "-" for c in cells]])
    return ["language", "positions", *models], rows


def format_text(result: dict[str, Any], title: str) -> str:
    out = [title, "", headline(result), interval_line(result), ""]
    for name, headers, rows in _tables(result)[:2]:
        out += [f"{name}:", render_table(headers, rows), ""]
    headers, rows = _language_matrix(result)
    out += ["exact matches per language (edit similarity, parses, cost, latency: --json, --html):"]
    out += [render_table(headers, rows), ""]
    misroutes = result["misroutes"]
    out.append(
        f"misroutes that matter (tierline sent it below premium, that model missed, premium did not): {len(misroutes)}"
    )
    for miss in misroutes[:10]:
        out.append(
            f"  {miss['position']}  {miss['model']} wrote {_first_line(miss['answer'])!r}, "
            f"expected {_first_line(miss['expected'])!r}"
        )
    if len(misroutes) > 10:
        out.append(f"  ... and {len(misroutes) - 10} more (--json lists them all)")
    if result.get("stopped"):
        out += ["", f"stopped early: {result['stopped']}; the figures cover what was done (--resume continues)"]
    return "\n".join(out)


def format_html(result: dict[str, Any], title: str) -> str:
    def table(headers: list[str], rows: list[list[Any]]) -> str:
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p class=headline>{html.escape(headline(result))}</p>",
        f"<p>{html.escape(interval_line(result))}</p>",
    ]
    for name, headers, rows in _tables(result):
        parts += [f"<h2>{html.escape(name)}</h2>", table(headers, rows)]
    misses = [
        [m["position"], m["model"], _first_line(m["answer"]), _first_line(m["expected"])] for m in result["misroutes"]
    ]
    parts += ["<h2>misroutes that matter</h2>", table(["position", "model", "answer", "expected"], misses)]
    style = (
        "body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}.headline{font-size:1.4em;font-weight:600}"
    )
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body>{''.join(parts)}</body></html>\n"
    )
