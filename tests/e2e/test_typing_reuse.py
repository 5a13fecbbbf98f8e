"""Typing while a call is under way (issue 19), over LSP against the simulator, as VS Code types:
every key a `didChange` and a new automatic request that supersedes the previous one.

A call whose answer agrees with what was typed since it began is kept and its answer, minus what
was typed, served to the newer request at no new cost; typing that makes the answer useless hangs
the call up, before its first token (unbilled) when it comes that early.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled

from tests.helpers.ledger import ledger_rows
from tests.helpers.lsp import CURSOR, UTILS_PY
from tests.helpers.lsp import completion_requests as model_calls
from tests.helpers.lsp import open_path as open_doc
from tierline.analysis.documents import Document
from tierline.analysis.languages import parser_for
from tierline.completion.pipeline import CompletionEngine
from tierline.completion.request import CursorRequest
from tierline.completion.session import GAP_PRIOR, PRIOR_WINDOW, Flight, Rhythm, agrees, key_kind, wait_s
from tierline.config import parse_config
from tierline.devtools.simulator import sim_config

ANSWER = "return a + b"
LINE, COLUMN = CURSOR


async def first_token_out(editor: Any, simulator: Any) -> None:
    """The simulator sent the first chunk of the call; two LSP round trips after it, the server
    has read it (its socket had the chunk before the requests were written)."""
    await simulator.wait_for(lambda r: r["first_token"], timeout=10)
    for _ in range(2):
        await editor.command("tierline.stats")


_SENT: dict[int, Any] = {}


def ask(editor: Any, uri: str, line: int, character: int) -> asyncio.Future[Any]:
    """An automatic request, sent now (as the editor sends one per key); its future."""
    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=character),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
    )
    sent = editor.client.text_document_inline_completion(params)
    future: asyncio.Future[Any] = asyncio.wrap_future(sent)
    _SENT[id(future)] = sent
    return future


def cancel(editor: Any, request: asyncio.Future[Any]) -> None:
    """`$/cancelRequest` for a request sent with `ask`, as the editor sends it on the next key."""
    futures = editor.client.protocol._request_futures
    [msg_id] = [key for key, future in futures.items() if future is _SENT[id(request)]]
    editor.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))


def shown(result: Any) -> str | None:
    items = result.items if isinstance(result, types.InlineCompletionList) else (result or [])
    return items[0].insert_text if items else None


def billed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row for row in rows if row["cost_usd"] > 0]


async def streaming_editor(start_editor: Any, simulator: Any, tmp_path: Path, **behaviour: Any) -> tuple[Any, str]:
    """A slow stream (its first word at once, the rest over 1.5 s) of a known answer."""
    simulator.set_behaviour("*", answer=ANSWER, **{"ttft_ms": 0, "latency_ms": 1500, **behaviour})
    editor = await start_editor()
    return editor, open_doc(editor, tmp_path / "utils.py", UTILS_PY)


async def test_typing_what_the_answer_says_costs_one_call_and_serves_the_rest(start_editor, simulator, tmp_path):
    editor, uri = await streaming_editor(start_editor, simulator, tmp_path)
    first = ask(editor, uri, LINE, COLUMN)
    await first_token_out(editor, simulator)

    editor.type_text(uri, LINE, COLUMN, "r")  # what the answer starts with
    second = ask(editor, uri, LINE, COLUMN + 1)
    editor.type_text(uri, LINE, COLUMN + 1, "e")
    third = await editor.complete(uri, LINE, COLUMN + 2, automatic=True)

    assert third.text == ANSWER[2:]  # the answer minus what was typed
    assert third.route["cost_usd"] == 0 and third.route["attempts"] == []
    assert shown(await first) is None and shown(await second) is None  # superseded
    assert len(model_calls(simulator)) == 1
    rows = ledger_rows(tmp_path / "state")
    assert len(billed(rows)) == 1 and billed(rows)[0]["outcome"] == "ok"


async def test_an_answer_that_came_after_its_request_was_cancelled_is_served_to_the_next_key(
    start_editor, simulator, tmp_path
):
    editor, uri = await streaming_editor(start_editor, simulator, tmp_path, latency_ms=300)
    first = ask(editor, uri, LINE, COLUMN)
    await first_token_out(editor, simulator)

    editor.type_text(uri, LINE, COLUMN, "ret")
    cancel(editor, first)  # the editor cancels the request; the call goes on
    with pytest.raises(JsonRpcRequestCancelled):
        await first
    await simulator.wait_for(lambda r: r["outcome"] != "pending", timeout=10)
    later = await editor.complete(uri, LINE, COLUMN + 3, automatic=True)

    assert [r["outcome"] for r in model_calls(simulator)] == ["ok"]  # not hung up on
    assert later.text == ANSWER[3:]
    assert later.route["cost_usd"] == 0
    assert len(billed(ledger_rows(tmp_path / "state"))) == 1


async def test_typing_that_contradicts_the_answer_hangs_the_call_up(start_editor, simulator, tmp_path):
    editor, uri = await streaming_editor(start_editor, simulator, tmp_path, latency_ms=5000)
    first = ask(editor, uri, LINE, COLUMN)
    await first_token_out(editor, simulator)

    editor.type_text(uri, LINE, COLUMN, "x")  # the answer starts with "r": no longer of use

    hung_up = await simulator.wait_for(lambda r: r["outcome"] == "disconnected", timeout=10)
    assert hung_up["first_token"]  # it had begun answering: billed for what it sent
    assert shown(await first) is None
    later = await editor.complete(uri, LINE, COLUMN + 1, automatic=True)
    assert later.route["attempts"] and later.route["attempts"][0]["outcome"] == "ok"  # a new call
    assert len(model_calls(simulator)) == 2


async def test_a_key_typed_before_the_first_token_hangs_the_call_up_unbilled(start_editor, simulator, tmp_path):
    editor, uri = await streaming_editor(start_editor, simulator, tmp_path, ttft_ms=5000, latency_ms=5000)
    first = ask(editor, uri, LINE, COLUMN)
    await simulator.wait_for(lambda r: r["outcome"] == "pending", timeout=10)

    editor.type_text(uri, LINE, COLUMN, "r")  # no new request: the change alone hangs it up

    hung_up = await simulator.wait_for(lambda r: r["outcome"] == "disconnected", timeout=10)
    assert not hung_up["first_token"]
    assert shown(await first) is None
    assert editor.routes[-1]["attempts"][0]["outcome"] == "cancelled"  # the server notifies before it answers
    assert billed(ledger_rows(tmp_path / "state")) == []


async def test_an_answer_for_code_changed_while_it_came_is_not_shown(simulator, tmp_path):
    # In the engine, with no `didChange` to hang the call up: the answer's own staleness check.
    simulator.set_behaviour("*", answer=ANSWER, latency_ms=300)
    engine = CompletionEngine(parse_config(sim_config(simulator.base_url, cache_dir=str(tmp_path / "c"))))
    source = UTILS_PY.encode()
    document = Document("file:///w/utils.py", "python", 1, source, parser=parser_for("python"))
    try:
        pending = asyncio.ensure_future(engine.complete(CursorRequest(document, len(source) - 1)))
        await simulator.wait_for(lambda r: r["outcome"] == "pending", timeout=10)
        document.apply_change((0, 0), (0, 0), "import os\n", "utf-16")  # before the cursor
        document.version += 1
        routed = await pending
    finally:
        await engine.aclose()
    assert routed.text is None
    assert routed.route is not None and "stale" in routed.route["reason"]
    assert routed.route["model"] == "qwen2.5-coder-32b"  # paid for, recorded (and cached), not shown


# -- the wait before an automatic call -------------------------------------------------------------
def test_a_premium_call_waits_out_the_burst_a_cheap_one_does_not():
    rhythm = Rhythm()
    cheap, premium = 3e-6, 2e-3  # a wasted call's cost at list prices, prompt and a line

    assert wait_s(rhythm, "word", cheap, 0.15, 1.0) == 0.0
    premium_wait = wait_s(rhythm, "word", premium, 0.15, 1.0)
    assert premium_wait > 0
    # With the model's first token later than any gap of the burst, no wait is needed: a call is
    # hung up unbilled when the next key comes.
    assert wait_s(rhythm, "word", premium, 0.5, 1.0) == 0.0
    # `latency_vs_cost`: latency worth less, a longer wait; worth more, a shorter one.
    mid = 4e-4
    waits = [wait_s(rhythm, "opener", mid, 0.05, value) for value in (0.1, 1.0, 10.0)]
    assert waits[0] > waits[1] > waits[2] == 0.0


async def test_the_wait_before_a_call_follows_the_price_of_the_tier(simulator, tmp_path):
    engine = CompletionEngine(parse_config(sim_config(simulator.base_url, cache_dir=str(tmp_path / "c"))))
    waits: list[float] = []

    async def observe_wait(seconds: float) -> None:
        assert len(model_calls(simulator)) == len(waits), "a model was called before the wait"
        waits.append(seconds)

    engine.sleep = observe_wait
    before = UTILS_PY[:-1] + "re\n"
    document = Document("file:///w/utils.py", "python", 1, before.encode(), parser=parser_for("python"))
    last_line = before.count("\n") - 1
    end = len(before.split("\n")[last_line])
    document.apply_change((last_line, end), (last_line, end), "t", "utf-8")  # mid-word: typing likely goes on
    source = document.source
    try:
        cheap = await engine.complete(CursorRequest(document, len(source) - 1, automatic=True))
        engine.escalate_next()  # the same position, sent to the premium tier
        premium = await engine.complete(CursorRequest(document, len(source) - 1, automatic=True))
    finally:
        await engine.aclose()

    assert cheap.route is not None and cheap.route["tier"] == "cheap"
    assert premium.route is not None and premium.route["tier"] == "premium"
    assert waits[0] == 0.0 < waits[1]  # a cheap call is not worth waiting for; a premium one is


def test_a_pause_after_an_opening_bracket_ends_a_burst_sooner_than_one_mid_identifier():
    rhythm = Rhythm()
    assert rhythm.goes_on("opener") < rhythm.goes_on("word")
    assert wait_s(rhythm, "opener", 4e-4, 0.05, 1.0) < wait_s(rhythm, "word", 4e-4, 0.05, 1.0)
    assert [key_kind(b"f(", 2), key_kind(b"x =", 3), key_kind(b"ab", 2), key_kind(b"a\n    ", 6)] == [
        "opener",
        "opener",
        "word",
        "newline",
    ]


def test_the_rhythm_learns_that_this_typist_pauses_after_a_word():
    rhythm = Rhythm()
    before = rhythm.goes_on("word")
    now = 0.0
    for _ in range(30):  # a word, then a two-second pause, again and again
        rhythm.key("file:///a.py", "word", now)
        now += 2.0
    assert rhythm.goes_on("word") < before / 2


def test_a_key_that_asked_for_nothing_does_not_teach_the_wait_a_gap_nobody_typed():
    # Keys 150 ms apart, every other one a backspace (which asks for no completion): the requests
    # come 300 ms apart, but the typist's gaps are 150 ms, and a premium call after a 0.1 s first
    # token needs to wait only ~65 ms to be hung up unbilled at the next key.
    rhythm = Rhythm()
    now = 0.0
    for _ in range(PRIOR_WINDOW + 6):  # the prior's gaps gone
        rhythm.key("file:///a.py", "word", now, previous_key_at=now - 0.15)
        now += 0.3
    assert max(rhythm.gaps()) == pytest.approx(0.15)
    assert wait_s(rhythm, "word", 2e-3, 0.1, 1.0) == pytest.approx(0.15 * 1.1 - 0.1)


def test_the_wait_covers_gaps_a_little_longer_than_any_seen():
    # 64 gaps of 200 ms (the prior's gone with them): a premium call after a 150 ms first token
    # waits past 50 ms, since the next gap may be a few milliseconds longer (each one then a billed,
    # wasted call).
    rhythm = Rhythm()
    for index in range(PRIOR_WINDOW + 1):
        rhythm.key("file:///a.py", "word", index * 0.2)
    assert wait_s(rhythm, "word", 2e-3, 0.15, 1.0) == pytest.approx(0.2 * 1.1 - 0.15)


def test_the_rare_long_gaps_of_a_hundred_keys_ago_still_shape_the_wait():
    # A typist's longest gaps are rare (here 5 of 250 ms among 150 ms ones), so a wait that forgot
    # them after 64 keys was billed for a premium call each time one came again (48-burst typing
    # runs: 1.06-1.12 billed calls per burst; 1.00 since it remembers 256 gaps).
    rhythm = Rhythm()
    now = 0.0
    gaps = [0.15] * PRIOR_WINDOW + [0.25, 0.15, 0.15] * 5 + [0.15] * 150
    for gap in gaps:
        rhythm.key("file:///a.py", "word", now)
        now += gap
    assert max(rhythm.gaps()) == pytest.approx(0.25)
    assert wait_s(rhythm, "word", 2e-3, 0.15, 1.0) == pytest.approx(0.25 * 1.1 - 0.15)


async def test_the_rhythm_is_read_from_the_documents_changes(simulator, tmp_path):
    # The engine hears of a backspace only through the document (no request comes for it).
    engine = CompletionEngine(parse_config(sim_config(simulator.base_url, cache_dir=str(tmp_path / "c"))))

    async def no_wait(seconds: float) -> None:
        return None

    engine.sleep = no_wait
    source = (UTILS_PY[:-1] + "ret\n").encode()
    document = Document("file:///w/utils.py", "python", 1, source, parser=parser_for("python"))
    try:
        for key in range(3):  # keys at 10.0, 10.3, 10.6, each after a backspace 150 ms before
            document.previous_change_at, document.last_change_at = 9.85 + key * 0.3, 10.0 + key * 0.3
            await engine.complete(CursorRequest(document, len(source) - 1, automatic=True))
    finally:
        await engine.aclose()
    learned = Counter(round(gap, 3) for gap in engine.sessions.rhythm.gaps()) - Counter(GAP_PRIOR)
    assert learned == Counter({0.15: 3})  # the first key's gap too: the backspace before it


async def test_what_was_typed_since_a_call_began():
    source = b"def add(a, b):\n    \n"
    flight = Flight(19, source[:19], source[19:], len(source), asyncio.Future(), lambda: "return a + b")
    typed = source[:19] + b"ret" + source[19:]
    assert flight.typed(typed) == b"ret" and flight.useful(typed)
    assert not flight.useful(source[:19] + b"x" + source[19:])
    assert flight.typed(source[:18] + source[19:]) is None  # a deletion
    assert agrees(b"return a + b", b"ret", done=True) and not agrees(b"ret", b"ret", done=True)
    document = Document("file:///w/utils.py", "python", 1, typed)
    assert flight.typed(document.source, 22) == b"ret"
