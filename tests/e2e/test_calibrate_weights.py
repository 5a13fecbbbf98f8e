"""`tierline calibrate --weights`: the score refitted on the user's own completions, shown on their
data and on the frozen test split, applied only when it makes no more severe misroutes there.

The ledger is written the way the server writes it (FateLedger: one row per shown completion, with
its features and then its fate), from positions of the corpus's training split; the command runs as
a real subprocess and the server reads the weights it wrote.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from tests.helpers.forkserver import tierline_command
from tierline.accounting.acceptance import FateLedger, Report, ShownRow
from tierline.analysis import scoring
from tierline.routing.corpus import load_positions
from tierline.wire import Fate

TRAIN = [p for p in load_positions() if p.split == "train"]


def ledger_with(directory: Path, fates: list[tuple[str, str, dict[str, float], bool]]) -> None:
    """(language, tier shown, features, accepted) per shown completion."""
    ledger = FateLedger(directory)
    now = time.time()
    for index, (language, tier, features, accepted) in enumerate(fates):
        request_id = f"r{index}"
        ledger.shown(ShownRow(request_id, language, tier, "m", 0.5, False, 20, json.dumps(features)), now)
        if accepted:
            ledger.accepted(Report(request_id), now)
        else:
            ledger.settle(request_id, Fate.DISMISSED, now)
    ledger.close()


def calibrate(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config" / "tierline" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[ledger]\ndir = "{tmp_path / "ledger"}"\n')
    env = {**os.environ, "TIERLINE_CONFIG": str(config), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    return subprocess.run(
        tierline_command("calibrate", "--weights", *args),
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
        check=False,
    )


def honest_user() -> list[tuple[str, str, dict[str, float], bool]]:
    """Shown at the tier the labels give, and accepted; plus cheap answers rejected where the label
    says mid: the fates agree with the labels."""
    out = []
    for p in TRAIN:
        out.append((p.language, p.label, dict(p.features), True))
        if p.label == "mid":
            out.append((p.language, "cheap", dict(p.features), False))
    return out


def contrary_user() -> list[tuple[str, str, dict[str, float], bool]]:
    """Everything the labels call hard accepted from the cheap tier, everything they call cheap
    rejected from mid: fates that would send hard code cheap and easy code premium."""
    out = []
    for _ in range(3):
        for p in TRAIN:
            if p.label == "cheap":
                out.append((p.language, "mid", dict(p.features), False))
            else:
                out.append((p.language, "cheap", dict(p.features), True))
    return out


def test_too_few_completions_propose_nothing(tmp_path: Path) -> None:
    ledger_with(tmp_path / "ledger", honest_user()[:40])
    result = calibrate(tmp_path, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["samples"], report["verdict"], report["applied"]) == (40, "too few samples", False)


def test_a_refit_that_agrees_with_the_labels_is_shown_and_applied(tmp_path: Path) -> None:
    fates = honest_user()
    ledger_with(tmp_path / "ledger", fates)
    shown = calibrate(tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert f"your shown completions with a fate: {len(fates)}" in shown.stdout
    assert "weights in force  exact 107/180" in shown.stdout  # the shipped weights on the test split
    assert "run `tierline calibrate --weights --apply` to use them" in shown.stdout
    weights = tmp_path / "config" / "tierline" / "router_weights.json"
    assert not weights.exists()
    applied = calibrate(tmp_path, "--apply", "--json")
    assert applied.returncode == 0, applied.stderr
    report = json.loads(applied.stdout)
    assert report["verdict"] == "applicable" and report["applied"] is True
    assert report["test_split"]["proposed"]["severe"] <= report["test_split"]["current"]["severe"]
    assert json.loads(weights.read_text())["meta"]["refitted_on_user_samples"] == len(fates)


def test_a_refit_that_would_misroute_is_refused(tmp_path: Path) -> None:
    ledger_with(tmp_path / "ledger", contrary_user())
    result = calibrate(tmp_path, "--apply", "--json")
    report = json.loads(result.stdout)
    assert report["verdict"].startswith("refused: on the frozen test split it makes")
    assert report["applied"] is False and result.returncode == 1
    assert report["test_split"]["proposed"]["severe"] > report["test_split"]["current"]["severe"]
    assert not (tmp_path / "config" / "tierline" / "router_weights.json").exists()


def test_the_server_scores_with_the_users_weights(tmp_path: Path) -> None:
    """`tierline score` (the server's own analysis) uses a weights file beside the config, and an
    unusable one leaves the shipped weights in force."""
    config = tmp_path / "config" / "tierline" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("")
    source = tmp_path / "f.py"
    source.write_text("def f(a, b):\n    \n")
    env = {**os.environ, "TIERLINE_CONFIG": str(config)}

    def score() -> float:
        run = subprocess.run(
            tierline_command("score", f"{source}:2:5", "--json"),
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            check=True,
        )
        return float(json.loads(run.stdout)["score"])

    shipped = score()
    model = scoring.current_model().as_json()
    model["weights"]["empty_body"] += 1.0  # an empty body weighs more in this user's weights
    (config.parent / "router_weights.json").write_text(json.dumps(model))
    assert score() > shipped
    (config.parent / "router_weights.json").write_text('{"weights": {"x": 1}}')
    assert score() == shipped


def test_rows_that_were_tampered_with_are_read_as_far_as_they_are_numbers() -> None:
    from tierline.routing.refit import samples_from_rows

    rows = [
        {"language": "python", "tier": "cheap", "fate": "accepted", "features": '{"empty_body": 1, "atomics": NaN}'},
        {
            "language": "python",
            "tier": "cheap",
            "fate": "accepted",
            "features": '{"closes_after": 1e400, "mid_line": 1}',
        },
        {"language": "python", "tier": "mid", "fate": "dismissed", "features": "not json"},
        {"language": "python", "tier": "mid", "fate": "shown", "features": '{"empty_body": 1}'},
    ]
    samples = samples_from_rows(rows)
    assert [dict(s.features) for s in samples] == [{"empty_body": 1.0}, {"mid_line": 1.0}]
