"""The budget's stores, exactly: reservations shared by processes, settle/release, expiry of a dead
process's holds, daily/monthly/per-user caps, a broken local store, and Redis going away.

Each test runs against the local store (SQLite in the state dir) and a real redis-server."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.helpers.budget import CAP, DAY1, REAL, WORST, Recorder, make_budget
from tierline.accounting.budget_store import HOLD_TTL_S, Hold, LocalStore, Refusal, to_nano

WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from tierline.accounting.budget import Budget, Hooks
    from tierline.accounting.budget_store import Hold
    from tierline.config import BudgetConfig
    store, directory, cap, worst, real, attempts = sys.argv[1:]
    budget = Budget(BudgetConfig(daily_usd=float(cap), store=store), Path(directory),
                    Hooks(lambda level, text: None, lambda store, error: print("FAULT", error, file=sys.stderr)))
    calls = 0
    for _ in range(int(attempts)):
        hold = budget.reserve(float(worst))
        if isinstance(hold, Hold):
            budget.settle(hold, float(real))
            calls += 1
    print(calls)
    """
)


def test_three_processes_racing_for_the_cap_never_spend_more_than_it(store_url, tmp_path):
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, store_url, str(tmp_path / "state"), str(CAP), str(WORST), str(REAL), "40"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    calls = sum(int(w.communicate(timeout=60)[0]) for w in workers)
    spend = make_budget(store_url, tmp_path / "state", Recorder()).spend()

    # Each settled call costs exactly REAL; the last one to fit held WORST with everything settled.
    assert spend.day == calls * to_nano(REAL)
    assert spend.day <= to_nano(CAP)
    assert spend.reserved == 0
    assert 1 <= calls <= int((CAP - WORST) / REAL) + 1  # 23: the most that can fit one at a time


def test_a_reservation_counts_until_settled_and_a_failed_call_releases_it(store_url, tmp_path):
    budget = make_budget(store_url, tmp_path / "state", Recorder())
    holds = [budget.reserve(WORST) for _ in range(10)]
    assert all(isinstance(h, Hold) for h in holds)
    refused = budget.reserve(WORST)
    assert isinstance(refused, Refusal) and refused.cap == "daily"
    assert budget.spend().reserved == 10 * to_nano(WORST)

    budget.settle(holds[0], 0.0)  # failed or cancelled: no cost
    assert budget.spend().day == 0
    assert isinstance(budget.reserve(WORST), Hold)
    budget.settle(holds[1], REAL)
    assert budget.spend().day == to_nano(REAL)
    assert budget.spend().reserved == 9 * to_nano(WORST)


