"""Accepting a completion with Tab in real VS Code (code-server) shows up in the server's stats as
accepted, under the tier that answered. Its own code-server, ledger and simulator (the `vscode`
fixture, conftest.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from vscode_harness import make_workspace, run_node


def test_tab_acceptance_is_counted_under_the_tier_that_answered(vscode: dict[str, Any]) -> None:
    tmp = vscode["tmp"]
    workspace = make_workspace(tmp, "ws-accept", vscode["sim_config"], None)
    result, _ = run_node(
        vscode,
        "ui_acceptance.cjs",
        {"TIERLINE_E2E_WORKSPACE": str(workspace), "TIERLINE_E2E_PROFILE": str(tmp / "chromium-accept")},
        timeout=240,
    )
    print(json.dumps(result, indent=2))
    assert "error" not in result, f"UI test failed: {result.get('error')}\nsteps: {result.get('steps')}"
    assert result["acceptedLine"] and "tl_" in result["acceptedLine"], result
    tier = re.search(r"(cheap|mid|premium) · ", result["statusText"])
    assert tier, result["statusText"]

    # The stats the server keeps in its ledger (the same numbers tierline.stats reports).
    report = subprocess.run(
        [sys.executable, "-m", "tierline", "report", "--json"],
        env=dict(vscode["env"], TIERLINE_CONFIG=str(Path(workspace) / ".tierline.toml")),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    acceptance = json.loads(report.stdout)["acceptance"]["all_time"]
    by_tier = acceptance["by_tier"][tier.group(1)]
    assert by_tier["accepted"] == 1, acceptance
    assert by_tier["accepted_chars"] == len(result["ghostText"].split("\n")[0]), (by_tier, result["ghostText"])
    assert acceptance["overall"]["accepted"] == 1


def _acceptance(vscode: dict[str, Any], workspace: Path) -> dict[str, Any]:
    report = subprocess.run(
        [sys.executable, "-m", "tierline", "report", "--json"],
        env=dict(vscode["env"], TIERLINE_CONFIG=str(Path(workspace) / ".tierline.toml")),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    acceptance = json.loads(report.stdout).get("acceptance") or {}
    return acceptance.get("all_time") or {"overall": {"accepted": 0}, "by_tier": {}}


def test_cycling_shows_another_item_and_accepting_it_counts_under_its_tier(vscode: dict[str, Any]) -> None:
    tmp = vscode["tmp"]
    workspace = make_workspace(tmp, "ws-alternatives", vscode["sim_config"], None)
    before = _acceptance(vscode, workspace)  # the module's tests share one ledger
    result, _ = run_node(
        vscode,
        "ui_alternatives.cjs",
        {"TIERLINE_E2E_WORKSPACE": str(workspace), "TIERLINE_E2E_PROFILE": str(tmp / "chromium-alternatives")},
        timeout=240,
    )
    print(json.dumps(result, indent=2))
    assert "error" not in result, f"UI test failed: {result.get('error')}\nsteps: {result.get('steps')}"
    assert result["first"] != result["second"] and "tl_" in result["second"], result

    after = _acceptance(vscode, workspace)
    assert after["overall"]["accepted"] == before["overall"]["accepted"] + 1, (before, after)
    gained = [
        tier
        for tier, row in after["by_tier"].items()
        if row["accepted"] > before["by_tier"].get(tier, {}).get("accepted", 0)
    ]
    assert len(gained) == 1, (before, after)
