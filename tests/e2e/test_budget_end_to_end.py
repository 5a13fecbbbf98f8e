"""The cap holds for real editors: servers over stdio, the simulator on 127.0.0.1, the shared store.

With a daily cap that fits 10 calls at their worst case, 50 concurrent requests in one server, the
same spread over 3 servers, and sequential requests over 3 servers spend no more than the cap;
against the local store and a real redis-server. Money is checked to the token."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.helpers.budget import (
    CHEAP,
    CURSOR,
    MAX_TOKENS,
    ledger_rows,
    open_document,
    premium_request,
    worst,
    worst_case,
)
from tierline.accounting.budget_store import to_nano
from tierline.commands.demo import LOADER_CURSOR


def cheap_only(simulator, cap: float, store: str) -> dict:
    return {
        "routing": {"thresholds": {"mid": 1.0, "premium": 1.0}},
        "budget": {"daily_usd": cap, "store": store},
        "completion": {"max_tokens": MAX_TOKENS},
        # The cap is ten of the probe's worst case: no snippets of the 50 similar documents on top.
        "context": {"sources": []},
        "models": [
            {
                "name": "deepseek-v4-flash",
                "tier": "cheap",
                "base_url": simulator.base_url,
                "model": "deepseek/deepseek-v4-flash",
                **CHEAP,
            }
        ],
    }


def assert_money_adds_up(tmp_path: Path, cap: float) -> int:
    """Every paid row costs its tokens at the price, to the token; the day's total is within the cap."""
    rows = ledger_rows(tmp_path)
    paid = [r for r in rows if r[4] == "ok"]
    for _model, tokens_in, tokens_out, cost, _outcome, source in paid:
        assert to_nano(cost) == tokens_in * 140 + tokens_out * 280  # nano-USD per token
        assert source == "usage"  # the simulator reports tokens, not a cost
    total = sum(to_nano(r[3]) for r in rows)
    assert total == sum(r[1] * 140 + r[2] * 280 for r in paid)
    assert total <= to_nano(cap)
    assert any(r[4] == "skipped_budget" for r in rows)  # the cap was reached
    return len(paid)


@pytest.fixture(params=["local", "redis"])
def store(request):
    return "local" if request.param == "local" else request.getfixturevalue("redis_server").url


async def capped_editors(start_editor, simulator, tmp_path, store: str, count: int):
    probe = await start_editor(cheap_only(simulator, 0.0, store))
    cap = 10 * await worst_case(probe, tmp_path)
    editors = [await start_editor(cheap_only(simulator, cap, store)) for _ in range(count)]
    simulator.set_behaviour(latency_ms=200)  # calls overlap: many are in flight at once
    return cap, editors


async def test_50_concurrent_requests_in_one_server_stay_within_the_cap(start_editor, simulator, tmp_path, store):
    cap, [editor] = await capped_editors(start_editor, simulator, tmp_path, store, 1)
    uris = [open_document(editor, tmp_path, i) for i in range(50)]

    results = await asyncio.gather(*(editor.complete(uri, *CURSOR) for uri in uris))

    answered = sum(1 for r in results if r.text)
    assert answered == assert_money_adds_up(tmp_path, cap) >= 10
    stats = await editor.command("tierline.stats")
    assert to_nano(stats["budget"]["spent_today_usd"]) == sum(to_nano(r[3]) for r in ledger_rows(tmp_path))
    assert stats["budget"]["reserved_usd"] == 0
    # Forty refusals at once, each message once (the stats answer above came after any message
    # sent; "held by calls in flight" and "reached" are two topics, so there may be both).
    refusals = [m for m in editor.messages if "cap" in m or "paus" in m]
    assert 1 <= len(refusals) == len(set(refusals)) <= 2, editor.messages


async def test_50_concurrent_requests_over_3_servers_stay_within_the_cap(start_editor, simulator, tmp_path, store):
    cap, editors = await capped_editors(start_editor, simulator, tmp_path, store, 3)
    requests = []
    for i in range(50):
        editor = editors[i % 3]
        requests.append(editor.complete(open_document(editor, tmp_path, i), *CURSOR))

    results = await asyncio.gather(*requests)

    assert sum(1 for r in results if r.text) == assert_money_adds_up(tmp_path, cap) >= 10


async def test_sequential_requests_over_3_servers_stay_within_the_cap(start_editor, simulator, tmp_path, store):
    cap, editors = await capped_editors(start_editor, simulator, tmp_path, store, 3)
    simulator.set_behaviour(latency_ms=0)
    answered = 0
    for i in range(45):
        editor = editors[i % 3]
        answered += bool((await editor.complete(open_document(editor, tmp_path, i), *CURSOR)).text)

    assert answered == assert_money_adds_up(tmp_path, cap) >= 10
    # The servers learn the cap was reached from the store, not from their own spend.
    assert all(any("budget" in m and "reached" in m for m in e.messages) for e in editors)


# ------------------------------------------------------------------------------------------------
# Downshift


