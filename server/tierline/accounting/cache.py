"""Answers cached on disk (diskcache), keyed by a hash of the normalized prompt.

Values are JSON text only, never pickles (diskcache unpickles stored objects: CVE-2025-69872).
`JsonTextDisk` stores every value inline as text and refuses to read anything else: a row in any
other mode (a planted pickle, a file row) is a miss and is deleted, and no row's `filename` is ever
opened or removed outside the cache directory. The directory is created 0700: cached completions
are the user's code.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierline.config.paths import private_dir
from tierline.prompt.window import PromptWindow
from tierline.wire import TIERS, Tier

if TYPE_CHECKING:
    import diskcache

_TRAILING_SPACE = re.compile(r"[ \t]+\n")
# Only the code nearest the cursor decides the answer; a wider key would miss on far edits.
KEY_PREFIX_CHARS = 1500
KEY_SUFFIX_CHARS = 500


@dataclass(frozen=True)
class CachedAnswer:
    text: str
    model: str
    tier: Tier
    tokens_in: int
    tokens_out: int
    cost_usd: float


def _normalize(text: str) -> str:
    return _TRAILING_SPACE.sub("\n", text.replace("\r\n", "\n"))


def cache_key(window: PromptWindow, tier: Tier) -> str:
    """Whitespace-normalized (trailing blanks, line ends) except on the cursor line, where they matter."""
    before, _, cursor_line = window.prefix[-KEY_PREFIX_CHARS:].rpartition("\n")
    parts = [
        window.language,
        tier,
        _normalize(before + "\n"),
        cursor_line,
        _normalize(window.suffix[:KEY_SUFFIX_CHARS]),
    ]
    if window.max_lines:  # a limit cuts the answer: another limit, another answer
        parts.append(f"max_lines={window.max_lines}")
    if window.context:  # the snippets sent are part of the question: other snippets, another key
        parts.append("".join(snippet.block() for snippet in window.context))
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


class UnsafeRow(OSError):
    """A cache row tierline did not write (not inline text): diskcache treats an OSError from
    `fetch` as a miss, and the cache deletes the row."""


def inside(directory: str, relative: str) -> str | None:
    """The real path of `relative` under `directory`, or None when it resolves anywhere else."""
    root = os.path.realpath(directory)
    full = os.path.realpath(os.path.join(root, relative))
    try:
        if os.path.commonpath([root, full]) == root and full != root:
            return full
    except ValueError:  # different drives
        pass
    return None


def _json_text_disk() -> type[Any]:
    """Built on first use, so that importing tierline does not import diskcache."""
    import diskcache
    from diskcache.core import MODE_RAW

    class JsonTextDisk(diskcache.Disk):  # type: ignore[misc]
        """Keys are str, values are JSON text stored inline: never a pickle, never a file."""

        rejected = 0

        def put(self, key: Any) -> tuple[Any, bool]:
            if not isinstance(key, str):
                raise TypeError("tierline's cache keys are text")
            return key, True

        def get(self, key: Any, raw: bool) -> Any:
            # A pickled key (raw = 0) is never unpickled; iteration sees it as an opaque marker.
            return key if raw and isinstance(key, str) else "<not tierline's>"

        def store(self, value: Any, read: bool, key: Any = None) -> tuple[int, int, None, str]:
            if read or not isinstance(value, str):
                raise TypeError("tierline's cache stores JSON text only")
            return 0, MODE_RAW, None, value

        def fetch(self, mode: int, filename: Any, value: Any, read: bool) -> str:
            if mode != MODE_RAW or filename is not None or not isinstance(value, str) or read:
                JsonTextDisk.rejected += 1
                raise UnsafeRow("not a row tierline wrote")
            return value

        def remove(self, file_path: Any) -> None:
            """Only files inside the cache directory; empty folders up to it, not beyond."""
            if not isinstance(file_path, str):
                return
            full = inside(self._directory, file_path)
            if full is None:
                return
            with contextlib.suppress(OSError):
                os.remove(full)
            root = os.path.realpath(self._directory)
            parent = os.path.dirname(full)
            while parent != root and inside(root, parent) is not None:
                try:
                    os.rmdir(parent)
                except OSError:
                    break
                parent = os.path.dirname(parent)

    return JsonTextDisk


class AnswerCache:
    def __init__(self, directory: Path, ttl_seconds: int, size_limit_mb: int):
        self.directory = directory
        self.ttl_seconds = ttl_seconds
        self.size_limit_mb = size_limit_mb
        self._cache: diskcache.Cache | None = None

    def _disk(self) -> diskcache.Cache:
        if self._cache is None:
            import diskcache

            private_dir(self.directory)
            self._cache = diskcache.Cache(
                str(self.directory),
                disk=_json_text_disk(),
                size_limit=self.size_limit_mb * 1024 * 1024,
                eviction_policy="least-recently-stored",
            )
        return self._cache

    def get(self, key: str) -> CachedAnswer | None:
        if self.ttl_seconds == 0:
            return None
        disk = self._disk()
        raw = disk.get(key)
        if not isinstance(raw, str):
            if raw is None and self._rejected_since():
                disk.delete(key)  # a row tierline did not write: gone, so it cannot be tried again
            return None
        try:
            fields = json.loads(raw)
            answer = CachedAnswer(**fields)
        except (TypeError, ValueError):
            disk.delete(key)
            return None
        if not all(isinstance(getattr(answer, name), str) for name in ("text", "model", "tier")):
            disk.delete(key)
            return None
        if answer.tier not in TIERS:
            disk.delete(key)
            return None
        return dataclasses.replace(answer, tier=Tier(answer.tier))  # JSON gave a str

    def _rejected_since(self) -> bool:
        disk_type = type(self._disk().disk)
        rejected = bool(disk_type.rejected)
        disk_type.rejected = 0
        return rejected

    def put(self, key: str, answer: CachedAnswer) -> None:
        if self.ttl_seconds == 0:
            return
        self._disk().set(key, json.dumps(asdict(answer)), expire=self.ttl_seconds)

    def clear(self) -> int:
        return int(self._disk().clear())

    def usable(self) -> bool:
        """For `tierline doctor`: a write and a read back."""
        disk = self._disk()
        disk.set("tierline:doctor", "ok", expire=5)
        return bool(disk.get("tierline:doctor") == "ok")

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None
