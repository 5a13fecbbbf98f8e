"""`tierline bench [PATH]`: how each model, and tierline's routing, does on the code you have.

Positions are sampled in the repository (bench/positions.py), stratified over the tiers tierline
routes them to; the code after each is hidden and asked of each model through the server's own
engine (bench/runner.py); the answers are scored against what was there (bench/scores.py) and
summarised (bench/summary.py). Paid calls wait for a yes, `--max-usd` is a hard stop, results are
journaled as they come so Ctrl-C keeps them and `--resume` goes on.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from tierline.bench.arguments import DEFAULT_POSITIONS
from tierline.bench.positions import SourceFile, candidate_pool, stratify
from tierline.bench.render import format_html, format_text
from tierline.bench.runner import Case, Journal, Progress, bench_engine, estimate_usd, make_case, run_jobs
from tierline.bench.suite import SuiteError, read_suite
from tierline.bench.summary import Picks, summarise
from tierline.commands.estimate import code_files
from tierline.completion.pipeline import CompletionEngine
from tierline.config import ConfigError, ModelSpec, load_config
from tierline.providers.keys import MissingKey
from tierline.wire import TIERS

POOL_FACTOR = 5  # candidates drawn per position wanted: the tier mix is measured on them


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class _Notices:
    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, level: str, text: str) -> None:
        if text not in self.seen:
            self.seen.add(text)
            _say(text)


def _usable(engine: CompletionEngine, model: ModelSpec) -> bool:
    return not isinstance(engine.keys.key_for(model, quiet=True), MissingKey)


def _picks(engine: CompletionEngine, case: Case) -> Picks:
    by_tier: dict[str, str] = {}
    for tier in TIERS:
        usable = [
            c.model.name for c in engine.router.order_tier(tier, case.position.language) if _usable(engine, c.model)
        ]
        if usable:
            by_tier[tier] = usable[0]
    # A tier with no usable model: tierline's fallback goes up, never down.
    routed = next((by_tier[t] for t in TIERS[TIERS.index(case.tier) :] if t in by_tier), "")
    return Picks(by_tier, routed)


def _repository_cases(
    engine: CompletionEngine, root: Path, count: int, seed: int
) -> tuple[list[Case], dict[str, float], int]:
    """Stratified cases, each weighted back to the tier mix of the candidate pool; (cases, mix, files)."""
    files = [
        SourceFile(code.path, code.path.relative_to(root).as_posix(), code.language, code.lines)
        for code in code_files(root)
        if engine.privacy.excluded(code.path.as_uri()) is None  # an excluded file is never sampled
    ]
    pool = [make_case(engine, p, (root / p.path).as_uri()) for p in candidate_pool(files, count * POOL_FACTOR, seed)]
    by_ident = {c.ident: c for c in pool}
    chosen = [by_ident[p.ident] for p, _ in stratify([(c.position, c.tier) for c in pool], count, TIERS)]
    pool_counts, chosen_counts = Counter(c.tier for c in pool), Counter(c.tier for c in chosen)
    mix: dict[str, float] = {tier: pool_counts[tier] / len(pool) for tier in TIERS if pool_counts[tier]} if pool else {}
    for case in chosen:
        case.weight = len(chosen) * mix[case.tier] / chosen_counts[case.tier]
    return chosen, mix, len(files)


def _models_for(engine: CompletionEngine, case_picks: Picks, chosen: list[ModelSpec] | None, tiers: bool) -> list[str]:
    names = list(case_picks.by_tier.values()) if tiers else [m.name for m in chosen or []]
    for extra in (case_picks.routed, case_picks.premium):
        if extra and extra not in names:
            names.append(extra)
    return names


def _journal_path(engine: CompletionEngine, args: argparse.Namespace, root: Path, count: int) -> Path:
    what = json.dumps(
        [str(root), args.suite and str(Path(args.suite).resolve()), count, args.seed, args.models, args.tiers]
    )
    digest = hashlib.sha256(what.encode()).hexdigest()[:16]
    return engine.config.ledger.dir / "bench" / f"{digest}.jsonl"


def _confirm(estimate: float, calls: int, max_usd: float | None) -> bool:
    limit = f"; it stops at --max-usd ${max_usd:g}" if max_usd is not None else ""
    _say(f"tierline bench: {calls} model calls, estimated ${estimate:.4f}{limit}.")
    print("Go ahead? [y/N] ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def _progress_printer(interactive: bool) -> Any:
    last = {"step": -1}

    def show(progress: Progress) -> None:
        share = progress.done / progress.total if progress.total else 1.0
        bar = "#" * int(share * 30)
        line = f"[{bar:<30}] {progress.done}/{progress.total} calls, ${progress.spent_usd:.6f} spent"
        if interactive:
            print("\r" + line, end="" if progress.done < progress.total else "\n", file=sys.stderr, flush=True)
        elif int(share * 10) != last["step"]:
            last["step"] = int(share * 10)
            _say(line)

    return show


async def _run(
    engine: CompletionEngine,
    jobs: list[tuple[Case, ModelSpec]],
    journal: Journal,
    progress: Progress,
    max_usd: float | None,
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGINT, stop.set)  # Ctrl-C: hang up, keep what is done
    except (NotImplementedError, RuntimeError):
        pass
    try:
        await run_jobs(engine, jobs, journal, progress, (max_usd, stop))
    finally:
        loop.remove_signal_handler(signal.SIGINT)


def run_bench(args: argparse.Namespace) -> int:
    try:
        return _bench(args)
    except KeyboardInterrupt:  # before the calls began (sampling, the question): nothing was sent
        _say("\ntierline bench: interrupted before any call")
        return 130


def _bench(args: argparse.Namespace) -> int:
    root = Path(args.path or ".").resolve()
    if not root.is_dir():
        _say(f"tierline bench: {root} is not a directory")
        return 2
    try:
        config = load_config(root)
    except ConfigError as error:
        _say(f"tierline bench: {error}")
        return 2
    if args.positions is not None and args.positions < 1:
        _say("tierline bench: --positions must be at least 1")
        return 2
    logging.getLogger("tierline").setLevel(logging.ERROR)  # the user is told through notices, once each
    # A suite has no repository around it: no workspace, so no cross-file context either.
    engine = bench_engine(config, None if args.suite else root, _Notices())
    chosen: list[ModelSpec] | None = [m for m in config.models if _usable(engine, m)]
    for model in config.models:
        if not _usable(engine, model):
            _say(f"tierline bench: {model.name} is left out: ${model.api_key_env} is not set")
    if args.models:
        names = [n.strip() for n in args.models.split(",") if n.strip()]
        unknown = [n for n in names if config.model_named(n) is None]
        if unknown:
            _say(
                f"tierline bench: no model named {', '.join(unknown)} (configured: {', '.join(m.name for m in config.models)})"
            )
            return 2
        chosen = [m for m in config.models if m.name in names]
    if not any(_usable(engine, m) for m in config.models):
        _say("tierline bench: no configured model has its key set (tierline doctor says which)")
        return 2
    return asyncio.run(_measure(args, root, engine, chosen))


async def _index(engine: CompletionEngine) -> None:
    """The definitions index the server builds for cross-file context, built before any position
    is analysed, so each prompt carries the snippets the server's would."""
    engine.context.start()
    build = getattr(engine.context, "_build", None)  # the build `start` began (None: no workspace)
    if build is not None:
        await build


