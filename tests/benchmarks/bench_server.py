"""Server overhead through the real LSP server over stdio, with the simulator at zero latency.

    .venv/bin/python tests/benchmarks/bench_server.py [--requests 200] [--json FILE]

Measures:
- routing overhead: a one-character edit and an inline completion request sent, until the
  simulator receives the HTTP request (both clocks are CLOCK_MONOTONIC on one machine), on
  200, 2,000, 10,000 and 50,000-line Python files built from real fixture code;
- cache-hit round trip: the same request again, request sent until the answer is back;
- `initialize`: process start until the initialize answer, tierline vs an empty pygls server;
- resident memory of the server with 100 documents open and parsed, and with the files above
  (the 50,000-line one included) open.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "server"))

from tierline.devtools.driver import EditorSession, initialize_params  # noqa: E402
from tierline.devtools.simulator import Simulator, sim_config, write_toml  # noqa: E402

FIXTURES = ROOT / "fixtures"
LANGUAGE_IDS = {
    ".py": "python",
    ".js": "javascript",
    ".ts": "typescript",
    ".tsx": "typescriptreact",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".cc": "cpp",
    ".rb": "ruby",
    ".lua": "lua",
}
EMPTY_SERVER = "from pygls.lsp.server import LanguageServer\nLanguageServer('empty', '1').start_io()\n"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def python_file(lines: int) -> str:
    """Real Python from the fixtures, repeated to the size, ending in a function to complete in."""
    source = "".join(p.read_text() for p in sorted((FIXTURES / "python").glob("*.py")))
    body = source.split("\n")
    out: list[str] = []
    while len(out) < lines - 4:
        out.extend(body[: lines - 4 - len(out)])
    return "\n".join(out) + "\n\ndef tail(value):\n    total = value\n    \n"


async def measure_overhead(
    session: EditorSession, simulator: Simulator, workdir: Path, lines: int, requests: int
) -> dict:
    uri = (workdir / f"big_{lines}.py").as_uri()
    text = python_file(lines)
    session.open(uri, text, "python")
    line = text.count("\n") - 1
    column = 4
    await session.complete(uri, line, column)  # warm up: parse, connection pool
    samples = []
    for _ in range(requests):
        before = len(simulator.requests)
        started = time.monotonic()
        session.type_text(uri, line, column, "z")
        column += 1
        completion = await session.complete(uri, line, column)
        new = simulator.requests[before:]
        if not new or completion.route is None or completion.route["cached"]:
            raise RuntimeError(f"request {len(samples)} did not reach the simulator: {completion.route}")
        samples.append((new[0]["received_at"] - started) * 1000)
    return {
        "lines": lines,
        "requests": requests,
        "p50_ms": round(percentile(samples, 50), 3),
        "p95_ms": round(percentile(samples, 95), 3),
        "max_ms": round(max(samples), 3),
    }


async def measure_cache_hit(session: EditorSession, workdir: Path, requests: int) -> dict:
    uri = (workdir / "hit.py").as_uri()
    session.open(uri, python_file(2000), "python")
    line = python_file(2000).count("\n") - 1
    await session.complete(uri, line, 4)
    samples = []
    for _ in range(requests):
        started = time.monotonic()
        completion = await session.complete(uri, line, 4)
        samples.append((time.monotonic() - started) * 1000)
        assert completion.route and completion.route["cached"], completion.route
    return {
        "requests": requests,
        "p50_ms": round(percentile(samples, 50), 3),
        "p95_ms": round(percentile(samples, 95), 3),
    }


async def time_initialize(command: list[str], env: dict[str, str]) -> float:
    client = LanguageClient("bench", "1")
    started = time.monotonic()
    await client.start_io(*command, env=env)
    await client.initialize_async(initialize_params())
    elapsed = (time.monotonic() - started) * 1000
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return elapsed


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def measure_memory(session: EditorSession, workdir: Path) -> dict:
    files = sorted(p for p in FIXTURES.rglob("*") if p.suffix in LANGUAGE_IDS)
    opened = 0
    while opened < 100:
        for path in files:
            if opened == 100:
                break
            uri = (workdir / f"doc{opened}{path.suffix}").as_uri()
            session.open(uri, path.read_text(encoding="utf-8", errors="replace"), LANGUAGE_IDS[path.suffix])
            # explain parses the document and summarizes its imports, as a completion would.
            await session.command("tierline.explain", uri, {"line": 10, "character": 0})
            opened += 1
    pid = session.client._server.pid  # type: ignore[attr-defined]
    return {"documents": opened, "rss_mb": round(rss_mb(pid), 1)}


async def run(requests: int) -> dict:
    results: dict = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}
    }
    with tempfile.TemporaryDirectory(prefix="tierline-bench-") as tmp:
        workdir = Path(tmp)
        simulator = Simulator()
        base_url = await simulator.start()
        config_path = workdir / "tierline.toml"
        config = sim_config(base_url, cache_dir=str(workdir / "cache"), ledger_dir=str(workdir / "state"))
        write_toml(config, config_path)
        env = {**os.environ, "TIERLINE_CONFIG": str(config_path), "XDG_CACHE_HOME": str(workdir / "xdg")}

        tierline_cmd = [sys.executable, "-m", "tierline", "serve"]
        empty_cmd = [sys.executable, "-c", EMPTY_SERVER]
        init_tierline, init_empty = [], []
        for _ in range(7):
            init_empty.append(await time_initialize(empty_cmd, env))
            init_tierline.append(await time_initialize(tierline_cmd, env))
        results["initialize"] = {
            "tierline_ms": round(statistics.median(init_tierline), 1),
            "empty_pygls_ms": round(statistics.median(init_empty), 1),
            "ratio": round(statistics.median(init_tierline) / statistics.median(init_empty), 2),
        }

        session = await EditorSession.start({"TIERLINE_CONFIG": str(config_path)})
        try:
            results["overhead"] = [
                await measure_overhead(session, simulator, workdir, n, requests) for n in (200, 2000, 10000, 50000)
            ]
            # Every file above is still open, the 50,000-line one included.
            results["memory_50k"] = {"rss_mb": round(rss_mb(session.client._server.pid), 1)}  # type: ignore[attr-defined]
            results["cache_hit"] = await measure_cache_hit(session, workdir, requests)
        finally:
            await session.stop()
        session = await EditorSession.start({"TIERLINE_CONFIG": str(config_path)})
        try:
            results["memory"] = await measure_memory(session, workdir)
        finally:
            await session.stop()
        await simulator.stop()
    return results


TARGETS = {
    "overhead_10k_p50_ms": 2.0,
    "overhead_10k_p95_ms": 5.0,
    "cache_hit_p50_ms": 3.0,
    "initialize_ratio": 1.5,
    "rss_mb": 150.0,
    "overhead_50k_p50_ms": 3.0,
    "overhead_50k_p95_ms": 10.0,
    "rss_50k_mb": 200.0,
}


def table(results: dict) -> str:
    rows = [
        ("routing overhead", f"{o['lines']} lines", f"p50 {o['p50_ms']:.2f} ms, p95 {o['p95_ms']:.2f} ms")
        for o in results["overhead"]
    ]
    hit = results["cache_hit"]
    rows.append(("cache hit round trip", "2000 lines", f"p50 {hit['p50_ms']:.2f} ms, p95 {hit['p95_ms']:.2f} ms"))
    init = results["initialize"]
    rows.append(
        (
            "initialize",
            "process start -> answer",
            f"{init['tierline_ms']:.0f} ms vs empty pygls {init['empty_pygls_ms']:.0f} ms ({init['ratio']}x)",
        )
    )
    mem = results["memory"]
    rows.append(("resident memory", f"{mem['documents']} documents open", f"{mem['rss_mb']:.1f} MB"))
    rows.append(("resident memory", "50,000-line file open", f"{results['memory_50k']['rss_mb']:.1f} MB"))
    ten_k = next(o for o in results["overhead"] if o["lines"] == 10000)
    fifty_k = next(o for o in results["overhead"] if o["lines"] == 50000)
    verdicts = {
        "overhead_10k_p50_ms": ten_k["p50_ms"] <= TARGETS["overhead_10k_p50_ms"],
        "overhead_10k_p95_ms": ten_k["p95_ms"] <= TARGETS["overhead_10k_p95_ms"],
        "cache_hit_p50_ms": hit["p50_ms"] <= TARGETS["cache_hit_p50_ms"],
        "initialize_ratio": init["ratio"] <= TARGETS["initialize_ratio"],
        "rss_mb": mem["rss_mb"] <= TARGETS["rss_mb"],
        "overhead_50k_p50_ms": fifty_k["p50_ms"] <= TARGETS["overhead_50k_p50_ms"],
        "overhead_50k_p95_ms": fifty_k["p95_ms"] <= TARGETS["overhead_50k_p95_ms"],
        "rss_50k_mb": results["memory_50k"]["rss_mb"] <= TARGETS["rss_50k_mb"],
    }
    results["targets_met"] = verdicts
    width = max(len(r[0]) for r in rows)
    lines = [f"{name:<{width}}  {what:<24}  {figure}" for name, what, figure in rows]
    lines.append("")
    lines += [f"target {name} <= {TARGETS[name]}: {'met' if ok else 'MISSED'}" for name, ok in verdicts.items()]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="requests per measurement (default 200)")
    parser.add_argument("--json", metavar="FILE", help="also write the JSON here")
    args = parser.parse_args()
    results = asyncio.run(run(args.requests))
    print(table(results))
    print(json.dumps(results, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
