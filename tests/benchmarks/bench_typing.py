"""Typing benchmark (issue 19): how soon ghost text follows the last keystroke, and what typing costs.

    .venv/bin/python tests/benchmarks/bench_typing.py [--bursts 12] [--seed 19] [--ttft 150,400]
        [--tiers cheap,premium] [--modes stream,whole] [--only tierline|direct] [--set KEY=VALUE ...]
        [--json FILE]

A seeded typist types real Python from `fixtures/python/` into a function, the way VS Code sends
it: every key a `didChange` and an automatic `textDocument/inlineCompletion`, the previous request
cancelled (`$/cancelRequest`). The typing model:
- bursts of 5-30 keys, gaps drawn around the typist's pace (a log-normal, median 120 ms) with
  jitter, clipped to 60-250 ms;
- a burst ends after `(`, `:`, `{`, `=`, `,` or a newline with probability 0.7 when it is long
  enough, else mid-word; then a pause of 0.9-1.6 s (long enough for any answer to come);
- Enter with the indentation (one change, as an editor's auto-indent sends it) at each line end;
- corrections: 3 % of keys are a wrong character, then a backspace (both sent as changes, and
  each asks for a completion, as VS Code does);
- typing what the ghost text shows: after a pause with ghost text shown, the next burst starts
  with its first 1-4 characters in 30 % of bursts.

The provider is the built-in simulator with a time to first token of 150 or 400 ms, streamed (the
rest of the answer over 200 ms more) or whole (all of it at the first token). Positions are all
cheap (thresholds 1.0) or all premium (thresholds 0.0), so one tier's prices and policy are seen
at a time. Each condition is run through `tierline serve` with default settings and through a
direct client (the same typing; on every key the previous HTTP call is closed and a new one made,
as a plugin with no server would).

Per condition:
- extra latency p50 / p95: (answer arrives - last keystroke of the burst) - the model's own time
  for the call that answered (at the simulator, its request's arrival to the first line, or to its
  end); negative when the answer's call began before the last key;
- requests per burst (LSP requests, or HTTP calls for the direct client) and billed calls per
  burst (a call is billed once its first token is out);
- spend and wasted spend per burst: the cost of billed calls whose answer was never shown
  (tierline: from its ledger; the direct client: calls closed after their first token).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "server"))

from tierline.accounting.ledger import Ledger  # noqa: E402
from tierline.completion import postprocess  # noqa: E402
from tierline.config import deep_merge, parse_config  # noqa: E402
from tierline.devtools.driver import EditorSession  # noqa: E402
from tierline.devtools.simulator import Simulator, sim_config, write_toml  # noqa: E402
from tierline.prompt.window import cut_window, prompt_tokens  # noqa: E402
from tierline.providers.base import CallRequest  # noqa: E402
from tierline.providers.openai import ProviderClient  # noqa: E402

FIXTURES = ROOT / "fixtures" / "python"
STREAM_REST_MS = 200
BURST_ENDS = "(:{=,"
HEADER = "import os\nimport json\n\n\ndef work(items, path):\n    "


# -- the typing model -------------------------------------------------------------------------------
@dataclass
class Key:
    text: str  # inserted at the cursor; "" = a backspace
    gap_s: float  # after the previous key


@dataclass
class Burst:
    keys: list[Key]
    pause_s: float  # after the last key
    accept_ghost: int  # type this many characters of the ghost text shown first (0: none)


def source_lines() -> list[str]:
    """Statements from the fixtures' function bodies, stripped of their indentation."""
    lines = []
    for path in sorted(FIXTURES.glob("*.py")):
        for line in path.read_text().splitlines():
            stripped = line.strip()
            if line.startswith("    ") and 8 <= len(stripped) <= 70 and not stripped.startswith(("#", '"')):
                lines.append(stripped)
    return lines


def typing_script(seed: int, bursts: int) -> list[Burst]:
    rng = random.Random(seed)
    lines = source_lines()
    text = ""
    while len(text) < bursts * 40:
        text += rng.choice(lines) + "\n"
    script, at = [], 0
    for _ in range(bursts):
        keys: list[Key] = []
        length = rng.randint(5, 30)
        while at < len(text):
            char = text[at]
            at += 1
            gap = min(0.25, max(0.06, rng.lognormvariate(-2.12, 0.35)))  # median ~120 ms
            if char == "\n":
                keys.append(Key("\n    ", gap))  # Enter, auto-indented
            else:
                if rng.random() < 0.03:
                    keys.append(Key(rng.choice("qxzjv"), gap))
                    keys.append(Key("", min(0.25, gap * 1.5)))
                keys.append(Key(char, gap))
            if len(keys) >= length and (char in BURST_ENDS or char == "\n" or rng.random() < 0.3):
                break
            if len(keys) >= 40:
                break
        accept = rng.randint(1, 4) if rng.random() < 0.3 else 0
        script.append(Burst(keys, rng.uniform(0.9, 1.6), accept))
    return script


