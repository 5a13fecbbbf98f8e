"""Cache, ledger and budget behind one object that never costs an answer.

A store that fails (unwritable or read-only directory, corrupt file, full disk) is logged, shown to
the user once per store and kind of fault, and kept out of the request: a miss instead of a hit,
a row not written, an in-memory budget tally. `warnings` lists the faults for `tierline.stats`, so
both editors can show a warning state.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from tierline.accounting.acceptance import FateLedger
from tierline.accounting.budget import Budget, Hooks
from tierline.accounting.budget_store import Hold, Refusal
from tierline.accounting.cache import AnswerCache, CachedAnswer
from tierline.accounting.gateway import Account
from tierline.accounting.ledger import CallRow, Ledger, utc_day
from tierline.config import Config, ModelSpec
from tierline.wire import LedgerSummary

log = logging.getLogger(__name__)

T = TypeVar("T")
Notify = Callable[[str, str], None]

# Whatever a broken store raises (OS errors, SQLite, diskcache, undecodable rows) stays here;
# cancellation (a BaseException) passes through.
STORE_ERRORS: tuple[type[Exception], ...] = (Exception,)


class Books:
    def __init__(self, config: Config, notify: Notify = lambda level, text: None, env: Mapping[str, str] = os.environ):
        self._notify = notify
        self._env = env
        self._reads: set[asyncio.Task[None]] = set()  # background reads of the gateway's budget
        self._faults: dict[str, str] = {}
        self.cache = AnswerCache(config.cache.dir, config.cache.ttl_seconds, config.cache.size_limit_mb)
        self.ledger = Ledger(config.ledger.dir)
        self.fates = FateLedger(config.ledger.dir)
        self.budget = self._open_budget(config)

    # -- configuration -------------------------------------------------------------------------
    def reconfigure(self, old: Config, new: Config) -> None:
        if (new.cache.dir, new.cache.ttl_seconds, new.cache.size_limit_mb) != (
            old.cache.dir,
            old.cache.ttl_seconds,
            old.cache.size_limit_mb,
        ):
            self._guard("cache", self.cache.close, None)
            self.cache = AnswerCache(new.cache.dir, new.cache.ttl_seconds, new.cache.size_limit_mb)
            self._faults.pop("cache", None)
        if new.ledger.dir != old.ledger.dir:
            self._guard("ledger", self.ledger.close, None)
            self.ledger = Ledger(new.ledger.dir)
            self._guard("ledger", self.fates.close, None)
            self.fates = FateLedger(new.ledger.dir)
            self._faults.pop("ledger", None)
        if (new.ledger.dir, new.budget.store, new.budget.user, self._gateway(new)) != (
            old.ledger.dir,
            old.budget.store,
            old.budget.user,
            self._gateway(old),
        ):
            self._guard("budget", self.budget.close, None)
            self.budget = self._open_budget(new)
            self._faults.pop("budget", None)
        else:
            self.budget.config = new.budget

    def _open_budget(self, config: Config) -> Budget:
        return Budget(config.budget, config.ledger.dir, Hooks(self._notify, self._fault), gateway=self._gateway(config))

    def _gateway(self, config: Config) -> tuple[Account, str | None] | None:
        """`store = "litellm"`: the gateway is the models' (the first model's base_url), read with
        that model's key (its `api_key_env`)."""
        if config.budget.store != "litellm" or not config.models:
            return None
        model = config.models[0]
        key = self._env.get(model.api_key_env) if model.api_key_env else None
        return Account.of(model), key or None

    # -- the request's bookkeeping -------------------------------------------------------------
    def cached(self, key: str) -> CachedAnswer | None:
        return self._guard("cache", lambda: self.cache.get(key), None)

    def keep(self, key: str, answer: CachedAnswer) -> None:
        self._guard("cache", lambda: self.cache.put(key, answer), None)

    def record(self, row: CallRow) -> None:
        # The budget counts spend when a hold is settled, not here: a ledger that fails to write
        # never makes spend invisible to the cap.
        self._guard("ledger", lambda: self.ledger.record(row), None)

    def reserve(self, worst_case_usd: float, model: ModelSpec | None = None) -> Hold | Refusal:
        """Hold a call's worst case in the shared store before it is sent (a Refusal: do not send)."""
        refused: Hold | Refusal = Refusal("store", "the budget could not be checked")
        hold = self._guard("budget", lambda: self.budget.reserve(worst_case_usd, model), refused)
        if isinstance(hold, Hold) and self.budget.shared:
            self._faults.pop("budget", None)  # the team store answers again: a later outage is told again
        return hold

    def settle(self, hold: Hold, cost_usd: float) -> None:
        self._guard("budget", lambda: self.budget.settle(hold, cost_usd), None)

    async def refresh_gateway(self) -> None:
        """`store = "litellm"`: the gateway's budget read again when due (waits only for the first read)."""
        gateway = self.budget.gateway
        if gateway is None:
            return
        try:
            await gateway.refresh()
        except STORE_ERRORS as error:  # never costs an answer: the local caps hold
            log.warning("the gateway's budget: %s", type(error).__name__)

    def read_gateway_soon(self) -> None:
        """A read of the gateway's budget in the background, when one is due (never waits)."""
        if self.budget.gateway is None:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # no event loop (a command line): nothing to run it on
        task = asyncio.ensure_future(self.refresh_gateway())
        self._reads.add(task)
        task.add_done_callback(self._reads.discard)

    def gateway_refused(self, model: ModelSpec, detail: str) -> None:
        self._guard("budget", lambda: self.budget.gateway_refused(model, detail), None)

    def gateway_status(self) -> dict[str, Any] | None:
        return self._guard("budget", self.budget.gateway_status, None)

    def spent_today(self) -> float:
        return float(self._guard("budget", lambda: self.budget.status()["spent_today_usd"], 0.0))

    def budget_status(self) -> dict[str, Any]:
        return self._guard("budget", self.budget.status, {})

    # -- commands ------------------------------------------------------------------------------
    def clear_cache(self) -> int:
        return self._guard("cache", self.cache.clear, 0)

    def summary(self, day: str | None = None) -> LedgerSummary:
        return self._guard("ledger", lambda: self.ledger.summary(day), None) or empty_summary()

    def today(self) -> LedgerSummary:
        return self.summary(utc_day())

    def with_fates(self, action: Callable[[FateLedger], T], fallback: T) -> T:
        """Run an action on the `fates` table (accounting/acceptance.py); a fault is the ledger's."""
        return self._guard("ledger", lambda: action(self.fates), fallback)

    @property
    def warnings(self) -> list[str]:
        return list(self._faults.values())

    def close(self) -> None:
        for task in list(self._reads):
            task.cancel()
        self._guard("cache", self.cache.close, None)
        self._guard("ledger", self.ledger.close, None)
        self._guard("budget", self.budget.close, None)
        self._guard("ledger", self.fates.close, None)

    # -- faults --------------------------------------------------------------------------------
    def _guard(self, store: str, action: Callable[[], T], fallback: T) -> T:
        try:
            return action()
        except STORE_ERRORS as error:
            self._fault(store, error)
            return fallback

    def _fault(self, store: str, error: BaseException) -> None:
        problem = f"{type(error).__name__}: {error}"
        log.warning("%s fault: %s", store, problem)
        path = {"cache": self.cache.directory, "ledger": self.ledger.path}.get(store, self.budget.store.where)
        if store == "budget" and not self.budget.shared:
            # The local budget store lives beside the ledger, in the state directory: one fault,
            # one message (the budget goes on in memory, see Budget._break_local).
            store = "ledger"
        if store in self._faults:
            return
        what = {
            "cache": "the response cache is not usable, completions are served without it",
            "ledger": "the ledger is not writable, spend is counted in memory only",
            "budget": "the team budget store is not reachable, completions wait until it answers (the team cap holds)",
        }[store]
        message = f"tierline: {what} ({path}: {problem}). Run `tierline doctor` for details."
        self._faults[store] = message
        self._notify("warning", message)


def empty_summary() -> LedgerSummary:
    return {
        "requests": 0,
        "model_calls": 0,
        "cache_hits": 0,
        "spend_usd": 0.0,
        "premium_baseline_usd": 0.0,
        "savings_pct": 0.0,
        "by_tier": {},
        "by_model": {},
    }
