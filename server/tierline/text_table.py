"""Plain text tables and bars for the command line (reports, calibration, the demo, the bench)."""

from __future__ import annotations

from typing import Any


def render_table(headers: list[str], rows: list[list[Any]]) -> str:
    """A plain text table, columns padded to their widest cell."""
    cells = [headers] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


BLOCKS = " ▏▎▍▌▋▊▉█"


def bar(fraction: float, width: int, fill: str = "█") -> str:
    """A horizontal bar `fraction` of `width` cells long, with eighth-cell precision."""
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    full, part = divmod(eighths, 8)
    if fill != "█":
        return fill * (full + (1 if part >= 4 else 0))
    return "█" * full + (BLOCKS[part] if part else "")
