"""Where reservations and spend live: a store every tierline process of a user (or a team) shares.

Money is counted in whole nano-dollars (`NanoUSD`, 1e-9 USD) so that sums are exact in SQLite,
in Redis and in Lua (whose numbers are doubles: exact to 2**53 nano-USD, $9 million).

A *hold* is one call's worst case, reserved before the call is sent. Settling a hold replaces it by
the call's real cost; releasing it settles at zero. A hold whose process died is dropped: by its
expiry time (every store), and in the local store also when its process id no longer runs.

The stores here: `LocalStore` (SQLite in the state directory, `BEGIN IMMEDIATE` so that the check
and the insert are one step across processes) and `MemoryStore` (this process only: the fallback
when the local file cannot be used). `budget_redis.RedisStore` is the team store.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tierline.config.paths import private_dir

NanoUSD = int
NANO = 1_000_000_000
# A hold outlives any model call (the longest configured timeout is seconds); a process that died
# mid-call frees its holds after this long, or at once in the local store when its pid is gone.
HOLD_TTL_S = 120.0


def to_nano(usd: float) -> NanoUSD:
    return round(usd * NANO)


def to_usd(nano: NanoUSD) -> float:
    return nano / NANO


@dataclass(frozen=True)
class Period:
    """The UTC day and month a moment falls in."""

    day: str  # 2026-11-30
    month: str  # 2026-11

    @staticmethod
    def at(timestamp: float) -> Period:
        day = dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).date().isoformat()
        return Period(day, day[:7])


@dataclass(frozen=True)
class Limits:
    """Caps in nano-USD; 0 = no cap. `daily`/`monthly` hold for everyone in the store."""

    daily: NanoUSD = 0
    monthly: NanoUSD = 0
    user_daily: NanoUSD = 0
    # The gateway's budget as a ceiling on this month's settled spend plus calls in flight: the month
    # spend when the gateway was read plus what it said was left (`budget.Budget._gateway_limits`).
    # None: no gateway figure (unlike the caps above, 0 is a real ceiling here).
    gateway: NanoUSD | None = None


@dataclass(frozen=True)
class Hold:
    id: str
    amount: NanoUSD
    period: Period
    store: str  # which store holds it (`BudgetStore.where`)


@dataclass(frozen=True)
class Refusal:
    """A reservation that does not fit: which cap, and what was spent and reserved against it."""

    cap: str  # "daily" | "monthly" | "user daily" | "store" | "gateway"
    detail: str
    # Settled spend alone leaves room for the call: only calls in flight hold it, so it fits again
    # as they settle (within seconds, at most HOLD_TTL_S), not at the end of the period.
    held: bool = False

    def __bool__(self) -> bool:
        return False


@dataclass(frozen=True)
class Spend:
    """Settled spend in the current period, and what calls in flight hold."""

    day: NanoUSD = 0
    month: NanoUSD = 0
    user_day: NanoUSD = 0
    user_month: NanoUSD = 0
    reserved: NanoUSD = 0


class StoreUnavailable(Exception):
    """The store cannot be reached (a team store that went away); the message names it, never a password."""


class BudgetStore(Protocol):
    where: str  # for messages: a path or a URL without credentials

    def reserve(self, amount: NanoUSD, limits: Limits, now: float) -> Hold | Refusal: ...

    def settle(self, hold: Hold, cost: NanoUSD) -> None: ...

    def spend(self, now: float) -> Spend: ...

    def take_warnings(self) -> list[str]:
        """Messages for the user about the store's content (each once), e.g. entries that are not amounts."""
        ...

    def close(self) -> None: ...


def refusal_for(amount: NanoUSD, limits: Limits, spend: Spend, user_reserved: NanoUSD) -> Refusal | None:
    """The first cap that `amount` more would break, counting settled spend and calls in flight."""
    checks = (
        ("daily", limits.daily, spend.day, spend.reserved),
        ("monthly", limits.monthly, spend.month, spend.reserved),
        ("user daily", limits.user_daily, spend.user_day, user_reserved),
    )
    if limits.gateway is not None and spend.month + spend.reserved + amount > limits.gateway:
        return Refusal(
            "gateway",
            f"the gateway's budget is reached (this call up to ${to_usd(amount):.6f})",
            held=spend.month + amount <= limits.gateway,
        )
    for name, cap, spent, held in checks:
        used = spent + held
        if cap > 0 and used + amount > cap:
            return Refusal(
                name,
                f"{name} budget ${to_usd(cap):.2f} reached "
                f"(spent and in flight ${to_usd(used):.6f}, this call up to ${to_usd(amount):.6f})",
                held=spent + amount <= cap,
            )
    return None


