"""The demo's acceptance block: the simulated user (devtools/quality.py) accepts what it likes,
then the demo shows acceptance per tier and what `tierline calibrate` would propose."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from tierline.commands.report import render_table
from tierline.config import DEFAULT_MODELS, default_config
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


# The practice session: generated Python and Go functions, one completion at the end of each
# statement line; the simulated user finds this Go harder than its score says (a hidden offset).
PRACTICE_FUNCTIONS = 30
HIDDEN_GO_OFFSET = 0.60


def practice_python(seed: int = 1) -> str:
    pick = random.Random(seed)
    out = ["import os", "import json", ""]
    for k in range(PRACTICE_FUNCTIONS):
        depth = pick.randint(0, 4)
        out.append(f"def step_{k}(items, limit):")
        out.append("    total = 0")
        for level in range(depth):
            pad = "    " * (level + 1)
            out.append(pad + ("for item in items:" if level % 2 == 0 else "if item < limit:"))
        pad = "    " * (depth + 1)
        out.append(pad + f"total += item * {k + 1}")
        out.append(pad + "limit = limit - 1")
        out.append("    return total")
        out.append("")
    return "\n".join(out) + "\n"


def practice_go(seed: int = 2) -> str:
    pick = random.Random(seed)
    out = ["package practice", "", 'import "os"', ""]
    for k in range(PRACTICE_FUNCTIONS):
        depth = pick.randint(0, 4)
        out.append(f"func step{k}(items []int, limit int) int {{")
        out.append("\ttotal := 0")
        for level in range(depth):
            pad = "\t" * (level + 1)
            out.append(pad + ("for _, item := range items {" if level % 2 == 0 else "if total < limit {"))
        pad = "\t" * (depth + 1)
        out.append(pad + f"total += len(os.Args) * {k + 1}")
        out.append(pad + "limit--")
        for level in reversed(range(depth)):
            out.append("\t" * (level + 1) + "}")
        out.append("\treturn total")
        out.append("}")
        out.append("")
    return "\n".join(out) + "\n"


async def practice_session(session: EditorSession, simulator: Simulator, workdir: Path) -> dict[str, Any]:
    """Complete at the end of each statement line of the practice files, accept what the simulated
    user likes; returns tierline.stats after it."""
    simulator.quality.configure({"language_offsets": {"go": HIDDEN_GO_OFFSET}})
    for model in ["*", *(spec["model"] for spec in DEFAULT_MODELS)]:
        simulator.set_behaviour(model, latency_ms=0)  # hundreds of requests: no simulated latency
    for name, text, language in (("practice.py", practice_python(), "python"), ("practice.go", practice_go(), "go")):
        uri = (workdir / name).as_uri()
        session.open(uri, text, language)
        for line, content in enumerate(text.split("\n")):
            if not content.strip() or content.strip() in ("}", "") or content.startswith(("import", "package")):
                continue
            completion = await session.complete(uri, line, len(content))
            if completion.text and completion.command and simulator.quality.verdict_for(completion.text):
                await session.command("tierline.accepted", *completion.command["arguments"])
    stats: dict[str, Any] = await session.command("tierline.stats")
    return stats


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
    lines = [
        "Acceptance, after a practice session over generated Python and Go (the simulated user accepts cheap",
        "answers less often on hard positions, and finds this Go harder than its score says):",
    ]
    lines.append(render_table(["tier", "shown", "accepted", "rate", "accepted chars", "cost / accepted char"], rows))
    for proposal in calibration:
        evidence, current, parity = proposal["evidence"], proposal["current"], proposal["parity"]
        if evidence["verdict"] == "too few samples":
            verdict = f"too few samples to move thresholds (needs {MIN_SAMPLES} shown on each side of mid)"
        else:
            verdict = f"cheap {evidence['verdict']}: mid {current['mid']:.2f} -> {parity['mid']:.2f}"
        lines.append(f"calibrate, {proposal['language']}: {verdict}")
    return lines
