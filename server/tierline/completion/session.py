"""Per-document state between requests: the request in flight (a newer one supersedes it), the
completion last shown (typing-through), the typing rhythm (debounce), and telling a stale answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tierline.analysis.documents import Document

# Debounce of automatic requests: a multiple of the user's recent gap between keystrokes, so a
# request waits out the next key while they type fast and fires soon after they pause.
DEBOUNCE_GAP_FACTOR = 1.6
DEBOUNCE_MAX_FACTOR = 4
# How much code before the cursor must be unchanged for typing-through and freshness.
TYPING_CONTEXT_BYTES = 256

T = TypeVar("T")


def debounce_s(document: Document, debounce_ms: int) -> float:
    """How long an automatic request waits: the configured least, longer while typing fast."""
    base = debounce_ms / 1000
    return min(max(base, DEBOUNCE_GAP_FACTOR * document.typing_gap_s), DEBOUNCE_MAX_FACTOR * base)


@dataclass
class ShownCompletion:
    """The completion last shown in a document, for typing-through."""

    offset: int
    context_tail: bytes
    text: str
    model: str
    tier: str


def typed_through(shown: ShownCompletion | None, source: bytes, offset: int) -> str | None:
    """The rest of the shown completion when the user typed its start, else None."""
    if shown is None or offset <= shown.offset:
        return None
    start = shown.offset
    if source[max(0, start - TYPING_CONTEXT_BYTES) : start] != shown.context_tail:
        return None
    typed = source[start:offset]
    completion = shown.text.encode("utf-8")
    if not completion.startswith(typed) or len(typed) >= len(completion):
        return None
    rest = completion[len(typed) :].decode("utf-8", errors="ignore")
    return rest if rest.strip() else None


@dataclass(frozen=True)
class Surroundings:
    """The bytes around the insertion point when the request started, to tell a stale answer."""

    before: bytes
    after: bytes

    @staticmethod
    def at(document: Document, offset: int) -> Surroundings:
        return Surroundings(
            document.source[max(0, offset - TYPING_CONTEXT_BYTES) : offset], document.source[offset : offset + 32]
        )

    def is_stale(self, document: Document, offset: int, text: str) -> bool:
        """Stale unless the code before is unchanged and whatever was typed at the cursor agrees with the answer."""
        if document.source[max(0, offset - TYPING_CONTEXT_BYTES) : offset] != self.before:
            return True
        now_after = document.source[offset : offset + 256]
        if now_after.startswith(self.after):
            return False
        resume = now_after.find(self.after[:8]) if self.after else len(now_after)
        typed = now_after[: resume if resume >= 0 else len(now_after)]
        return not text.encode("utf-8").startswith(typed)


class DocumentSessions:
    """What each open document has going on between requests."""

    def __init__(self) -> None:
        self._shown: dict[str, ShownCompletion] = {}
        self._inflight: dict[str, asyncio.Task[object]] = {}
        self._superseded: set[asyncio.Task[object]] = set()

    async def run_latest(self, uri: str, work: Callable[[], Awaitable[T]], superseded: T) -> T:
        """Run `work`, cancelling an older request still running for the same document; a request
        cancelled that way returns `superseded`, one cancelled by the editor re-raises."""
        previous = self._inflight.get(uri)
        if previous is not None and not previous.done():
            self._superseded.add(previous)
            previous.cancel()
        task: asyncio.Task[T] = asyncio.ensure_future(work())
        self._inflight[uri] = task
        try:
            return await task
        except asyncio.CancelledError:
            if task in self._superseded and not _current_task_cancelling():
                return superseded
            raise
        finally:
            self._superseded.discard(task)
            if self._inflight.get(uri) is task:
                del self._inflight[uri]

    def shown(self, uri: str) -> ShownCompletion | None:
        return self._shown.get(uri)

    def show(self, uri: str, shown: ShownCompletion) -> None:
        self._shown[uri] = shown

    def forget(self, uri: str) -> None:
        self._shown.pop(uri, None)
        task = self._inflight.pop(uri, None)
        if task is not None and not task.done():
            task.cancel()

    def forget_shown(self) -> None:
        self._shown.clear()

    def cancel_all(self) -> None:
        for task in list(self._inflight.values()):
            task.cancel()


def _current_task_cancelling() -> bool:
    task = asyncio.current_task()
    return bool(task is not None and hasattr(task, "cancelling") and task.cancelling())
