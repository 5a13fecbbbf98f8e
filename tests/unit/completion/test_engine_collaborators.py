"""The engine's collaborators come in through its constructor (completion/collaborators.py): a
test gives its own provider, books and clock, and sees the engine use them, without touching the
engine's private methods."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.providers import LedgerRows
from tierline.analysis.documents import Document
from tierline.analysis.languages import parser_for
from tierline.completion.collaborators import Clock, Collaborators
from tierline.completion.pipeline import CompletionEngine
from tierline.completion.request import CursorRequest
from tierline.config import parse_config
from tierline.providers.base import CallRequest, CallResult

SOURCE = b"def add(a, b):\n    "
ANSWER = "return a + b"
CHEAP = {
    "name": "fake-cheap",
    "tier": "cheap",
    "base_url": "http://127.0.0.1:9/v1",  # never dialled: the fake provider answers
    "model": "fake",
    "input_per_mtok": 1.0,
    "output_per_mtok": 2.0,
}


class FakeClock:
    """Seconds that move only when told: the debounce's wait and the provider's call move them."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.waits: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.t += seconds


class FakeProvider:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[CallRequest] = []

    async def complete(self, call: CallRequest) -> CallResult:
        self.calls.append(call)
        self.clock.t += 0.25  # the call takes 250 ms on the engine's clock
        return CallResult(ANSWER, 1000, 10, 0, True, 250.0, 50.0, "stop")

    async def aclose(self) -> None:
        pass


async def test_the_engine_calls_the_given_provider_waits_on_the_given_clock_and_records_in_the_given_books(
    tmp_path: Path,
) -> None:
    config = parse_config(
        {
            "models": [CHEAP],
            "routing": {"thresholds": {"mid": 1.0, "premium": 1.0}},
            "completion": {"debounce_ms": 200},
            "cache": {"dir": str(tmp_path / "cache")},
            "ledger": {"dir": str(tmp_path / "state")},
        }
    )
    clock = FakeClock()
    provider = FakeProvider(clock)
    books = LedgerRows(config, lambda level, text: None, {})
    engine = CompletionEngine(
        config, env={}, collaborators=Collaborators(provider, books, Clock(clock.now, clock.sleep))
    )
    document = Document("file:///w/utils.py", "python", 1, SOURCE, parser=parser_for("python"))
    try:
        routed = await engine.complete(CursorRequest(document, len(SOURCE), automatic=True))
    finally:
        await engine.aclose()

    assert routed.text == ANSWER
    assert [call.model.name for call in provider.calls] == ["fake-cheap"]
    assert clock.waits == [0.2]  # the debounce, waited on the given clock
    assert routed.route is not None and routed.route["latency_ms"] == 250.0  # measured on the given clock
    (row,) = books.rows
    assert (row.model, row.outcome, row.tokens_in, row.tokens_out) == ("fake-cheap", "ok", 1000, 10)
    assert row.cost_usd == (1000 * 1.0 + 10 * 2.0) / 1_000_000


PREMIUM = {**CHEAP, "name": "fake-premium", "tier": "premium", "input_per_mtok": 5.0, "output_per_mtok": 25.0}


async def test_an_automatic_request_in_a_document_nobody_typed_in_does_not_wait(tmp_path: Path) -> None:
    """The cost-aware wait guards against the next key of a burst; a request in a file just opened
    (the cursor moved there, nothing typed) has no burst to wait out, even at premium prices. The
    same request after a key waits."""
    config = parse_config(
        {
            "models": [PREMIUM],
            "routing": {"thresholds": {"mid": 0.0, "premium": 0.0}},
            "cache": {"dir": str(tmp_path / "cache")},
            "ledger": {"dir": str(tmp_path / "state")},
        }
    )
    clock = FakeClock()
    books = LedgerRows(config, lambda level, text: None, {})
    engine = CompletionEngine(
        config, env={}, collaborators=Collaborators(FakeProvider(clock), books, Clock(clock.now, clock.sleep))
    )
    document = Document("file:///w/utils.py", "python", 1, SOURCE, parser=parser_for("python"))
    try:
        opened = await engine.complete(CursorRequest(document, len(SOURCE), automatic=True))
        document.apply_change((1, 4), (1, 4), "x", "utf-8")  # not what was shown: a new call
        typed = await engine.complete(CursorRequest(document, len(SOURCE) + 1, automatic=True))
    finally:
        await engine.aclose()

    assert opened.text == ANSWER and typed.text is not None
    assert clock.waits[0] == 0.0
    assert clock.waits[1] > 0.05  # a premium call after a key waits for the burst's next gap