async def test_a_premium_request_that_does_not_fit_goes_down_to_mid_and_says_so(start_editor, simulator, tmp_path):
    # Between haiku's worst case ($1/$5 per Mtok) and opus's ($5/$25): mid fits, premium does not.
    _, _, tokens = await premium_request(start_editor, tmp_path, {"daily_usd": 0})
    cap = (worst(tokens, 1.0, 5.0) + worst(tokens, 5.0, 25.0)) / 2
    editor, uri, _ = await premium_request(start_editor, tmp_path, {"daily_usd": cap})

    completion = await editor.complete(uri, *LOADER_CURSOR)

    route = completion.route
    assert completion.text and route["tier"] == "mid" and route["model"] == "claude-haiku"
    assert route["downshifted"] == "premium"
    assert route["attempts"][0] == {
        "model": "claude-opus",
        "outcome": "skipped_budget",
        "latency_ms": 0.0,
        "detail": route["attempts"][0]["detail"],
    }
    assert "daily budget" in route["attempts"][0]["detail"]
    assert [r["model"] for r in simulator.requests if r["path"].endswith("completions")] == [
        "anthropic/claude-haiku-4.5"
    ]


async def test_without_downshift_a_request_that_does_not_fit_is_not_sent(start_editor, simulator, tmp_path):
    _, _, tokens = await premium_request(start_editor, tmp_path, {"daily_usd": 0})
    cap = (worst(tokens, 1.0, 5.0) + worst(tokens, 5.0, 25.0)) / 2
    editor, uri, _ = await premium_request(start_editor, tmp_path, {"daily_usd": cap, "downshift": False})

    completion = await editor.complete(uri, *LOADER_CURSOR)

    assert completion.text is None and completion.route["downshifted"] is None
    assert [a["outcome"] for a in completion.route["attempts"]] == ["skipped_budget"]
    assert [r for r in simulator.requests if r["path"].endswith("completions")] == []
    assert any("budget" in m and "reached" in m for m in editor.messages)


async def test_money_never_moves_a_request_to_a_dearer_tier(start_editor, simulator, tmp_path):
    # The cheap tier's models all fail; the walk may fall back up to mid, but not when mid does not fit.
    simulator.set_behaviour("*", fault="server_error")
    editor = await start_editor({"budget": {"daily_usd": 0.0001}})  # fits a cheap call, not a mid one
    uri = open_document(editor, tmp_path, 1)

    completion = await editor.complete(uri, *CURSOR)

    outcomes = [(a["model"], a["outcome"]) for a in completion.route["attempts"]]
    assert completion.text is None
    assert sorted(outcomes[:2]) == [("deepseek-v4-flash", "server_error"), ("qwen2.5-coder-32b", "server_error")]
    assert all(outcome == "skipped_budget" for _, outcome in outcomes[2:]) and len(outcomes) > 2
    called = {r["model"] for r in simulator.requests if r["path"].endswith("completions")}
    assert called == {"deepseek/deepseek-v4-flash", "qwen/qwen-2.5-coder-32b-instruct"}


# ------------------------------------------------------------------------------------------------
# The 80 % warning, and the team store going away mid-run


async def test_one_warning_at_80_percent_of_the_cap_then_the_cap_message(start_editor, simulator, tmp_path):
    cap, [editor] = await capped_editors(start_editor, simulator, tmp_path, "local", 1)
    simulator.set_behaviour(latency_ms=0)
    for i in range(40):
        await editor.complete(open_document(editor, tmp_path, i), *CURSOR)

    warnings = [m for m in editor.messages if "of the daily budget used" in m]
    reached = [m for m in editor.messages if "daily budget" in m and "reached" in m]
    assert len(warnings) == 1 and len(reached) == 1
    assert editor.messages.index(warnings[0]) < editor.messages.index(reached[0])
    stats = await editor.command("tierline.stats")
    assert stats["budget"]["warning"] is True
    assert 0.8 * cap <= stats["budget"]["spent_today_usd"] <= cap


async def test_redis_going_away_mid_run_fails_closed_and_counts_everything(
    start_editor,
    simulator,
    tmp_path,
    redis_server,  # noqa: F811
):
    editor = await start_editor(cheap_only(simulator, 1.0, redis_server.url))
    assert (await editor.complete(open_document(editor, tmp_path, 0), *CURSOR)).text

    redis_server.stop()
    calls_before = len(simulator.requests)
    away = await editor.complete(open_document(editor, tmp_path, 1), *CURSOR)

    assert away.text is None
    assert [a["outcome"] for a in away.route["attempts"]] == ["skipped_budget"]
    assert "unreachable" in away.route["attempts"][0]["detail"]
    assert len(simulator.requests) == calls_before  # nothing sent while the cap cannot be checked
    assert sum("team budget store is not reachable" in m for m in editor.messages) == 1

    redis_server.start()  # the append-only file brings the spend back
    deadline = asyncio.get_running_loop().time() + 15
    back = None
    for i in range(2, 100):  # the server retries the store a moment after a failure
        back = await editor.complete(open_document(editor, tmp_path, i), *CURSOR)
        if back.text or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.25)
    assert back is not None and back.text

    stats = await editor.command("tierline.stats")
    ledger_nano = sum(to_nano(r[3]) for r in ledger_rows(tmp_path))
    assert to_nano(stats["budget"]["spent_today_usd"]) == ledger_nano > 0
    assert stats["budget"]["store"] == redis_server.url
