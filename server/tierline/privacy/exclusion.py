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

import logging
import os
import posixpath
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import pathspec

log = logging.getLogger(__name__)

# Matched case-insensitively (`.ENV`, `ID_RSA`, `server.PEM` are the same files on macOS and
# Windows, and a name in capitals is no less a secret). Sources: the files gitleaks' rules and
# GitHub's secret scanning name by path, and the credential files of common tools.
BUILTIN_EXCLUDES: tuple[str, ...] = (
    # environment files
    ".env",
    ".env.*",
    "*.env",
    ".envrc",
    # private keys, keystores and certificates
    "*.pem",
    "*.key",
    "*.p8",
    "*.ppk",
    "id_rsa*",
    "id_dsa*",
    "id_ed25519*",
    "id_ecdsa*",
    "*.p12",
    "*.pfx",
    "*.pkcs12",
    "*.jks",
    "*.jceks",
    "*.bks",
    "*.keystore",
    "*.keychain",
    "*.keychain-db",
    "*.kdbx",
    "*.keytab",
    "*.gpg",
    "*.pgp",
    "secring.*",
    "*.ovpn",
    # credential files of tools
    ".npmrc",
    ".yarnrc.yml",
    ".pypirc",
    ".netrc",
    "_netrc",
    ".git-credentials",
    ".pgpass",
    ".my.cnf",
    ".mylogin.cnf",
    ".htpasswd",
    ".vault-token",
    ".s3cfg",
    ".boto",
    ".dockercfg",
    ".terraformrc",
    "terraform.rc",
    "*credentials*",
    ".aws/",
    ".ssh/",
    ".gnupg/",
    ".azure/",
    ".kube/",
    "kubeconfig",
    "*.kubeconfig",
    ".config/gcloud/",
    "**/.docker/config.json",
    "**/.m2/settings.xml",
    "**/.composer/auth.json",
    "wp-config.php",
    "*service-account*.json",
    "*serviceaccount*.json",
    "*.tfvars",
    "*.tfvars.json",
    "*.tfstate",
    "*.tfstate.*",
    "*secret*",
    # shell and database histories (commands typed with passwords in them)
    ".*history",
    ".histfile",
)

IGNORE_FILES: tuple[str, ...] = (".tierlineignore", ".aiexclude", ".cursorignore", ".continueignore")
# An ignore file is a few lines; one over this is skipped (and said), not read in part.
IGNORE_FILE_MAX_BYTES = 1 << 20

# Told to the user (once per file and problem) when an ignore file cannot be used.
Warn = Callable[[str], None]


def _spec(patterns: Iterable[str]) -> pathspec.PathSpec[Any]:
    return pathspec.GitIgnoreSpec.from_lines(list(patterns))


_BUILTIN_SPEC = _spec(pattern.lower() for pattern in BUILTIN_EXCLUDES)


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


def normalised(path: str) -> str:
    """`x/../` and `./` resolved by name (never climbing above the root), backslashes as slashes."""
    posix = path.replace("\\", "/")
    return posixpath.normpath(posix) if posix else posix


def real_path(path: str) -> str | None:
    """Where a symlink (or a folder on the way) really leads; None when it leads nowhere else.
    Only names are read (lstat, readlink): nothing is opened, so a link to a FIFO cannot block."""
    if not path.startswith("/"):
        return None
    try:
        resolved = os.path.realpath(path)
    except (OSError, ValueError, RuntimeError):
        return None
    return resolved if resolved != path else None


def relative_to(path: str, root: Path | None) -> str:
    """The path to match: relative to the workspace root when inside it, else without its leading /."""
    inside = _inside(path, root)
    if inside is not None:
        return str(inside)
    posix = PurePosixPath(normalised(path))
    return str(posix).lstrip("/") or posix.name


def _inside(path: str, root: Path | None) -> PurePosixPath | None:
    """The path relative to the workspace root when it is inside it (never climbing out), else None."""
    if root is None:
        return None
    try:
        relative = PurePosixPath(normalised(path)).relative_to(PurePosixPath(normalised(root.as_posix())))
    except ValueError:
        return None
    return None if not relative.parts or ".." in relative.parts else relative


