"""Money and the team store (issue 17): downshift walks down past a tier with no model to the
cheapest that fits; a cap blocked only by calls in flight says completions resume when they settle,
not at midnight; the Redis store ignores entries that are not amounts (said once) and keeps the cap
for everyone else; spend only goes up; a store URL's password is never shown."""

from __future__ import annotations

import redis

from tests.helpers.budget import (
    CAP,  # noqa: F401
    DAY1,  # noqa: F401
    REAL,  # noqa: F401
    WORST,  # noqa: F401
    Recorder,  # noqa: F401
    make_budget,  # noqa: F401
    premium_request,
    worst,
)
from tests.helpers.cli import tierline
from tierline.accounting.budget_redis import PREFIX
from tierline.accounting.budget_store import Hold, Period, Refusal, to_nano
from tierline.commands.demo import LOADER_CURSOR
from tierline.completion.downshift import reached_message
from tierline.config.urls import public_url

PASSWORD = "Tr0ub4dor-s3cret-9x"

# -- downshift ------------------------------------------------------------------------------------


async def test_with_no_mid_model_a_premium_request_that_does_not_fit_goes_to_the_cheap_one(
    start_editor, simulator, tmp_path
):
    cheap = {"name": "deepseek-v4-flash", "tier": "cheap", "model": "deepseek/deepseek-v4-flash"}
    premium = {"name": "claude-opus", "tier": "premium", "model": "anthropic/claude-opus-4.5"}
    models = [
        {**cheap, "base_url": simulator.base_url, "input_per_mtok": 0.14, "output_per_mtok": 0.28},
        {**premium, "base_url": simulator.base_url, "input_per_mtok": 5.0, "output_per_mtok": 25.0},
    ]
    _, _, tokens = await premium_request(start_editor, tmp_path, {"daily_usd": 0})
    cap = (worst(tokens, 0.14, 0.28) + worst(tokens, 5.0, 25.0)) / 2  # cheap fits, premium does not
    editor = await start_editor(
        {"models": models, "budget": {"daily_usd": cap}, "routing": {"thresholds": {"mid": 0.05, "premium": 0.1}}}
    )
    uri = (tmp_path / "loader.py").as_uri()
    editor.open(uri, (tmp_path / "loader.py").read_text(), "python")

    completion = await editor.complete(uri, *LOADER_CURSOR)

    assert completion.text and completion.route["model"] == "deepseek-v4-flash"
    assert completion.route["tier"] == "cheap" and completion.route["downshifted"] == "premium"
    assert [r["model"] for r in simulator.requests if r["path"].endswith("completions")] == [
        "deepseek/deepseek-v4-flash"
    ]
    assert not any("pause" in m for m in editor.messages)


# -- when completions resume ----------------------------------------------------------------------


def test_a_cap_held_by_calls_in_flight_resumes_when_they_settle_not_at_midnight(store_url, tmp_path):
    budget = make_budget(store_url, tmp_path, Recorder(), clock=lambda: DAY1)
    burst = [budget.reserve(WORST) for _ in range(10)]  # the whole cap held, nothing spent yet
    refused = budget.reserve(WORST)

    assert all(isinstance(h, Hold) for h in burst) and isinstance(refused, Refusal)
    message = reached_message(refused)
    assert "calls in flight" in message and "settle" in message and "00:00 UTC" not in message

    for hold in burst:
        budget.settle(hold, REAL)  # type: ignore[arg-type]
    assert isinstance(budget.reserve(WORST), Hold)  # resumed as they settled

    spent = make_budget(store_url, tmp_path / "b", Recorder(), clock=lambda: DAY1 + 86_400)
    for _ in range(10):
        spent.settle(spent.reserve(WORST), WORST)  # type: ignore[arg-type]
    really_reached = spent.reserve(WORST)
    assert isinstance(really_reached, Refusal)
    assert "completions pause until 00:00 UTC" in reached_message(really_reached)


# -- the team store checks what it reads ----------------------------------------------------------


