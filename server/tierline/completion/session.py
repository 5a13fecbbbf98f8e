"""Per-document state between requests: the request in flight (a newer one supersedes it), the
model call under way (kept for a newer request while the typing agrees with it), the completion
last shown (typing-through), the typist's rhythm and the cost-aware wait, and telling a stale
answer.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tierline.analysis.documents import Document
from tierline.wire import Tier

# How much code before the cursor must be unchanged for typing-through and freshness.
TYPING_CONTEXT_BYTES = 256

# -- the wait before an automatic call ------------------------------------------------------------
# `[completion] latency_vs_cost` = 1.0 means a second of waiting is worth $0.001 of wasted spend.
LATENCY_USD_PER_S = 0.001
# A wait never exceeds this: past it the typist has paused, whatever the rhythm says.
MAX_WAIT_S = 0.6
# A gap between keys longer than this ends a burst.
BURST_PAUSE_S = 0.6
# What a key is followed by, before the typist's own keys say otherwise: (went on, paused) in
# pseudo-counts. Mid-identifier the burst almost always goes on; after `(`, `:`, `{`, `=` or a
# newline a pause is far likelier.
RHYTHM_PRIOR: dict[str, tuple[float, float]] = {
    "word": (9.0, 1.0),
    "opener": (4.0, 6.0),
    "newline": (4.0, 6.0),
    "space": (7.0, 3.0),
    "other": (7.0, 3.0),
}
# Gaps between keys inside a burst, before the typist's own: an ordinary pace (seconds). They make
# way for the typist's own one by one, gone once `PRIOR_WINDOW` of those are known.
GAP_PRIOR = (0.08, 0.1, 0.12, 0.14, 0.16, 0.18, 0.2, 0.22, 0.25, 0.3)
PRIOR_WINDOW = 64
# The typist's gaps remembered: their longest are rare (1 in 50 or so), and a wait that forgot them
# after 64 keys was billed for a premium call each time one came again (0.3 ms a wait to search).
GAP_SAMPLES = 256
GOES_ON_MAX = 0.9
# Each gap seen stands for gaps up to this much longer (a share of the gap).
GAP_SPREAD = 0.1
_OPENERS = frozenset(b"(:{=[,")

T = TypeVar("T")


def key_kind(source: bytes, offset: int) -> str:
    """What the key just typed (the byte before the cursor) was, for the rhythm."""
    if offset <= 0:
        return "newline"
    before = source[max(0, offset - 80) : offset]
    last = before[-1]
    if last in b"\n" or not before.rsplit(b"\n", 1)[-1].strip():
        return "newline"  # a new line, or indentation after one
    if last in _OPENERS:
        return "opener"
    if chr(last).isalnum() or last == ord("_"):
        return "word"
    if last in b" \t":
        return "space"
    return "other"


class Rhythm:
    """The typist's rhythm, learned from their automatic requests (one per key in VS Code and
    Neovim): after each kind of key, how often typing went on; and the gaps between keys of a burst."""

    def __init__(self) -> None:
        self._counts = {kind: list(prior) for kind, prior in RHYTHM_PRIOR.items()}
        self._gaps: deque[float] = deque(maxlen=GAP_SAMPLES)  # the typist's own
        self._last: dict[str, tuple[str, float]] = {}

    def key(self, uri: str, kind: str, now: float, previous_key_at: float = 0.0) -> None:
        """A key of `kind` was typed in `uri` at `now` (monotonic seconds); the document's change
        before it came at `previous_key_at` (0: unknown)."""
        previous = self._last.get(uri)
        self._last[uri] = (kind, now)
        if previous is not None:
            last_kind, at = previous
            # A key may have gone by without a request of its own here (a backspace, which asks for
            # nothing, or a request the editor cancelled before it ran): then typing went on after
            # the last key seen if that key came soon enough after it.
            next_key_at = previous_key_at if previous_key_at > at else now
            self._count(last_kind, went_on=next_key_at - at <= BURST_PAUSE_S)
        # The gap is the one since the key before this one, seen or not: the gap since the last
        # request can be two keys' worth, and would teach the wait to cover gaps nobody typed.
        before = previous[1] if previous is not None else None
        if previous_key_at and (before is None or previous_key_at > before):
            before = previous_key_at
        if before is not None and 0 < now - before <= BURST_PAUSE_S:
            self._gaps.append(now - before)

    def _count(self, kind: str, *, went_on: bool) -> None:
        counts = self._counts[kind]
        counts[0 if went_on else 1] += 1
        if sum(counts) > 200:  # the recent rhythm counts most
            counts[0], counts[1] = counts[0] / 2, counts[1] / 2

    def goes_on(self, kind: str) -> float:
        """The chance another key follows a key of `kind` within a burst: at most `GOES_ON_MAX`,
        since any key may be the last of a burst (at 0.98 a wait would look nearly free)."""
        went_on, paused = self._counts[kind]
        return min(GOES_ON_MAX, went_on / (went_on + paused))

    def gaps(self) -> list[float]:
        """The gaps the wait reads, sorted: the typist's own, and the prior's last ones while fewer
        than `PRIOR_WINDOW` of theirs are known."""
        own = list(self._gaps)
        return sorted((list(GAP_PRIOR) + own)[-max(len(own), PRIOR_WINDOW) :])


def survival(gaps: list[float]) -> Callable[[float], float]:
    """`later_than(seconds)`: the chance the next key of a burst comes later than `seconds` after
    the last one, for the rhythm's `gaps` (sorted). Each gap seen stands for gaps up to `GAP_SPREAD`
    longer, evenly spread (the next gap may be a little longer than any seen so far; a wait fitted
    to the longest gap seen exactly would be billed for every gap a few milliseconds longer). Sorted
    once, each answer a bisection: the wait asks it once per candidate, on every key."""
    count = len(gaps)
    # Prefix sums of 1/gap: a gap g with g <= s < g(1 + k) is longer than s for the share
    # 1 - (s - g) / (k g) = 1 + 1/k - s / (k g) of its spread.
    inverse = list(itertools.accumulate((1 / gap for gap in gaps), initial=0.0))

    def later_than(seconds: float) -> float:
        spread_from = bisect.bisect_left(gaps, seconds / (1 + GAP_SPREAD))
        longer_from = bisect.bisect_right(gaps, seconds)
        partial = (longer_from - spread_from) * (1 + 1 / GAP_SPREAD) - seconds / GAP_SPREAD * (
            inverse[longer_from] - inverse[spread_from]
        )
        return (count - longer_from + partial) / count

    return later_than


def wait_s(rhythm: Rhythm, kind: str, wasted_call_usd: float, first_token_s: float, latency_vs_cost: float) -> float:
    """How long an automatic request waits before its call: the wait that costs least in expected
    latency plus expected wasted spend.

    Waiting w costs w of latency when the burst has ended (1 - p, p the chance typing goes on after
    this kind of key), at `latency_vs_cost` x $0.001 a second. Calling after w wastes a billed call
    when typing goes on (p) and the next key comes after the call's first token (w + the model's
    time to first token): before its first token a call is hung up unbilled. A cheap call is worth
    no wait; a premium one waits out the gaps of a burst, less the model's own time to first token.
    """
    go_on = rhythm.goes_on(kind)
    value = latency_vs_cost * LATENCY_USD_PER_S
    gaps = rhythm.gaps()
    later_than = survival(gaps)

    def expected_cost(wait: float) -> float:
        return value * (1 - go_on) * wait + wasted_call_usd * go_on * later_than(wait + first_token_s)

    # The cost is piecewise linear in the wait, so its least is at 0, the cap, or a gap's ends.
    ends = [end for gap in gaps for end in (gap, gap * (1 + GAP_SPREAD))]
    candidates = [0.0, MAX_WAIT_S] + [end - first_token_s for end in ends if 0 < end - first_token_s < MAX_WAIT_S]
    return min(candidates, key=lambda wait: (expected_cost(wait), wait))


@dataclass
class ShownCompletion:
    """The completion last shown in a document, for typing-through."""

    offset: int
    context_tail: bytes
    text: str
    model: str
    tier: Tier
    request_id: str = ""  # the request whose call it answered


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


@dataclass
class Flight:
    """A model call under way for a document, from a cursor. A newer request in the same document
    waits for it instead of calling again while what was typed since it began agrees with its
    answer; it is hung up on when the typing makes the answer useless (before its first token,
    when nothing can agree with it yet, at no cost)."""

    offset: int
    before: bytes
    after: bytes
    length: int  # the document's length when the call began
    task: asyncio.Future[Any]  # resolves to the answer (completion.request.Answer) or None
    # The answer so far, cleaned for the cursor; None before the first token (nothing billed yet).
    partial: Callable[[], str | None] = field(default=lambda: None)
    request_id: str = ""  # the request that made the call

    def cursor(self, source: bytes) -> int:
        """Where the cursor is if the document changed only by typing at the call's cursor."""
        return self.offset + len(source) - self.length

    def typed(self, source: bytes, offset: int | None = None) -> bytes | None:
        """What was typed at the call's cursor since it began (the cursor is then at `offset`,
        by default where typing alone would have left it); None when the document changed in any
        other way (a deletion, an edit elsewhere, the cursor moved back)."""
        grown = len(source) - self.length
        if offset is None:
            offset = self.cursor(source)
        if offset < self.offset or offset - self.offset != grown:
            return None
        if source[max(0, self.offset - TYPING_CONTEXT_BYTES) : self.offset] != self.before:
            return None
        if source[offset : offset + len(self.after)] != self.after:
            return None
        return source[self.offset : offset]

    def useful(self, source: bytes) -> bool:
        """Worth keeping for what was typed since it began."""
        typed = self.typed(source)
        if typed is None:
            return False
        answer = self.partial()
        if answer is None:
            # No first token yet: nothing typed can be told to agree with it, and a call hung up
            # now is not billed. Kept only while nothing was typed.
            return not typed
        return agrees(answer.encode("utf-8"), typed, done=False)


