"""The team store: reservations and spend in Redis, so a team's tierline processes share one cap.

Each check-and-reserve and each settlement is one Lua script (Redis runs a script atomically).
Keys, under `tierline:budget:`: `holds` (hash id -> "user amount"), `holds:expiry` (sorted set
id -> expiry time), `day:YYYY-MM-DD` and `month:YYYY-MM` (hash user -> nano-USD), `settled:DAY`
(ids already settled, so a settlement retried after a lost reply is not counted twice).

If Redis cannot be reached every call raises `StoreUnavailable` (the budget then refuses: fail
closed, see docs/budget.md). Calls are short and synchronous with a 1 s socket timeout; after a
failure the store does not try again for `RETRY_AFTER_S`, so an outage costs a request no wait.
"""

from __future__ import annotations

import time
from typing import Any

from tierline.accounting.budget_store import (
    HOLD_TTL_S,
    Hold,
    Limits,
    NanoUSD,
    Period,
    Refusal,
    Spend,
    StoreUnavailable,
    new_hold_id,
    to_usd,
)
from tierline.config.urls import public_url, without_secret

PREFIX = "tierline:budget:"
RETRY_AFTER_S = 2.0
DAY_KEY_TTL_S = 40 * 86400
MONTH_KEY_TTL_S = 400 * 86400

# What a value in the store must be: a whole, non-negative number of nano-USD below $1M (15 digits;
# Lua's doubles are exact far past that). Anything else was written by something other than
# tierline: it is ignored (counted as nothing), reported once, and the caps hold for everyone else.
AMOUNT_LUA = """
local bad = {}
local function valid(value)
  return type(value) == 'string' and #value <= 15 and string.match(value, '^%d+$') ~= nil
end
local function amount(key, field, value)
  if valid(value) then return tonumber(value) end
  table.insert(bad, key .. ' ' .. field)
  return 0
end
"""

# KEYS: holds, holds:expiry, day, month. ARGV: now, id, user, amount, expires, daily, monthly, user_daily.
# Returns {1, id, 0, 0, bad} or {0, cap, spent and held, spent, bad}.
RESERVE_LUA = (
    AMOUNT_LUA
    + """
local holds, expiry, dayk, monthk = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now = tonumber(ARGV[1])
local id, user, asked, expires = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local daily, monthly, user_daily = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
for _, old in ipairs(redis.call('ZRANGEBYSCORE', expiry, '-inf', '(' .. now)) do
  redis.call('HDEL', holds, old)
  redis.call('ZREM', expiry, old)
end
local reserved, user_reserved = 0, 0
local all = redis.call('HGETALL', holds)
for i = 1, #all, 2 do
  local holder, held = string.match(all[i + 1], '^(.*) (%S+)$')
  held = amount(holds, all[i], held)
  reserved = reserved + held
  if holder == user then user_reserved = user_reserved + held end
end
local function total(key)
  local sum = 0
  local values = redis.call('HGETALL', key)
  for i = 1, #values, 2 do sum = sum + amount(key, values[i], values[i + 1]) end
  return sum
end
local day, month = total(dayk), total(monthk)
local user_day = 0
local own = redis.call('HGET', dayk, user)
if own and valid(own) then user_day = tonumber(own) end
if daily > 0 and day + reserved + asked > daily then return {0, 'daily', day + reserved, day, bad} end
if monthly > 0 and month + reserved + asked > monthly then return {0, 'monthly', month + reserved, month, bad} end
if user_daily > 0 and user_day + user_reserved + asked > user_daily then
  return {0, 'user daily', user_day + user_reserved, user_day, bad}
end
redis.call('HSET', holds, id, user .. ' ' .. asked)
redis.call('ZADD', expiry, expires, id)
return {1, id, 0, 0, bad}
"""
)

# KEYS: holds, holds:expiry, day, month, settled. ARGV: id, user, cost, day ttl, month ttl.
# Spend only goes up: a cost is never negative, and a user's entry that is not an amount (which
# HINCRBY would refuse, or a negative one that lowers the team's total) is replaced by the cost.
SETTLE_LUA = (
    AMOUNT_LUA
    + """
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('SADD', KEYS[5], ARGV[1]) == 0 then return 0 end
redis.call('EXPIRE', KEYS[5], 2 * 86400)
local cost = tonumber(ARGV[3])
if cost and cost > 0 then
  for i, key in ipairs({KEYS[3], KEYS[4]}) do
    local current = redis.call('HGET', key, ARGV[2])
    if current and not valid(current) then
      redis.call('HSET', key, ARGV[2], cost)
    else
      redis.call('HINCRBY', key, ARGV[2], cost)
    end
    redis.call('EXPIRE', key, tonumber(ARGV[3 + i]))
  end
end
return 1
"""
)


def amount_of(value: Any) -> NanoUSD | None:
    """The Python side of AMOUNT_LUA: a store value as nano-USD, or None when it is not an amount."""
    text = str(value)
    return int(text) if len(text) <= 15 and text.isascii() and text.isdigit() else None


