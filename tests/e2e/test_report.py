"""`tierline report`: terminal charts, a self-contained HTML page rendered in headless Chromium, and
the team's spend per user from a real redis-server."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers.common import ROOT
from tests.helpers.forkserver import tierline_command
from tierline.accounting.budget import Budget, Hooks
from tierline.accounting.ledger import CallRow, Ledger
from tierline.config import BudgetConfig
from tierline.devtools.simulator import write_toml

REPO = ROOT
OUTPUT = Path(os.environ.get("TIERLINE_TEST_OUTPUT", REPO / "test-output"))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DAY = 86400.0
NOW = time.time()


def row(request: str, language: str, tier: str, cost: float, baseline: float, cached: bool = False) -> CallRow:
    return CallRow(request, language, tier, f"{tier}-model", 1000, 50, cost, baseline, 300.0, "ok", cached)


@pytest.fixture
def ledger_config(tmp_path: Path) -> dict[str, str]:
    state = tmp_path / "state"
    ledger = Ledger(state)
    # Three days: 2 days ago, yesterday, today. Hostile language name: the page must escape it.
    for i, (offset, language, tier, cost, baseline) in enumerate(
        [
            (2, "python", "cheap", 0.0010, 0.0250),
            (2, "python", "mid", 0.0050, 0.0250),
            (1, "rust", "cheap", 0.0020, 0.0300),
            (0, "python", "premium", 0.0300, 0.0300),
            (0, "<script>alert(1)</script>", "cheap", 0.0005, 0.0100),
        ]
    ):
        ledger.record(row(f"r{i}", language, tier, cost, baseline), NOW - offset * DAY)
    ledger.record(row("r9", "python", "cheap", 0.0, 0.0, cached=True), NOW)
    ledger.close()
    config = tmp_path / "config.toml"
    write_toml({"ledger": {"dir": str(state)}}, config)
    return {**os.environ, "TIERLINE_CONFIG": str(config)}


def report(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(tierline_command("report", *args), capture_output=True, text=True, env=env, timeout=60)


def test_terminal_report_draws_spend_per_day_tier_shares_and_languages(ledger_config):
    run = report(ledger_config)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    days = re.findall(r"^  (\d{4}-\d\d-\d\d)  (█*[▏▎▍▌▋▊▉]?) *\$(\S+)$", out, re.M)
    assert [cost for _, _, cost in days] == ["0.0060", "0.0020", "0.0305"]
    # Bars are to scale: the largest value (all-premium today, $0.0400) is 40 cells.
    assert len(days[2][1]) == round(40 * 0.0305 / 0.0500 * 8) // 8 + (1 if round(40 * 0.0305 / 0.05 * 8) % 8 else 0)
    assert re.search(r"^  cheap   █{26}▋ +66\.7%  \(4\)$", out, re.M)  # 4 of 6 requests: 26.7 of 40 cells
    assert re.search(r"^  python {7}█{36} +4  \$0\.0360$", out, re.M)
    assert re.search(r"^  <script>ale… +█{9} +1  \$0\.0005$", out, re.M)


def test_html_report_renders_its_charts_in_chromium(ledger_config, tmp_path):
    page = tmp_path / "report.html"
    run = report(ledger_config, "--html", str(page))
    assert run.returncode == 0, run.stderr
    text = page.read_text()
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in text
    assert "<script>alert" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text

    OUTPUT.mkdir(parents=True, exist_ok=True)
    screenshot = OUTPUT / "report.png"
    screenshot.unlink(missing_ok=True)
    chrome = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}"]
    subprocess.run(
        [*chrome, f"--screenshot={screenshot}", "--window-size=900,1400", page.as_uri()],
        check=True,
        capture_output=True,
        timeout=120,
    )
    dom = subprocess.run(
        [*chrome, "--dump-dom", page.as_uri()], check=True, capture_output=True, text=True, timeout=120
    ).stdout

    png = screenshot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") == 900
    # The rendered DOM has the three charts, with their bars: 3 days x (all-premium + spent) + legend.
    for chart in ("chart-daily", "chart-tiers", "chart-languages"):
        assert f'id="{chart}"' in dom
    daily = dom.split('id="chart-daily"')[1].split("</svg>")[0]
    assert daily.count('class="baseline"') == 3 + 1 and daily.count('class="spend"') == 3 + 1
    tiers = dom.split('id="chart-tiers"')[1].split("</svg>")[0]
    assert all(f'class="tier-{t}"' in tiers for t in ("cheap", "mid", "premium"))
    assert "$0.0305" in daily and "$0.0400" in daily


def test_team_report_reads_each_users_spend_from_redis(redis_server, tmp_path):  # noqa: F811
    for user, costs in (("ada", [0.25, 0.5]), ("bob", [0.125])):
        budget = Budget(BudgetConfig(store=redis_server.url, user=user), tmp_path, Hooks(print, print))
        for cost in costs:
            hold = budget.reserve(cost)
            budget.settle(hold, cost)  # type: ignore[arg-type]
        budget.close()
    config = tmp_path / "team.toml"
    write_toml({"budget": {"store": redis_server.url, "daily_usd": 2.0}}, config)
    env = {**os.environ, "TIERLINE_CONFIG": str(config)}

    result = json.loads(report(env, "--team", "--json").stdout)
    text = report(env, "--team").stdout

    assert result["users"] == {
        "ada": {"today_usd": 0.75, "month_usd": 0.75},
        "bob": {"today_usd": 0.125, "month_usd": 0.125},
    }
    assert result["today_usd"] == 0.875
    assert re.search(r"^ada +\$0\.750000 +\$0\.750000 +█{30}$", text, re.M)
    assert "team: today $0.875000 of $2.00" in text


def test_team_report_needs_a_shared_store(ledger_config):
    run = report(ledger_config, "--team")
    assert run.returncode == 2 and "redis://" in run.stderr
