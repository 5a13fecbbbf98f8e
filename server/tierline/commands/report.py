"""`tierline report`: what completions cost, per tier and per model, against all-premium."""

from __future__ import annotations

import json
import sys
from typing import Any

from tierline.accounting.acceptance import FateLedger
from tierline.accounting.ledger import Ledger, utc_day
from tierline.commands.retention import RETENTION_LABELS, retention_cells
from tierline.config import ConfigError, load_config
from tierline.text_table import bar, render_table

TIER_ORDER = ("cheap", "mid", "premium")


def label(text: str, width: int) -> str:
    """A ledger string fit for a terminal: no control characters (escape sequences), cut to width."""
    clean = "".join(c if c.isprintable() else "?" for c in text)
    return clean if len(clean) <= width else clean[: width - 1] + "…"


def format_charts(daily: list[dict[str, Any]], summary: dict[str, Any], languages: dict[str, dict[str, Any]]) -> str:
    """Spend per day against all-premium, tier shares, top languages: terminal bar charts."""
    out = ["Spend per day (█ tierline, ░ the same tokens all-premium)"]
    scale = max([d["premium_baseline_usd"] for d in daily] + [d["spend_usd"] for d in daily] + [1e-12])
    for d in daily:
        out.append(f"  {d['day']}  {bar(d['spend_usd'] / scale, 40):<40}  ${d['spend_usd']:.4f}")
        out.append(
            f"  {'':10}  {bar(d['premium_baseline_usd'] / scale, 40, '░'):<40}  ${d['premium_baseline_usd']:.4f}"
        )
    total = sum(row["requests"] for row in summary["by_tier"].values()) or 1
    out += ["", "Tier shares (requests)"]
    for tier in TIER_ORDER:
        requests = summary["by_tier"].get(tier, {}).get("requests", 0)
        out.append(f"  {tier:<8}{bar(requests / total, 40):<40}  {100 * requests / total:5.1f}%  ({requests})")
    top = list(languages.items())[:8]
    most = max([row["requests"] for _, row in top] + [1])
    out += ["", "Top languages (requests)"]
    for language, row in top:
        out.append(
            f"  {label(language, 12):<12} {bar(row['requests'] / most, 36):<36}  {row['requests']:>6}  ${row['spend_usd']:.4f}"
        )
    return "\n".join(out)


def format_summary(summary: dict[str, Any], title: str) -> str:
    out = [title]
    tiers = [
        [tier, row["requests"], row["model_calls"], row["cache_hits"], f"${row['spend_usd']:.6f}"]
        for tier, row in sorted(
            summary["by_tier"].items(),
            key=lambda kv: ("cheap", "mid", "premium").index(kv[0]) if kv[0] in ("cheap", "mid", "premium") else 9,
        )
    ]
    out.append(render_table(["tier", "requests", "calls", "cache hits", "spend"], tiers))
    out.append("")
    models = [
        [
            name,
            row.get("tier", ""),
            row["calls"],
            row["failures"],
            row.get("cache_hits", 0),
            f"{row.get('avg_latency_ms', 0):.0f} ms",
            f"${row['spend_usd']:.6f}",
        ]
        for name, row in sorted(summary["by_model"].items())
    ]
    out.append(render_table(["model", "tier", "calls", "failures", "cache hits", "avg latency", "spend"], models))
    out.append("")
    out.append(
        f"requests {summary['requests']}, model calls {summary['model_calls']}, cache hits {summary['cache_hits']}; "
        f"spent ${summary['spend_usd']:.6f} vs ${summary['premium_baseline_usd']:.6f} all-premium "
        f"(saved {summary['savings_pct']:.1f}%)"
    )
    return "\n".join(out)