# -- the two clients ------------------------------------------------------------------------------
@dataclass
class BurstResult:
    started: float
    last_key: float
    answered_at: float | None = None
    requests: int = 0
    ghost: str | None = None
    answer_request: str | None = None  # tierline: the request id whose answer was shown
    reason: str = ""  # tierline: the answer's didRoute reason and latency (debugging)


@dataclass
class Document:
    """The document the typist edits, as the client sees it (line and column of the cursor)."""

    text: str = HEADER

    def insert(self, piece: str) -> tuple[tuple[int, int], tuple[int, int]]:
        line, column = self.cursor()
        if piece:
            self.text += piece
            return (line, column), (line, column)
        self.text = self.text[:-1]
        return (line, column - 1), (line, column)

    def cursor(self) -> tuple[int, int]:
        line = self.text.count("\n")
        return line, len(self.text) - (self.text.rfind("\n") + 1)


@dataclass
class Run:
    bursts: list[BurstResult] = field(default_factory=list)
    shown_requests: set[str] = field(default_factory=set)


async def wait_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


def completion_params(uri: str, line: int, column: int) -> types.InlineCompletionParams:
    return types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=column),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
    )


async def type_into_tierline(session: EditorSession, uri: str, script: list[Burst]) -> Run:
    """Type the script as VS Code does; the answer to each burst's last key is awaited."""
    client = session.client
    document, run = Document(), Run()
    session.open(uri, document.text, "python")
    await session.command("tierline.stats")  # the server is up and the document open
    ghost: str | None = None
    pending: list[tuple[Any, str]] = []  # (future, message id) of the request not answered yet
    for burst in script:
        keys = list(burst.keys)
        if burst.accept_ghost and ghost:
            keys = [Key(c, 0.1) for c in ghost[: burst.accept_ghost]] + keys
        moment = time.monotonic()
        result = BurstResult(started=moment, last_key=moment)
        answers: dict[int, Any] = {}
        for index, key in enumerate(keys):
            moment += key.gap_s if index else 0.0
            await wait_until(moment)
            for future, msg_id in pending:
                if not future.done():
                    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
            pending = []
            start, end = document.insert(key.text)
            session.replace(uri, start, end, key.text)
            line, column = document.cursor()
            before = set(client.protocol._request_futures)
            future = client.text_document_inline_completion(completion_params(uri, line, column))
            [msg_id] = set(client.protocol._request_futures) - before
            pending.append((future, msg_id))
            result.last_key = time.monotonic()
            result.requests += 1
            if index == len(keys) - 1:
                answers[index] = future
        routes_before = len(session.routes)
        final = asyncio.wrap_future(answers[len(keys) - 1])
        try:
            reply = await asyncio.wait_for(final, burst.pause_s + 3)
            result.answered_at = time.monotonic()
        except Exception:  # cancelled or too slow: no ghost text for this burst
            reply = None
        pending = []
        items = reply.items if isinstance(reply, types.InlineCompletionList) else (reply or [])
        ghost = items[0].insert_text if items else None
        if not isinstance(ghost, str):
            ghost = None
        result.ghost = ghost
        if ghost is None:
            result.answered_at = None
        for route in session.routes[routes_before:]:
            if route.get("model") and not route.get("excluded"):
                result.answer_request = route["request_id"]
                result.reason = f"{route.get('reason', '')} {route.get('latency_ms')}"
        run.bursts.append(result)
        await wait_until(result.last_key + burst.pause_s)
    for route in session.routes:  # every shown answer (mid-burst ones too), and reused calls
        if route.get("model"):
            run.shown_requests.add(route["request_id"])
            reason = route.get("reason", "")
            if "the call of request " in reason:
                run.shown_requests.add(reason.split("the call of request ", 1)[1].split(",", 1)[0])
    return run