class RedisStore:
    def __init__(self, url: str, user: str, client: Any = None):
        self.where = public_url(url)
        self.user = user
        self._url = url
        self._client = client
        self._down_until = 0.0
        self._reserve: Any = None
        self._settle: Any = None
        self._unsettled: list[tuple[Hold, NanoUSD]] = []
        self._bad_seen: set[str] = set()
        self._bad_new: list[str] = []

    def _note_bad(self, entries: Any) -> None:
        """Entries that are not amounts (`KEY FIELD`), each reported once by `take_warnings`."""
        for entry in entries or ():
            text = str(entry)[:200]
            if text not in self._bad_seen:
                self._bad_seen.add(text)
                self._bad_new.append(text)

    def take_warnings(self) -> list[str]:
        """One message for the entries found since the last call that are not amounts (ignored)."""
        if not self._bad_new:
            return []
        entries, self._bad_new = self._bad_new, []
        return [
            f"tierline: the team budget store {self.where} holds values that are not amounts of money "
            f"({', '.join(entries[:5])}{', ...' if len(entries) > 5 else ''}); they are ignored and the caps "
            "still hold for everyone else. Fix or delete them (redis-cli HDEL KEY FIELD)."
        ]

    # -- connection ---------------------------------------------------------------------------
    def _redis(self) -> Any:
        if time.monotonic() < self._down_until:
            raise StoreUnavailable(f"{self.where} is unreachable (retrying shortly)")
        if self._client is None:
            try:
                import redis
            except ImportError as error:  # pragma: no cover - redis is a dependency
                raise StoreUnavailable(f"the redis package is not installed ({error})") from None
            self._client = redis.Redis.from_url(
                self._url, socket_timeout=1.0, socket_connect_timeout=1.0, decode_responses=True
            )
        if self._reserve is None:
            self._reserve = self._client.register_script(RESERVE_LUA)
            self._settle = self._client.register_script(SETTLE_LUA)
        return self._client

    def _run(self, action: Any) -> Any:
        try:
            client = self._redis()
            self._flush_unsettled(client)
            return action(client)
        except StoreUnavailable:
            raise
        except Exception as error:  # redis' ConnectionError, TimeoutError, ResponseError, OSError
            self._down_until = time.monotonic() + RETRY_AFTER_S
            message = without_secret(f"{type(error).__name__}: {error}", self._url)
            raise StoreUnavailable(f"{self.where}: {message}") from None

    @staticmethod
    def _keys(period: Period) -> list[str]:
        return [
            f"{PREFIX}holds",
            f"{PREFIX}holds:expiry",
            f"{PREFIX}day:{period.day}",
            f"{PREFIX}month:{period.month}",
        ]

    # -- the store ----------------------------------------------------------------------------
    def reserve(self, amount: NanoUSD, limits: Limits, now: float) -> Hold | Refusal:
        period = Period.at(now)
        hold = Hold(new_hold_id(), amount, period, self.where)
        args = [now, hold.id, self.user, amount, now + HOLD_TTL_S, limits.daily, limits.monthly, limits.user_daily]
        ok, cap, used, spent, bad = self._run(lambda client: self._reserve(keys=self._keys(period), args=args))
        self._note_bad(bad)
        if int(ok) == 1:
            return hold
        limit = {"daily": limits.daily, "monthly": limits.monthly}.get(str(cap), limits.user_daily)
        return Refusal(
            str(cap),
            f"{cap} budget ${to_usd(limit):.2f} reached in the team store "
            f"(spent and in flight ${to_usd(int(used)):.6f}, this call up to ${to_usd(amount):.6f})",
            held=int(spent) + amount <= limit,
        )

    def settle(self, hold: Hold, cost: NanoUSD) -> None:
        try:
            self._run(lambda client: self._settle_now(hold, cost))
        except StoreUnavailable:
            # Keep it: the money was spent; it is added as soon as the store answers again.
            self._unsettled.append((hold, cost))
            raise

    def _settle_now(self, hold: Hold, cost: NanoUSD) -> None:
        keys = [*self._keys(hold.period), f"{PREFIX}settled:{hold.period.day}"]
        self._settle(keys=keys, args=[hold.id, self.user, cost, DAY_KEY_TTL_S, MONTH_KEY_TTL_S])

    def _flush_unsettled(self, client: Any) -> None:
        while self._unsettled:
            hold, cost = self._unsettled[0]
            self._settle_now(hold, cost)
            self._unsettled.pop(0)

    @property
    def unsettled_nano(self) -> NanoUSD:
        """Spent while the store was away, not yet added to it (counted locally meanwhile)."""
        return sum(cost for _, cost in self._unsettled)

    def spend(self, now: float) -> Spend:
        spend: Spend = self._run(lambda client: self._spend(client, now))
        return spend

    def _amounts(self, client: Any, key: str) -> dict[str, NanoUSD]:
        """A hash of user -> amount, without the entries that are not amounts (noted)."""
        out: dict[str, NanoUSD] = {}
        for field, value in client.hgetall(key).items():
            amount = amount_of(value)
            if amount is None:
                self._note_bad([f"{key} {field}"])
            else:
                out[str(field)] = amount
        return out

    def _spend(self, client: Any, now: float) -> Spend:
        holds, expiry, dayk, monthk = self._keys(Period.at(now))
        day, month = self._amounts(client, dayk), self._amounts(client, monthk)
        live = set(client.zrangebyscore(expiry, now, "+inf"))
        reserved = 0
        for hold_id, value in client.hgetall(holds).items():
            if hold_id in live:
                reserved += amount_of(str(value).rsplit(" ", 1)[-1]) or 0
        user = self.user
        return Spend(sum(day.values()), sum(month.values()), day.get(user, 0), month.get(user, 0), reserved)

    def by_user(self, now: float) -> dict[str, Spend]:
        """The team's spend per user this UTC day and month (`tierline report --team`)."""

        def read(client: Any) -> dict[str, Spend]:
            _, _, dayk, monthk = self._keys(Period.at(now))
            day, month = self._amounts(client, dayk), self._amounts(client, monthk)
            return {u: Spend(day.get(u, 0), month.get(u, 0), day.get(u, 0), month.get(u, 0)) for u in month | day}

        result: dict[str, Spend] = self._run(read)
        return result

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            except Exception:  # noqa: BLE001 - closing a dead connection is not worth a message
                pass
            self._client = None
