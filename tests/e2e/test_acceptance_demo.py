"""The demo's acceptance block (commands/demo_acceptance.py): its own session, acceptance per tier
and the calibration proposal moving each language the right way. (The whole demo runs in
tests/e2e/test_demo_corpus.py; this runs only the block, to keep the suite's time.)"""

from __future__ import annotations

from pathlib import Path

from tierline.commands.demo_acceptance import acceptance_demo, acceptance_lines


async def test_the_demo_shows_acceptance_per_tier_and_calibration_moving_the_right_way(tmp_path: Path):
    result = await acceptance_demo(tmp_path)

    by_tier = result["stats"]["by_tier"]
    cheap, mid = by_tier["cheap"]["acceptance"], by_tier["mid"]["acceptance"]
    assert cheap["shown"] > 100 and mid["shown"] > 30
    assert cheap["rate"] < mid["rate"]  # the simulated user can tell
    assert cheap["cost_per_accepted_char_usd"] < mid["cost_per_accepted_char_usd"]
    proposals = {p["language"]: p for p in result["calibration"]}
    assert proposals["go"]["evidence"]["verdict"] == "trails" and proposals["go"]["parity"]["mid"] == 0.30
    # This Python is as hard as its score says: calibration does not send more of it to mid.
    assert proposals["python"]["evidence"]["verdict"] != "trails" and proposals["python"]["parity"]["mid"] >= 0.35
    text = "\n".join(acceptance_lines(result["stats"], result["calibration"]))
    assert "calibrate, go: cheap trails: mid 0.35 -> 0.30" in text
    assert "cost / accepted char" in text
