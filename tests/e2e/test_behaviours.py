"""Behaviours a user notices, each guarded by a test that fails when the behaviour breaks.

Each test names the breakage it catches; docs/testing.md lists them with the mutation that was
applied to check the test fails.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import diskcache.core
import pytest

from tests.helpers.common import editor_config
from tests.helpers.ledger import ledger_rows
from tests.helpers.lsp import CURSOR, UTILS_PY
from tests.helpers.lsp import completion_requests as model_calls
from tests.helpers.lsp import open_path as open_doc
from tierline.accounting.cache import AnswerCache, CachedAnswer
from tierline.accounting.ledger import CallRow, Ledger
from tierline.analysis.documents import Document
from tierline.analysis.languages import parser_for
from tierline.completion.pipeline import CompletionEngine
from tierline.completion.request import CursorRequest
from tierline.config import DEFAULT_MODELS, deep_merge, parse_config
from tierline.devtools.simulator import sim_config
from tierline.prompt.window import PromptWindow
from tierline.providers.base import CallRequest, RateLimited
from tierline.providers.openai import ProviderClient

PRICES = {m["name"]: (m["input_per_mtok"], m["output_per_mtok"]) for m in DEFAULT_MODELS}
PREMIUM_PRICES = PRICES["claude-opus"]


def with_models(simulator: Any, tmp_path: Path, **fields: Any) -> dict[str, Any]:
    """Overrides giving every simulated model the same extra fields (e.g. a timeout)."""
    models = editor_config(simulator, tmp_path)["models"]
    return {"models": [{**m, **fields} for m in models]}


# -- 1. the cache key covers the code after the cursor --------------------------------------------
async def test_same_code_before_the_cursor_but_different_code_after_is_not_a_cache_hit(
    start_editor, simulator, tmp_path
):
    # No cross-file context: its snippets would tell the two requests apart, and only the code after
    # the cursor must.
    editor = await start_editor({"context": {"sources": []}})
    first = open_doc(editor, tmp_path / "a" / "utils.py", UTILS_PY + "\n\ndef mul(a, b):\n    return a * b\n")
    second = open_doc(editor, tmp_path / "b" / "utils.py", UTILS_PY + "\n\ndef sub(a, b):\n    return a - b\n")

    await editor.complete(first, *CURSOR)
    other = await editor.complete(second, *CURSOR)

    assert other.route["cached"] is False
    assert len(model_calls(simulator)) == 2


# -- 2. Retry-After is read from a 429 -------------------------------------------------------------
async def test_a_rate_limit_carries_the_providers_retry_after(simulator, tmp_path):
    simulator.set_behaviour("*", fault="rate_limit", retry_after_s=42)
    model = parse_config(sim_config(simulator.base_url)).models[0]
    window = PromptWindow("python", "utils.py", "def add(a, b):\n    ", "\n")
    client = ProviderClient()
    try:
        with pytest.raises(RateLimited) as raised:
            await client.complete(CallRequest(model, window, None, 16, False))
    finally:
        await client.aclose()
    assert raised.value.retry_after_s == 42


# -- 3. the budget counts what was already spent today ---------------------------------------------
async def test_spend_already_in_the_ledger_today_counts_against_the_daily_cap(start_editor, simulator, tmp_path):
    state = tmp_path / "state"
    ledger = Ledger(state)
    ledger.record(
        CallRow("earlier", "python", "cheap", "deepseek-v4-flash", 1000, 100, 0.00999, 0.0, 300.0, "ok", False)
    )
    ledger.close()
    editor = await start_editor({"budget": {"daily_usd": 0.01}})
    uri = open_doc(editor, tmp_path / "utils.py", UTILS_PY)

    completion = await editor.complete(uri, *CURSOR)

    assert completion.text is None
    assert [a["outcome"] for a in completion.route["attempts"]] == ["skipped_budget"]
    assert model_calls(simulator) == []
    stats = await editor.command("tierline.stats")
    assert stats["budget"]["spent_today_usd"] == 0.00999


# -- 4. cancelling a request closes its HTTP call --------------------------------------------------
async def test_cancelling_closes_the_http_call_long_before_the_models_timeout(start_editor, simulator, tmp_path):
    # A two-minute timeout: only the cancellation itself can close the connection in time.
    editor = await start_editor(with_models(simulator, tmp_path, timeout_ms=120_000))
    simulator.set_behaviour("*", fault="hang")
    uri = open_doc(editor, tmp_path / "utils.py", UTILS_PY)
    pending = asyncio.ensure_future(editor.complete(uri, *CURSOR))
    await simulator.wait_for(lambda r: r["outcome"] == "pending", timeout=10)

    editor.type_text(uri, CURSOR[0], CURSOR[1], "r")  # a newer request supersedes the pending one
    simulator.set_behaviour("*", fault=None)
    newer = await editor.complete(uri, CURSOR[0], CURSOR[1] + 1)

    closed = await simulator.wait_for(lambda r: r["outcome"] == "disconnected", timeout=10)
    assert closed["model"]
    assert (await pending).text is None and newer.text


# -- 5. automatic requests wait out the debounce before any call -----------------------------------
async def test_an_automatic_request_waits_the_debounce_before_calling_a_model(simulator, tmp_path):
    raw = deep_merge(
        sim_config(simulator.base_url, cache_dir=str(tmp_path / "c"), ledger_dir=str(tmp_path / "s")),
        {"completion": {"debounce_ms": 200}},
    )
    engine = CompletionEngine(parse_config(raw))
    waits: list[float] = []

    async def observe_wait(seconds: float) -> None:
        assert model_calls(simulator) == [], "a model was called before the debounce"
        waits.append(seconds)

    engine.sleep = observe_wait
    source = UTILS_PY.encode()
    document = Document("file:///w/utils.py", "python", 1, source, parser=parser_for("python"))
    try:
        routed = await engine.complete(CursorRequest(document, len(source) - 1, automatic=True))
        invoked = await engine.complete(CursorRequest(document, len(source) - 1, automatic=False))
    finally:
        await engine.aclose()

    assert routed.text
    assert waits == [0.2]  # automatic: one wait of the configured debounce; invoked: none
    assert invoked.route is not None and invoked.route["cached"] is True


# -- 6. output tokens at the output price, exactly ---------------------------------------------------
async def test_cost_is_input_tokens_at_the_input_price_plus_output_tokens_at_the_output_price(start_editor, tmp_path):
    editor = await start_editor()
    uri = open_doc(editor, tmp_path / "utils.py", UTILS_PY)

    completion = await editor.complete(uri, *CURSOR)

    [row] = ledger_rows(tmp_path / "state")
    price_in, price_out = PRICES[row["model"]]
    assert row["tokens_out"] > 0
    expected = (row["tokens_in"] * price_in + row["tokens_out"] * price_out) / 1_000_000
    assert row["cost_usd"] == pytest.approx(expected, rel=1e-12, abs=0)
    assert completion.route["cost_usd"] == round(expected, 8)
    baseline = (row["tokens_in"] * PREMIUM_PRICES[0] + row["tokens_out"] * PREMIUM_PRICES[1]) / 1_000_000
    assert row["baseline_usd"] == pytest.approx(baseline, rel=1e-12, abs=0)


# -- 7. typing through the shown completion is free ------------------------------------------------
async def test_typing_through_is_recorded_as_a_free_cache_hit_not_a_model_call(start_editor, simulator, tmp_path):
    editor = await start_editor()
    uri = open_doc(editor, tmp_path / "utils.py", UTILS_PY)
    shown = await editor.complete(uri, *CURSOR)
    editor.type_text(uri, CURSOR[0], CURSOR[1], shown.text[:3])

    rest = await editor.complete(uri, CURSOR[0], CURSOR[1] + 3)

    assert rest.text == shown.text[3:] and rest.route["cost_usd"] == 0 and rest.route["score"] is None
    stats = await editor.command("tierline.stats")
    assert (stats["requests"], stats["model_calls"], stats["cache_hits"]) == (2, 1, 1)
    assert stats["spend_usd"] == round(shown.route["cost_usd"], 6)
    paid, typed = ledger_rows(tmp_path / "state")
    assert (typed["cached"], typed["cost_usd"], typed["baseline_usd"], typed["tokens_in"]) == (1, 0.0, 0.0, 0)
    assert stats["premium_baseline_usd"] == round(paid["baseline_usd"], 6)
    assert len(model_calls(simulator)) == 1


# -- 8. cache entries expire ---------------------------------------------------------------------------
class _Later:
    """diskcache's view of the clock, moved forward."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def time(self) -> float:
        return time.time() + self.seconds


