"""Content exclusion: files whose text never reaches a provider or the cache.

Three sets of gitignore-syntax patterns (matched with `pathspec`), each on its own so that a
negation (`!.env`) in a workspace's ignore file cannot re-include a built-in exclude:

1. the built-in excludes: environment files, private keys and certificates, credential files;
2. `[privacy] exclude` from the config;
3. the ignore files: `.tierlineignore`, and the ones users keep for other assistants
   (`.aiexclude`, `.cursorignore`, `.continueignore`), at the workspace root and in every folder
   between it and the file, each matched against the path relative to its own folder as git does,
   re-read when they change. A file is excluded when any of them lists it: a deeper file's
   negation cannot re-include what a file nearer the root excludes (git would let it; for what
   leaves the machine, the stricter reading is the safe one).

Paths are matched relative to the workspace root when the file is inside it, else as the whole
path; untitled buffers are matched by the name the editor gave them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import pathspec

BUILTIN_EXCLUDES: tuple[str, ...] = (
    # environment files
    ".env",
    ".env.*",
    # private keys and certificates
    "*.pem",
    "*.key",
    "id_rsa*",
    "id_dsa*",
    "id_ed25519*",
    "id_ecdsa*",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    # credential files
    ".npmrc",
    ".pypirc",
    ".netrc",
    ".git-credentials",
    "credentials*",
    ".aws/",
    ".ssh/",
    ".gnupg/",
    "**/.docker/config.json",
    "*.tfvars",
    "*.tfstate",
    "*.tfstate.*",
    "*secret*",
)

IGNORE_FILES: tuple[str, ...] = (".tierlineignore", ".aiexclude", ".cursorignore", ".continueignore")
# An ignore file is a few lines; a workspace's giant one is read no further than this.
IGNORE_FILE_MAX_BYTES = 1 << 20


def _spec(patterns: Iterable[str]) -> pathspec.PathSpec[Any]:
    return pathspec.GitIgnoreSpec.from_lines(list(patterns))


_BUILTIN_SPEC = _spec(BUILTIN_EXCLUDES)


def uri_path(uri: str) -> str | None:
    """The path a document URI names (file: or an untitled buffer's name); None when it has none."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return None
    if parts.scheme == "file":
        return unquote(parts.path)
    name = unquote(parts.path or parts.netloc or "")
    return name or None


def relative_to(path: str, root: Path | None) -> str:
    """The path to match: relative to the workspace root when inside it, else without its leading /."""
    inside = _inside(path, root)
    if inside is not None:
        return str(inside)
    posix = PurePosixPath(path.replace("\\", "/"))
    return str(posix).lstrip("/") or posix.name


def _inside(path: str, root: Path | None) -> PurePosixPath | None:
    """The path relative to the workspace root when it is inside it (never climbing out), else None."""
    if root is None:
        return None
    try:
        relative = PurePosixPath(path.replace("\\", "/")).relative_to(PurePosixPath(root.as_posix()))
    except ValueError:
        return None
    return None if not relative.parts or ".." in relative.parts else relative


@dataclass
class _IgnoreFile:
    path: Path
    stamp: tuple[int, int] | None = None
    spec: pathspec.PathSpec[Any] | None = None

    def current(self) -> pathspec.PathSpec[Any] | None:
        """The file's patterns, re-read when its size or mtime changed."""
        try:
            st = os.stat(self.path)
        except OSError:
            self.stamp, self.spec = None, None
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self.stamp:
            try:
                with self.path.open("rb") as f:
                    lines = f.read(IGNORE_FILE_MAX_BYTES).decode("utf-8", errors="replace").splitlines()
            except OSError:
                lines = []
            self.stamp, self.spec = stamp, _spec(lines)
        return self.spec


class Exclusions:
    def __init__(self, patterns: Sequence[str] = (), workspace_root: Path | None = None):
        self.root = workspace_root
        self.patterns = tuple(patterns)
        self._configured = _spec(self.patterns)
        self._ignore_files: dict[PurePosixPath, list[_IgnoreFile]] = {}

    def reason(self, uri: str) -> str | None:
        """Why the document is excluded (which pattern of which list), or None when it may be sent."""
        path = uri_path(uri)
        if path is None:
            return None
        return self._first_match(relative_to(path, self.root)) or self._listed(_inside(path, self.root))

    def _first_match(self, relative: str) -> str | None:
        for spec, where in ((_BUILTIN_SPEC, "built-in exclude"), (self._configured, "[privacy] exclude")):
            hit = spec.check_file(relative)
            if hit.include and hit.index is not None:
                return f"matches {_pattern_text(spec, hit.index)!r} ({where})"
        return None

    def _listed(self, relative: PurePosixPath | None) -> str | None:
        """The first ignore file, from the workspace root down to the file's folder, that lists it."""
        if relative is None:
            return None
        parts = relative.parts
        for depth in range(len(parts)):
            folder = PurePosixPath(*parts[:depth]) if depth else PurePosixPath(".")
            below = str(PurePosixPath(*parts[depth:]))
            for ignore in self._files_in(folder):
                listed = ignore.current()
                if listed is not None and listed.match_file(below):
                    where = ignore.path.name if depth == 0 else f"{folder}/{ignore.path.name}"
                    return f"listed in {where}"
        return None

    def _files_in(self, folder: PurePosixPath) -> list[_IgnoreFile]:
        files = self._ignore_files.get(folder)
        if files is None:
            assert self.root is not None
            files = [_IgnoreFile(self.root / folder / name) for name in IGNORE_FILES]
            self._ignore_files[folder] = files
        return files


def _pattern_text(spec: pathspec.PathSpec[Any], index: int) -> str:
    return str(getattr(spec.patterns[index], "pattern", "") or "")