def new_hold_id() -> str:
    return uuid.uuid4().hex


# ---------------------------------------------------------------------------------------------
# This process only


@dataclass
class MemoryStore:
    """The in-memory tally: what this process spent and holds. Used when the shared store is broken."""

    user: str
    where: str = "memory"
    _spent: dict[tuple[str, str], NanoUSD] = field(default_factory=dict)  # (day, user) -> nano
    _holds: dict[str, tuple[NanoUSD, float]] = field(default_factory=dict)  # id -> (amount, expires)

    def seed(self, spend: Spend, now: float) -> None:
        """Start from what the shared store last said (so a fault does not reset today's count)."""
        period = Period.at(now)
        self._spent[(period.day, self.user)] = spend.user_day
        earlier_this_month = spend.month - spend.day
        if earlier_this_month > 0:
            self._spent[(f"{period.month}-00", self.user)] = earlier_this_month

    def reserve(self, amount: NanoUSD, limits: Limits, now: float) -> Hold | Refusal:
        self._holds = {k: v for k, v in self._holds.items() if v[1] >= now}
        spend = self.spend(now)
        refusal = refusal_for(amount, limits, spend, spend.reserved)
        if refusal is not None:
            return refusal
        hold = Hold(new_hold_id(), amount, Period.at(now), self.where)
        self._holds[hold.id] = (amount, now + HOLD_TTL_S)
        return hold

    def settle(self, hold: Hold, cost: NanoUSD) -> None:
        self._holds.pop(hold.id, None)
        if cost:
            key = (hold.period.day, self.user)
            self._spent[key] = self._spent.get(key, 0) + cost

    def spend(self, now: float) -> Spend:
        period = Period.at(now)
        day = sum(v for (d, _), v in self._spent.items() if d == period.day)
        month = sum(v for (d, _), v in self._spent.items() if d.startswith(period.month))
        reserved = sum(amount for amount, expires in self._holds.values() if expires >= now)
        return Spend(day, month, day, month, reserved)

    def take_warnings(self) -> list[str]:
        return []

    def close(self) -> None:
        pass


# ---------------------------------------------------------------------------------------------
# Every process of this user: SQLite in the state directory

SCHEMA = """
CREATE TABLE IF NOT EXISTS spend (
    day TEXT NOT NULL,
    user TEXT NOT NULL,
    nano_usd INTEGER NOT NULL,
    PRIMARY KEY (day, user)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS holds (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    nano_usd INTEGER NOT NULL,
    expires REAL NOT NULL
);
"""


LEDGER_FILENAME = "ledger.sqlite3"  # accounting.ledger.Ledger.FILENAME (not imported: no cycle)


def ledger_spend_by_day(path: Path, month: str) -> list[tuple[str, float]]:
    """What the ledger recorded per day of `month`; nothing when there is no ledger or it cannot be read."""
    if not path.exists():
        return []
    try:
        with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as ledger:
            rows = ledger.execute(
                "SELECT day, SUM(cost_usd) FROM calls WHERE day >= ? AND day < ? GROUP BY day",
                (f"{month}-00", f"{month}-99"),
            ).fetchall()
    except sqlite3.Error:
        return []  # a broken ledger: its own fault is reported by the ledger
    return [(str(day), float(usd)) for day, usd in rows if usd]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