def test_a_cached_answer_expires_after_its_ttl(tmp_path, monkeypatch):
    cache = AnswerCache(tmp_path / "cache", ttl_seconds=300, size_limit_mb=1)
    cache.put("key", CachedAnswer("return a + b", "m", "cheap", 10, 3, 0.0))
    assert cache.get("key") is not None

    monkeypatch.setattr(diskcache.core, "time", _Later(299))
    assert cache.get("key") is not None
    monkeypatch.setattr(diskcache.core, "time", _Later(301))
    assert cache.get("key") is None
    cache.close()


# -- 9. clearCache clears ------------------------------------------------------------------------------
async def test_after_clear_cache_the_same_request_calls_the_model_again(start_editor, simulator, tmp_path):
    editor = await start_editor()
    uri = open_doc(editor, tmp_path / "utils.py", UTILS_PY)
    await editor.complete(uri, *CURSOR)
    assert (await editor.complete(uri, *CURSOR)).route["cached"] is True

    cleared = await editor.command("tierline.clearCache")
    again = await editor.complete(uri, *CURSOR)

    assert cleared == {"cleared": 1}
    assert again.route["cached"] is False
    assert len(model_calls(simulator)) == 2


# -- per-model timeout above httpx's 5 s default ---------------------------------------------------
async def test_a_model_slower_than_five_seconds_but_inside_its_timeout_is_served(start_editor, simulator, tmp_path):
    editor = await start_editor(with_models(simulator, tmp_path, timeout_ms=9000))
    simulator.set_behaviour("*", ttft_ms=5600)

    completion = await editor.complete(open_doc(editor, tmp_path / "utils.py", UTILS_PY), *CURSOR)

    assert completion.text
    assert [a["outcome"] for a in completion.route["attempts"]] == ["ok"]
