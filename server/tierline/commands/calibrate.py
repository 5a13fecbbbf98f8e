"""`tierline calibrate [--json] [--apply]`: thresholds proposed from what users accepted.

Reads the ledger's fates (accounting/acceptance.py) and calls, proposes per-language thresholds
two ways (routing/calibration.py: shares and quality parity), prints before and after (projected
spend and acceptance), and with ``--apply`` writes the parity proposal as
``[routing.languages.<lang>] thresholds`` to the user's config file.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from tierline.accounting.acceptance import FateLedger
from tierline.accounting.ledger import Ledger
from tierline.config import Config, ConfigError, load_config
from tierline.config.writing import CalibrationError, apply_thresholds, user_config_path, writable_language
from tierline.routing.calibration import Proposal, propose, samples_from, win_rates
from tierline.text_table import render_table

DEFAULT_DAYS = 14


def proposals_from_ledger(config: Config, days: int = DEFAULT_DAYS) -> list[Proposal]:
    """What `tierline calibrate` proposes from the ledger in ``config.ledger.dir``."""
    since = time.time() - days * 86400
    fates = FateLedger(config.ledger.dir)
    try:
        rows, costs = (fates.rows(since), fates.costs_by_request(since)) if fates.path.exists() else ([], {})
    finally:
        fates.close()
    samples = samples_from(rows, costs)
    return propose(samples, config.routing.languages, config.routing.thresholds, win_rates(rows))


# ---------------------------------------------------------------------------------------------
# Output


def proposal_json(proposal: Proposal) -> dict[str, Any]:
    evidence = proposal.evidence
    return {
        "language": proposal.language,
        "samples": proposal.samples,
        "current": {"mid": proposal.current.mid, "premium": proposal.current.premium},
        "shares": {"mid": proposal.shares.mid, "premium": proposal.shares.premium} if proposal.shares else None,
        "parity": {"mid": proposal.parity.mid, "premium": proposal.parity.premium},
        "changed": proposal.changed,
        "evidence": {
            "cheap_shown": evidence.cheap_shown,
            "cheap_rate": round(evidence.cheap_rate, 4),
            "above_shown": evidence.above_shown,
            "above_rate": round(evidence.above_rate, 4),
            "gap": round(evidence.gap, 4),
            "interval": [round(evidence.low, 4), round(evidence.high, 4)],
            "verdict": evidence.verdict,
        },
        "before": {"spend_usd": proposal.before.spend_usd, "acceptance": proposal.before.acceptance},
        "after": {"spend_usd": proposal.after.spend_usd, "acceptance": proposal.after.acceptance},
        "notes": proposal.notes,
        # Side by side (alternatives): how often the user took the cheap answer over the premium one.
        "cheap_vs_premium": {
            "samples": proposal.wins.samples,
            "cheap_wins": proposal.wins.cheap_wins,
            "cheap_win_rate": round(proposal.wins.rate, 4) if proposal.wins.rate is not None else None,
            "verdict": proposal.wins.verdict,
        },
    }


def format_proposals(proposals: list[Proposal]) -> str:
    if not proposals:
        return "No scored completions with a recorded fate yet: nothing to calibrate from."
    rows = []
    for p in proposals:
        e = p.evidence
        rows.append(
            [
                p.language,
                p.samples,
                f"{e.cheap_rate:.0%} of {e.cheap_shown}",
                f"{e.above_rate:.0%} of {e.above_shown}",
                f"{e.gap:+.2f} [{e.low:+.2f}, {e.high:+.2f}]" if e.verdict != "too few samples" else "-",
                e.verdict,
                f"{p.current.mid:.2f}/{p.current.premium:.2f}",
                f"{p.shares.mid:.2f}/{p.shares.premium:.2f}" if p.shares else "-",
                f"{p.parity.mid:.2f}/{p.parity.premium:.2f}",
                f"${p.before.spend_usd:.6f} -> ${p.after.spend_usd:.6f}",
                f"{p.before.acceptance:.0%} -> {p.after.acceptance:.0%}",
                f"{p.wins.rate:.0%} of {p.wins.samples}" if p.wins.rate is not None else "-",
            ]
        )
    headers = [
        "language",
        "shown",
        "cheap accepted",
        "above accepted",
        "gap [95% bound]",
        "verdict",
        "now mid/prem",
        "shares",
        "parity",
        "projected spend",
        "projected acceptance",
        "cheap won",
    ]
    return render_table(headers, rows)


def run_calibrate(
    *,
    as_json: bool = False,
    apply: bool = False,
    days: int = DEFAULT_DAYS,
    from_bench: str | None = None,
    weights: bool = False,
) -> int:
    if weights:  # the score's weights refitted, instead of the thresholds
        from tierline.commands.calibrate_weights import run_calibrate_weights

        return run_calibrate_weights(as_json=as_json, apply=apply, days=days)
    if from_bench is not None:  # measured by `tierline bench` instead of the ledger's fates
        from tierline.commands.calibrate_bench import run_from_bench

        return run_from_bench(from_bench, as_json=as_json, apply=apply)
    try:
        config = load_config(Path.cwd())
    except ConfigError as error:
        print(f"tierline calibrate: {error}", file=sys.stderr)
        return 2
    try:
        proposals = proposals_from_ledger(config, days)
    except sqlite3.Error as error:
        print(f"tierline calibrate: cannot read the ledger in {config.ledger.dir}: {error}", file=sys.stderr)
        return 2
    changes = {p.language: p.parity for p in proposals if p.changed and writable_language(p.language)}
    target = user_config_path()
    applied = False
    if apply and changes:
        try:
            apply_thresholds(target, changes)
            applied = True
        except CalibrationError as error:
            print(f"tierline calibrate: {error}", file=sys.stderr)
            return 2
    if as_json:
        result = {
            "proposals": [proposal_json(p) for p in proposals],
            "applied": applied,
            "config": str(target) if applied else None,
        }
        print(json.dumps(result, indent=2))
        return 0
    print(f"Calibration from the last {days} days (ledger: {config.ledger.dir / Ledger.FILENAME})\n")
    print(format_proposals(proposals))
    print(
        "\nshares: thresholds that send 60/30/10 % of requests to cheap/mid/premium; parity: the mid threshold"
        " moved a step down where cheap answers are accepted less often than mid and premium ones, up where as often."
        "\ncheap won: where the cheap and premium answers were shown side by side (an invoked request near a"
        " tier boundary), how often the user took the cheap one; with parity unsure and 20+ samples, 50 % or"
        " more moves mid a step up, 20 % or less a step down."
    )
    if applied:
        print(f"\nwrote thresholds for {', '.join(sorted(changes))} to {target}")
    elif changes:
        print("\nrun `tierline calibrate --apply` to write the parity thresholds to your config")
    else:
        print("\nno change proposed")
    return 0
