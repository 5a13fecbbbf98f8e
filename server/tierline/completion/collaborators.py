"""What the engine works with but does not decide: the provider client, the books (ledger, cache,
budget) and the clock. Built here by default (`collaborators`, which `lsp/server.py` calls) and
passed to `CompletionEngine`, so that a test gives a fake of any of them through the front door
instead of replacing the engine's private methods."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from tierline.accounting.books import Books
from tierline.config import Config
from tierline.providers.base import Provider
from tierline.providers.openai import ProviderClient

Notify = Callable[[str, str], None]


@dataclass(frozen=True)
class Clock:
    """Monotonic seconds (latencies, health, the typist's rhythm) and the debounce's wait."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


@dataclass(frozen=True)
class Collaborators:
    providers: Provider
    books: Books
    clock: Clock = field(default_factory=Clock)


def collaborators(
    config: Config,
    env: Mapping[str, str] = os.environ,
    notify_user: Notify = lambda level, text: None,
    *,
    providers: Provider | None = None,
    books: Books | None = None,
) -> Collaborators:
    """The real ones, except those given: the HTTP client, the books of `config`, the system clock
    (a test's clock: `Collaborators(providers, books, Clock(...))`)."""
    return Collaborators(
        providers if providers is not None else ProviderClient(),
        books if books is not None else Books(config, notify_user, env),
    )
