"""The demo's acceptance block: the simulated user (devtools/quality.py) accepts what it likes,
then the demo shows acceptance per tier and what `tierline calibrate` would propose."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tierline.commands.report import render_table
from tierline.config import default_config
from tierline.devtools.driver import EditorSession
from tierline.devtools.simulator import Simulator
from tierline.routing.calibration import MIN_SAMPLES


async def simulated_user_accepts(session: EditorSession, simulator: Simulator, rows: list[dict[str, Any]]) -> None:
    """Accept (`tierline.accepted`) each shown completion the simulated user likes; marks rows."""
    seen: set[str] = set()
    for row in rows:
        request_id, text = row.get("request_id"), row.get("text")
        if not request_id or not text or request_id in seen:
            continue
        seen.add(request_id)
        row["accepted"] = bool(simulator.quality.verdict_for(text))
        if row["accepted"]:
            await session.command("tierline.accepted", request_id)


def calibration_preview(ledger_dir: Path) -> list[dict[str, Any]]:
    """`tierline calibrate --json`'s proposals for the demo's own ledger."""
    from dataclasses import replace

    from tierline.commands.calibrate import proposal_json, proposals_from_ledger

    base = default_config()
    config = replace(base, ledger=replace(base.ledger, dir=ledger_dir))
    return [proposal_json(p) for p in proposals_from_ledger(config)]


def acceptance_lines(stats: dict[str, Any], calibration: list[dict[str, Any]]) -> list[str]:
    rows = []
    for tier in ("cheap", "mid", "premium"):
        figures = stats.get("by_tier", {}).get(tier, {}).get("acceptance")
        if not figures:
            continue
        cost = figures["cost_per_accepted_char_usd"]
        rows.append(
            [
                tier,
                figures["shown"],
                figures["accepted"],
                f"{figures['rate']:.0%}",
                figures["accepted_chars"],
                f"${cost:.8f}" if cost is not None else "-",
            ]
        )
    lines = ["Acceptance (the simulated user accepts cheap answers less often on hard positions):"]
    lines.append(render_table(["tier", "shown", "accepted", "rate", "accepted chars", "cost / accepted char"], rows))
    for proposal in calibration:
        evidence, current, parity = proposal["evidence"], proposal["current"], proposal["parity"]
        if evidence["verdict"] == "too few samples":
            verdict = f"too few samples to move thresholds (needs {MIN_SAMPLES} shown on each side of mid)"
        else:
            verdict = f"cheap {evidence['verdict']}: mid {current['mid']:.2f} -> {parity['mid']:.2f}"
        lines.append(f"calibrate, {proposal['language']}: {verdict}")
    return lines
