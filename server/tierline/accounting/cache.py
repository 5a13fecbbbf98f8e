"""Answers cached on disk (diskcache), keyed by a hash of the normalized prompt.

Values are JSON text only, never pickles (diskcache unpickles stored objects: CVE-2025-69872).
The directory is created 0700: cached completions are the user's code.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tierline.completion.prompts import PromptWindow
from tierline.config.paths import private_dir

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
    tier: str
    tokens_in: int
    tokens_out: int
    cost_usd: float


def _normalize(text: str) -> str:
    return _TRAILING_SPACE.sub("\n", text.replace("\r\n", "\n"))


def cache_key(window: PromptWindow, tier: str) -> str:
    """Whitespace-normalized (trailing blanks, line ends) except on the cursor line, where they matter."""
    before, _, cursor_line = window.prefix[-KEY_PREFIX_CHARS:].rpartition("\n")
    parts = [
        window.language,
        tier,
        _normalize(before + "\n"),
        cursor_line,
        _normalize(window.suffix[:KEY_SUFFIX_CHARS]),
    ]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


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
                size_limit=self.size_limit_mb * 1024 * 1024,
                eviction_policy="least-recently-stored",
            )
        return self._cache

    def get(self, key: str) -> CachedAnswer | None:
        if self.ttl_seconds == 0:
            return None
        raw = self._disk().get(key)
        if not isinstance(raw, str):
            return None
        try:
            return CachedAnswer(**json.loads(raw))
        except (TypeError, ValueError):
            return None

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