async def type_direct(simulator: Simulator, config: dict[str, Any], tier: str, script: list[Burst]) -> Run:
    """The same typing with no server: a new HTTP call on every key, the previous one closed."""
    model = parse_config(config).models_in(tier)[0]
    provider = ProviderClient()
    document, run = Document(), Run()
    ghost: str | None = None
    calls: list[asyncio.Task[Any]] = []
    try:
        for burst in script:
            keys = list(burst.keys)
            if burst.accept_ghost and ghost:
                keys = [Key(c, 0.1) for c in ghost[: burst.accept_ghost]] + keys
            moment = time.monotonic()
            result = BurstResult(started=moment, last_key=moment)
            task: asyncio.Task[Any] | None = None
            for index, key in enumerate(keys):
                moment += key.gap_s if index else 0.0
                await wait_until(moment)
                if task is not None and not task.done():
                    task.cancel()
                document.insert(key.text)
                window = cut_window(document.text, "\n", "python", "work.py", (3000, 1000))
                request = CallRequest(model, window, None, 128, window.mid_line, postprocess.first_line_complete)
                task = asyncio.ensure_future(provider.complete(request))
                calls.append(task)
                result.last_key = time.monotonic()
                result.requests += 1
            assert task is not None
            try:
                answer = await asyncio.wait_for(asyncio.shield(task), burst.pause_s + 3)
                result.answered_at = time.monotonic()
                ghost = postprocess.clean(answer.text, window, window.mid_line) or None
            except Exception:
                ghost = None
            result.ghost = ghost
            run.bursts.append(result)
            await wait_until(result.last_key + burst.pause_s)
    finally:
        await provider.aclose()
    return run


# -- measuring ------------------------------------------------------------------------------------
def percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def model_time_ms(record: dict[str, Any], ttft_ms: float, streamed: bool) -> float:
    """The provider's own time for a call, as the simulator served it: its arrival to its end,
    or to the moment the client had what it needed and hung up."""
    duration = record.get("duration_ms")
    if duration is None:
        return ttft_ms + (STREAM_REST_MS if streamed else 0.0)
    return float(duration)


