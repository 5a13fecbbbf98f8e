"""Workspace trust: which workspace `.tierline.toml` files may set what sends code, keys or files elsewhere.

A cloned repository is not the user's: until they trust it, its `.tierline.toml` may change behaviour
(completion, thresholds, privacy excludes) but not `[[models]]`, `[cache] dir`, `[ledger] dir`,
`[budget] store` or `[privacy] redact`. Trust is granted per file and bound to the file's content:
the store keeps the SHA-256 of the bytes that were trusted, so any edit revokes it.

The store is `trust.json` in tierline's state directory (the user's, never the workspace's).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tierline.config import paths

WORKSPACE_FILE = ".tierline.toml"
STORE_NAME = "trust.json"


class TrustError(ValueError):
    """A trust request that cannot be granted (no such file, unreadable store)."""


def workspace_file(path: Path) -> Path:
    """The `.tierline.toml` a PATH means: the file itself, or the one in that directory."""
    path = path.expanduser()
    return path if path.name == WORKSPACE_FILE or path.is_file() else path / WORKSPACE_FILE


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class TrustEntry:
    path: str
    sha256: str
    current: bool  # the file still has the trusted content


class TrustStore:
    def __init__(self, directory: Path | None = None, env: Mapping[str, str] = os.environ):
        self.path = (directory or paths.state_dir(env)) / STORE_NAME

    def _read(self) -> dict[str, str]:
        try:
            raw: Any = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return {}  # unreadable: nothing is trusted (fail closed)
        trusted = raw.get("trusted") if isinstance(raw, dict) else None
        if not isinstance(trusted, dict):
            return {}
        return {k: v for k, v in trusted.items() if isinstance(k, str) and isinstance(v, str)}

    def _write(self, trusted: Mapping[str, str]) -> None:
        directory = paths.private_dir(self.path.parent)
        fd, temporary = tempfile.mkstemp(prefix=".trust-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({"trusted": dict(sorted(trusted.items()))}, out, indent=2)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def is_trusted(self, file: Path, data: bytes) -> bool:
        """`data` is the content just read from `file`: trusted only if it is the content trusted."""
        return self._read().get(_key(file)) == content_hash(data)

    def trust(self, path: Path) -> Path:
        """Trust the workspace file PATH means, as it is now; returns that file."""
        file = workspace_file(path)
        try:
            data = file.read_bytes()
        except OSError as error:
            raise TrustError(f"cannot read {file}: {error.strerror or error}") from None
        trusted = self._read()
        trusted[_key(file)] = content_hash(data)
        self._write(trusted)
        return file

    def revoke(self, path: Path) -> bool:
        """Forget trust for PATH's workspace file; False when it was not trusted."""
        trusted = self._read()
        key = _key(workspace_file(path))
        if key not in trusted:
            return False
        del trusted[key]
        self._write(trusted)
        return True

    def entries(self) -> list[TrustEntry]:
        out = []
        for key, digest in sorted(self._read().items()):
            try:
                current = content_hash(Path(key).read_bytes()) == digest
            except OSError:
                current = False
            out.append(TrustEntry(key, digest, current))
        return out


def _key(file: Path) -> str:
    return str(file.expanduser().resolve())
