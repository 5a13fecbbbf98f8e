"""`tierline demo`: the simulator on loopback, the real server over LSP, a scripted editing session,
then a replayed session of a few hundred positions over `fixtures/` and what a month would cost."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types

from tierline.commands.demo_acceptance import acceptance_demo, acceptance_lines
from tierline.commands.demo_replay import (
    ReplayResult,
    find_fixtures,
    render_replay,
    replay_session,
)
from tierline.config.loading import MAX_LATENCY_VS_COST
from tierline.config.model import CompletionConfig
from tierline.config.toml_writer import write_toml
from tierline.devtools.corpus import corpus_completion
from tierline.devtools.driver import EditorSession
from tierline.devtools.simulator import Simulator, sim_config
from tierline.text_table import render_table

SIMPLE_PY = """\
def greet(name):
    return f"Hello, {name}!"


def add(a, b):
    
"""

TESTS_PY = """\
from utils import add, greet


def test_greet():
    assert greet("Ada") == "Hello, Ada!"


def test_add():
    


def test_add_negative():
    
"""

NESTED_PY = """\
import json

import httpx
import pandas as pd
from sqlalchemy import create_engine


class Loader:
    def __init__(self, dsn):
        self.engine = create_engine(dsn)

    def load(self, urls):
        frames = []
        for url in urls:
            try:
                
            except httpx.HTTPError:
                continue
        return pd.concat(frames)
"""
LOADER_CURSOR = (15, 16)  # in a try in a loop in a method: nesting 4, external imports

SYSTEM_C = """\
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "ring.h"

static void *worker(void *arg) {
    struct ring *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->lock);
        while (r->head == r->tail) {
            if (r->closed) {
                switch (r->mode) {
                case MODE_DRAIN:
                    if (munmap(r->base, r->size) != 0) {
                        
                    }
                    break;
                }
            }
        }
        pthread_mutex_unlock(&r->lock);
    }
    return NULL;
}
"""
RING_CURSOR = (19, 24)  # six blocks deep in a thread worker, with sockets, mmap, dlopen

# Latency per simulated model, so the demo shows the tiers' real-world ordering.
DEMO_LATENCY_MS = {
    "*": 40,
    "anthropic/claude-haiku-4.5": 90,
    "anthropic/claude-sonnet-4.5": 140,
    "anthropic/claude-opus-4.5": 220,
}


TYPED = 3  # characters of the shown completion typed before asking again

# A body that is right only with a definition from another file (issue 20): geometry.py is on disk,
# never opened; the index finds polygon_area and the prompt carries its definition.
CROSS_FILE = {
    "geometry.py": '''"""Plane geometry."""


def polygon_area(points):
    """Area of a simple polygon by the shoelace formula."""
    twice = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1]))
    return abs(twice) / 2
''',
    "plot.py": '''from .geometry import polygon_area


def plot_area(points):
    """Area enclosed by the plot's outline."""
    
