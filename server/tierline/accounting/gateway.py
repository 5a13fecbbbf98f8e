"""The team's LiteLLM proxy as the budget authority (`[budget] store = "litellm"`).

The proxy keeps what a virtual key (and the key's team) may spend and has spent; tierline reads it
with the key it calls models with: `GET /key/info` (the key in the Authorization header, never in
the URL) and, when the key belongs to a team, `GET /team/info?team_id=...`. What is left is
`max_budget - spend` of each; the tighter of the two is the cap (`Reading.remaining`).

A reading is reused for `FRESH_S`, read again in the background after that, and stops capping after
`STALE_S` (the local caps hold then). Every reservation counts against it what tierline settled
since the read was asked for, plus the settlements of the `GATEWAY_LAG_S` before (LiteLLM writes
spend to its database in batches, so its figure lags its calls), plus every call in flight
(`budget.Budget._gateway_limits`). So the gateway's number is the authority and tierline's own
spend is only counted against it for the seconds the gateway cannot know it yet.

Nothing the proxy says is believed: an answer that is not JSON, a figure that is not a finite,
non-negative amount below `MAX_USD`, a body over `MAX_BODY` or slower than `TIMEOUT_S` is a
problem; the user is told once (until a read succeeds again), and the local caps hold meanwhile.
The key is never logged or shown: `key_label` is the key's alias from the proxy, or its last four
characters.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tierline.config import ModelSpec
from tierline.config.urls import public_url
from tierline.providers.errors import mask_secrets

log = logging.getLogger(__name__)

TIMEOUT_S = 3.0  # one read, connection to last byte
FRESH_S = 30.0  # a reading is reused this long before it is read again (in the background)
STALE_S = 300.0  # past this a reading no longer caps: the local caps do
RETRY_S = 30.0  # after a failed read, the next one (meanwhile the local caps hold, and no request waits)
MAX_BODY = 256 * 1024  # /key/info of a key with many models is a few KB
MAX_USD = 1e9  # a budget or a spend above this is not a real figure
GATEWAY_LAG_S = 15.0  # LiteLLM's batched spend writes (10 s by default) and a margin
# After the gateway refused a call for its budget, calls through that key wait this long.
EXHAUSTED_S = 300.0

Notify = Callable[[str, str], None]


class GatewayProblem(Exception):
    """The gateway's budget could not be read or made no sense; the message names no key."""


@dataclass(frozen=True)
class Account:
    """Where a model's spend counts at the gateway: the proxy's root URL and the key's variable."""

    base: str
    key_env: str | None

    @staticmethod
    def of(model: ModelSpec) -> Account:
        return Account(gateway_root(model.base_url), model.api_key_env)


def gateway_root(base_url: str) -> str:
    """The proxy's root, where /key/info is: the models' base_url without a trailing `/v1`."""
    root = base_url.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


def key_hint(key: str | None) -> str:
    """What may be shown of a key: its last four characters, only when it is long enough to keep
    the rest secret."""
    return f"…{key[-4:]}" if key and len(key) >= 16 else "the key"


@dataclass(frozen=True)
class Reading:
    """What the gateway said, when: the key's and its team's budget left (None: no budget set)."""

    key_remaining: float | None
    team_remaining: float | None
    key_label: str
    team: str | None
    checked_at: float  # wall clock, when the read was asked for
    base_nano: int  # tierline's month spend when the read was asked for, less its last GATEWAY_LAG_S

    @property
    def remaining(self) -> float | None:
        figures = [x for x in (self.key_remaining, self.team_remaining) if x is not None]
        return min(figures) if figures else None

    @property
    def month(self) -> str:
        return utc_month(self.checked_at)


def utc_month(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).strftime("%Y-%m")