async def _measure(
    args: argparse.Namespace, root: Path, engine: CompletionEngine, chosen: list[ModelSpec] | None
) -> int:
    try:
        await _index(engine)
        return await _sample_ask_report(args, root, engine, chosen)
    finally:
        await engine.aclose()


async def _sample_ask_report(
    args: argparse.Namespace, root: Path, engine: CompletionEngine, chosen: list[ModelSpec] | None
) -> int:
    config = engine.config
    if args.suite:
        try:
            positions = read_suite(Path(args.suite))
        except SuiteError as error:
            _say(f"tierline bench: {error}")
            return 2
        positions = positions[: args.positions] if args.positions else positions
        cases = [make_case(engine, p, f"file:///suite/{p.filename}") for p in positions]
        mix: dict[str, float] = {}
        files = 0
        title_where = f"{args.suite} ({len(cases)} cases"
    else:
        count = args.positions or DEFAULT_POSITIONS
        cases, mix, files = _repository_cases(engine, root, count, args.seed)
        title_where = (
            f"{args.path or '.'} ({len(cases)} positions in {len({c.position.path for c in cases})} of {files} files"
        )
    if not cases:
        _say(f"tierline bench: no code files tierline reads under {root}")
        return 1
    picks = {c.ident: _picks(engine, c) for c in cases}
    jobs = [
        (case, spec)
        for case in cases
        for name in _models_for(engine, picks[case.ident], chosen, args.tiers)
        if (spec := config.model_named(name)) is not None and _usable(engine, spec)
    ]
    journal = Journal(_journal_path(engine, args, root, len(cases)))
    if args.resume:
        journal.load()
    else:
        journal.start_over()
    todo = [(c, m) for c, m in jobs if (c.ident, m.name) not in journal.results]
    estimate = sum(estimate_usd(c, m) for c, m in todo)
    if args.resume:
        _say(f"tierline bench: resuming, {len(jobs) - len(todo)} of {len(jobs)} calls already done")
    if todo and estimate > 0 and not args.yes and not _confirm(estimate, len(todo), args.max_usd):
        _say("tierline bench: nothing sent")
        return 1
    if todo and (args.yes or estimate == 0):
        _say(f"tierline bench: {len(todo)} model calls, estimated ${estimate:.4f}")
    progress = Progress(len(jobs), show=_progress_printer(sys.stderr.isatty()))
    await _run(engine, jobs, journal, progress, args.max_usd)
    model_tiers = {m.name: m.tier for _, m in jobs}
    result = summarise(
        cases,
        picks,
        journal.results,
        dict(sorted(model_tiers.items(), key=lambda kv: (TIERS.index(kv[1]), kv[0]))),
        args.seed,
    )
    result["tier_mix"] = {tier: round(share, 4) for tier, share in mix.items()}
    result["estimated_usd"] = round(estimate, 8)
    result["spent_usd"] = round(sum(r.cost_usd for r in journal.results.values()), 8)
    result["stopped"] = progress.stopped or None
    languages = len({c.position.language for c in cases})
    title = (
        f"tierline bench: {title_where}, {languages} languages; {len(journal.results)} calls, "
        f"${result['spent_usd']:.6f} spent)"
    )
    if args.html:
        Path(args.html).write_text(format_html(result, title), encoding="utf-8")
    print(json.dumps(result, indent=2) if args.json else format_text(result, title))
    if progress.stopped == "interrupted":
        _say("tierline bench: interrupted; what was done is kept, run the same command with --resume to go on")
        return 130
    return 0
