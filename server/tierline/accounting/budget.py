"""The caps: reserve a call's worst case before it is sent, settle to its real cost after.

`Budget` holds the policy; the stores (`budget_store`, `budget_redis`) hold the money.

- Daily and monthly caps (UTC) count every process sharing the store, plus a per-user daily cap.
- A broken local store (unwritable state directory, corrupt file) never turns the cap off: the
  process goes on reserving against an in-memory tally seeded with the last spend it read.
- A team store (Redis) that cannot be reached fails closed: no reservation, so no call, until it
  answers again; what was spent meanwhile is added to it then. Falling back to a local cap would let
  every member spend the whole team cap again, which is overspending, silently.
- One warning per cap and period at 80 %.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tierline.accounting.budget_store import (
    BudgetStore,
    Hold,
    Limits,
    LocalStore,
    MemoryStore,
    Period,
    Refusal,
    Spend,
    StoreUnavailable,
    to_nano,
    to_usd,
)
from tierline.config import BudgetConfig

log = logging.getLogger(__name__)

WARN_AT = 0.8
Notify = Callable[[str, str], None]
# (what broke, the error): the facade shows it once (`Books._fault`).
OnFault = Callable[[str, BaseException], None]


def default_user(configured: str) -> str:
    return configured or os.environ.get("USER") or os.environ.get("USERNAME") or "unknown"


def open_store(config: BudgetConfig, directory: Path) -> BudgetStore:
    user = default_user(config.user)
    if config.store == "local":
        return LocalStore(directory, user)
    from tierline.accounting.budget_redis import RedisStore

    return RedisStore(config.store, user)


def limits_of(config: BudgetConfig) -> Limits:
    return Limits(to_nano(config.daily_usd), to_nano(config.monthly_usd), to_nano(config.user_daily_usd))


@dataclass(frozen=True)
class Hooks:
    notify: Notify
    on_fault: OnFault
    clock: Callable[[], float] = time.time


class Budget:
    def __init__(self, config: BudgetConfig, directory: Path, hooks: Hooks, store: BudgetStore | None = None):
        self.config = config
        self.store = store if store is not None else open_store(config, directory)
        self.memory = MemoryStore(default_user(config.user))
        self._hooks = hooks
        self._local_broken = False
        self._last = Spend()
        self._warned: set[str] = set()

    @property
    def limits(self) -> Limits:
        return limits_of(self.config)

    @property
    def shared(self) -> bool:
        return self.config.store != "local"

    # -- reserve and settle --------------------------------------------------------------------
    def reserve(self, usd: float) -> Hold | Refusal:
        """Hold `usd` (a call's worst case) if it fits every cap; else say which cap it breaks."""
        now = self._hooks.clock()
        amount = max(0, to_nano(usd))
        if not self._local_broken:
            try:
                reserved = self.store.reserve(amount, self.limits, now)
                self._tell_warnings()
                return reserved
            except StoreUnavailable as error:
                self._hooks.on_fault("budget", error)
                return Refusal("store", f"the team budget store is unreachable ({error}); failing closed")
            except Exception as error:  # noqa: BLE001 - a broken local store: count in memory instead
                self._break_local(error, now)
        return self.memory.reserve(amount, self.limits, now)

    def settle(self, hold: Hold, usd: float) -> None:
        """Replace the hold by what the call really cost (0: failed, cancelled, never answered)."""
        cost = max(0, to_nano(usd))
        if cost > hold.amount:
            # The provider counted more prompt tokens than the estimate: counted in full, and logged.
            log.warning("a call cost $%.9f, more than its reservation $%.9f", to_usd(cost), to_usd(hold.amount))
        if hold.store != self.memory.where:
            try:
                self.store.settle(hold, cost)
                self._after_settle()
                return
            except StoreUnavailable as error:
                # The team store keeps the settlement and adds it when it answers again.
                self._hooks.on_fault("budget", error)
                return
            except Exception as error:  # noqa: BLE001
                self._break_local(error, self._hooks.clock())
        self.memory.settle(hold, cost)
        self._after_settle()

    def _break_local(self, error: Exception, now: float) -> None:
        if not self._local_broken:
            self._local_broken = True
            self.memory.seed(self._last, now)
        self._hooks.on_fault("budget", error)

    # -- what was spent ------------------------------------------------------------------------
    def spend(self) -> Spend:
        """Spend this UTC day and month in the store (in memory when it is broken; the last known
        figures when the team store is away)."""
        now = self._hooks.clock()
        if self._local_broken:
            self._last = self.memory.spend(now)
            return self._last
        try:
            spend = self.store.spend(now)
        except StoreUnavailable as error:
            self._hooks.on_fault("budget", error)
            return self._last
        except Exception as error:  # noqa: BLE001
            self._break_local(error, now)
            return self.memory.spend(now)
        self._last = spend
        self._tell_warnings()
        return spend

    def _tell_warnings(self) -> None:
        """What the store found wrong in its content (each said once by the store)."""
        for warning in self.store.take_warnings():
            log.warning("%s", warning)
            self._hooks.notify("warning", warning)

    def _after_settle(self) -> None:
        """One warning per cap and period when 80 % of it is spent."""
        if not (self.config.daily_usd or self.config.monthly_usd or self.config.user_daily_usd):
            return
        spend = self.spend()
        period = Period.at(self._hooks.clock())
        checks = (
            ("daily", self.config.daily_usd, spend.day, period.day),
            ("monthly", self.config.monthly_usd, spend.month, period.month),
            ("your daily", self.config.user_daily_usd, spend.user_day, period.day),
        )
        for name, cap, spent, when in checks:
            marker = f"{name}:{when}"
            if cap > 0 and to_usd(spent) >= WARN_AT * cap and marker not in self._warned:
                self._warned.add(marker)
                then = "cheaper tiers answer first" if self.config.downshift else "completions stop"
                self._hooks.notify(
                    "warning",
                    f"tierline: {to_usd(spent) / cap:.0%} of the {name} budget used "
                    f"(${to_usd(spent):.4f} of ${cap:.2f}); near the cap {then}.",
                )

    def warned(self) -> bool:
        return bool(self._warned)

    def status(self) -> dict[str, Any]:
        """`tierline.stats` `budget`: the existing daily keys, then the monthly and store ones."""
        spend = self.spend()
        daily, monthly = self.config.daily_usd, self.config.monthly_usd
        spent_day, spent_month = round(to_usd(spend.day), 9), round(to_usd(spend.month), 9)
        return {
            "daily_usd": daily,
            "spent_today_usd": spent_day,
            "remaining_usd": round(max(0.0, daily - spent_day), 9) if daily > 0 else None,
            "reached": (daily > 0 and spent_day >= daily) or (monthly > 0 and spent_month >= monthly),
            "monthly_usd": monthly,
            "spent_month_usd": spent_month,
            "remaining_month_usd": round(max(0.0, monthly - spent_month), 9) if monthly > 0 else None,
            "reserved_usd": round(to_usd(spend.reserved), 9),
            "user": default_user(self.config.user),
            "user_spent_today_usd": round(to_usd(spend.user_day), 9),
            "store": "memory" if self._local_broken else (self.store.where if self.shared else "local"),
            "downshift": self.config.downshift,
            "warning": self.warned(),
        }

    def close(self) -> None:
        self.store.close()
