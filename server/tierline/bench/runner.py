"""Running a bench: each position asked of each model through the server's own code.

Every call goes through `CompletionEngine` as a request would: the window it cuts, redaction, the
budget hold, the provider client, breakers, post-processing and the ledger (rows marked `bench`).
Only the choice of model differs: the bench names it (a walk of one model, no fallback, no
downshift), so each model answers every position. The cache is neither read nor written.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tierline.accounting.books import Books
from tierline.accounting.ledger import CallRow
from tierline.analysis.documents import Document, utf8
from tierline.analysis.languages import parser_for
from tierline.bench.positions import Position
from tierline.bench.scores import edit_similarity, exact, parses
from tierline.completion.pipeline import CompletionEngine
from tierline.completion.request import Analysis, CursorRequest, RequestState
from tierline.config import Config, ModelSpec
from tierline.config.model import TelemetryConfig
from tierline.prompt.tokens import estimate_tokens
from tierline.prompt.window import prompt_tokens
from tierline.routing.policy import Choice, FallbackWalk
from tierline.wire import Outcome

CONCURRENCY = 4


class BenchBooks(Books):
    """The engine's books, every ledger row marked `bench`, and each request's spend kept."""

    def __init__(self, config: Config, notify: Callable[[str, str], None]):
        super().__init__(config, notify)
        self.spent: dict[str, float] = {}

    def record(self, row: CallRow) -> None:
        self.spent[row.request_id] = self.spent.get(row.request_id, 0.0) + row.cost_usd
        super().record(dataclasses.replace(row, bench=True))


def bench_engine(config: Config, root: Path | None, notify: Callable[[str, str], None]) -> CompletionEngine:
    """The server's engine for the bench: a budget refusal stops a call instead of moving it down."""
    config = dataclasses.replace(config, budget=dataclasses.replace(config.budget, downshift=False))
    # Bench calls are not editor usage: the team's dashboards never see them (the ledger does).
    config = dataclasses.replace(config, telemetry=TelemetryConfig())
    engine = CompletionEngine(config, notify_user=notify, workspace_root=root)
    engine.books.close()
    engine.books = BenchBooks(config, notify)
    return engine


@dataclass
class Case:
    """A position as the bench asks it: the document without the hidden code, and its analysis."""

    position: Position
    document: Document
    offset: int
    analysis: Analysis
    tier: str  # the tier tierline routes it to
    weight: float = 1.0  # for the routed/all-premium figures: the repository's own tier mix
    judged: bool = False  # the file parsed before the code was hidden: parses is measured

    @property
    def ident(self) -> str:
        return self.position.ident


# Whether the file parsed before its code was hidden: the same text for every position sampled in
# it, so parsed once per file (a bench of 45 positions parsed 30 files 395 times).
_file_parses = functools.lru_cache(maxsize=64)(parses)


def make_case(engine: CompletionEngine, position: Position, uri: str) -> Case:
    text = position.before + position.after
    document = Document(uri, position.language, 1, utf8(text), parser=parser_for(position.language))
    offset = len(utf8(position.before))
    analysis = engine.analyse(document, offset)
    tier = engine.router.decide_tier(analysis.score, position.language, consume_escalation=False).tier
    whole = position.before + position.hidden + position.after
    return Case(position, document, offset, analysis, str(tier), judged=_file_parses(position.language, whole) is True)


@dataclass
class Result:
    """One model's answer at one position, scored. No code but the answer."""

    position: str
    model: str
    tier: str
    language: str
    answered: bool
    exact: bool
    edit_similarity: float
    parses: bool | None
    cost_usd: float
    latency_ms: float
    answer: str = ""
    outcome: str = "ok"

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def estimate_usd(case: Case, model: ModelSpec) -> float:
    """The call's price with the prompt the server builds and an answer as long as the hidden code."""
    return model.cost_usd(prompt_tokens(case.analysis.window), estimate_tokens(case.position.hidden))


def worst_case_usd(case: Case, model: ModelSpec, max_tokens: int) -> float:
    return model.cost_usd(prompt_tokens(case.analysis.window), max_tokens)


