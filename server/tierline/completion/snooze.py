"""`tierline.snooze [minutes]`: automatic completions make no model call until then.

Invoked requests (the user asked: Alt+\\, the trigger keymap) still answer. The snooze is the
user's, not one window's: it is kept in `snooze.json` in the state directory (`[ledger] dir`), so
it holds in every tierline server of this user (each editor window) and across a restart, as a
snooze the user set is expected to. Each automatic request looks at the file's modification time
(one `stat`); the file is read again only when it changed. A file that cannot be read or written
never costs an answer: the server keeps its own copy and says so in the log once.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FILENAME = "snooze.json"
# VS Code's own snooze (Snooze Inline Suggestions) preselects 5 minutes, Copilot's menu adds 5 a click.
DEFAULT_MINUTES = 5.0
# A day at most: longer than that is `trigger = "manual"`, which says so in the config.
MAX_MINUTES = 24 * 60.0
USAGE = f"tierline.snooze takes [minutes]: a number from 0 (resume now) to {MAX_MINUTES:.0f}; no argument: {DEFAULT_MINUTES:.0f}"


class SnoozeArgumentError(ValueError):
    """The command's arguments are not [minutes]; the message says what is expected."""


def minutes_from(arguments: Sequence[Any]) -> float:
    """The minutes asked for: `[]` or `[null]` is the default; anything but one finite number in
    [0, MAX_MINUTES] is refused."""
    if not arguments or (len(arguments) == 1 and arguments[0] is None):
        return DEFAULT_MINUTES
    if len(arguments) > 1:
        raise SnoozeArgumentError(f"{USAGE} (got {len(arguments)} arguments)")
    value = arguments[0]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SnoozeArgumentError(f"{USAGE} (got {type(value).__name__})")
    if not math.isfinite(value) or not 0 <= value <= MAX_MINUTES:
        raise SnoozeArgumentError(f"{USAGE} (got {value!r})")
    return float(value)


def iso(epoch: float) -> str:
    """UTC, to the second: `2026-12-03T11:45:00Z`."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Snooze:
    """Until when automatic completions are snoozed (epoch seconds), shared through a file."""

    def __init__(self, directory: Callable[[], Path], clock: Callable[[], float] = time.time):
        self._directory = directory  # the state directory of the config in force
        self._clock = clock
        self._until: float | None = None
        self._seen: tuple[str, int, int] | None = None  # (path, inode, mtime_ns) last read or written
        self._warned = False

    @property
    def path(self) -> Path:
        return self._directory() / FILENAME

    def set(self, minutes: float) -> float | None:
        """Snooze for `minutes` from now (0: resume). Returns the end, or None when resumed."""
        until = math.floor(self._clock() + minutes * 60) if minutes > 0 else None
        self._until = until
        self._write(until)
        return until

    def until(self) -> float | None:
        """The end of the snooze in force (another server's too), or None."""
        self._reload()
        if self._until is not None and self._until <= self._clock():
            self._until = None
        return self._until

    def active(self) -> bool:
        return self.until() is not None

    def until_iso(self) -> str | None:
        until = self.until()
        return iso(until) if until is not None else None

    # -- the file ------------------------------------------------------------------------------
    def _reload(self) -> None:
        path = self.path
        seen = _identity(path)
        if seen is None or seen == self._seen:
            return  # no file (never snoozed here), or the one already read: this server's state holds
        self._seen = seen
        self._until = self._read(path)

    def _read(self, path: Path) -> float | None:
        try:
            data = json.loads(path.read_bytes()[:4096])
        except (OSError, ValueError) as error:
            self._warn(f"{path} is not readable ({type(error).__name__}): not snoozed")
            return None
        until = data.get("until") if isinstance(data, dict) else None
        if isinstance(until, bool) or not isinstance(until, (int, float)) or not math.isfinite(until):
            return None
        # A file edited by hand (or by anything else) cannot snooze for longer than the command can.
        return float(min(until, self._clock() + MAX_MINUTES * 60))

    def _write(self, until: float | None) -> None:
        path = self.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{FILENAME}.{os.getpid()}")
            temporary.write_text(json.dumps({"until": until, "until_iso": iso(until) if until else None}))
            os.replace(temporary, path)  # a new inode each time: another server sees the change
        except OSError as error:
            self._warn(f"cannot write {path} ({error.strerror or error}): the snooze holds in this server only")

        finally:
            self._seen = _identity(path)  # what is there now is this server's own state, or older

    def _warn(self, text: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning("tierline.snooze: %s", text)


def _identity(path: Path) -> tuple[str, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (str(path), stat.st_ino, stat.st_mtime_ns)