# -- what the proxy says -------------------------------------------------------------------------
def money(value: Any, what: str) -> float | None:
    """A budget or spend figure: None (no budget), else a finite amount in [0, MAX_USD]."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise GatewayProblem(f"{what} is not a number ({type(value).__name__})")
    amount = float(value)
    if not math.isfinite(amount) or amount < 0 or amount > MAX_USD:
        raise GatewayProblem(f"{what} is not an amount of money ({amount!r:.20})")
    return amount


def left(info: Mapping[str, Any], what: str) -> float | None:
    """`max_budget - spend` (0 when spend passed the budget); None when there is no budget."""
    budget = money(info.get("max_budget"), f"{what} max_budget")
    spend = money(info.get("spend", 0.0), f"{what} spend") or 0.0
    return None if budget is None else max(0.0, budget - spend)


def _short_text(value: Any) -> str | None:
    """A name from the proxy, shown to the user: short, printable, or nothing."""
    if not isinstance(value, str) or not value or len(value) > 64 or not value.isprintable():
        return None
    return value


def parse_key_info(payload: Any, key: str | None) -> tuple[float | None, str | None, str]:
    """(the key's budget left, its team id, its label) from `/key/info`'s `{"key", "info": {...}}`."""
    info = payload.get("info") if isinstance(payload, Mapping) else None
    if not isinstance(info, Mapping):
        raise GatewayProblem("/key/info has no `info` object")
    remaining = left(info, "the key's")
    team_id = info.get("team_id")
    if team_id is not None and _short_text(team_id) is None:
        raise GatewayProblem("/key/info's team_id is not a short name")
    alias = _short_text(info.get("key_alias"))
    # An alias that holds the key itself is not shown.
    label = alias if alias and (not key or key not in alias) else key_hint(key)
    return remaining, team_id, label


def parse_team_info(payload: Any) -> tuple[float | None, str | None]:
    """(the team's budget left, its alias) from `/team/info`'s `{"team_id", "team_info": {...}}`."""
    info = payload.get("team_info") if isinstance(payload, Mapping) else None
    if not isinstance(info, Mapping):
        raise GatewayProblem("/team/info has no `team_info` object")
    return left(info, "the team's"), _short_text(info.get("team_alias"))


# -- reading it ----------------------------------------------------------------------------------
async def fetch_json(url: str, key: str | None, params: Mapping[str, str] | None = None) -> Any:
    """GET `url` with the key as bearer; the JSON body, or GatewayProblem (never the key in it)."""
    import httpx

    from tierline.providers.openai import is_loopback, tls_context

    local = is_loopback(url)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        async with httpx.AsyncClient(
            timeout=TIMEOUT_S, trust_env=not local, verify=True if local else tls_context(), follow_redirects=False
        ) as client:
            async with client.stream("GET", url, headers=headers, params=params) as response:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_BODY:
                        raise GatewayProblem(f"the answer is larger than {MAX_BODY // 1024} KB")
                status = response.status_code
    except httpx.HTTPError as error:
        raise GatewayProblem(f"{type(error).__name__}") from None
    if status != 200:
        from tierline.providers.errors import message_of

        try:
            said = message_of(_json(bytes(body)))
        except GatewayProblem:
            said = ""
        said = mask_secrets(said, (key or "",))
        raise GatewayProblem(f"HTTP {status}" + (f": {said}" if said else ""))
    return _json(bytes(body))


def _json(body: bytes) -> Any:
    import json

    try:
        return json.loads(body)
    except ValueError:
        raise GatewayProblem("the answer is not JSON") from None


async def read_budget(account: Account, key: str | None, base_nano: int, now: float) -> Reading:
    """One reading: /key/info, then /team/info when the key has a team; the whole within TIMEOUT_S."""

    async def both() -> Reading:
        key_left, team_id, label = parse_key_info(await fetch_json(f"{account.base}/key/info", key), key)
        team_left, team_name = None, None
        if team_id is not None:
            team_payload = await fetch_json(f"{account.base}/team/info", key, {"team_id": team_id})
            team_left, team_name = parse_team_info(team_payload)
        return Reading(key_left, team_left, label, team_name or team_id, now, base_nano)

    try:
        return await asyncio.wait_for(both(), TIMEOUT_S)
    except asyncio.TimeoutError:
        raise GatewayProblem(f"no answer within {TIMEOUT_S:.0f} s") from None


class GatewayBudget:
    """The last reading of one account's budget, read again when it is older than FRESH_S."""

    def __init__(
        self,
        account: Account,
        key: str | None,
        notify: Notify,
        base: Callable[[], int],
        clock: Callable[[], float] = time.time,
    ):
        self.account = account
        self._key = key
        self._notify = notify
        self._base = base  # tierline's spend now, as the read is asked for (`Reading.base_nano`)
        self._clock = clock
        self.last: Reading | None = None
        self.problem: str | None = None
        self._told = False
        self._failed_at: float | None = None
        self._reading: asyncio.Task[None] | None = None

    @property
    def where(self) -> str:
        return public_url(self.account.base)

    def reading(self) -> Reading | None:
        """The reading that caps now: fresh enough and of this month (a month's spend starts again)."""
        last, now = self.last, self._clock()
        if last is None or now - last.checked_at > STALE_S or last.month != utc_month(now):
            return None
        return last

    async def refresh(self) -> None:
        """Read again when the reading is older than FRESH_S (after a failed read: RETRY_S). Wait
        for the read only when nothing caps yet and the last read did not fail (the first request);
        else go on with what caps now (the reading, or the local caps) while it is read in the
        background. Never raises; shielded, so a cancelled request does not cancel the read."""
        now = self._clock()
        last = self.last
        due = (last is None or now - last.checked_at >= FRESH_S) and (
            self._failed_at is None or now - self._failed_at >= RETRY_S
        )
        if due and (self._reading is None or self._reading.done()):
            self._reading = asyncio.ensure_future(self._read())
        if self._reading is not None and not self._reading.done():
            if self.reading() is None and self._failed_at is None:
                await asyncio.shield(self._reading)

    async def _read(self) -> None:
        now = self._clock()
        try:
            reading = await read_budget(self.account, self._key, self._base(), now)
        except GatewayProblem as error:
            self._failed(str(error), now)
            return
        except Exception as error:  # noqa: BLE001 - whatever the answer does, the cap holds and we go on
            self._failed(type(error).__name__, now)
            return
        self.last, self.problem, self._told, self._failed_at = reading, None, False, None

    def _failed(self, problem: str, now: float) -> None:
        # A figure that could not be read again is not trusted either: the local caps hold.
        self.last, self._failed_at = None, now
        self.problem = mask_secrets(problem, (self._key or "",))
        log.warning("the gateway's budget could not be read at %s: %s", self.where, self.problem)
        if not self._told:
            self._told = True
            self._notify(
                "warning",
                f"tierline: the gateway's budget could not be read ({self.where}/key/info: {self.problem}); "
                "the local caps ([budget] daily_usd, monthly_usd) hold until it can be. "
                "Run `tierline doctor` for details.",
            )

    def status(self, available_usd: float | None) -> dict[str, Any]:
        """`tierline.stats` `gateway_budget`."""
        last = self.last
        checked = (
            dt.datetime.fromtimestamp(last.checked_at, dt.timezone.utc).isoformat(timespec="seconds")
            if last is not None
            else None
        )
        return {
            "url": self.where,
            "key": last.key_label if last is not None else key_hint(self._key),
            "team": last.team if last is not None else None,
            "key_remaining_usd": _rounded(last.key_remaining) if last is not None else None,
            "team_remaining_usd": _rounded(last.team_remaining) if last is not None else None,
            "remaining_usd": _rounded(last.remaining) if last is not None else None,
            "available_usd": _rounded(available_usd),
            "checked_at": checked,
            "capping": self.reading() is not None,
            "error": self.problem,
        }

    def close(self) -> None:
        task, self._reading = self._reading, None
        if task is not None and not task.done():
            task.cancel()


def _rounded(value: float | None) -> float | None:
    return round(value, 9) if value is not None else None
