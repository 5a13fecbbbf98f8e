"""The ledger's rows, as dicts, in the order they were booked."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tierline.accounting.ledger import Ledger


def ledger_rows(state_dir: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(state_dir / Ledger.FILENAME) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("SELECT * FROM calls ORDER BY id")]
