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
from urllib.parse import urlsplit, urlunsplit

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

PREFIX = "tierline:budget:"
RETRY_AFTER_S = 2.0
DAY_KEY_TTL_S = 40 * 86400
MONTH_KEY_TTL_S = 400 * 86400

# KEYS: holds, holds:expiry, day, month. ARGV: now, id, user, amount, expires, daily, monthly, user_daily.
RESERVE_LUA = """
local holds, expiry, dayk, monthk = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now = tonumber(ARGV[1])
local id, user, amount, expires = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local daily, monthly, user_daily = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
for _, old in ipairs(redis.call('ZRANGEBYSCORE', expiry, '-inf', '(' .. now)) do
  redis.call('HDEL', holds, old)
  redis.call('ZREM', expiry, old)
end
local reserved, user_reserved = 0, 0
local all = redis.call('HGETALL', holds)
for i = 1, #all, 2 do
  local holder, held = string.match(all[i + 1], '^(.*) (%d+)$')
  held = tonumber(held)
  reserved = reserved + held
  if holder == user then user_reserved = user_reserved + held end
end
local function total(key)
  local sum = 0
  for _, v in ipairs(redis.call('HVALS', key)) do sum = sum + tonumber(v) end
  return sum
end
local day, month = total(dayk), total(monthk)
local user_day = tonumber(redis.call('HGET', dayk, user) or '0')
if daily > 0 and day + reserved + amount > daily then return {0, 'daily', day + reserved} end
if monthly > 0 and month + reserved + amount > monthly then return {0, 'monthly', month + reserved} end
if user_daily > 0 and user_day + user_reserved + amount > user_daily then
  return {0, 'user daily', user_day + user_reserved}
end
redis.call('HSET', holds, id, user .. ' ' .. amount)
redis.call('ZADD', expiry, expires, id)
return {1, id, 0}
"""

# KEYS: holds, holds:expiry, day, month, settled. ARGV: id, user, cost, day ttl, month ttl.
SETTLE_LUA = """
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('SADD', KEYS[5], ARGV[1]) == 0 then return 0 end
redis.call('EXPIRE', KEYS[5], 2 * 86400)
local cost = tonumber(ARGV[3])
if cost > 0 then
  redis.call('HINCRBY', KEYS[3], ARGV[2], cost)
  redis.call('HINCRBY', KEYS[4], ARGV[2], cost)
  redis.call('EXPIRE', KEYS[3], tonumber(ARGV[4]))
  redis.call('EXPIRE', KEYS[4], tonumber(ARGV[5]))
end
return 1
"""


def public_url(url: str) -> str:
    """The URL without a password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


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
            raise StoreUnavailable(f"{self.where}: {type(error).__name__}: {error}") from None

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
        ok, cap, used = self._run(lambda client: self._reserve(keys=self._keys(period), args=args))
        if int(ok) == 1:
            return hold
        limit = {"daily": limits.daily, "monthly": limits.monthly}.get(str(cap), limits.user_daily)
        return Refusal(
            str(cap),
            f"{cap} budget ${to_usd(limit):.2f} reached in the team store "
            f"(spent and in flight ${to_usd(int(used)):.6f}, this call up to ${to_usd(amount):.6f})",
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

    def _spend(self, client: Any, now: float) -> Spend:
        holds, expiry, dayk, monthk = self._keys(Period.at(now))
        day = {k: int(v) for k, v in client.hgetall(dayk).items()}
        month = {k: int(v) for k, v in client.hgetall(monthk).items()}
        live = set(client.zrangebyscore(expiry, now, "+inf"))
        reserved = 0
        for hold_id, value in client.hgetall(holds).items():
            if hold_id in live:
                reserved += int(str(value).rsplit(" ", 1)[1])
        user = self.user
        return Spend(sum(day.values()), sum(month.values()), day.get(user, 0), month.get(user, 0), reserved)

    def by_user(self, now: float) -> dict[str, Spend]:
        """The team's spend per user this UTC day and month (`tierline report --team`)."""

        def read(client: Any) -> dict[str, Spend]:
            _, _, dayk, monthk = self._keys(Period.at(now))
            day = {k: int(v) for k, v in client.hgetall(dayk).items()}
            month = {k: int(v) for k, v in client.hgetall(monthk).items()}
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
