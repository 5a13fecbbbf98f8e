"""Which files may give snippets: files of the workspace, read safely.

A snippet comes only from a `file:` document inside the workspace root (its real path too: a
symlink that leads out does not count), that the privacy gate does not exclude. Untitled buffers,
files outside the workspace and files of a server started without a workspace never give one.
Files are read with a size limit; the walk never follows a symlinked folder, skips the folders of
tools and dependencies, and stops after `MAX_FILES` files.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from tierline.analysis.languages import PARSED_LANGUAGES, language_from

# A file bigger than this is generated or data: not read (bounds each parse, too).
MAX_FILE_BYTES = 256 * 1024
MAX_FILES = 20_000
SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        ".venv",
        "venv",
        "env",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".tox",
        ".nox",
        "site-packages",
        "dist",
        "build",
        "target",
        "vendor",
        "third_party",
        ".idea",
        ".vscode",
    }
)

Excluded = Callable[[str], "str | None"]


class Workspace:
    """The workspace root and the privacy gate's `excluded(uri)`, asked for every file."""

    def __init__(self, root: Path | None, excluded: Excluded):
        self.given = root  # as the editor names it: the privacy gate matches paths under it
        self.root = Path(os.path.realpath(root)) if root is not None else None
        self.excluded = excluded

    def relative(self, uri: str) -> str | None:
        """The workspace-relative path of a document that may give snippets, else None."""
        if self.root is None:
            return None
        try:
            parts = urlsplit(uri)
        except ValueError:
            return None
        if parts.scheme != "file":
            return None  # untitled buffers and other schemes
        path = unquote(parts.path)
        relative = self._inside(path)
        if relative is None or self.excluded(uri) is not None:
            return None
        return relative

    def _inside(self, path: str) -> str | None:
        assert self.root is not None and self.given is not None
        try:
            real = os.path.realpath(path)
            relative = os.path.relpath(real, self.root)
        except (OSError, ValueError):
            return None
        if relative.startswith("..") or os.path.isabs(relative) or relative == ".":
            return None
        # The path as given must be inside too (a symlink into the workspace from outside is not).
        try:
            given = os.path.relpath(os.path.normpath(path), self.given)
        except ValueError:
            return None
        if given.startswith(".."):
            return None
        return relative.replace(os.sep, "/")

    def uri_of(self, relative: str) -> str:
        assert self.given is not None
        return "file://" + quote((self.given / relative).as_posix())

    def files(self) -> Iterator[tuple[str, str]]:
        """(relative path, language) of the workspace's parsed-language files, excluded ones left out."""
        if self.root is None:
            return
        count = 0
        stack = [self.root]
        while stack and count < MAX_FILES:
            folder = stack.pop()
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                try:
                    if entry.is_symlink():
                        continue  # never followed: a link may lead out of the workspace
                    if entry.is_dir():
                        if entry.name not in SKIPPED_DIRS and not entry.name.startswith("."):
                            stack.append(Path(entry.path))
                        continue
                    if not entry.is_file() or entry.stat().st_size > MAX_FILE_BYTES:
                        continue
                except OSError:
                    continue
                language = language_from(entry.name, None)
                if language not in PARSED_LANGUAGES:
                    continue
                relative = os.path.relpath(entry.path, self.root).replace(os.sep, "/")
                if self.excluded(self.uri_of(relative)) is not None:
                    continue
                count += 1
                yield relative, language
                if count >= MAX_FILES:
                    return

    def read(self, relative: str) -> bytes | None:
        """A file's bytes, at most MAX_FILE_BYTES; None when it is gone, too big, or leads outside."""
        if self.root is None:
            return None
        path = self.root / relative
        if self._inside(str(path)) is None:
            return None
        try:
            with open(path, "rb") as f:
                data = f.read(MAX_FILE_BYTES + 1)
        except OSError:
            return None
        return data if len(data) <= MAX_FILE_BYTES else None