async def ask(engine: CompletionEngine, case: Case, model: ModelSpec) -> tuple[Result, bool]:
    """One call of one model at one position; (result, the budget refused it)."""
    # The cross-file snippets of the model's tier, as the server sends when it routes there.
    analysis = engine.with_context(case.analysis, model.tier)
    state = RequestState(CursorRequest(case.document, case.offset), analysis=analysis)
    language = case.position.language
    if not engine.router.health.healthy(model):
        return Result(
            case.ident, model.name, model.tier, language, False, False, 0.0, None, 0.0, 0.0, "", "breaker_open"
        ), False
    # The engine's own walk, with this one model: key, budget hold, call, clean, validate, ledger.
    answer = await engine.walk_models(state, FallbackWalk([Choice(model, "bench")]))
    books = engine.books
    spent = books.spent.pop(state.request_id, 0.0) if isinstance(books, BenchBooks) else 0.0
    last = state.attempts[-1] if state.attempts else None
    refused = last is not None and last.outcome == Outcome.SKIPPED_BUDGET
    latency = last.latency_ms if last is not None else 0.0
    if answer is None:
        outcome = last.outcome.value if last is not None else "no_call"
        return Result(
            case.ident, model.name, model.tier, language, False, False, 0.0, None, spent, latency, "", outcome
        ), refused
    hidden = case.position.hidden
    completed = case.position.before + answer.text + case.position.after
    return (
        Result(
            case.ident,
            model.name,
            model.tier,
            language,
            True,
            exact(answer.text, hidden),
            round(edit_similarity(answer.text, hidden), 4),
            parses(language, completed) if case.judged else None,
            spent,
            latency,
            answer.text,
        ),
        False,
    )


@dataclass
class Progress:
    """What the run has done: calls, spend, and why it stopped early."""

    total: int
    done: int = 0
    spent_usd: float = 0.0
    stopped: str = ""
    show: Callable[[Progress], None] = lambda progress: None


@dataclass
class Journal:
    """Results as they come, one JSON line each (for --resume and Ctrl-C)."""

    path: Path
    results: dict[tuple[str, str], Result] = field(default_factory=dict)

    def load(self) -> None:
        if not self.path.exists():
            return
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
                result = Result(**row)
            except (ValueError, TypeError):
                continue  # a line cut by an interruption
            self.results[(result.position, result.model)] = result

    def start_over(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path.write_text("", encoding="utf-8")

    def add(self, result: Result) -> None:
        self.results[(result.position, result.model)] = result
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(result.as_json()) + "\n")


async def run_jobs(
    engine: CompletionEngine,
    jobs: list[tuple[Case, ModelSpec]],
    journal: Journal,
    progress: Progress,
    limits: tuple[float | None, asyncio.Event],
) -> None:
    """Ask every (case, model) not in the journal yet, a few at a time; stop on the budget, on
    `max_usd` (never started past it: spent + the worst case of the calls under way) or on `stop`."""
    max_usd, stop = limits
    queue = [job for job in jobs if (job[0].ident, job[1].name) not in journal.results]
    progress.done = progress.total - len(queue)
    held: dict[int, float] = {}
    settled = asyncio.Event()  # a call under way finished: its hold is now spend
    max_tokens = engine.config.completion.max_tokens

    async def worker(number: int) -> None:
        while queue and not stop.is_set() and not progress.stopped:
            case, model = queue[0]
            worst = worst_case_usd(case, model, max_tokens)
            if max_usd is not None and progress.spent_usd + sum(held.values()) + worst > max_usd:
                if not held:
                    progress.stopped = f"--max-usd {max_usd:g} reached"
                    return
                settled.clear()
                await settled.wait()  # the calls under way settle first
                continue
            queue.pop(0)
            held[number] = worst
            try:
                result, refused = await ask(engine, case, model)
            finally:
                held.pop(number, None)
                settled.set()
            if refused:
                progress.stopped = "the budget is reached ([budget] in your config)"
                return
            journal.add(result)
            progress.done += 1
            progress.spent_usd += result.cost_usd
            progress.show(progress)

    workers = [asyncio.ensure_future(worker(n)) for n in range(CONCURRENCY)]
    stopper = asyncio.ensure_future(stop.wait())
    try:
        while not all(w.done() for w in workers):
            await asyncio.wait([*workers, stopper], return_when=asyncio.FIRST_COMPLETED)
            if stop.is_set():
                for w in workers:
                    w.cancel()  # hang up on the calls under way: the ledger keeps what they cost
                await asyncio.gather(*workers, return_exceptions=True)
                progress.stopped = progress.stopped or "interrupted"
                break
    finally:
        stopper.cancel()
    for w in workers:
        failure = w.exception() if w.done() and not w.cancelled() else None
        if failure is not None:
            raise failure
