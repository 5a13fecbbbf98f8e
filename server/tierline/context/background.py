"""The work done off the event loop, in one worker process: listing the workspace's files,
reading their definitions, cutting open documents into neighbour windows.

Processes (two, below the server's priority), not threads: tree-sitter and the regular expressions hold the GIL (a 12,000-line file
parses in 180 ms), which a thread would take from the event loop and from completions. The
functions here run in the worker; they rebuild what they need from plain arguments (the root and
the exclusion patterns), so nothing but paths, bytes and results crosses the pipe.
"""

from __future__ import annotations

import os
from pathlib import Path

from tierline.context.definitions import Definition, extract
from tierline.context.neighbours import Windows, windows_of
from tierline.context.workspace import Workspace

BATCH_FILES = 16  # small: each result is unpickled on the server's side in one go


def lower_priority() -> None:
    """The worker's initializer: the server's event loop comes first (nice +10 where supported)."""
    try:
        os.nice(10)
    except (AttributeError, OSError):
        pass


def _workspace(root: str, patterns: tuple[str, ...]) -> Workspace:
    from tierline.privacy.exclusion import Exclusions

    exclusions = Exclusions(patterns, Path(root))
    return Workspace(Path(root), exclusions.reason)


def list_files(root: str, patterns: tuple[str, ...]) -> list[tuple[str, str]]:
    """(relative path, language) of every file the index reads."""
    return list(_workspace(root, patterns).files())


def read_batch(
    root: str, patterns: tuple[str, ...], files: list[tuple[str, str]]
) -> list[tuple[str, list[Definition]]]:
    workspace = _workspace(root, patterns)
    out = []
    for path, language in files:
        source = workspace.read(path)
        out.append((path, extract(source, language, path) if source is not None else []))
    return out


def read_text(path: str, language: str, source: bytes, windows: bool) -> tuple[list[Definition], Windows | None]:
    """An open document's definitions, and its neighbour windows when asked."""
    text = source.decode("utf-8", errors="replace")
    return extract(source, language, path), windows_of(text) if windows else None
