"""`tierline report --ndjson`: one line per UTC day with Copilot's usage-metrics field names, from a
seeded ledger (calls and fates), through the real CLI; figures exact."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

from tests.helpers.forkserver import tierline_command
from tierline.accounting.acceptance import FateLedger, Report, ShownRow
from tierline.accounting.ledger import CallRow, Ledger
from tierline.devtools.simulator import write_toml
from tierline.wire import Fate

DAY1 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.timezone.utc).timestamp()
DAY2 = dt.datetime(2026, 12, 1, 23, 59, tzinfo=dt.timezone.utc).timestamp()


def call(request: str, language: str, tier: str, tokens: tuple[int, int], cost: float, **kw) -> CallRow:
    baseline = kw.pop("baseline", 0.0)
    outcome, cached = kw.pop("outcome", "ok"), kw.pop("cached", False)
    return CallRow(request, language, tier, f"{tier}-model", *tokens, cost, baseline, 250.0, outcome, cached)


def seed(state: Path) -> None:
    ledger, fates = Ledger(state), FateLedger(state)
    # Day 1: python cheap accepted whole, python cheap shown and dismissed, go mid accepted in part,
    # a request refused by the budget at mid and answered at cheap (one request, two tiers).
    ledger.record(call("a", "python", "cheap", (1000, 40), 0.0002, baseline=0.007), DAY1)
    ledger.record(call("b", "python", "cheap", (800, 20), 0.00015, baseline=0.005), DAY1)
    ledger.record(call("c", "go", "mid", (1200, 60), 0.0021, baseline=0.009), DAY1)
    ledger.record(call("d", "python", "mid", (0, 0), 0.0, outcome="skipped_budget"), DAY1)
    ledger.record(call("d", "python", "cheap", (900, 30), 0.0001, baseline=0.006), DAY1)
    for request, language, tier, chars in (("a", "python", "cheap", 40), ("b", "python", "cheap", 20)):
        fates.shown(ShownRow(request, language, tier, f"{tier}-model", 0.2, False, chars), DAY1)
    fates.shown(ShownRow("c", "go", "mid", "mid-model", 0.5, False, 60), DAY1)
    fates.shown(ShownRow("d", "python", "cheap", "cheap-model", 0.3, False, 30), DAY1)
    fates.accepted(Report("a"), DAY1)
    fates.settle("b", Fate.DISMISSED, DAY1)
    fates.accepted(Report("c", "word", 12), DAY1)
    # Day 2: a premium answer accepted, then the same served again from the cache (a free request).
    ledger.record(call("e", "python", "premium", (1500, 80), 0.0095, baseline=0.0095), DAY2)
    ledger.record(call("f", "python", "premium", (0, 0), 0.0, cached=True), DAY2)
    fates.shown(ShownRow("e", "python", "premium", "premium-model", 0.8, False, 80), DAY2)
    fates.shown(ShownRow("f", "python", "premium", "premium-model", 0.8, True, 80), DAY2)
    fates.accepted(Report("e"), DAY2)
    ledger.close()
    fates.close()


def run_report(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config.toml"
    write_toml({"ledger": {"dir": str(tmp_path / "state")}}, config)
    env = {**os.environ, "TIERLINE_CONFIG": str(config)}
    return subprocess.run(tierline_command("report", *args), capture_output=True, text=True, env=env, timeout=60)


def tier(shown, accepted, chars, requests, calls, hits, tokens, cost):
    return {
        "suggestions_count": shown,
        "acceptances_count": accepted,
        "accepted_chars": chars,
        "requests": requests,
        "model_calls": calls,
        "cache_hits": hits,
        "tokens_in": tokens[0],
        "tokens_out": tokens[1],
        "cost_usd": cost,
    }


def test_one_line_per_day_with_copilots_field_names_and_exact_figures(tmp_path: Path):
    seed(tmp_path / "state")
    done = run_report(tmp_path, "--ndjson")
    assert done.returncode == 0 and done.stderr == ""
    lines = done.stdout.splitlines()
    first, second = (json.loads(line) for line in lines)
    assert len(lines) == 2

    assert first == {
        "day": "2026-11-30",
        "date": "2026-11-30",
        "code_generation_activity_count": 4,
        "code_acceptance_activity_count": 2,
        "totals_by_feature": [
            {"feature": "code_completion", "code_generation_activity_count": 4, "code_acceptance_activity_count": 2}
        ],
        "totals_by_language_feature": [
            {
                "language": "go",
                "feature": "code_completion",
                "code_generation_activity_count": 1,
                "code_acceptance_activity_count": 1,
            },
            {
                "language": "python",
                "feature": "code_completion",
                "code_generation_activity_count": 3,
                "code_acceptance_activity_count": 1,
            },
        ],
        "total_suggestions_count": 4,
        "total_acceptances_count": 2,
        "total_active_users": 1,
        "total_engaged_users": 1,
        "breakdown": [
            {"language": "go", "suggestions_count": 1, "acceptances_count": 1, "active_users": 1},
            {"language": "python", "suggestions_count": 3, "acceptances_count": 1, "active_users": 1},
        ],
        "copilot_ide_code_completions": {
            "total_engaged_users": 1,
            "languages": [{"name": "go", "total_engaged_users": 1}, {"name": "python", "total_engaged_users": 1}],
        },
        "tierline_cost_usd": 0.00255,
        "tierline_premium_baseline_usd": 0.027,
        "tierline_requests": 4,  # a, b, c, d: d once, though it has rows at mid and cheap
        "tierline_model_calls": 4,  # the budget's refusal made no call
        "tierline_cache_hits": 0,
        "tierline_tokens_in": 3900,
        "tierline_tokens_out": 150,
        "tierline_accepted_chars": 52,  # all 40 of a, 12 of c's 60
        "tierline_by_tier": {
            "cheap": tier(3, 1, 40, 3, 3, 0, (2700, 90), 0.00045),
            "mid": tier(1, 1, 12, 2, 1, 0, (1200, 60), 0.0021),
        },
    }
    assert second["day"] == second["date"] == "2026-12-01"
    assert (second["total_suggestions_count"], second["total_acceptances_count"]) == (2, 1)
    assert (second["code_generation_activity_count"], second["code_acceptance_activity_count"]) == (2, 1)
    assert second["breakdown"] == [
        {"language": "python", "suggestions_count": 2, "acceptances_count": 1, "active_users": 1}
    ]
    assert second["tierline_by_tier"] == {"premium": tier(2, 1, 80, 2, 1, 1, (1500, 80), 0.0095)}
    assert (second["tierline_cost_usd"], second["tierline_requests"], second["tierline_cache_hits"]) == (0.0095, 2, 1)


def test_no_ledger_prints_nothing_and_a_broken_one_says_so_in_one_line(tmp_path: Path):
    done = run_report(tmp_path, "--ndjson")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "ledger.sqlite3").write_bytes(b"not a database" * 100)
    done = run_report(tmp_path, "--ndjson")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("tierline report: the ledger ") and done.stderr.count("\n") == 1
