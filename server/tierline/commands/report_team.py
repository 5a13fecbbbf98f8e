"""`tierline report --team`: the team's spend per user, this UTC day and month, from the shared store."""

from __future__ import annotations

import json
import sys
import time

from tierline.accounting.budget_store import StoreUnavailable, to_usd
from tierline.config import Config
from tierline.text_table import bar, render_table


def print_team(config: Config, as_json: bool) -> int:
    budget = config.budget
    if budget.store == "local":
        print(
            'tierline report --team: [budget] store is "local"; a team shares spend through '
            '[budget] store = "redis://HOST:PORT/DB" (see docs/budget.md).',
            file=sys.stderr,
        )
        return 2
    from tierline.accounting.budget_redis import RedisStore

    store = RedisStore(budget.store, budget.user or "-")
    try:
        users = store.by_user(time.time())
    except StoreUnavailable as error:
        print(f"tierline report --team: {error}", file=sys.stderr)
        return 1
    finally:
        store.close()
    rows = sorted(users.items(), key=lambda kv: (-kv[1].month, kv[0]))
    day_total, month_total = sum(s.day for _, s in rows), sum(s.month for _, s in rows)
    if as_json:
        payload = {
            "store": store.where,
            "daily_usd": budget.daily_usd,
            "monthly_usd": budget.monthly_usd,
            "today_usd": to_usd(day_total),
            "month_usd": to_usd(month_total),
            "users": {u: {"today_usd": to_usd(s.day), "month_usd": to_usd(s.month)} for u, s in rows},
        }
        print(json.dumps(payload, indent=2))
        return 0
    most = max([s.month for _, s in rows] + [1])
    table = [[user, f"${to_usd(s.day):.6f}", f"${to_usd(s.month):.6f}", bar(s.month / most, 30)] for user, s in rows]
    print(f"Team spend in {store.where}")
    print(render_table(["user", "today", "this month", ""], table))
    caps = []
    if budget.daily_usd:
        caps.append(f"today ${to_usd(day_total):.6f} of ${budget.daily_usd:.2f}")
    else:
        caps.append(f"today ${to_usd(day_total):.6f}")
    if budget.monthly_usd:
        caps.append(f"this month ${to_usd(month_total):.6f} of ${budget.monthly_usd:.2f}")
    else:
        caps.append(f"this month ${to_usd(month_total):.6f}")
    print("team: " + ", ".join(caps))
    return 0
