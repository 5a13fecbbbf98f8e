"""`tierline calibrate --weights [--apply]`: the score's weights refitted on what you accepted.

Reads the shown completions of the last days from the ledger (their features and fates), refits
the weights on the routing corpus's training split plus those (routing/refit.py), and prints, on
your own completions, how many would move between tiers, and on the frozen test split of the
corpus, the refit's figures beside the weights in force. ``--apply`` writes the refit beside your
config file (``router_weights.json``), which the server reads at start; it refuses a refit that
makes more severe misroutes on the test split than the weights in force.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from tierline.accounting.acceptance import FateLedger
from tierline.analysis import scoring
from tierline.analysis.router_model import WeightsError
from tierline.config import ConfigError, load_config
from tierline.config.writing import user_config_path
from tierline.routing.corpus import Figures
from tierline.routing.refit import (
    MIN_USER_SAMPLES,
    WeightsProposal,
    load_user_weights,
    propose_weights,
    samples_from_rows,
    user_weights_path,
    write_weights,
)


def _figures_line(figures: Figures) -> str:
    recall = ", ".join(f"{tier} {right}/{total}" for tier, (right, total) in figures.recall.items())
    return (
        f"exact {figures.exact}/{figures.cases} ({100 * figures.exact_rate:.1f} %), severe {figures.severe}"
        f" ({figures.severe_clear} on clear cases), recall {recall}"
    )


def _proposal_json(proposal: WeightsProposal, applied: bool, path: Path) -> dict[str, Any]:
    return {
        "samples": proposal.samples,
        "min_samples": MIN_USER_SAMPLES,
        "verdict": proposal.verdict,
        "test_split": {
            "current": proposal.current.as_json(),
            "proposed": proposal.proposed.as_json() if proposal.proposed else None,
        },
        "moves": dict(proposal.moves),
        "applied": applied,
        "weights_file": str(path) if applied else None,
    }


def run_calibrate_weights(*, as_json: bool, apply: bool, days: int) -> int:
    try:
        config = load_config(Path.cwd())
    except ConfigError as error:
        print(f"tierline calibrate: {error}", file=sys.stderr)
        return 2
    path = user_weights_path(user_config_path())
    try:
        current = load_user_weights(path) or scoring.current_model()
    except WeightsError as error:
        print(
            f"tierline calibrate: your weights are unusable, the shipped ones are compared ({error})", file=sys.stderr
        )
        current = scoring.current_model()
    fates = FateLedger(config.ledger.dir)
    try:
        rows = fates.rows(time.time() - days * 86400) if fates.path.exists() else []
    except sqlite3.Error as error:
        print(f"tierline calibrate: cannot read the ledger in {config.ledger.dir}: {error}", file=sys.stderr)
        return 2
    finally:
        fates.close()
    proposal = propose_weights(samples_from_rows(rows), current)
    applied = False
    if apply and proposal.applicable and proposal.model is not None:
        write_weights(path, proposal.model)
        applied = True
    if as_json:
        print(json.dumps(_proposal_json(proposal, applied, path), indent=2))
        return 0 if applied or not apply else 1
    print(f"Weights refitted on your completions of the last {days} days and the corpus's training split\n")
    print(f"  your shown completions with a fate: {proposal.samples} (at least {MIN_USER_SAMPLES} needed)")
    if proposal.proposed is None:
        print("\nno refit: too few of your completions have a fate yet")
        return 0 if not apply else 1
    moved = ", ".join(f"{key} {count}" for key, count in sorted(proposal.moves.items())) or "none"
    print(f"  on your completions, tiers that would change: {moved}")
    print("  on the frozen test split of the routing corpus (180 positions nobody tuned on):")
    print(f"    weights in force  {_figures_line(proposal.current)}")
    print(f"    refitted          {_figures_line(proposal.proposed)}")
    if applied:
        print(f"\nwrote the refitted weights to {path} (the server reads them when it starts)")
    elif not proposal.applicable:
        print(f"\nnot applicable: {proposal.verdict}")
        return 1 if apply else 0
    else:
        print("\nrun `tierline calibrate --weights --apply` to use them")
    return 0
