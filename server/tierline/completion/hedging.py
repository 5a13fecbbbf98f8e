"""Hedged requests: no slow tail when a model turns slow between two requests.

When an attempt runs past its model's expected tail latency, a second request goes to the next
model of the same tier; the first good answer wins and the other is cancelled (its connection
closed, recorded as `cancelled`). The delay sits above the model's p95, so in steady traffic
hedges stay rare (target: at most 5 % extra calls).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tierline.routing.health import LatencyStats

T = TypeVar("T")

# Fewer samples than this: the tail is not known, so no hedge (an untried model is not hedged).
MIN_SAMPLES = 5
# Above p95, by this factor and at least this margin: jitter alone does not fire a hedge.
TAIL_FACTOR = 1.2
TAIL_MARGIN_MS = 30.0


def hedge_delay_ms(stats: LatencyStats) -> float | None:
    """How long to wait on a model before hedging, or None when its tail is not known yet."""
    if len(stats.samples) < MIN_SAMPLES:
        return None
    p95 = stats.p95_ms()
    if p95 is None:
        return None
    return max(p95 * TAIL_FACTOR, p95 + TAIL_MARGIN_MS)


async def race(
    primary: Awaitable[T | None], delay_s: float | None, hedge: Callable[[], Awaitable[T | None]] | None
) -> tuple[int, T | None]:
    """(0, result) from the primary, or (1, result) from the hedge started after `delay_s`.

    The first non-None result wins and the other attempt is cancelled. A primary that fails
    (None) before the delay returns at once, without a hedge: the caller's fallback takes over.
    Cancelling the caller cancels both.
    """
    first: asyncio.Future[T | None] = asyncio.ensure_future(primary)
    tasks = [first]
    try:
        if hedge is None or delay_s is None:
            return 0, await first
        done, _ = await asyncio.wait({first}, timeout=delay_s)
        if done:
            return 0, first.result()
        tasks.append(asyncio.ensure_future(hedge()))
        racing = {task: index for index, task in enumerate(tasks)}
        last: tuple[int, T | None] = (0, None)
        while racing:
            done, _ = await asyncio.wait(set(racing), return_when=asyncio.FIRST_COMPLETED)
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