def day_key(now: float) -> str:
    return f"{PREFIX}day:{Period.at(now).day}"


def test_entries_that_are_not_amounts_are_ignored_said_once_and_the_cap_holds(redis_server, tmp_path):  # noqa: F811
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    client.hset(day_key(DAY1), mapping={"mallory": "lots", "eve": str(-to_nano(1000.0))})
    recorder = Recorder()
    budget = make_budget(redis_server.url, tmp_path, recorder, clock=lambda: DAY1)

    held = [budget.reserve(WORST) for _ in range(10)]  # the team is not blocked by "lots"
    refused = budget.reserve(WORST)  # and eve's -$1000 did not lift the cap
    budget.settle(held[0], REAL)  # type: ignore[arg-type]

    assert all(isinstance(h, Hold) for h in held)
    assert isinstance(refused, Refusal) and refused.cap == "daily"
    assert budget.spend().day == to_nano(REAL)
    assert set(budget.store.by_user(DAY1)) == {"ada"}  # type: ignore[attr-defined]
    (warning,) = [m for m in recorder.messages if "not amounts" in m]
    assert "mallory" in warning and "eve" in warning and "ignored" in warning


def test_spend_only_goes_up_even_over_a_corrupt_entry(redis_server, tmp_path):  # noqa: F811
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    client.hset(day_key(DAY1), "ada", str(-to_nano(5.0)))  # would lower the team's total
    budget = make_budget(redis_server.url, tmp_path, Recorder(), clock=lambda: DAY1)
    budget.settle(budget.reserve(WORST), REAL)  # type: ignore[arg-type]
    budget.settle(budget.reserve(WORST), -1.0)  # type: ignore[arg-type]  # a negative cost adds nothing

    assert client.hget(day_key(DAY1), "ada") == str(to_nano(REAL))
    assert budget.spend().day == to_nano(REAL)


# -- passwords -------------------------------------------------------------------------------------


def test_a_store_url_is_shown_without_its_password_whatever_it_holds():
    for url in (
        f"redis://ada:{PASSWORD}@10.0.0.1:6379/0",
        f"rediss://:{PASSWORD}@cache.example:6380/1",
        f"redis+tls://ada:{PASSWORD}@host/0",
        "redis://ada:pa/ss#wo@rd@host:6379/0",
        f"redis://{PASSWORD}@host",
    ):
        shown = public_url(url)
        assert PASSWORD not in shown and "pa/ss" not in shown and "rd@" not in shown, shown
        assert "host" in shown or "10.0.0.1" in shown or "cache.example" in shown


async def test_a_refused_or_unreachable_store_never_shows_its_password(start_editor, simulator, tmp_path):
    refused_url = f"redis+tls://ada:{PASSWORD}@127.0.0.1:1/0"
    editor = await start_editor({"budget": {"store": refused_url}})
    uri = (tmp_path / "a.py").as_uri()
    editor.open(uri, "x = 1\n", "python")
    await editor.command("tierline.stats")
    unreachable_url = f"redis://ada:{PASSWORD}@127.0.0.1:1/0"
    second = await start_editor({"budget": {"store": unreachable_url}})
    second.open(uri, "def f(a, b):\n    return \n", "python")
    completion = await second.complete(uri, 1, 11)
    await second.command("tierline.stats")

    assert any("budget.store" in m for m in editor.messages)
    assert any("store" in m and "unreachable" in m for m in second.messages) or completion.route["attempts"]
    seen = [*editor.messages, *second.messages, editor.log_file.read_text(), second.log_file.read_text()]
    seen.append(str(completion.route))
    for config in ("tierline-0.toml", "tierline-1.toml"):
        env = {"TIERLINE_CONFIG": str(tmp_path / config)}
        for args in (("doctor",), ("doctor", "--json"), ("report", "--team"), ("report", "--team", "--json")):
            result = tierline(*args, env=env)
            seen += [result.stdout, result.stderr]
    assert all(PASSWORD not in text for text in seen)
    assert any("***" in text for text in seen)
