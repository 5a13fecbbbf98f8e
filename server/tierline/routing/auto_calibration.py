"""`[routing] auto_calibrate = true`: once a day (UTC), the quality-parity proposal from the ledger
(routing/calibration.py) is applied: written to the user's config file and used at once.

The guard rails are calibration's own (one step of 0.05 per language per run, the mid threshold
within 0.15..0.60 and 0.10 under premium) plus this module's: once a day, so a language moves at
most a step a day, and only languages with enough samples on both sides of the threshold move.
A fault (unreadable ledger, unwritable config) is reported and the thresholds stay as they are.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from tierline.accounting.books import Books
from tierline.accounting.ledger import utc_day
from tierline.config import Config, Thresholds
from tierline.config.writing import CalibrationError, apply_thresholds, user_config_path, writable_language
from tierline.routing.calibration import Sample, propose, samples_from


class CalibratedEngine(Protocol):
    """What the daily calibration needs of the engine (`completion/pipeline.py:CompletionEngine`
    is one): its config and books, a way to tell the user, and to take a new config."""

    @property
    def config(self) -> Config: ...

    @property
    def books(self) -> Books: ...

    def notify_user(self, level: str, text: str) -> None: ...

    def reconfigure(self, config: Config) -> None: ...


log = logging.getLogger(__name__)

LOOKBACK_S = 14 * 86400
MARKER = "auto-calibrated-on"


def marker_day(directory: Path) -> str | None:
    try:
        return (directory / MARKER).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def due(config: Config, now: float) -> bool:
    return config.routing.auto_calibrate and marker_day(config.ledger.dir) != utc_day(now)


def mark(directory: Path, now: float) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).write_text(utc_day(now) + "\n", encoding="utf-8")


def daily_changes(config: Config, samples: list[Sample]) -> dict[str, Thresholds]:
    """The languages whose mid threshold the parity proposal moves, and to what."""
    proposals = propose(samples, config.routing.languages, config.routing.thresholds)
    return {p.language: p.parity for p in proposals if p.changed and writable_language(p.language)}


def with_languages(config: Config, changes: dict[str, Thresholds]) -> Config:
    languages = {**config.routing.languages, **changes}
    return replace(config, routing=replace(config.routing, languages=languages))


def describe(config: Config, changes: dict[str, Thresholds]) -> str:
    moves = ", ".join(
        f"{language} mid {config.routing.thresholds_for(language).mid:.2f} -> {new.mid:.2f}"
        for language, new in sorted(changes.items())
    )
    return f"tierline: auto-calibrated from what you accepted: {moves}. `tierline calibrate` shows why."


class AutoCalibration:
    """The engine's daily check: cheap when off or done today (one bool, one string compare)."""

    def __init__(self) -> None:
        self.checked_on: str | None = None

    def maybe_run(self, engine: CalibratedEngine) -> None:
        """Schedule today's run after the current request, if it is due."""
        if not engine.config.routing.auto_calibrate:
            return
        now = time.time()
        if self.checked_on == utc_day(now):
            return
        self.checked_on = utc_day(now)
        if due(engine.config, now):
            asyncio.get_running_loop().call_soon(run_now, engine, now)


def run_now(engine: CalibratedEngine, now: float) -> dict[str, Thresholds]:
    """Propose from the ledger, write the user config, use it; returns the changes made."""
    config = engine.config
    since = now - LOOKBACK_S
    data = engine.books.with_fates(lambda fates: (fates.rows(since), fates.costs_by_request(since)), None)
    if data is None:
        return {}  # the ledger fault was already reported
    changes = daily_changes(config, samples_from(*data))
    try:
        mark(config.ledger.dir, now)
        if changes:
            apply_thresholds(user_config_path(), changes)
    except (OSError, CalibrationError) as error:
        log.warning("auto-calibration: %s", error)
        engine.notify_user("warning", f"tierline: auto-calibration not applied: {error}")
        return {}
    if changes:
        engine.notify_user("info", describe(config, changes))
        engine.reconfigure(with_languages(config, changes))
    return changes


__all__ = ["AutoCalibration", "daily_changes", "due", "mark", "run_now", "with_languages"]
