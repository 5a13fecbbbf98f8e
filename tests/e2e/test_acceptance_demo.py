"""The demo's acceptance block (commands/demo_acceptance.py): its own session, acceptance per tier
and the calibration proposal moving each language the right way, read from the shared demo run
(`demo_run`, tests/conftest.py) that tests/e2e/test_demo_corpus.py and the README's example read."""

from __future__ import annotations

from typing import Any

from tests.helpers.demo import DEMO_GROUP
from tierline.commands.demo_acceptance import acceptance_lines

pytestmark = DEMO_GROUP


def test_the_demo_shows_acceptance_per_tier_and_calibration_moving_the_right_way(demo_run: dict[str, Any]):
    result = demo_run["acceptance"]

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
