"""Hedged requests: a model that turns slow costs one hedge, not a slow answer."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.helpers.providers import Harness, config
from tierline.completion import hedging
from tierline.devtools.simulator import Simulator
from tierline.prompt.window import prompt_tokens
from tierline.routing.health import LatencyStats
from tierline.wire import Outcome


def cheap(simulator: Simulator, name: str, price: float, output_price: float | None = None) -> dict[str, object]:
    """A cheap-tier model served by the simulator as `vendor/<name>`."""
    return {"name": name, "tier": "cheap", "base_url": simulator.base_url, "model": f"vendor/{name}",
            "input_per_mtok": price, "output_per_mtok": price if output_price is None else output_price}  # fmt: skip


async def test_race_hedge_wins_and_the_primary_is_cancelled() -> None:
    cancelled = asyncio.Event()

    async def stuck() -> str | None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return None

    async def quick() -> str | None:
        return "hedge"

    assert await hedging.race(stuck(), hedging.HedgeAfter(0.0, None), asyncio.Event(), quick) == (1, "hedge")
    assert cancelled.is_set()


async def test_race_primary_failing_early_does_not_hedge() -> None:
    started = []

    async def fails() -> str | None:
        return None

    async def hedge() -> str | None:
        started.append(1)
        return "x"

    assert await hedging.race(fails(), hedging.HedgeAfter(10.0, 10.0), asyncio.Event(), hedge) == (0, None)
    assert started == []


async def test_race_waits_for_the_hedge_when_the_primary_fails_after_it_started() -> None:
    gate = asyncio.Event()

    async def fails_later() -> str | None:
        await gate.wait()
        return None

    async def hedge() -> str | None:
        gate.set()
        await asyncio.sleep(0)
        return "hedge"

    assert await hedging.race(fails_later(), hedging.HedgeAfter(None, 0.0), asyncio.Event(), hedge) == (1, "hedge")


def test_no_hedge_before_the_tail_is_known() -> None:
    stats = LatencyStats()
    for value in (100.0, 100.0, 100.0, 100.0):
        stats.observe(value, 0.3, 0.0, first_token_ms=40.0)
    assert hedging.hedge_after(stats) is None
    stats.observe(100.0, 0.3, 0.0, first_token_ms=40.0)
    # p95 + 50 ms (above p95 x 1.2 for these): first token by 90 ms, the answer by 150 ms.
    assert hedging.hedge_after(stats) == hedging.HedgeAfter(0.09, 0.15)


async def test_first_token_in_time_means_no_hedge_before_the_total_moment() -> None:
    first_token = asyncio.Event()
    release = asyncio.Event()
    started = []

    async def streaming() -> str | None:
        first_token.set()
        await release.wait()
        return "primary"

    async def hedge() -> str | None:
        started.append(1)
        return "hedge"

    async def finish_soon() -> None:
        await asyncio.sleep(0)
        release.set()

    asyncio.ensure_future(finish_soon())
    # No total moment: once the first token is in, the primary is awaited.
    assert await hedging.race(streaming(), hedging.HedgeAfter(5.0, None), first_token, hedge) == (0, "primary")
    assert started == []


async def test_model_turning_slow_is_hedged_to_the_next_model_of_its_tier(simulator: Simulator, tmp_path: Path) -> None:
    simulator.set_behaviour("cheap-a", latency_ms=20)
    simulator.set_behaviour("cheap-b", latency_ms=20)
    h = Harness(config(tmp_path, cheap(simulator, "cheap-a", 0.1), cheap(simulator, "cheap-b", 0.2)))
    try:
        for _ in range(6):
            routed = await h.keystroke()
            assert routed.route is not None and routed.route["model"] == "cheap-a"
        simulator.set_behaviour("cheap-a", latency_ms=60_000)  # far past any timeout of the test
        slow = await h.keystroke()
    finally:
        await h.close()
    assert slow.route is not None and slow.text
    assert slow.route["model"] == "cheap-b"
    outcomes = {(a["model"], a["outcome"]) for a in slow.route["attempts"]}
    assert outcomes == {("cheap-a", "cancelled"), ("cheap-b", "ok")}
    assert "hedged to cheap-b" in slow.route["reason"]
    # The slow call's connection was closed, not left to run on.
    await simulator.wait_for(lambda r: r["model"] == "vendor/cheap-a" and r["outcome"] == "disconnected")


async def test_a_model_that_lost_a_hedge_is_not_tried_first_on_the_next_request(
    simulator: Simulator, tmp_path: Path
) -> None:
    simulator.set_behaviour("cheap-a", latency_ms=20)
    simulator.set_behaviour("cheap-b", latency_ms=20)
    h = Harness(config(tmp_path, cheap(simulator, "cheap-a", 0.1), cheap(simulator, "cheap-b", 0.2)))
    try:
        for _ in range(6):
            await h.keystroke()
        simulator.set_behaviour("cheap-a", latency_ms=60_000)
        hedged = await h.keystroke()
        after = await h.keystroke()
    finally:
        await h.close()
    assert hedged.route is not None and hedged.route["model"] == "cheap-b"
    assert after.route is not None and [a["model"] for a in after.route["attempts"]] == ["cheap-b"]


async def test_the_call_hung_up_on_is_billed_for_its_prompt_and_what_it_sent(
    simulator: Simulator, tmp_path: Path
) -> None:
    """Providers bill a call they took even when tierline cancels it: the ledger row and the
    budget carry the prompt and the tokens that arrived, at the model's prices, as estimated."""

    for name in ("cheap-a", "cheap-b"):
        simulator.set_behaviour(name, latency_ms=20, answer="    return sum(values)")
    h = Harness(config(tmp_path, cheap(simulator, "cheap-a", 0.25, 0.5), cheap(simulator, "cheap-b", 0.5, 1.0)))
    try:
        for _ in range(6):
            await h.keystroke()
        # The first word at once, the rest far past the hedge moment.
        simulator.set_behaviour("cheap-a", latency_ms=60_000, ttft_ms=0)
        h.charges.clear()
        spent_before = h.engine.books.spent_today()
        hedged = await h.keystroke()
        window = h.engine.analyse(h.last_document, len(h.last_document.source)).window
        spent = h.engine.books.spent_today() - spent_before
    finally:
        await h.close()
    assert hedged.route is not None and hedged.route["model"] == "cheap-b", (hedged.route, h.charges)
    assert [c.outcome for c in h.charges] == [Outcome.CANCELLED, Outcome.OK], (hedged.route, h.charges)
    cancelled = next(c for c in h.charges if c.outcome == Outcome.CANCELLED)
    answered = next(c for c in h.charges if c.outcome == Outcome.OK)
    # "    return" arrived: 10 characters, 3 tokens at 3.5 characters a token.
    assert (cancelled.model, cancelled.tokens_in, cancelled.tokens_out) == ("cheap-a", prompt_tokens(window), 3)
    assert cancelled.cost_usd == pytest.approx((prompt_tokens(window) * 0.25 + 3 * 0.5) / 1e6, abs=1e-15)
    assert cancelled.cost_source == "estimated" and answered.cost_source == "usage"
    assert spent == pytest.approx(cancelled.cost_usd + answered.cost_usd, abs=1e-9)


async def test_a_call_the_provider_never_answered_costs_nothing(simulator: Simulator, tmp_path: Path) -> None:
    simulator.set_behaviour("cheap-a", latency_ms=20)
    simulator.set_behaviour("cheap-b", latency_ms=20)
    h = Harness(config(tmp_path, cheap(simulator, "cheap-a", 1.0), cheap(simulator, "cheap-b", 1.0)))
    try:
        for _ in range(6):
            await h.keystroke()
        simulator.set_behaviour("cheap-a", fault="hang")  # no status line, no token
        h.charges.clear()
        hedged = await h.keystroke()
    finally:
        await h.close()
    assert hedged.route is not None and hedged.route["model"] == "cheap-b"
    cancelled = next(c for c in h.charges if c.outcome == Outcome.CANCELLED)
    assert (cancelled.tokens_in, cancelled.tokens_out, cancelled.cost_usd) == (0, 0, 0.0)
