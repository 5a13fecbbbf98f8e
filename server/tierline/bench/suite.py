"""`tierline bench --suite FILE.jsonl`: fill-in-the-middle cases from a public data set.

One JSON object per line: ``prefix``, ``suffix``, ``expected`` (the code between them) and
``language`` (a tierline language name: python, javascript, go, ...); ``id`` optional. How to
turn HumanEval-infilling and SAFIM into it: docs/bench.md.
"""

from __future__ import annotations

import json
from pathlib import Path

from tierline.bench.positions import Position

FIELDS = ("prefix", "suffix", "expected", "language")


class SuiteError(ValueError):
    pass


def read_suite(path: Path) -> list[Position]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise SuiteError(f"cannot read {path}: {error}") from None
    cases = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            raise SuiteError(f"{path}:{number}: not a JSON object") from None
        if not isinstance(row, dict) or not all(isinstance(row.get(f), str) for f in FIELDS):
            raise SuiteError(f"{path}:{number}: needs string fields {', '.join(FIELDS)}")
        ident = f"suite:{row['id']}" if isinstance(row.get("id"), (str, int)) else f"suite:{number}"
        cases.append(Position(ident, "", row["language"], "suite", row["prefix"], row["expected"], row["suffix"]))
    if not cases:
        raise SuiteError(f"{path}: no cases")
    return cases
