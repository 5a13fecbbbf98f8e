"""Cheap versus premium, side by side (routing/calibration.py `win_rates`): the samples are groups
that showed both and in which the user took one; the rate nudges the mid threshold only with
enough samples and only where parity leaves it."""

from __future__ import annotations

from tierline.config import Thresholds
from tierline.routing.calibration import MIN_WIN_SAMPLES, STEP, Sample, WinRate, propose, win_rates

DEFAULT = Thresholds(0.35, 0.70)


def group(index: int, taken: str | None, language: str = "python", tiers=("mid", "cheap", "premium")) -> list[dict]:
    first = f"g{index}"
    rows = []
    for n, tier in enumerate(tiers):
        request_id = first if n == 0 else f"{first}-{tier}"
        fate = "accepted" if tier == taken else "ignored"
        rows.append({"request_id": request_id, "group_id": first, "tier": tier, "fate": fate, "language": language})
    return rows


def test_groups_count_when_both_were_shown_and_one_of_them_was_taken():
    rows = [
        *group(1, "cheap"),
        *group(2, "premium"),
        *group(3, "mid"),  # the chosen tier's own answer: neither won
        *group(4, None),  # nothing taken
        *group(5, "cheap", tiers=("cheap", "premium")),  # chosen cheap, premium beside it
        *group(6, "premium", tiers=("mid", "premium")),  # no cheap shown: not a sample
        *group(7, "cheap", language="go"),
        {"request_id": "lone", "group_id": None, "tier": "cheap", "fate": "accepted", "language": "python"},
    ]

    rates = win_rates(rows)

    assert rates == {"python": WinRate(3, 2), "go": WinRate(1, 1)}
    assert rates["python"].verdict == "too few samples"


def samples(language: str, n: int) -> list[Sample]:
    # Too few on each side of the threshold for parity to have a verdict.
    return [Sample(language, "cheap", 0.3, True, 0.001) for _ in range(n)]


def test_enough_cheap_wins_move_mid_a_step_up_and_enough_premium_wins_a_step_down():
    wins = {"python": WinRate(MIN_WIN_SAMPLES, MIN_WIN_SAMPLES // 2), "go": WinRate(MIN_WIN_SAMPLES, 4)}

    proposals = {p.language: p for p in propose(samples("python", 5) + samples("go", 4), {}, DEFAULT, wins)}

    assert proposals["python"].parity == Thresholds(round(0.35 + STEP, 2), 0.70)
    assert proposals["go"].parity == Thresholds(round(0.35 - STEP, 2), 0.70)
    assert proposals["python"].notes == [f"cheap wins side by side (10 of {MIN_WIN_SAMPLES})"]


def test_never_below_the_least_sample():
    wins = {"python": WinRate(MIN_WIN_SAMPLES - 1, MIN_WIN_SAMPLES - 1)}  # every one cheap, one too few

    (proposal,) = propose(samples("python", 5), {}, DEFAULT, wins)

    assert proposal.parity == DEFAULT and not proposal.changed
