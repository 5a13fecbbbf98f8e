"""Cross-file context (issue 20): recall, exact-match gain, request overhead, index cost.

    .venv/bin/python tests/benchmarks/bench_context.py [--mirrors /work/.mirror] [--json FILE]

Measures, printing a table and (with --json) the figures as JSON:
- context recall on tests/data/context_holes/holes.jsonl (180 holes from six repositories, read at
  their recorded commits from git mirrors): the share of holes whose needed definition (the
  function or class the hidden line calls, defined in another file) is in the prompt, at several
  budgets and at each tier's default budget;
- exact match with an answerer that is right only when the needed definition is in the prompt it
  receives (the chat prompt rendered as sent), with and without context;
- request overhead: `CompletionEngine.analyse` on a 10,000-line document with 20 documents open
  and the index built, with the default sources and with none (p50/p95, same positions);
- index build: a 5,000-file workspace (the six packages copied until 5,000 files) read by the
  server's worker processes: wall time, the workers' peak memory, the server process's resident
  memory growth (the table), and the event loop's lag while it builds (asyncio timer lateness).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "tests" / "benchmarks" / "context_holes"))

from extract import REPOSITORIES, git_dir  # noqa: E402

from tierline.analysis import languages  # noqa: E402
from tierline.analysis.documents import Document  # noqa: E402
from tierline.completion.pipeline import CompletionEngine  # noqa: E402
from tierline.config import default_config  # noqa: E402
from tierline.context import background  # noqa: E402
from tierline.context.gather import RepositoryContext  # noqa: E402
from tierline.prompt.snippet import DEFINITIONS  # noqa: E402
from tierline.prompt.window import chat_messages, cut_window  # noqa: E402

HOLES = ROOT / "tests" / "data" / "context_holes" / "holes.jsonl"
BUDGETS = (0, 256, 512, 768, 1024, 1536, 2048, 3072)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def materialise(mirrors: Path, into: Path) -> dict[str, Path]:
    """Each repository's package at its commit, written under `into`; repository -> root."""
    roots = {}
    for repository, commit, folder, _ in REPOSITORIES:
        git = git_dir(mirrors, repository)
        root = into / repository.replace("/", "+")
        names = subprocess.run(
            ["git", f"--git-dir={git}", "ls-tree", "-r", "--name-only", commit, folder],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        for name in names:
            if name.endswith(".py"):
                target = root / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(
                    subprocess.run(
                        ["git", f"--git-dir={git}", "show", f"{commit}:{name}"], check=True, capture_output=True
                    ).stdout
                )
        roots[repository] = root
    return roots


def built_context(root: Path) -> RepositoryContext:
    context = RepositoryContext(root, lambda uri: None)
    files = background.list_files(str(root), ())
    for path, definitions in background.read_batch(str(root), (), files):
        context.index.set(path, definitions)
    return context


def hole_document(root: Path, hole: dict[str, Any]) -> tuple[Document, int]:
    text = (root / hole["path"]).read_text()
    lines = text.splitlines(keepends=True)
    at = sum(len(line) for line in lines[: hole["line"] - 1]) + hole["column"]
    end = sum(len(line) for line in lines[: hole["function_end_line"] - 1])
    hidden = text[:at] + "\n" + text[end:]
    uri = (root / hole["path"]).as_uri()
    document = Document(uri, "python", 1, hidden.encode(), parser=languages.parser_for("python"))
    return document, len(text[:at].encode())


def needed_in(prompt: str, hole: dict[str, Any]) -> bool:
    """The needed definition is in the prompt: a block of one of its files that defines the name."""
    for path in hole["defined_in"]:
        for block in re.findall(rf'<snippet path="{re.escape(path)}"[^>]*>\n(.*?)</snippet>', prompt, re.S):
            if re.search(rf"^\s*(?:async\s+)?(?:def|class)\s+{re.escape(hole['symbol'])}\b", block, re.M):
                return True
    return False


def measure_recall(roots: dict[str, Path], holes: list[dict[str, Any]]) -> dict[str, Any]:
    config = default_config()
    completion = config.completion
    found = {budget: 0 for budget in BUDGETS}
    by_repository: dict[str, list[int]] = {}
    candidates_seen = 0
    for repository, root in roots.items():
        context = built_context(root)
        for hole in (h for h in holes if h["repository"] == repository):
            document, offset = hole_document(root, hole)
            before, after = document.text_around(offset, completion.prefix_chars * 2, completion.suffix_chars * 2)
            window = cut_window(
                before,
                after,
                "python",
                hole["path"].rsplit("/", 1)[-1],
                (completion.prefix_chars, completion.suffix_chars),
            )
            candidates = context.candidates(document, window.prefix, window.suffix, config.context.sources)
            candidates_seen += any(c.source == DEFINITIONS and hole["symbol"] in c.text for c in candidates)
            for budget in BUDGETS:
                chosen, _ = context.choose(candidates, budget, True)
                prompt = "\n".join(
                    m["content"] for m in chat_messages(window.__class__(**{**window.__dict__, "context": chosen}))
                )
                hit = needed_in(prompt, hole)
                found[budget] += hit
                if budget == config.context.budget("cheap"):
                    by_repository.setdefault(repository, []).append(int(hit))
    n = len(holes)
    recall = {budget: found[budget] / n for budget in BUDGETS}
    tiers = {tier: config.context.budget(tier) for tier in ("cheap", "mid", "premium")}
    return {
        "holes": n,
        "recall_by_budget": {str(b): round(r, 3) for b, r in recall.items()},
        "recall_at_default": {tier: round(recall[b] if b in recall else 0.0, 3) for tier, b in tiers.items()},
        "default_budgets": tiers,
        "candidate_recall": round(candidates_seen / n, 3),
        "recall_by_repository": {r: round(sum(v) / len(v), 3) for r, v in by_repository.items()},
        # The answerer is right exactly when the needed definition is in its prompt.
        "exact_match": {"without_context": round(recall[0], 3), "with_context": round(recall[tiers["cheap"]], 3)},
    }


def ten_thousand_lines(root: Path) -> str:
    source = "".join(p.read_text() for p in sorted(root.rglob("*.py")))
    lines = source.splitlines(keepends=True)
    while len(lines) < 10_000:
        lines += lines
    return "".join(lines[:10_000])


def overhead_engine(root: Path, sources: tuple[str, ...] | None) -> tuple[CompletionEngine, Document]:
    """An engine on `root` with its index built, 19 of its files and a 10,000-line document open."""
    import dataclasses

    config = default_config()
    if sources is not None:
        config = dataclasses.replace(config, context=dataclasses.replace(config.context, sources=sources))
    engine = CompletionEngine(config, env={}, workspace_root=root)
    context = engine.context
    for path, definitions in background.read_batch(str(root), (), background.list_files(str(root), ())):
        context.index.set(path, definitions)
    files = sorted(root.rglob("*.py"), key=lambda p: -p.stat().st_size)[:19]
    for path in files:
        document = Document(path.as_uri(), "python", 1, path.read_bytes(), parser=languages.parser_for("python"))
        context.opened(document)  # no event loop: read in this process, as the workers would
    big = root / "rich" / "big_module.py"
    document = Document(
        big.as_uri(), "python", 1, ten_thousand_lines(root).encode(), parser=languages.parser_for("python")
    )
    context.opened(document)
    for i, path in enumerate(files[:8]):  # edits in other documents, for the recent-edits ring
        context.recent.changed(os.path.relpath(path, root), 40 + i)
    return engine, document


def measure_overhead(roots: dict[str, Path], repeats: int) -> dict[str, Any]:
    """`analyse` with the default sources and with none, alternating position by position (a busy
    machine slows both alike); wall and CPU time."""
    root = roots["Textualize/rich"]
    engines = {"with_context": overhead_engine(root, None), "without": overhead_engine(root, ())}
    document = engines["without"][1]
    offsets = [m.end() for m in re.finditer(rb"\n        ", document.source)]
    offsets = offsets[:: max(1, len(offsets) // repeats)][:repeats]
    wall: dict[str, list[float]] = {label: [] for label in engines}
    cpu: dict[str, list[float]] = {label: [] for label in engines}
    for engine, doc in engines.values():
        engine.analyse(doc, offsets[0])  # warm: grammars, regular expressions
    for offset in offsets:
        for label, (engine, doc) in engines.items():
            started, started_cpu = time.perf_counter(), time.thread_time()
            engine.analyse(doc, offset)
            wall[label].append((time.perf_counter() - started) * 1000)
            cpu[label].append((time.thread_time() - started_cpu) * 1000)
    for engine, _ in engines.values():
        engine.context.close()
    out: dict[str, Any] = {"documents_open": 20, "lines": 10_000, "requests": len(offsets)}
    for label in engines:
        out[label] = {
            "p50_ms": round(statistics.median(wall[label]), 3),
            "p95_ms": round(percentile(wall[label], 95), 3),
            "cpu_p50_ms": round(statistics.median(cpu[label]), 3),
            "cpu_p95_ms": round(percentile(cpu[label], 95), 3),
        }
    for kind in ("p50_ms", "p95_ms", "cpu_p50_ms", "cpu_p95_ms"):
        out[f"overhead_{kind}"] = round(out["with_context"][kind] - out["without"][kind], 3)
    return out


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def five_thousand_files(roots: dict[str, Path], into: Path) -> int:
    """The six packages copied side by side until there are 5,000 files."""
    sources = [(root, p) for root in roots.values() for p in sorted(root.rglob("*.py"))]
    count = 0
    while count < 5_000:
        root, path = sources[count % len(sources)]
        target = into / f"copy{count // len(sources)}" / root.name / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        count += 1
    return count


async def measure_build(workspace: Path, files: int) -> dict[str, Any]:
    """The server's own build (worker process), while the loop measures its timer lateness."""
    context = RepositoryContext(workspace, lambda uri: None)
    lags: list[float] = []
    done = asyncio.Event()
    context._log_user = lambda text: done.set()  # noqa: SLF001 - the server logs when built

    async def ticker() -> None:
        while not done.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            lags.append((time.perf_counter() - started) * 1000 - 5)

    # The same lateness with nothing building first: the machine's own (other processes, the OS).
    control: list[float] = []
    until = time.perf_counter() + 5
    while time.perf_counter() < until:
        tick = time.perf_counter()
        await asyncio.sleep(0.005)
        control.append((time.perf_counter() - tick) * 1000 - 5)
    rss_before = resident_mb()
    started = time.perf_counter()
    context.start()
    await asyncio.gather(ticker(), done.wait())
    seconds = time.perf_counter() - started
    table_mb = resident_mb() - rss_before
    stats = context.status()
    pool = context._pool  # noqa: SLF001 - the workers' own peak memory, read before they exit
    workers = list(getattr(pool, "_processes", {}) or {}) if pool is not None else []
    worker_mb = [peak_mb(pid) for pid in workers]
    if pool is not None:  # wait for the workers: their CPU time is counted once they are reaped
        pool.shutdown(wait=True)
    context.close()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "files": stats.indexed_files,
        "definitions": stats.definitions,
        "files_read": files,
        "seconds": round(seconds, 2),
        "worker_cpu_seconds": round(children.ru_utime + children.ru_stime, 1),
        "worker_peak_rss_mb": [round(mb, 1) for mb in worker_mb],
        "server_rss_growth_mb": round(table_mb, 1),
        "loop_lag_p95_ms": round(percentile(lags, 95), 2),
        "loop_lag_max_ms": round(max(lags), 2),
        "idle_lag_p95_ms": round(percentile(control, 95), 2),
        "idle_lag_max_ms": round(max(control), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--build-only", nargs=2, metavar=("DIR", "FILES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only:
        print(json.dumps(asyncio.run(measure_build(Path(args.build_only[0]), int(args.build_only[1])))))
        return 0
    holes = [json.loads(line) for line in HOLES.read_text().splitlines()]
    with tempfile.TemporaryDirectory() as tmp:
        roots = materialise(args.mirrors, Path(tmp) / "repositories")
        recall = measure_recall(roots, holes)
        overhead = measure_overhead(roots, args.requests)
        big = Path(tmp) / "five-thousand"
        count = five_thousand_files(roots, big)
        # In a fresh process: its memory growth is the index's alone.
        run = subprocess.run(
            [sys.executable, __file__, "--build-only", str(big), str(count)], check=True, capture_output=True, text=True
        )
        build = json.loads(run.stdout)
    figures = {"recall": recall, "overhead": overhead, "build": build, "cpus": os.cpu_count()}
    print(json.dumps(figures, indent=2))
    print()
    print("budget (tokens)  " + "  ".join(f"{b:>5}" for b in BUDGETS))
    print("context recall   " + "  ".join(f"{recall['recall_by_budget'][str(b)]:>5.0%}" for b in BUDGETS))
    print(
        f"exact match: {recall['exact_match']['without_context']:.0%} without context, "
        f"{recall['exact_match']['with_context']:.0%} with (cheap's default budget)"
    )
    print(
        f"analyse p95: {overhead['with_context']['p95_ms']} ms with context, {overhead['without']['p95_ms']} ms without "
        f"(+{overhead['overhead_p95_ms']} ms)"
    )
    print(
        f"index: {build['files_read']} files ({build['files']} with definitions) in {build['seconds']} s "
        f"({build['worker_cpu_seconds']} s of worker CPU), worker peak {build['worker_peak_rss_mb']} MB, "
        f"server +{build['server_rss_growth_mb']} MB, loop lag p95 {build['loop_lag_p95_ms']} ms"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