def test_a_dead_process_holds_nothing(store_url, tmp_path):
    clock = [DAY1]
    budget = make_budget(store_url, tmp_path / "state", Recorder(), clock=lambda: clock[0])
    dying = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from tierline.accounting.budget import Budget, Hooks
        from tierline.config import BudgetConfig
        budget = Budget(BudgetConfig(daily_usd={CAP}, store={store_url!r}), Path({str(tmp_path / "state")!r}),
                        Hooks(print, print, lambda: {DAY1}))
        for _ in range(10):
            assert budget.reserve({WORST})
        os._exit(0)  # dies mid-call, nothing settled
        """
    )
    subprocess.run([sys.executable, "-c", dying], check=True, timeout=60)

    if store_url == "local":
        # The local store sees that the process is gone: its holds are dropped at once.
        assert isinstance(budget.reserve(WORST), Hold)
    else:
        # A team store cannot see another machine's processes: the holds expire.
        assert isinstance(budget.reserve(WORST), Refusal)
        clock[0] = DAY1 + HOLD_TTL_S + 1
        assert isinstance(budget.reserve(WORST), Hold)
    assert budget.spend().day == 0


def test_the_monthly_cap_counts_every_day_of_the_utc_month(store_url, tmp_path):
    clock = [DAY1]
    budget = make_budget(store_url, tmp_path / "state", Recorder(), clock=lambda: clock[0], monthly_usd=0.0025)
    for day in range(2):
        clock[0] = DAY1 + day * 86400
        hold = budget.reserve(WORST)
        assert isinstance(hold, Hold)
        budget.settle(hold, WORST)
    clock[0] = DAY1 + 2 * 86400
    refused = budget.reserve(WORST)
    assert isinstance(refused, Refusal) and refused.cap == "monthly"
    assert budget.spend().month == 2 * to_nano(WORST) and budget.spend().day == 0
    clock[0] = DAY1 + 14 * 86400  # December 1st: a new month
    assert isinstance(budget.reserve(WORST), Hold)


def test_one_warning_at_80_percent_of_the_daily_cap(store_url, tmp_path):
    recorder = Recorder()
    budget = make_budget(store_url, tmp_path / "state", recorder)
    for _ in range(7):
        budget.settle(budget.reserve(WORST), WORST)  # type: ignore[arg-type]
    assert recorder.messages == []
    budget.settle(budget.reserve(WORST), WORST)  # type: ignore[arg-type]
    budget.settle(budget.reserve(WORST), WORST)  # type: ignore[arg-type]
    assert recorder.messages == [
        "tierline: 80% of the daily budget used ($0.0080 of $0.01); near the cap cheaper tiers answer first."
    ]
    assert budget.status()["warning"] is True


def test_a_broken_local_store_keeps_the_cap_in_memory(tmp_path):
    recorder = Recorder()
    state = tmp_path / "state"
    state.mkdir()
    (state / LocalStore.FILENAME).write_bytes(b"this is not a database" * 100)
    budget = make_budget("local", state, recorder)
    holds = [budget.reserve(WORST) for _ in range(11)]

    assert [isinstance(h, Hold) for h in holds] == [True] * 10 + [False]
    assert len(recorder.faults) == 1 and recorder.faults[0].startswith("budget: ")
    assert budget.status()["store"] == "memory"


def test_per_user_spend_and_cap_in_the_team_store(redis_server, tmp_path):  # noqa: F811
    ada = make_budget(redis_server.url, tmp_path, Recorder(), user="ada", user_daily_usd=2 * WORST)
    bob = make_budget(redis_server.url, tmp_path, Recorder(), user="bob", user_daily_usd=2 * WORST)
    ada.settle(ada.reserve(WORST), WORST)  # type: ignore[arg-type]
    ada.settle(ada.reserve(WORST), WORST - REAL)  # type: ignore[arg-type]
    assert isinstance(ada.reserve(REAL), Hold)  # exactly at her cap: fits
    refused = ada.reserve(REAL)
    assert isinstance(refused, Refusal) and refused.cap == "user daily"
    bob.settle(bob.reserve(WORST), REAL)  # type: ignore[arg-type]

    team = ada.store.by_user(ada._hooks.clock())  # type: ignore[attr-defined]
    assert {user: spend.day for user, spend in team.items()} == {"ada": to_nano(2 * WORST - REAL), "bob": to_nano(REAL)}
    assert ada.spend().day == to_nano(2 * WORST)  # the team's day
    assert ada.spend().reserved == to_nano(REAL)


def test_redis_going_away_fails_closed_and_keeps_what_was_spent(redis_server, tmp_path):  # noqa: F811
    recorder = Recorder()
    budget = make_budget(redis_server.url, tmp_path, recorder)
    in_flight = budget.reserve(WORST)
    assert isinstance(in_flight, Hold)

    redis_server.stop()
    budget.settle(in_flight, REAL)  # the call ended while the store was away
    refused = budget.reserve(WORST)
    assert isinstance(refused, Refusal) and refused.cap == "store"
    assert "unreachable" in refused.detail and recorder.faults

    redis_server.start()
    budget.store._down_until = 0.0  # type: ignore[attr-defined]  # skip the retry pause
    assert isinstance(budget.reserve(WORST), Hold)
    assert budget.spend().day == to_nano(REAL)  # the settlement made while away was added
