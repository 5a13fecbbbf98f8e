"""The demo's acceptance block: its own short session (own simulator, server and ledger, so the
routing table and the replay above keep their figures) over generated Python and Go, where the
simulated user (devtools/quality.py) accepts what it likes; then acceptance per tier and what
`tierline calibrate` would propose from that ledger."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from tierline.config import default_config
from tierline.config.toml_writer import write_toml
from tierline.devtools.driver import EditorSession
from tierline.devtools.simulator import Simulator, sim_config
from tierline.routing.calibration import MIN_SAMPLES
from tierline.text_table import render_table

# The practice session: generated Python and Go functions, one completion at the end of each
# statement line (editing) and one at each empty body (writing: every function is followed by one
# still to be written); the simulated user finds this Go harder than its score says (a hidden offset).
PRACTICE_FUNCTIONS = 32
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
        out.append(f"def step_{k}_again(items, limit):")
        out.append("    ")  # an empty body, about to be written
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
        out.append(f"func step{k}Again(items []int, limit int) int {{")
        out.append("\t")  # an empty body, about to be written
        out.append("}")
        out.append("")
    return "\n".join(out) + "\n"


async def acceptance_demo(workdir: Path) -> dict[str, Any]:
    """The practice session in its own simulator, server and ledger: {"stats", "calibration"}."""
    simulator = Simulator()
    base_url = await simulator.start()
    simulator.quality.configure({"language_offsets": {"go": HIDDEN_GO_OFFSET}})
    config_path = workdir / "acceptance.toml"
    config = sim_config(base_url, cache_dir=str(workdir / "acceptance-cache"), ledger_dir=str(workdir / "acceptance"))
    config["completion"]["debounce_ms"] = 0
    # The practice session asks as an editor does while typing, one answer each (its driver's
    # requests are Invoked ones): alternatives would add premium items the simulated user never takes.
    config["completion"]["alternatives"] = False
    write_toml(config, config_path)
    session = await EditorSession.start(
        {
            "TIERLINE_CONFIG": str(config_path),
            "XDG_CACHE_HOME": str(workdir / "xdg-cache"),
            "XDG_STATE_HOME": str(workdir / "xdg-state"),
        }
    )
    try:
        stats = await practice_session(session, simulator, workdir)
    finally:
        await session.stop()
        await simulator.stop()
    return {"stats": stats, "calibration": calibration_preview(workdir / "acceptance")}


async def practice_session(session: EditorSession, simulator: Simulator, workdir: Path) -> dict[str, Any]:
    """Complete at the end of each statement line and at each empty body of the practice files,
    accept what the simulated user likes; returns tierline.stats after it."""
    for name, text, language in (("practice.py", practice_python(), "python"), ("practice.go", practice_go(), "go")):
        uri = (workdir / name).as_uri()
        session.open(uri, text, language)
        lines = text.split("\n")
        for line, content in enumerate(lines):
            empty_body = content != "" and not content.strip()
            opens_empty_body = line + 1 < len(lines) and lines[line + 1] != "" and not lines[line + 1].strip()
            if opens_empty_body:
                continue  # the body is asked for on its own line, as someone who pressed Enter
            if not empty_body and (
                not content.strip() or content.strip() == "}" or content.startswith(("import", "package"))
            ):
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
