"""Calibration's arithmetic (routing/calibration.py) and writing the user config (commands/calibrate.py)."""

from __future__ import annotations

import sys

import pytest

from tierline.config import Thresholds, load_config
from tierline.config.writing import CalibrationError, apply_thresholds, with_language_thresholds
from tierline.routing.calibration import (
    MARGIN,
    MIN_SAMPLES,
    Sample,
    parity_of,
    parity_thresholds,
    project,
    propose,
    quantile,
    share_thresholds,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

DEFAULT = Thresholds(0.35, 0.70)


def samples(tier: str, shown: int, accepted: int, *, score: float, cost: float = 0.001, language: str = "go"):
    return [Sample(language, tier, score, i < accepted, cost) for i in range(shown)]


def test_cheap_trailing_beyond_the_margin_lowers_mid_a_step():
    rows = samples("cheap", 80, 40, score=0.2) + samples("mid", 60, 54, score=0.5)
    evidence = parity_of(rows)
    assert evidence.verdict == "trails"
    assert evidence.low > MARGIN
    assert parity_thresholds(DEFAULT, evidence) == Thresholds(0.30, 0.70)


def test_cheap_matching_raises_mid_a_step():
    rows = samples("cheap", 200, 180, score=0.2) + samples("mid", 100, 90, score=0.5)
    evidence = parity_of(rows)
    assert evidence.verdict == "matches" and evidence.high < MARGIN
    assert parity_thresholds(DEFAULT, evidence) == Thresholds(0.40, 0.70)


def test_an_interval_straddling_the_margin_or_too_few_samples_changes_nothing():
    unsure = samples("cheap", 40, 28, score=0.2) + samples("mid", 40, 32, score=0.5)
    few = samples("cheap", MIN_SAMPLES - 1, 0, score=0.2) + samples("mid", 100, 100, score=0.5)
    assert parity_of(unsure).verdict == "unsure"
    assert parity_of(few).verdict == "too few samples"
    assert parity_thresholds(DEFAULT, parity_of(unsure)) == DEFAULT
    assert parity_thresholds(DEFAULT, parity_of(few)) == DEFAULT


def test_guard_rails_hold_mid_in_range_and_under_premium():
    trails = parity_of(samples("cheap", 80, 10, score=0.1) + samples("mid", 80, 80, score=0.5))
    matches = parity_of(samples("cheap", 300, 300, score=0.1) + samples("mid", 100, 100, score=0.5))
    assert parity_thresholds(Thresholds(0.15, 0.70), trails).mid == 0.15
    assert parity_thresholds(Thresholds(0.60, 0.90), matches).mid == 0.60
    assert parity_thresholds(Thresholds(0.55, 0.62), matches).mid == 0.52  # premium - 0.10


def test_shares_are_quantiles_of_the_scores():
    scores = [i / 100 for i in range(101)]
    assert quantile(scores, 0.6) == pytest.approx(0.6)
    assert share_thresholds(scores) == Thresholds(0.6, 0.9)
    assert share_thresholds(scores[: MIN_SAMPLES - 1]) is None


def test_projection_replays_each_request_at_its_new_tiers_cost_and_acceptance():
    rows = samples("cheap", 10, 5, score=0.33, cost=0.001) + samples("mid", 10, 9, score=0.5, cost=0.01)
    before = project(rows, DEFAULT)
    after = project(rows, Thresholds(0.30, 0.70))  # the 0.33s now go mid
    assert before.spend_usd == pytest.approx(10 * 0.001 + 10 * 0.01)
    assert after.spend_usd == pytest.approx(20 * 0.01)
    assert (before.acceptance, after.acceptance) == (0.7, 0.9)
    assert after.shares == (0.0, 1.0, 0.0)


def test_propose_uses_each_languages_own_thresholds():
    rows = samples("cheap", 80, 40, score=0.2) + samples("mid", 60, 54, score=0.5)
    (proposal,) = propose(rows, {"go": Thresholds(0.45, 0.80)}, DEFAULT)
    assert proposal.current == Thresholds(0.45, 0.80)
    assert proposal.parity == Thresholds(0.40, 0.80)
    assert proposal.changed


USER_CONFIG = """\
# my settings
[budget]
daily_usd = 2.0   # keep it cheap

[routing.languages.go]
thresholds = { mid = 0.5, premium = 0.8 }

[cache]
ttl_seconds = 60
"""


def test_writing_thresholds_keeps_the_rest_of_the_file_and_replaces_the_old_table(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(USER_CONFIG)

    apply_thresholds(path, {"go": Thresholds(0.45, 0.8), "python": Thresholds(0.4, 0.7)})

    text = path.read_text()
    assert "# my settings" in text and "daily_usd = 2.0   # keep it cheap" in text
    assert "ttl_seconds = 60" in text
    data = tomllib.loads(text)
    assert data["routing"]["languages"]["go"]["thresholds"] == {"mid": 0.45, "premium": 0.8}
    assert data["routing"]["languages"]["python"]["thresholds"] == {"mid": 0.4, "premium": 0.7}
    assert data["cache"] == {"ttl_seconds": 60}
    config = load_config(None, {"TIERLINE_CONFIG": str(path)})
    assert config.routing.thresholds_for("go") == Thresholds(0.45, 0.8)


def test_a_config_that_would_not_load_is_left_alone(tmp_path):
    path = tmp_path / "config.toml"
    original = "[routing]\nlanguages = { go = { thresholds = { mid = 0.5 } } }\n"
    path.write_text(original)

    with pytest.raises(CalibrationError, match="would not load"):
        apply_thresholds(path, {"go": Thresholds(0.45, 0.8)})
    with pytest.raises(CalibrationError, match="refusing language"):
        apply_thresholds(path, {"go]\n[models": Thresholds(0.45, 0.8)})
    assert path.read_text() == original


def test_an_empty_inline_languages_table_is_replaced():
    text = with_language_thresholds("[routing]\nlanguages = {}\newma_alpha = 0.3\n", {"go": Thresholds(0.3, 0.7)})
    assert tomllib.loads(text)["routing"] == {
        "ewma_alpha": 0.3,
        "languages": {"go": {"thresholds": {"mid": 0.3, "premium": 0.7}}},
    }


def test_a_hostile_language_name_from_the_ledger_is_never_written():
    from tierline.config import default_config
    from tierline.routing.auto_calibration import daily_changes

    hostile = 'go"]\n[[models]]'
    rows = samples("cheap", 80, 40, score=0.2, language=hostile) + samples("mid", 60, 54, score=0.5, language=hostile)
    rows += samples("cheap", 80, 40, score=0.2) + samples("mid", 60, 54, score=0.5)
    assert daily_changes(default_config(), rows) == {"go": Thresholds(0.30, 0.70)}