def format_acceptance(acceptance: dict[str, Any], title: str) -> str:
    """What became of the completions shown, per tier, model and language (accounting/acceptance.py)."""
    out = [title]
    headers = ["shown", "accepted", "rate", "accepted chars", "retained chars", "cost / accepted char"]
    for group in ("tier", "model", "language"):
        rows = []
        for name, row in sorted(acceptance[f"by_{group}"].items(), key=lambda kv: _tier_order(kv[0])):
            cost = row["cost_per_accepted_char_usd"]
            rows.append(
                [
                    name,
                    row["shown"],
                    row["accepted"],
                    f"{row['rate']:.0%}",
                    row["accepted_chars"],
                    row["retained_chars"],
                    f"${cost:.8f}" if cost is not None else "-",
                ]
            )
        if rows:
            out.append(render_table([group, *headers], rows))
            out.append("")
    overall = acceptance["overall"]
    cost = overall["cost_per_accepted_char_usd"]
    out.append(
        f"shown {overall['shown']}, accepted {overall['accepted']} ({overall['rate']:.0%}), "
        f"{overall['accepted_chars']} characters accepted, {overall['retained_chars']} retained; "
        f"cost per accepted character {f'${cost:.8f}' if cost is not None else '-'}"
    )
    out += ["", format_retention(acceptance)]
    return "\n".join(out)


# The retention checkpoints as the report names them (accounting/acceptance.py CHECKPOINTS_S).
def format_retention(acceptance: dict[str, Any]) -> str:
    """The share of accepted characters still there after 30 s, 2, 5 and 10 minutes, per tier."""
    rows = [
        [name, *retention_cells(row)]
        for name, row in sorted(acceptance["by_tier"].items(), key=lambda kv: _tier_order(kv[0]))
    ]
    rows.append(["all", *retention_cells(acceptance["overall"])])
    title = "Retention: the share of accepted characters still there after"
    return title + "\n" + render_table(["tier", *RETENTION_LABELS.values()], rows)


def _tier_order(name: str) -> tuple[int, str]:
    order = ("cheap", "mid", "premium")
    return (order.index(name) if name in order else 9, name)


def acceptance_report(ledger_dir: Any) -> dict[str, Any]:
    """{"all_time": ..., "today": ...} acceptance summaries from the ledger's fates table."""
    fates = FateLedger(ledger_dir)
    try:
        return {"all_time": fates.summary(), "today": fates.summary(utc_day())}
    finally:
        fates.close()


def print_report(as_json: bool = False, html: str | None = None, team: bool = False, ndjson: bool = False) -> int:
    try:
        config = load_config()
    except ConfigError as error:
        print(f"tierline report: {error}", file=sys.stderr)
        return 2
    if team:
        from tierline.commands.report_team import print_team

        return print_team(config, as_json)
    ledger = Ledger(config.ledger.dir)
    if ndjson:
        from tierline.telemetry.report_ndjson import print_ndjson

        return print_ndjson(config.ledger.dir, ledger.path)
    if not ledger.path.exists():
        if html:
            from tierline.commands.report_html import write_html

            write_html(html, empty_report(str(ledger.path)))
            print(f"wrote {html} (no completions recorded yet)")
        elif as_json:
            print(json.dumps({"ledger": str(ledger.path), "all_time": None, "today": None}))
        else:
            print(f"No completions recorded yet (ledger: {ledger.path}).")
        return 0
    try:
        report: dict[str, Any] = {
            "ledger": str(ledger.path),
            "all_time": ledger.summary(),
            "today": ledger.summary(utc_day()),
            "daily": ledger.daily(),
            "by_language": ledger.by_language(),
            "acceptance": acceptance_report(config.ledger.dir),
        }
    except Exception as error:  # a corrupt or unreadable ledger: say so in one line, no traceback
        print(
            f"tierline report: the ledger {ledger.path} cannot be read ({type(error).__name__}: {error}); "
            "move it aside or delete it to start a new one.",
            file=sys.stderr,
        )
        return 1
    finally:
        ledger.close()
    if html:
        from tierline.commands.report_html import write_html

        write_html(html, report)
        print(f"wrote {html}")
    elif as_json:
        print(json.dumps(report, indent=2))
    else:
        print(format_charts(report["daily"], report["all_time"], report["by_language"]))
        print()
        print(format_summary(report["today"], f"Today ({utc_day()} UTC)"))
        print()
        print(format_summary(report["all_time"], "All time"))
        print()
        print(format_acceptance(report["acceptance"]["all_time"], "Acceptance, all time"))
        print(f"\nledger: {ledger.path}")
    return 0


def empty_report(ledger: str) -> dict[str, Any]:
    from tierline.accounting.books import empty_summary

    return {"ledger": ledger, "all_time": empty_summary(), "today": empty_summary(), "daily": [], "by_language": {}}