def summarise(
    run: Run, records: list[dict[str, Any]], ledger: list[dict[str, Any]] | None, condition: dict[str, Any]
) -> dict[str, Any]:
    calls = [r for r in records if r["path"].endswith("completions")]
    extra, answered = [], 0
    for burst in run.bursts:
        if burst.answered_at is None:
            continue
        answered += 1
        # The call that answered: the latest billed call to arrive before the answer did.
        billed_before = [r for r in calls if r["first_token"] and r["received_at"] <= burst.answered_at]
        if not billed_before:
            continue
        record = billed_before[-1]
        felt_ms = (burst.answered_at - burst.last_key) * 1000
        extra.append(felt_ms - model_time_ms(record, condition["ttft_ms"], condition["streamed"]))
        if os.environ.get("BENCH_TYPING_DEBUG"):
            print(
                f"  felt {felt_ms:.0f} model {model_time_ms(record, condition['ttft_ms'], condition['streamed']):.0f}"
                f" requests {burst.requests} {burst.reason[-90:]}",
                file=sys.stderr,
            )
    billed = [r for r in calls if r["first_token"]]
    count = len(run.bursts)
    if os.environ.get("BENCH_TYPING_DEBUG"):
        for burst in run.bursts:
            inside = [r for r in billed if burst.started - 0.01 <= r["received_at"] <= burst.last_key + 1.0]
            print(
                f"  burst {burst.last_key - burst.started:.2f}s:"
                f" billed at {[round(r['received_at'] - burst.started, 2) for r in inside]}",
                file=sys.stderr,
            )
    if ledger is not None:
        paid = [row for row in ledger if row["cost_usd"] > 0 and not row["cached"]]
        spend = sum(row["cost_usd"] for row in paid)
        wasted = sum(row["cost_usd"] for row in paid if row["request_id"] not in run.shown_requests)
    else:  # the direct client: a billed call that did not end well was closed after its first token
        price = condition["price"]
        spend = sum(price for _ in billed)
        wasted = sum(price for r in billed if r["outcome"] not in ("ok",))
    return {
        "bursts": count,
        "answered": answered,
        "extra_ms_p50": _round(percentile(extra, 50)),
        "extra_ms_p95": _round(percentile(extra, 95)),
        "requests_per_burst": round(sum(b.requests for b in run.bursts) / count, 2),
        "calls_per_burst": round(len(calls) / count, 2),
        "billed_per_burst": round(len(billed) / count, 2),
        "spend_per_burst_usd": round(spend / count, 8),
        "wasted_per_burst_usd": round(wasted / count, 8),
        "wasted_share": round(wasted / spend, 3) if spend else 0.0,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def ledger_rows(directory: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(directory / Ledger.FILENAME) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("SELECT * FROM calls")]


async def run_condition(
    args: argparse.Namespace, script: list[Burst], ttft: int, streamed: bool, tier: str, client: str, work: Path
) -> dict[str, Any]:
    simulator = Simulator()
    await simulator.start()
    latency = ttft + (STREAM_REST_MS if streamed else 0)
    simulator.set_behaviour("*", ttft_ms=ttft, latency_ms=latency)
    name = f"{client}-{tier}-{ttft}-{'stream' if streamed else 'whole'}"
    directory = work / name
    thresholds = {"mid": 1.0, "premium": 1.0} if tier == "cheap" else {"mid": 0.0, "premium": 0.0}
    overrides: dict[str, Any] = {"routing": {"thresholds": thresholds}}
    for setting in args.set:
        key, value = setting.split("=", 1)
        section, option = key.split(".", 1)
        overrides.setdefault(section, {})[option] = json.loads(value)
    config = deep_merge(
        sim_config(simulator.base_url, cache_dir=str(directory / "cache"), ledger_dir=str(directory / "state")),
        overrides,
    )
    condition: dict[str, Any] = {"client": client, "tier": tier, "ttft_ms": ttft, "streamed": streamed}
    model = parse_config(config).models_in(tier)[0]
    try:
        if client == "direct":
            # A billed call is priced as tierline prices it: the prompt and about a line of answer.
            window = cut_window(HEADER, "\n", "python", "work.py", (3000, 1000))
            condition["price"] = model.cost_usd(prompt_tokens(window) + 150, 16)
            run = await type_direct(simulator, config, tier, script)
            ledger = None
        else:
            config_path = directory / "tierline.toml"
            directory.mkdir(parents=True, exist_ok=True)
            write_toml(config, config_path)
            env = {"TIERLINE_CONFIG": str(config_path), "XDG_STATE_HOME": str(directory / "xdg")}
            session = await EditorSession.start(env, root_uri=directory.as_uri())
            try:
                run = await type_into_tierline(session, (directory / "work.py").as_uri(), script)
            finally:
                await session.stop()
            ledger = ledger_rows(directory / "state")
        summary = summarise(run, simulator.requests, ledger, condition)
    finally:
        await simulator.stop()
    condition.pop("price", None)
    return {**condition, "model": model.name, **summary}


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "client    tier     ttft  provider  extra p50  extra p95  req/burst  billed/burst"
        "  spend/burst   wasted/burst  wasted"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        p50 = "-" if r["extra_ms_p50"] is None else f"{r['extra_ms_p50']:.0f} ms"
        p95 = "-" if r["extra_ms_p95"] is None else f"{r['extra_ms_p95']:.0f} ms"
        lines.append(
            f"{r['client']:<9} {r['tier']:<8} {r['ttft_ms']:>4}  {'stream' if r['streamed'] else 'whole':<8}"
            f"  {p50:>9}  {p95:>9}  {r['requests_per_burst']:>9.1f}  {r['billed_per_burst']:>12.2f}"
            f"  ${r['spend_per_burst_usd']:>10.6f}  ${r['wasted_per_burst_usd']:>11.6f}  {r['wasted_share'] * 100:>5.1f} %"
        )
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    script = typing_script(args.seed, args.bursts)
    keys = sum(len(b.keys) for b in script)
    rows = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-typing-") as tmp:
        for ttft in args.ttft:
            for streamed in [mode == "stream" for mode in args.modes]:
                for tier in args.tiers:
                    for client in ("tierline", "direct"):
                        if args.only and client != args.only:
                            continue
                        row = await run_condition(args, script, ttft, streamed, tier, client, Path(tmp))
                        rows.append(row)
                        print(json.dumps(row), file=sys.stderr, flush=True)
    return {
        "seed": args.seed,
        "bursts": args.bursts,
        "keys": keys,
        "gaps_ms_median": round(statistics.median(k.gap_s for b in script for k in b.keys[1:]) * 1000),
        "settings": args.set,
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "load_1min_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        },
        "conditions": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bursts", type=int, default=12)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--ttft", type=lambda s: [int(x) for x in s.split(",")], default=[150, 400])
    parser.add_argument("--only", choices=("tierline", "direct"))
    parser.add_argument("--tiers", type=lambda s: s.split(","), default=["cheap", "premium"])
    parser.add_argument("--modes", type=lambda s: s.split(","), default=["stream", "whole"])
    parser.add_argument("--set", action="append", default=[], help="a config override, e.g. completion.debounce_ms=75")
    parser.add_argument("--json", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    print()
    print(
        f"{result['bursts']} bursts, {result['keys']} keys (median gap {result['gaps_ms_median']} ms), seed {result['seed']}; "
        f"{result['machine']['cores']} cores, load {result['machine']['load_1min_before_after']}"
    )
    print(table(result["conditions"]))


if __name__ == "__main__":
    main()