''',
}
CROSS_FILE_CURSOR = (5, 4)


def _first_line(text: str | None, width: int = 46) -> str:
    """The completion as a table cell: its first line, and how many more there are."""
    lines = (text or "").split("\n")
    first = lines[0] if len(lines[0]) <= width else lines[0][: width - 1] + "…"
    return first + (f"  (+{len(lines) - 1} lines)" if len(lines) > 1 else "")


def _text_before(text: str, line: int, character: int) -> tuple[str, str]:
    lines = text.split("\n")
    return "\n".join([*lines[:line], lines[line][:character]]), "\n".join([lines[line][character:], *lines[line + 1 :]])


async def _session(workdir: Path, fixtures: Path | None) -> dict[str, Any]:
    simulator = Simulator()
    base_url = await simulator.start()
    # Plausible code for each language and position (devtools/corpus.py), not the tests' tagged lines.
    simulator.set_behaviour("*", corpus=True)
    for model, latency in DEMO_LATENCY_MS.items():
        simulator.set_behaviour(model, latency_ms=latency)
    config_path = workdir / "tierline.toml"
    config = sim_config(base_url, cache_dir=str(workdir / "cache"), ledger_dir=str(workdir / "state"))
    config["budget"]["daily_usd"] = 0  # the replay is a whole day's typing at once
    config["completion"]["debounce_ms"] = 0  # the replay's pauses are where it asks, not waits
    # The replay asks back to back, each answer awaited: the cost-aware wait would take every request
    # for a key inside a burst and wait out its gaps (90 of the demo's 105 s), and nothing is wasted
    # anyway. So the file says "latency is worth everything"; the rows above the replay are asked
    # under the default, set as editor settings (which may only lower it: config/tighten.py), so
    # their `felt` column is what a user would wait with the defaults.
    config["completion"]["latency_vs_cost"] = MAX_LATENCY_VS_COST
    write_toml(config, config_path)
    env = {
        "TIERLINE_CONFIG": str(config_path),
        "XDG_CACHE_HOME": str(workdir / "xdg-cache"),
        "XDG_STATE_HOME": str(workdir / "xdg-state"),
    }
    session = await EditorSession.start(env)
    session.settings({"completion": {"latency_vs_cost": CompletionConfig.latency_vs_cost}})
    rows: list[dict[str, Any]] = []
    replay: ReplayResult | None = None
    try:
        files = {
            "utils.py": (SIMPLE_PY, "python"),
            "test_utils.py": (TESTS_PY, "python"),
            "loader.py": (NESTED_PY, "python"),
            "ring.c": (SYSTEM_C, "c"),
        }
        uris = {name: (workdir / name).as_uri() for name in files}
        for name, (text, language) in files.items():
            session.open(uris[name], text, language)

        async def run(label: str, name: str, line: int, character: int, typed: str = "") -> str | None:
            # Asked as an editor asks while typing (automatic, right after the last keystroke): `felt`
            # is what the user waits for the ghost text, the server's wait included; `model` is the
            # model's own time for the calls it made.
            asked = time.monotonic()
            completion = await session.complete(uris[name], line, character, automatic=True)
            felt_ms = (time.monotonic() - asked) * 1000
            route = completion.route or {}
            attempts = route.get("attempts") or []
            # Why this tier: the signals that moved the score most (no model called).
            explained = await session.command("tierline.explain", uris[name], {"line": line, "character": character})
            why = top_signals(explained.get("contributions") or {})
            rows.append(
                {
                    "step": label,
                    "where": f"{name}:{line + 1}:{character + 1}",
                    "score": route.get("score"),
                    "tier": route.get("tier"),
                    "model": route.get("model"),
                    "cached": route.get("cached"),
                    "latency_ms": route.get("latency_ms"),
                    "felt_ms": round(felt_ms, 1),
                    "model_ms": round(sum(a["latency_ms"] for a in attempts), 1) if attempts else None,
                    "cost_usd": route.get("cost_usd", 0.0),
                    "text": completion.text,
                    "typed": typed,
                    "why": why,
                }
            )
            return completion.text

        shown = await run("simple function body", "utils.py", 5, 4)
        await run("same request again", "utils.py", 5, 4)
        if shown:
            # Typing the first characters of what is shown: the rest comes with no model call.
            session.type_text(uris["utils.py"], 5, 4, shown[:TYPED])
            await run("typed the start of it", "utils.py", 5, 4 + TYPED, typed=shown[:TYPED])
        await run("a test body", "test_utils.py", 8, 4)
        await run("nested loop, external imports", "loader.py", LOADER_CURSOR[0], LOADER_CURSOR[1])
        await run("threads, mmap, sockets, deep", "ring.c", RING_CURSOR[0], RING_CURSOR[1])
        await session.command("tierline.escalate")
        await run("escalated by the user", "test_utils.py", 12, 4)
        rows.append(await _cross_file_row(workdir, env))
        stats = await session.command("tierline.stats")
        if fixtures is not None:
            for model in DEMO_LATENCY_MS:  # the replay measures money, not waiting
                simulator.set_behaviour(model, latency_ms=0)
            session.settings({})  # the config file's: no waiting
            replay = await replay_session(session, fixtures, stats)
    finally:
        await session.stop()
        await simulator.stop()
    cheap, premium = (next(m["model"] for m in config["models"] if m["tier"] == t) for t in ("cheap", "premium"))
    hard_prefix, hard_suffix = _text_before(SYSTEM_C, *RING_CURSOR)
    contrast = {
        "where": f"ring.c:{RING_CURSOR[0] + 1}:{RING_CURSOR[1] + 1}",
        "cheap": corpus_completion(cheap, hard_prefix, hard_suffix, "c"),
        "premium": corpus_completion(premium, hard_prefix, hard_suffix, "c"),
    }
    return {
        "rows": rows,
        "stats": stats,
        "upstream_requests": len(simulator.requests),
        "hard_position": contrast,
        "replay": replay,
    }


async def _cross_file_row(workdir: Path, env: dict[str, str]) -> dict[str, Any]:
    """plot.py in a workspace of its own, asked once its index is built."""
    root = workdir / "shapes"
    (root / "shapes").mkdir(parents=True, exist_ok=True)
    for name, text in CROSS_FILE.items():
        (root / "shapes" / name).write_text(text)
    session = await EditorSession.start(env, root_uri=root.as_uri())
    session.client.feature(types.WINDOW_LOG_MESSAGE)(lambda params: None)  # "indexed ..." goes to a log
    try:
        uri = (root / "shapes" / "plot.py").as_uri()
        session.open(uri, CROSS_FILE["plot.py"], "python")
        position = {"line": CROSS_FILE_CURSOR[0], "character": CROSS_FILE_CURSOR[1]}
        for _ in range(200):  # the index is built in the background: a few tenths of a second
            if (await session.command("tierline.explain", uri, position))["context"]:
                break
            await asyncio.sleep(0.05)
        asked = time.monotonic()
        completion = await session.complete(uri, *CROSS_FILE_CURSOR)
        felt_ms = (time.monotonic() - asked) * 1000
    finally:
        await session.stop()
    route = completion.route or {}
    return {
        "step": "a definition from another file",
        "where": f"shapes/plot.py:{CROSS_FILE_CURSOR[0] + 1}:{CROSS_FILE_CURSOR[1] + 1}",
        "score": route.get("score"),
        "tier": route.get("tier"),
        "model": route.get("model"),
        "cached": route.get("cached"),
        "latency_ms": route.get("latency_ms"),
        "felt_ms": round(felt_ms, 1),
        "model_ms": round(sum(a["latency_ms"] for a in route.get("attempts") or []), 1) or None,
        "cost_usd": route.get("cost_usd", 0.0),
        "text": completion.text,
        "typed": "",
    }


def top_signals(contributions: dict[str, float], count: int = 3) -> list[tuple[str, float]]:
    """The signals that moved a score most, largest first (the base left out)."""
    parts = [(name, part) for name, part in contributions.items() if name != "base" and abs(part) >= 0.005]
    return sorted(parts, key=lambda item: -abs(item[1]))[:count]


def why_lines(rows: list[dict[str, Any]]) -> list[str]:
    """One line per scripted position: what made its score (`tierline score` shows every signal)."""
    lines = ["Why these scores (the signals that moved each most; `tierline score FILE:LINE:COL` shows all):"]
    seen = set()
    for i, row in enumerate(rows):
        if not row.get("why") or row["where"] in seen or row["cached"]:
            continue
        seen.add(row["where"])
        parts = ", ".join(f"{name} {part:+.2f}" for name, part in row["why"])
        lines.append(f"  {i + 1}  {row['where']:<20} {parts}")
    return lines


def _completion_cell(row: dict[str, Any]) -> str:
    if row["typed"]:
        return f'typed "{row["typed"]}", the rest shown: "{_first_line(row["text"], 30)}"'
    return _first_line(row["text"])


def demo_result() -> dict[str, Any]:
    """The whole demo's figures (what `tierline demo --json` prints): the scripted rows, the replay
    and the acceptance block, each from its own simulator, server and ledger in a temporary folder."""
    fixtures = find_fixtures()
    with tempfile.TemporaryDirectory(prefix="tierline-demo-") as tmp:
        result = asyncio.run(_session(Path(tmp), fixtures))
        result["acceptance"] = asyncio.run(acceptance_demo(Path(tmp)))
    return result


def demo_text(result: dict[str, Any]) -> str:
    """What `tierline demo` prints for `result` (no trailing newline)."""
    rows = result["rows"]
    out = ["tierline demo: the real server over LSP, the built-in simulator as the model provider (offline)", ""]
    table = [
        [
            i + 1,
            r["step"],
            r["where"],
            f"{r['score']:.2f}" if r["score"] is not None else "-",
            r["tier"] or "-",
            r["model"] or "-",
            "yes" if r["cached"] else "no",
            f"{r['felt_ms']:.0f} ms",
            f"{r['model_ms']:.0f} ms" if r["model_ms"] is not None else "-",
            f"${r['cost_usd']:.6f}",
            _completion_cell(r),
        ]
        for i, r in enumerate(rows)
    ]
    out.append(
        render_table(
            ["#", "request", "where", "score", "tier", "model", "cached", "felt", "model time", "cost", "completion"],
            table,
        )
    )
    out += ["", *why_lines(rows)]
    stats = result["stats"]
    out += [
        "",
        f"{stats['requests']} requests, {stats['model_calls']} model calls, {stats['cache_hits']} cache hits; "
        f"spent ${stats['spend_usd']:.6f} vs ${stats['premium_baseline_usd']:.6f} if every call had gone premium: "
        f"saved {stats['savings_pct']:.1f}%",
    ]
    hard = result["hard_position"]
    out += ["", f"At the hard position {hard['where']} (a lock held, munmap failed) the tiers answer differently:"]
    for tier, note in (("cheap", "   <- returns with the lock still held"), ("premium", "")):
        lines = hard[tier].split("\n")
        out.append(f"  {tier:<8} " + "\n           ".join(line.strip() for line in lines) + note)
    if result["replay"] is not None:
        out += ["", render_replay(result["replay"])]
    else:
        out += ["", "(fixtures/ not found: the replayed session needs a checkout of the repository)"]
    out += ["", *acceptance_lines(result["acceptance"]["stats"], result["acceptance"]["calibration"])]
    out += [
        "",
        "The demo booked its calls in a ledger of its own, deleted now: `tierline report` shows your",
        "own completions only, once an editor has asked the server for some (README: Editors).",
    ]
    return "\n".join(out)


def run_demo(as_json: bool = False) -> int:
    result = demo_result()
    if as_json:
        print(json.dumps(result, indent=2))
        return 0
    print(demo_text(result))
    rows = result["rows"]
    return 0 if rows and all(r["text"] for r in rows) else 1
