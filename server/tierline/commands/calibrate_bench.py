"""`tierline calibrate --from-bench FILE [--json] [--apply]`: what a bench's measurements say the
routing should be (bench/calibration.py), shown on the bench's own positions; `--apply` writes
the thresholds to the user's config and the measured pass@1 into its `[[models]]` entries."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tierline.bench.calibration import MIN_POSITIONS, BenchProposal, propose_pass_at_1, propose_thresholds
from tierline.config import ConfigError, load_config
from tierline.config.writing import (
    CalibrationError,
    apply_pass_at_1,
    apply_thresholds,
    user_config_path,
    writable_language,
)
from tierline.text_table import render_table


def _proposal_json(p: BenchProposal) -> dict[str, Any]:
    return {
        "language": p.language,
        "positions": p.positions,
        "current": {"mid": p.current.mid, "premium": p.current.premium},
        "proposed": {"mid": p.proposed.mid, "premium": p.proposed.premium},
        "changed": p.changed,
        "before": {"exact": p.before.exact, "cost_usd": p.before.cost_usd},
        "after": {"exact": p.after.exact, "cost_usd": p.after.cost_usd},
    }


def _format(proposals: list[BenchProposal], pass_at_1: dict[str, dict[str, float]]) -> str:
    if not proposals:
        table = f"No language has {MIN_POSITIONS} positions with every tier's answer: nothing to propose."
    else:
        rows = [
            [
                p.language,
                p.positions,
                f"{p.current.mid:.2f}/{p.current.premium:.2f}",
                f"{p.proposed.mid:.2f}/{p.proposed.premium:.2f}" if p.changed else "(keep)",
                f"{p.before.exact:.0%} -> {p.after.exact:.0%}",
                f"${p.before.cost_usd:.6f} -> ${p.after.cost_usd:.6f}",
            ]
            for p in proposals
        ]
        headers = ["language", "positions", "now mid/prem", "proposed", "exact on the bench", "cost on the bench"]
        table = render_table(headers, rows)
    lines = [table, "", "pass_at_1 measured (exact matches), for each model's [[models]] entry:"]
    for model, rates in pass_at_1.items():
        pairs = ", ".join(f"{language} = {rate:.2f}" for language, rate in rates.items())
        lines.append(f"  {model}: pass_at_1 = {{ {pairs} }}")
    return "\n".join(lines)


def run_from_bench(path: str, *, as_json: bool = False, apply: bool = False) -> int:
    try:
        config = load_config(Path.cwd())
    except ConfigError as error:
        print(f"tierline calibrate: {error}", file=sys.stderr)
        return 2
    try:
        result = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(result, dict) or not isinstance(result.get("cases"), list):
            raise ValueError("no cases (write it with `tierline bench --json > FILE`)")
        proposals = propose_thresholds(result, config.routing)
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"tierline calibrate: cannot read the bench {path}: {error}", file=sys.stderr)
        return 2
    pass_at_1 = propose_pass_at_1(result)
    changes = {p.language: p.proposed for p in proposals if p.changed and writable_language(p.language)}
    target = user_config_path()
    applied = False
    models_written: list[str] = []
    if apply:
        try:
            if changes:
                apply_thresholds(target, changes)
                applied = True
            models_written = apply_pass_at_1(target, pass_at_1)
        except CalibrationError as error:
            print(f"tierline calibrate: {error}", file=sys.stderr)
            return 2
    if as_json:
        out = {
            "proposals": [_proposal_json(p) for p in proposals],
            "pass_at_1": pass_at_1,
            "applied": applied,
            "pass_at_1_written": models_written,
            "config": str(target) if applied or models_written else None,
        }
        print(json.dumps(out, indent=2))
        return 0
    print(f"Calibration from the bench {path} (its own positions, replayed with each pair of thresholds)\n")
    print(_format(proposals, pass_at_1))
    if applied:
        print(f"\nwrote thresholds for {', '.join(sorted(changes))} to {target}")
    elif changes and not apply:
        print("\nrun `tierline calibrate --from-bench FILE --apply` to write the proposed thresholds to your config")
    elif not changes:
        print("\nno threshold change proposed")
    if models_written:
        print(f"wrote pass_at_1 for {', '.join(models_written)} to {target}")
    missing = sorted(set(pass_at_1) - set(models_written))
    if apply and missing:
        print(f"not in {target} as [[models]] entries (add pass_at_1 there by hand): {', '.join(missing)}")
    return 0
