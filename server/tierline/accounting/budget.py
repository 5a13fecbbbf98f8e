"""The daily cap: what was spent today (UTC), and whether one more call fits.

The tally is kept in memory and seeded from the ledger once per UTC day, so a ledger that cannot
be read or written never turns the cap off: the process keeps counting what it spends itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tierline.accounting.ledger import utc_day


@dataclass
class DailyBudget:
    cap_usd: float
    # Reads the ledger's spend for a day; may raise (the facade turns that into a warning).
    spent_on: Callable[[str], float]
    today: Callable[[], str] = utc_day
    _day: str = ""
    _spent: float = 0.0

    def spent_today(self) -> float:
        day = self.today()
        if day != self._day:
            self._day = day
            self._spent = 0.0
            self._spent = self.spent_on(day)
        return self._spent

    def fits(self, estimate_usd: float) -> bool:
        return self.cap_usd <= 0 or self.spent_today() + estimate_usd <= self.cap_usd

    def add(self, cost_usd: float) -> None:
        if cost_usd:
            self.spent_today()
            self._spent += cost_usd
