"""`tierline report --ndjson`: the daily usage lines (`daily_usage`) on stdout, one JSON object a line."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

from tierline.accounting.acceptance import SCHEMA as FATES_SCHEMA
from tierline.accounting.ledger import SCHEMA as CALLS_SCHEMA
from tierline.accounting.ledger import open_ledger_file
from tierline.telemetry.daily_usage import daily_usage


def print_ndjson(ledger_dir: Path, ledger_path: Path) -> int:
    """Nothing printed (exit 0) when no completion was recorded yet; one line on stderr for a ledger
    that cannot be read."""
    if not ledger_path.exists():
        return 0
    db: sqlite3.Connection | None = None
    try:
        db = open_ledger_file(ledger_dir, CALLS_SCHEMA + FATES_SCHEMA)
        lines = [json.dumps(record, sort_keys=False) for record in daily_usage(db)]
    except Exception as error:  # a corrupt or unreadable ledger: one line, no traceback
        print(
            f"tierline report: the ledger {ledger_path} cannot be read ({type(error).__name__}: {error}); "
            "move it aside or delete it to start a new one.",
            file=sys.stderr,
        )
        return 1
    finally:
        if db is not None:
            db.close()
    for line in lines:
        print(line)
    return 0