class LocalStore:
    """SQLite, shared by every tierline process of this user; each check-and-reserve is one
    `BEGIN IMMEDIATE` transaction, so two processes never both take the last dollar."""

    FILENAME = "budget.sqlite3"

    def __init__(self, directory: Path, user: str):
        self.path = directory / self.FILENAME
        self.where = str(self.path)
        self.user = user
        self._directory = directory
        self._db: sqlite3.Connection | None = None
        self._host = socket.gethostname()

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            private_dir(self._directory)
            db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=10.0)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # as the ledger: durable across crashes of the process
            db.executescript(SCHEMA)
            self._import_ledger_once(db, time.time())
            self._db = db
        return self._db

    def _import_ledger_once(self, db: sqlite3.Connection, now: float) -> None:
        """A new store starts from what the ledger beside it says was spent this month (a user who
        upgrades keeps today's spend against the cap). Once per store file, under its write lock."""
        db.execute("BEGIN IMMEDIATE")
        try:
            if db.execute("SELECT 1 FROM meta WHERE key = 'ledger_imported'").fetchone() is None:
                for day, usd in ledger_spend_by_day(self._directory / LEDGER_FILENAME, Period.at(now).month):
                    db.execute(
                        "INSERT INTO spend (day, user, nano_usd) VALUES (?,?,?)"
                        " ON CONFLICT (day, user) DO UPDATE SET nano_usd = nano_usd + excluded.nano_usd",
                        (day, self.user, to_nano(usd)),
                    )
                db.execute("INSERT INTO meta (key, value) VALUES ('ledger_imported', ?)", (str(now),))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _expire(self, db: sqlite3.Connection, now: float) -> None:
        db.execute("DELETE FROM holds WHERE expires < ?", (now,))
        me = os.getpid()
        for (pid,) in db.execute("SELECT DISTINCT pid FROM holds WHERE host = ? AND pid != ?", (self._host, me)):
            if not _pid_alive(pid):
                db.execute("DELETE FROM holds WHERE host = ? AND pid = ?", (self._host, pid))

    def _spend(self, db: sqlite3.Connection, now: float) -> tuple[Spend, NanoUSD]:
        period = Period.at(now)
        day, user_day = db.execute(
            "SELECT COALESCE(SUM(nano_usd), 0), COALESCE(SUM(CASE WHEN user = ? THEN nano_usd END), 0)"
            " FROM spend WHERE day = ?",
            (self.user, period.day),
        ).fetchone()
        month, user_month = db.execute(
            "SELECT COALESCE(SUM(nano_usd), 0), COALESCE(SUM(CASE WHEN user = ? THEN nano_usd END), 0)"
            " FROM spend WHERE day >= ? AND day < ?",
            (self.user, f"{period.month}-00", f"{period.month}-99"),
        ).fetchone()
        reserved, user_reserved = db.execute(
            "SELECT COALESCE(SUM(nano_usd), 0), COALESCE(SUM(CASE WHEN user = ? THEN nano_usd END), 0)"
            " FROM holds WHERE expires >= ?",
            (self.user, now),
        ).fetchone()
        return Spend(int(day), int(month), int(user_day), int(user_month), int(reserved)), int(user_reserved)

    def reserve(self, amount: NanoUSD, limits: Limits, now: float) -> Hold | Refusal:
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            self._expire(db, now)
            spend, user_reserved = self._spend(db, now)
            refusal = refusal_for(amount, limits, spend, user_reserved)
            if refusal is not None:
                db.execute("COMMIT")
                return refusal
            hold = Hold(new_hold_id(), amount, Period.at(now), self.where)
            db.execute(
                "INSERT INTO holds (id, user, host, pid, nano_usd, expires) VALUES (?,?,?,?,?,?)",
                (hold.id, self.user, self._host, os.getpid(), amount, now + HOLD_TTL_S),
            )
            db.execute("COMMIT")
            return hold
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def settle(self, hold: Hold, cost: NanoUSD) -> None:
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM holds WHERE id = ?", (hold.id,))
            if cost:
                db.execute(
                    "INSERT INTO spend (day, user, nano_usd) VALUES (?,?,?)"
                    " ON CONFLICT (day, user) DO UPDATE SET nano_usd = nano_usd + excluded.nano_usd",
                    (hold.period.day, self.user, cost),
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def spend(self, now: float) -> Spend:
        return self._spend(self._conn(), now)[0]

    def by_user(self, now: float) -> dict[str, Spend]:
        """Spend per user this day and month (one user, locally; the same shape as the team store)."""
        period = Period.at(now)
        out: dict[str, Spend] = {}
        for user, day, month in self._conn().execute(
            "SELECT user, COALESCE(SUM(CASE WHEN day = ? THEN nano_usd END), 0), SUM(nano_usd)"
            " FROM spend WHERE day >= ? AND day < ? GROUP BY user",
            (period.day, f"{period.month}-00", f"{period.month}-99"),
        ):
            out[user] = Spend(int(day), int(month), int(day), int(month))
        return out

    def take_warnings(self) -> list[str]:
        return []  # only this user's processes write here

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
