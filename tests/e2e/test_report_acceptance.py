"""`tierline report` (terminal, --json, --html) shows acceptance with retention at 30 s, 2, 5 and 10
minutes, per tier and overall, from a ledger written by the real accounting code."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers.forkserver import tierline_command
from tierline.accounting.acceptance import FateLedger, Report, ShownRow
from tierline.accounting.ledger import CallRow, Ledger
from tierline.devtools.simulator import write_toml


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    state = tmp_path / "state"
    now = time.time()
    ledger = Ledger(state)
    for request_id, tier in (("a", "cheap"), ("b", "premium"), ("c", "cheap")):
        ledger.record(CallRow(request_id, "python", tier, f"{tier}-m", 100, 10, 0.001, 0.01, 200.0, "ok", False), now)
    ledger.close()
    fates = FateLedger(state)
    fates.shown(ShownRow("a", "python", "cheap", "cheap-m", 0.2, False, 40), now)
    fates.shown(ShownRow("b", "<b>lang</b>", "premium", "premium-m", 0.8, False, 20), now)
    fates.shown(ShownRow("c", "python", "cheap", "cheap-m", 0.2, False, 10), now)
    fates.accepted(Report("a"), now)
    fates.accepted(Report("b"), now)
    for after_s, kept in ((30, 40), (120, 30), (300, 10)):  # "a": 600 s not measured yet
        fates.retained("a", kept, after_s)
    for after_s, kept in ((30, 20), (120, 20), (300, 20), (600, 5)):
        fates.retained("b", kept, after_s)
    fates.close()
    config = tmp_path / "config.toml"
    write_toml({"ledger": {"dir": str(state)}}, config)
    return {**os.environ, "TIERLINE_CONFIG": str(config)}


def report(env: dict[str, str], *args: str) -> str:
    run = subprocess.run(tierline_command("report", *args), capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_json_carries_retention_per_tier_and_overall(env):
    acceptance = json.loads(report(env, "--json"))["acceptance"]["all_time"]

    assert acceptance["by_tier"]["cheap"]["retained"] == {"30s": 1.0, "120s": 0.75, "300s": 0.25, "600s": None}
    assert acceptance["by_tier"]["premium"]["retained"] == {"30s": 1.0, "120s": 1.0, "300s": 1.0, "600s": 0.25}
    assert acceptance["overall"]["retained"] == {"30s": 1.0, "120s": round(50 / 60, 4), "300s": 0.5, "600s": 0.25}


def test_terminal_shows_the_retention_table(env):
    out = report(env)

    table = out.split("Retention: the share of accepted characters still there after")[1]
    lines = [line.split() for line in table.strip().splitlines()]
    assert lines[0] == ["tier", "30", "s", "2", "min", "5", "min", "10", "min"]
    rows = {cells[0]: cells[1:] for cells in lines[1:] if cells and cells[0] in ("cheap", "premium", "all")}
    assert rows == {
        "cheap": ["100%", "75%", "25%", "-"],
        "premium": ["100%", "100%", "100%", "25%"],
        "all": ["100%", "83%", "50%", "25%"],
    }


def test_html_has_the_acceptance_section_with_retention_escaped(env, tmp_path):
    page = tmp_path / "report.html"
    report(env, "--html", str(page))
    text = page.read_text()

    section = text.split("<h2>Acceptance</h2>")[1]
    by_tier = section.split('id="acceptance-by-tier"')[1].split("</div>")[0]
    assert "<th>still there after 10 min</th>" in by_tier
    assert "<tr><td>cheap</td><td>2</td><td>1</td><td>50%</td><td>40</td>" in by_tier
    assert "<td>100%</td><td>75%</td><td>25%</td><td>-</td></tr>" in by_tier
    assert "<tr><td>all</td><td>3</td><td>2</td><td>67%</td><td>60</td>" in by_tier
    by_language = section.split('id="acceptance-by-language"')[1]
    assert "&lt;b&gt;lang&lt;/b&gt;" in by_language and "<b>lang</b>" not in text
