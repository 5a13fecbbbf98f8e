"""A small workspace for cross-file context: two files that import each other, indexed."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

GEOMETRY_PY = '''"""Plane geometry helpers."""


def polygon_area(points):
    """Area of a simple polygon by the shoelace formula; `points` is a list of (x, y)."""
    twice = 0.0
    for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1]):
        twice += x1 * y2 - x2 * y1
    return abs(twice) / 2
'''


REPORT_PY = """from .geometry import polygon_area


def total_area(shapes):
    \"\"\"The summed area of the polygons in `shapes`.\"\"\"
"""

REPORT_PY += "    \n"  # the cursor line (indented, blank)

REPORT_CURSOR = (5, 4)


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


async def indexed(editor) -> str:
    """Wait for the server's log line saying the definitions index is built (sent once)."""
    client = editor.client
    while True:
        for message in client.log_messages:
            if "indexed the definitions" in message.message:
                return str(message.message)
        await client.wait_for_notification(types.WINDOW_LOG_MESSAGE)
