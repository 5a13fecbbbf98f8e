"""Retention shares as the reports show them (terminal and HTML): the checkpoints' labels and cells."""

from __future__ import annotations

from typing import Any

RETENTION_LABELS = {"30s": "30 s", "120s": "2 min", "300s": "5 min", "600s": "10 min"}


def retention_cells(row: dict[str, Any]) -> list[str]:
    """A row's `retained` shares as percentages; "-" where nothing was measured yet."""
    retained = row.get("retained") or {}
    return [f"{share:.0%}" if isinstance(share, (int, float)) else "-" for share in map(retained.get, RETENTION_LABELS)]