def agrees(answer: bytes, typed: bytes, *, done: bool) -> bool:
    """The answer (so far, unless `done`) agrees with what was typed at its cursor."""
    if done:
        return answer.startswith(typed) and len(typed) < len(answer)
    return answer.startswith(typed) or typed.startswith(answer)


class DocumentSessions:
    """What each open document has going on between requests."""

    def __init__(self) -> None:
        self._shown: dict[str, ShownCompletion] = {}
        # Answers that came for an earlier key (their request may have been superseded): typing
        # through one is served like typing through a shown completion.
        self._ready: dict[str, ShownCompletion] = {}
        self._flights: dict[str, Flight] = {}
        self._inflight: dict[str, asyncio.Task[object]] = {}
        self._superseded: set[asyncio.Task[object]] = set()
        self.rhythm = Rhythm()

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
            if task in self._superseded and not current_task_cancelling():
                return superseded
            raise
        finally:
            self._superseded.discard(task)
            if self._inflight.get(uri) is task:
                del self._inflight[uri]

    def shown(self, uri: str) -> ShownCompletion | None:
        return self._shown.get(uri)

    def ready(self, uri: str) -> ShownCompletion | None:
        return self._ready.get(uri)

    def answered(self, uri: str, answer: ShownCompletion) -> None:
        self._ready[uri] = answer

    def fly(self, uri: str, flight: Flight) -> None:
        """`flight` is the document's call under way now (an older one was hung up or is done)."""
        self._flights[uri] = flight
        flight.task.add_done_callback(
            lambda _: self._flights.pop(uri, None) if self._flights.get(uri) is flight else None
        )

    def review(self, uri: str, source: bytes) -> Flight | None:
        """The document's call under way if it is still worth having after the latest typing;
        one that is not is hung up on."""
        flight = self._flights.get(uri)
        if flight is None or flight.task.done():
            return None
        if flight.useful(source):
            return flight
        self.hang_up(uri)
        return None

    def hang_up(self, uri: str) -> None:
        flight = self._flights.pop(uri, None)
        if flight is not None:
            flight.task.cancel()

    def show(self, uri: str, shown: ShownCompletion) -> None:
        self._shown[uri] = shown

    def forget(self, uri: str) -> None:
        self._shown.pop(uri, None)
        self._ready.pop(uri, None)
        self.hang_up(uri)
        task = self._inflight.pop(uri, None)
        if task is not None and not task.done():
            task.cancel()

    def forget_shown(self) -> None:
        self._shown.clear()
        self._ready.clear()

    def cancel_all(self) -> None:
        for flight in list(self._flights.values()):
            flight.task.cancel()
        for task in list(self._inflight.values()):
            task.cancel()


def current_task_cancelling() -> bool:
    task = asyncio.current_task()
    return bool(task is not None and hasattr(task, "cancelling") and task.cancelling())
