"""Documents opened in an editor session, and what reached the simulator's completion endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SIMPLE_CURSOR = (5, 4)  # inside `def add(a, b):`, on the indented blank line


def open_doc(editor, tmp_path: Path, name: str, text: str, language: str = "python") -> str:
    uri = (tmp_path / name).as_uri()
    editor.open(uri, text, language)
    return uri


def completion_requests(simulator) -> list[dict]:
    return [r for r in simulator.requests if r["path"].endswith("completions")]


# A short function body: scores cheap; the cursor is on the indented blank line.
UTILS_PY = 'def greet(name):\n    return f"Hello, {name}!"\n\n\ndef add(a, b):\n    \n'
CURSOR = (5, 4)


def open_path(editor: Any, path: Path, text: str, language: str = "python") -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    uri = path.as_uri()
    editor.open(uri, text, language)
    return uri
