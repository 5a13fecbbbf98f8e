"""`tierline calibrate [--json] [--apply]`: thresholds proposed from what users accepted.

Reads the ledger's fates (accounting/acceptance.py) and calls, proposes per-language thresholds
two ways (routing/calibration.py: shares and quality parity), prints before and after (projected
spend and acceptance), and with ``--apply`` writes the parity proposal as
``[routing.languages.<lang>] thresholds`` to the user's config file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from tierline.accounting.acceptance import FateLedger
from tierline.accounting.ledger import Ledger
from tierline.commands.report import render_table
from tierline.config import DEFAULTS, Config, ConfigError, Thresholds, deep_merge, load_config, parse_config, paths
from tierline.routing.calibration import Proposal, propose, samples_from

DEFAULT_DAYS = 14
_LANGUAGE_NAME = re.compile(r"^[a-z0-9_+-]{1,32}$")


class CalibrationError(Exception):
    """The proposal cannot be written (unreadable config, or the result would not load)."""


def user_config_path(env: Mapping[str, str] = os.environ) -> Path:
    """The user's own config file: `$TIERLINE_CONFIG`, else `$XDG_CONFIG_HOME/tierline/config.toml`."""
    explicit = env.get("TIERLINE_CONFIG")
    return Path(explicit).expanduser() if explicit else paths.config_dir(env) / "config.toml"


def cost_by_request(ledger_path: Path, since_ts: float) -> dict[str, float]:
    if not ledger_path.exists():
        return {}
    with sqlite3.connect(str(ledger_path)) as db:
        try:
            rows = db.execute(
                "SELECT request_id, COALESCE(SUM(cost_usd), 0) FROM calls WHERE ts >= ? GROUP BY request_id",
                (since_ts,),
            )
            return {str(request_id): float(cost) for request_id, cost in rows}
        except sqlite3.OperationalError:
            return {}


def proposals_from_ledger(config: Config, days: int = DEFAULT_DAYS) -> list[Proposal]:
    """What `tierline calibrate` proposes from the ledger in ``config.ledger.dir``."""
    since = time.time() - days * 86400
    fates = FateLedger(config.ledger.dir)
    try:
        rows = fates.rows(since) if fates.path.exists() else []
    finally:
        fates.close()
    samples = samples_from(rows, cost_by_request(config.ledger.dir / Ledger.FILENAME, since))
    return propose(samples, config.routing.languages, config.routing.thresholds)


# ---------------------------------------------------------------------------------------------
# Writing the user config


def _without_language_table(text: str, language: str) -> str:
    """The TOML text minus a `[routing.languages.<language>]` table (header to the next header)."""
    header = re.compile(rf"""^\s*\[\s*routing\s*\.\s*languages\s*\.\s*(["']?){re.escape(language)}\1\s*\]\s*(#.*)?$""")
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        if header.match(line):
            skipping = True
            continue
        if skipping and line.lstrip().startswith("["):
            skipping = False
        if not skipping:
            out.append(line)
    return "".join(out)


# `languages = {}` under [routing] (as written by tools): an empty inline table cannot be extended.
_EMPTY_INLINE_LANGUAGES = re.compile(r"^\s*languages\s*=\s*\{\s*\}\s*(#.*)?\n?", re.MULTILINE)


def with_language_thresholds(text: str, thresholds: Mapping[str, Thresholds]) -> str:
    """The config text with these per-language thresholds written in (replacing earlier ones).
    Everything else, comments included, stays as it was."""
    day = dt.datetime.now(dt.timezone.utc).date().isoformat()
    text = _EMPTY_INLINE_LANGUAGES.sub("", text)
    for language in thresholds:
        text = _without_language_table(text, language)
    text = text.rstrip("\n") + ("\n\n" if text.strip() else "")
    for language, values in sorted(thresholds.items()):
        text += (
            f"[routing.languages.{language}]  # tierline calibrate, {day}\n"
            f"thresholds = {{ mid = {values.mid:.2f}, premium = {values.premium:.2f} }}\n\n"
        )
    return text.rstrip("\n") + "\n"


def apply_thresholds(path: Path, thresholds: Mapping[str, Thresholds]) -> None:
    """Write the thresholds to ``path``; refuse (CalibrationError) if the result would not load."""
    bad = [name for name in thresholds if not _LANGUAGE_NAME.match(name)]
    if bad:
        raise CalibrationError(f"refusing language name(s) {', '.join(map(repr, bad))}")
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except OSError as error:
        raise CalibrationError(f"cannot read {path}: {error.strerror}") from None
    new_text = with_language_thresholds(text, thresholds)
    try:
        parse_config(deep_merge(DEFAULTS, tomllib.loads(new_text)), str(path))
    except (tomllib.TOMLDecodeError, ConfigError) as error:
        raise CalibrationError(f"{path} would not load with the new thresholds ({error}); nothing written") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(path.name + ".tierline-tmp")
    scratch.write_text(new_text, encoding="utf-8")
    os.replace(scratch, path)


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
    ]
    return render_table(headers, rows)


def run_calibrate(*, as_json: bool = False, apply: bool = False, days: int = DEFAULT_DAYS) -> int:
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
    changes = {p.language: p.parity for p in proposals if p.changed}
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
    )
    if applied:
        print(f"\nwrote thresholds for {', '.join(sorted(changes))} to {target}")
    elif changes:
        print("\nrun `tierline calibrate --apply` to write the parity thresholds to your config")
    else:
        print("\nno change proposed")
    return 0
