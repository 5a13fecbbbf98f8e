"""The caps: reserve a call's worst case before it is sent, settle to its real cost after.

`Budget` holds the policy; the stores (`budget_store`, `budget_redis`) hold the money.

- Daily and monthly caps (UTC) count every process sharing the store, plus a per-user daily cap.
- A broken local store (unwritable state directory, corrupt file) never turns the cap off: the
  process goes on reserving against an in-memory tally seeded with the last spend it read.
- A team store (Redis) that cannot be reached fails closed: no reservation, so no call, until it
  answers again; what was spent meanwhile is added to it then. Falling back to a local cap would let
  every member spend the whole team cap again, which is overspending, silently.
- One warning per cap and period at 80 %.
- `store = "litellm"`: the holds and tierline's own figures stay in the local store, and the
  gateway's budget left (accounting/gateway.py) is one more ceiling, the tighter wins. While it
  cannot be read the local caps hold alone; with none set, nothing is sent (never spend uncapped).
  A gateway's `budget_exceeded` answer stops calls through that key for `EXHAUSTED_S`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import time
from collections import deque
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
    NanoUSD,
    Period,
    Refusal,
    Spend,
    StoreUnavailable,
    to_nano,
    to_usd,
)
from tierline.accounting.gateway import EXHAUSTED_S, GATEWAY_LAG_S, Account, GatewayBudget, Reading
from tierline.config import BudgetConfig, ModelSpec

log = logging.getLogger(__name__)

WARN_AT = 0.8
Notify = Callable[[str, str], None]
# (what broke, the error): the facade shows it once (`Books._fault`).
OnFault = Callable[[str, BaseException], None]


def default_user(configured: str) -> str:
    return configured or os.environ.get("USER") or os.environ.get("USERNAME") or "unknown"


def open_store(config: BudgetConfig, directory: Path) -> BudgetStore:
    user = default_user(config.user)
    if config.store in ("local", "litellm"):
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
    def __init__(
        self,
        config: BudgetConfig,
        directory: Path,
        hooks: Hooks,
        store: BudgetStore | None = None,
        gateway: tuple[Account, str | None] | None = None,
    ):
        self.config = config
        self.store = store if store is not None else open_store(config, directory)
        self.memory = MemoryStore(default_user(config.user))
        self._hooks = hooks
        self._local_broken = False
        self._last = Spend()
        self._warned: set[str] = set()
        # `store = "litellm"`: the gateway's budget (account and key), read by `Books.refresh_gateway`.
        self.gateway = (
            GatewayBudget(gateway[0], gateway[1], hooks.notify, self._gateway_base, hooks.clock) if gateway else None
        )
        self._recent: deque[tuple[float, NanoUSD]] = deque()  # (when, cost) settled in the last GATEWAY_LAG_S
        self._exhausted: dict[Account, tuple[float, str]] = {}  # the gateway said its budget is spent

    @property
    def limits(self) -> Limits:
        return limits_of(self.config)

    @property
    def shared(self) -> bool:
        return self.config.store not in ("local", "litellm")

    # -- reserve and settle --------------------------------------------------------------------
    def reserve(self, usd: float, model: ModelSpec | None = None) -> Hold | Refusal:
        """Hold `usd` (a call's worst case to `model`) if it fits every cap; else say which cap it breaks."""
        now = self._hooks.clock()
        amount = max(0, to_nano(usd))
        account = Account.of(model) if model is not None else None
        exhausted = self._exhausted.get(account) if account is not None else None
        if exhausted is not None and exhausted[0] > now:
            return Refusal("gateway", exhausted[1])
        limits = self._gateway_limits(account)
        if isinstance(limits, Refusal):
            return limits
        refused = self._reserve(amount, limits, now)
        if isinstance(refused, Refusal) and refused.cap == "gateway" and self.gateway is not None:
            return dataclasses.replace(refused, detail=self._gateway_detail(amount))
        return refused

    def _reserve(self, amount: NanoUSD, limits: Limits, now: float) -> Hold | Refusal:
        if not self._local_broken:
            try:
                reserved = self.store.reserve(amount, limits, now)
                self._tell_warnings()
                return reserved
            except StoreUnavailable as error:
                self._hooks.on_fault("budget", error)
                return Refusal("store", f"the team budget store is unreachable ({error}); failing closed")
            except Exception as error:  # noqa: BLE001 - a broken local store: count in memory instead
                self._break_local(error, now)
        return self.memory.reserve(amount, limits, now)

    # -- the gateway's budget ------------------------------------------------------------------
    def _gateway_limits(self, account: Account | None) -> Limits | Refusal:
        """The caps for a call through `account`: with the gateway's reading, its budget left as one
        more ceiling; without one, the local caps, or a refusal when there are none (never uncapped).
        A call whose account is unknown (None) is capped as if it went through the gateway."""
        limits, gateway = self.limits, self.gateway
        if gateway is None or (account is not None and account != gateway.account):
            return limits
        reading = gateway.reading()
        if reading is not None:
            remaining = reading.remaining
            return (
                limits
                if remaining is None
                else dataclasses.replace(limits, gateway=reading.base_nano + to_nano(remaining))
            )
        if limits.daily or limits.monthly or limits.user_daily:
            return limits
        why = gateway.problem or "it has not been read yet"
        return Refusal("gateway", f"the gateway's budget could not be read ({why}) and no local cap is set")

    def _gateway_base(self) -> NanoUSD:
        """tierline's month spend as the gateway is read, less what it settled in the last
        GATEWAY_LAG_S (the gateway may not have counted that yet): what the reading already holds."""
        now = self._hooks.clock()
        recent = sum(cost for when, cost in self._recent if when >= now - GATEWAY_LAG_S)
        return self.spend().month - recent

    def _gateway_usage(self, reading: Reading) -> tuple[NanoUSD, NanoUSD]:
        """(settled since the reading, held by calls in flight)."""
        spend = self.spend()
        return max(0, spend.month - reading.base_nano), spend.reserved

    def _gateway_detail(self, amount: NanoUSD) -> str:
        reading = self.gateway.reading() if self.gateway is not None else None
        if reading is None or reading.remaining is None:
            return "the gateway's budget is reached"
        since, held = self._gateway_usage(reading)
        when = dt.datetime.fromtimestamp(reading.checked_at, dt.timezone.utc).strftime("%H:%M:%S UTC")
        return (
            f"the gateway's budget for {reading.key_label} had ${reading.remaining:.6f} left at {when} "
            f"(spent since and in flight ${to_usd(since + held):.6f}, this call up to ${to_usd(amount):.6f})"
        )

    def gateway_refused(self, model: ModelSpec, detail: str) -> None:
        """The gateway answered `budget_exceeded`: no call through that key for EXHAUSTED_S."""
        until = self._hooks.clock() + EXHAUSTED_S
        self._exhausted[Account.of(model)] = (
            until,
            f"the gateway refused a call for its budget ({detail}); calls through it wait {EXHAUSTED_S / 60:.0f} minutes",
        )

    def gateway_status(self) -> dict[str, Any] | None:
        """`tierline.stats` `gateway_budget` (None: the gateway is not the budget store)."""
        if self.gateway is None:
            return None
        reading = self.gateway.reading()
        available = None
        if reading is not None and reading.remaining is not None:
            since, held = self._gateway_usage(reading)
            available = max(0.0, reading.remaining - to_usd(since + held))
        status = self.gateway.status(available)
        now = self._hooks.clock()
        status["exhausted"] = any(until > now for until, _ in self._exhausted.values())
        return status

    def settle(self, hold: Hold, usd: float) -> None:
        """Replace the hold by what the call really cost (0: failed, cancelled, never answered)."""
        cost = max(0, to_nano(usd))
        if cost > hold.amount:
            # The provider counted more prompt tokens than the estimate: counted in full, and logged.
            log.warning("a call cost $%.9f, more than its reservation $%.9f", to_usd(cost), to_usd(hold.amount))
        if cost and self.gateway is not None:
            now = self._hooks.clock()
            self._recent.append((now, cost))
            while self._recent and self._recent[0][0] < now - GATEWAY_LAG_S:
                self._recent.popleft()
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
            "store": "memory" if self._local_broken else (self.store.where if self.shared else self.config.store),
            "downshift": self.config.downshift,
            "warning": self.warned(),
        }

    def close(self) -> None:
        if self.gateway is not None:
            self.gateway.close()
        self.store.close()
