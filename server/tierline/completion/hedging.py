"""Hedged requests: no slow tail when a model turns slow between two requests.

When an attempt runs past its model's expected tail (no first token by its time-to-first-token
p95, or no answer by its latency p95, each with a margin), a second request goes to the next
model of the same tier; the first good answer wins and the other is cancelled (its connection
closed, recorded as `cancelled`). The moments sit above the model's p95s, so in steady
traffic hedges stay rare (target: at most 5 % extra calls).
"""

from __future__ import annotations

import asyncio
from asyncio import FIRST_COMPLETED
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tierline.routing.health import LatencyStats

T = TypeVar("T")

# Fewer samples than this: the tail is not known, so no hedge (an untried model is not hedged).
MIN_SAMPLES = 5
# Above p95, by this factor and at least this margin: jitter alone does not fire a hedge.
TAIL_FACTOR = 1.2
TAIL_MARGIN_MS = 50.0


@dataclass(frozen=True)
class HedgeAfter:
    """When to hedge, in seconds from the start: no first token by `first_token_s`, or no answer
    by `total_s` (either may be unknown)."""

    first_token_s: float | None
    total_s: float | None


def _above_tail(p95_ms: float | None, count: int) -> float | None:
    if p95_ms is None or count < MIN_SAMPLES:
        return None
    return max(p95_ms * TAIL_FACTOR, p95_ms + TAIL_MARGIN_MS) / 1000


def hedge_after(stats: LatencyStats) -> HedgeAfter | None:
    """The model's hedge moments from its own tails (time to first token, whole answer), or None
    while neither is known yet."""
    first = _above_tail(stats.first_token_p95_ms(), len(stats.first_token_samples))
    total = _above_tail(stats.p95_ms(), len(stats.samples))
    if first is None and total is None:
        return None
    return HedgeAfter(first, total)


async def _hedge_due(first: asyncio.Future[T | None], first_token: asyncio.Event, after: HedgeAfter) -> bool:
    """Wait until the primary is done (False) or a hedge moment passes without it (True)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    if after.first_token_s is not None:
        token = asyncio.ensure_future(first_token.wait())
        waiting: set[asyncio.Future[Any]] = {first, token}
        try:
            done, _ = await asyncio.wait(waiting, timeout=after.first_token_s, return_when=FIRST_COMPLETED)
        finally:
            token.cancel()
        if first in done:
            return False
        if not first_token.is_set():
            return True
    if after.total_s is None:
        return False
    finished, _ = await asyncio.wait({first}, timeout=max(0.0, after.total_s - (loop.time() - start)))
    return not finished


async def race(
    primary: Awaitable[T | None],
    after: HedgeAfter | None,
    first_token: asyncio.Event,
    hedge: Callable[[], Awaitable[T | None]] | None,
) -> tuple[int, T | None]:
    """(0, result) from the primary, or (1, result) from the hedge started at a hedge moment.

    The first non-None result wins and the other attempt is cancelled. A primary that fails
    (None) before the hedge moment returns at once, without a hedge: the caller's fallback takes
    over. Cancelling the caller cancels both.
    """
    first: asyncio.Future[T | None] = asyncio.ensure_future(primary)
    tasks = [first]
    try:
        if hedge is None or after is None or not await _hedge_due(first, first_token, after):
            return 0, await first
        tasks.append(asyncio.ensure_future(hedge()))
        racing = {task: index for index, task in enumerate(tasks)}
        last: tuple[int, T | None] = (0, None)
        while racing:
            done, _ = await asyncio.wait(set(racing), return_when=FIRST_COMPLETED)
            for task in done:
                last = (racing.pop(task), task.result())
                if last[1] is not None:
                    break
            if last[1] is not None:
                break
        return last
    finally:
        # The loser (or both, when the caller was cancelled) is cancelled and awaited: its
        # connection is closed and its attempt recorded before the request moves on.
        pending = [task for task in tasks if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