@dataclass
class _IgnoreFile:
    path: Path
    warn: Warn
    stamp: tuple[int, int] | None = None
    spec: pathspec.PathSpec[Any] | None = None
    said: str = ""

    def current(self) -> pathspec.PathSpec[Any] | None:
        """The file's patterns, re-read when its size or mtime changed. Only a regular file under the
        size limit is read, opened without blocking (a FIFO, or a link to the server's own stdin,
        would otherwise wait forever); anything else is skipped and said once."""
        try:
            st = os.stat(self.path)
        except (OSError, ValueError):
            self.stamp, self.spec = None, None
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self.stamp:
            self.stamp, self.spec = stamp, self._read(st)
        return self.spec

    def _read(self, st: os.stat_result) -> pathspec.PathSpec[Any] | None:
        if not stat.S_ISREG(st.st_mode):
            return self._skip("is not a regular file")
        if st.st_size > IGNORE_FILE_MAX_BYTES:
            return self._skip(f"is over {IGNORE_FILE_MAX_BYTES >> 20} MiB")
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
        except OSError as error:
            return self._skip(f"cannot be read ({error.strerror or error})")
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped for something else since the stat
                return self._skip("is not a regular file")
            data = f.read(IGNORE_FILE_MAX_BYTES + 1)
        if len(data) > IGNORE_FILE_MAX_BYTES:
            return self._skip(f"is over {IGNORE_FILE_MAX_BYTES >> 20} MiB")
        return _spec(data.decode("utf-8", errors="replace").splitlines())

    def _skip(self, problem: str) -> pathspec.PathSpec[Any] | None:
        if problem != self.said:
            self.said = problem
            self.warn(f"tierline: {self.path} {problem}; skipped (its patterns do not apply)")
        return None


class Exclusions:
    """`workspace_root` and `folders` are the editor's workspace folders: each one's ignore files,
    and those of the folders inside it, apply to the files under it."""

    def __init__(
        self,
        patterns: Sequence[str] = (),
        workspace_root: Path | None = None,
        folders: Sequence[Path] = (),
        warn: Warn | None = None,
    ):
        self.root = workspace_root
        self.folders = tuple(dict.fromkeys(f for f in (workspace_root, *folders) if f is not None))
        self.patterns = tuple(patterns)
        self.warn: Warn = warn or (lambda text: log.warning("%s", text))
        self._configured = _spec(self.patterns)
        self._ignore_files: dict[tuple[Path, PurePosixPath], list[_IgnoreFile]] = {}

    def reason(self, uri: str) -> str | None:
        """Why the document is excluded (which pattern of which list), or None when it may be sent.
        The path is matched as named (normalised) and, for a symlink, as where it really leads."""
        path = uri_path(uri)
        if path is None:
            return None
        named = normalised(path)
        for candidate in (named, real_path(named)):
            if candidate is not None and (why := self._reason_for(candidate)) is not None:
                return why if candidate == named else f"{why}, as {candidate} (where the link leads)"
        return None

    def _reason_for(self, path: str) -> str | None:
        root = self._root_of(path)
        return self._first_match(relative_to(path, root)) or self._listed_anywhere(path)

    def _root_of(self, path: str) -> Path | None:
        """The deepest workspace folder the path is in (patterns are matched relative to it)."""
        inside = [folder for folder in self.folders if _inside(path, folder) is not None]
        return max(inside, key=lambda folder: len(folder.parts), default=self.root)

    def _first_match(self, relative: str) -> str | None:
        checks = (
            (_BUILTIN_SPEC, relative.lower(), "built-in exclude"),
            (self._configured, relative, "[privacy] exclude"),
        )
        for spec, name, where in checks:
            hit = spec.check_file(name)
            if hit.include and hit.index is not None:
                return f"matches {_pattern_text(spec, hit.index)!r} ({where})"
        return None

    def _listed_anywhere(self, path: str) -> str | None:
        for folder in self.folders:
            if (why := self._listed(folder, _inside(path, folder))) is not None:
                return why
        return None

    def _listed(self, root: Path, relative: PurePosixPath | None) -> str | None:
        """The first ignore file, from the workspace folder down to the file's folder, that lists it."""
        if relative is None:
            return None
        parts = relative.parts
        for depth in range(len(parts)):
            folder = PurePosixPath(*parts[:depth]) if depth else PurePosixPath(".")
            below = str(PurePosixPath(*parts[depth:]))
            for ignore in self._files_in(root, folder):
                listed = ignore.current()
                if listed is not None and listed.match_file(below):
                    where = ignore.path.name if depth == 0 else f"{folder}/{ignore.path.name}"
                    if root != self.root:
                        where = f"{root.name}/{where}"
                    return f"listed in {where}"
        return None

    def _files_in(self, root: Path, folder: PurePosixPath) -> list[_IgnoreFile]:
        files = self._ignore_files.get((root, folder))
        if files is None:
            files = [_IgnoreFile(root / folder / name, self.warn) for name in IGNORE_FILES]
            self._ignore_files[(root, folder)] = files
        return files


def _pattern_text(spec: pathspec.PathSpec[Any], index: int) -> str:
    return str(getattr(spec.patterns[index], "pattern", "") or "")
