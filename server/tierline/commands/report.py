"""`tierline report`: what completions cost, per tier and per model, against all-premium."""

from __future__ import annotations

import json
import sys
from typing import Any

from tierline.accounting.ledger import Ledger, utc_day
from tierline.config import ConfigError, load_config


def render_table(headers: list[str], rows: list[list[Any]]) -> str:
    """A plain text table, columns padded to their widest cell."""
    cells = [headers] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


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


def print_report(as_json: bool = False) -> int:
    try:
        config = load_config()
    except ConfigError as error:
        print(f"tierline report: {error}", file=sys.stderr)
        return 2
    ledger = Ledger(config.ledger.dir)
    if not ledger.path.exists():
        if as_json:
            print(json.dumps({"ledger": str(ledger.path), "all_time": None, "today": None}))
        else:
            print(f"No completions recorded yet (ledger: {ledger.path}).")
        return 0
    try:
        all_time, today = ledger.summary(), ledger.summary(utc_day())
    except Exception as error:  # a corrupt or unreadable ledger: say so in one line, no traceback
        print(
            f"tierline report: the ledger {ledger.path} cannot be read ({type(error).__name__}: {error}); "
            "move it aside or delete it to start a new one.",
            file=sys.stderr,
        )
        return 1
    finally:
        ledger.close()
    if as_json:
        print(json.dumps({"ledger": str(ledger.path), "all_time": all_time, "today": today}, indent=2))
    else:
        print(format_summary(today, f"Today ({utc_day()} UTC)"))
        print()
        print(format_summary(all_time, "All time"))
        print(f"\nledger: {ledger.path}")
    return 0
