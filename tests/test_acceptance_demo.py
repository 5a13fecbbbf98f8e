"""`tierline demo` ends with acceptance per tier and the calibration proposal from its own session."""

from __future__ import annotations

import json
import subprocess
import sys

from tierline.commands.demo_acceptance import acceptance_lines


def test_the_demo_shows_acceptance_per_tier_and_calibration_moving_the_right_way():
    done = subprocess.run(
        [sys.executable, "-m", "tierline", "demo", "--json"], capture_output=True, text=True, timeout=300, check=True
    )
    demo = json.loads(done.stdout)
    by_tier = demo["acceptance"]["stats"]["by_tier"]
    cheap, mid = by_tier["cheap"]["acceptance"], by_tier["mid"]["acceptance"]
    assert cheap["shown"] > 100 and mid["shown"] > 30
    assert cheap["rate"] < mid["rate"]  # the simulated user can tell
    assert cheap["cost_per_accepted_char_usd"] < mid["cost_per_accepted_char_usd"]
    proposals = {p["language"]: p for p in demo["acceptance"]["calibration"]}
    assert proposals["go"]["evidence"]["verdict"] == "trails" and proposals["go"]["parity"]["mid"] == 0.30
    assert proposals["python"]["evidence"]["verdict"] == "matches" and proposals["python"]["parity"]["mid"] == 0.40

    text = "\n".join(acceptance_lines(demo["acceptance"]["stats"], demo["acceptance"]["calibration"]))
    assert "calibrate, go: cheap trails: mid 0.35 -> 0.30" in text
    assert "cost / accepted char" in text
