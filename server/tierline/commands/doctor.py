"""`tierline doctor`: is everything in place? Config, keys (masked), grammars, cache, ledger; with
`--live`, one tiny request per configured model (reachable, key accepted, model found, latency)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tierline.accounting.cache import AnswerCache
from tierline.accounting.ledger import Ledger
from tierline.analysis import languages
from tierline.config import ConfigError, find_config_file, load_layers
from tierline.config.telemetry import status as telemetry_status
from tierline.config.telemetry import status_line as telemetry_line


def mask(secret: str) -> str:
    """Enough to recognise a key, never enough to use it."""
    if len(secret) < 12:
        return "*" * len(secret)
    return f"{secret[:3]}…{secret[-2:]} ({len(secret)} chars)"


def diagnose(workspace_root: Path | None = None, env: Mapping[str, str] = os.environ) -> dict[str, Any]:
    report: dict[str, Any] = {"ok": True}
    path = find_config_file(workspace_root, env)
    config = None
    try:
        config = load_layers(workspace_root, env).build()
        report["config"] = {"path": str(path) if path else None, "valid": True, "error": None}
        report["config"]["notices"] = list(config.notices)  # e.g. an untrusted workspace file's ignored keys
    except ConfigError as error:
        report["config"] = {"path": str(path) if path else None, "valid": False, "error": str(error)}
        report["ok"] = False

    keys = []
    if config is not None:
        for variable in sorted({m.api_key_env for m in config.models if m.api_key_env}):
            value = env.get(variable, "")
            users = [m.name for m in config.models if m.api_key_env == variable]
            keys.append(
                {"env": variable, "present": bool(value), "masked": mask(value) if value else None, "models": users}
            )
        usable = [m.name for m in config.models if not m.api_key_env or env.get(m.api_key_env)]
        report["usable_models"] = usable
        if not usable:
            report["ok"] = False
    report["keys"] = keys

    grammars = languages.grammar_status()
    report["grammars"] = grammars
    if not all(grammars.values()):
        report["ok"] = False

    if config is not None:
        cache = AnswerCache(config.cache.dir, config.cache.ttl_seconds, config.cache.size_limit_mb)
        problem = store_problem(cache.usable)
        store_problem(lambda: _closed(cache.close))
        report["cache"] = {"dir": str(config.cache.dir), "usable": problem is None, "error": problem}
        ledger = Ledger(config.ledger.dir)
        problem = store_problem(lambda: ledger.spent_on("1970-01-01") >= 0)
        store_problem(lambda: _closed(ledger.close))
        report["ledger"] = {"path": str(ledger.path), "usable": problem is None, "error": problem}
        report["ok"] = report["ok"] and report["cache"]["usable"] and report["ledger"]["usable"]
        if config.budget.store == "litellm":
            report["gateway_budget"] = gateway_check(config, env)
        report["telemetry"] = telemetry_status(config.telemetry)
        report["ok"] = report["ok"] and report["telemetry"]["error"] is None
    return report


def gateway_check(config: Any, env: Mapping[str, str]) -> dict[str, Any]:
    """`store = "litellm"`: one read of the gateway's budget, as the server reads it (never the key)."""
    import asyncio
    import time

    from tierline.accounting.gateway import Account, GatewayProblem, key_hint, read_budget
    from tierline.config.urls import public_url

    model = config.models[0] if config.models else None
    if model is None:
        return {"url": None, "ok": False, "error": "no model: the gateway is the models' base_url"}
    account = Account.of(model)
    key = env.get(model.api_key_env, "") if model.api_key_env else ""
    row: dict[str, Any] = {"url": public_url(account.base), "key": key_hint(key)}
    try:
        reading = asyncio.run(read_budget(account, key or None, 0, time.time()))
    except GatewayProblem as error:
        # The messages name no key (accounting/gateway.py masks what the gateway said).
        caps = {"daily_usd": config.budget.daily_usd, "monthly_usd": config.budget.monthly_usd}
        return {**row, "ok": False, "error": str(error), "local_caps": caps}
    return {
        **row,
        "ok": True,
        "error": None,
        "key": reading.key_label,
        "team": reading.team,
        "key_remaining_usd": reading.key_remaining,
        "team_remaining_usd": reading.team_remaining,
        "remaining_usd": reading.remaining,
    }


def _usd(value: float | None) -> str:
    return "no budget set" if value is None else f"${value:.6f}"


def print_gateway(entry: dict[str, Any]) -> None:
    if not entry["ok"]:
        budget = entry.get("local_caps") or {"daily_usd": 0.0, "monthly_usd": 0.0}
        caps = f"daily ${budget['daily_usd']:.2f}, monthly ${budget['monthly_usd']:.2f} (0 = none)"
        print(
            f"[warn] gateway budget: {entry['url']}/key/info could not be read ({entry['error']}); "
            f"the local caps hold: {caps}"
        )
        return
    team = f", team {entry['team']}: {_usd(entry['team_remaining_usd'])}" if entry.get("team") else ""
    print(
        f"[ok  ] gateway budget: {_usd(entry['remaining_usd'])} left at {entry['url']} "
        f"(key {entry['key']}: {_usd(entry['key_remaining_usd'])}{team})"
    )


def _closed(close: Callable[[], None]) -> bool:
    close()
    return True


def store_problem(probe: Callable[[], bool]) -> str | None:
    """None when the store works, else one line saying what is wrong with it (never a traceback)."""
    try:
        works = probe()
    except Exception as error:  # OS, SQLite and diskcache errors alike: a store is broken in many ways
        return f"{type(error).__name__}: {error}"
    return None if works else "a value written could not be read back"


def run_doctor(as_json: bool = False, live: bool = False) -> int:
    report = diagnose(Path.cwd())
    if live:
        try:
            config = load_layers(Path.cwd(), os.environ).build()
        except ConfigError:
            config = None
        report["live"] = live_checks(config) if config is not None else []
        report["ok"] = report["ok"] and all(row["ok"] is not False for row in report["live"])
    if as_json:
        print(json.dumps(report, indent=2))
        return 0 if report["ok"] else 1
    mark = {True: "ok  ", False: "FAIL"}
    config = report["config"]
    print(f"[{mark[config['valid']]}] config: {config['path'] or 'built-in defaults (no config file found)'}")
    if config["error"]:
        print(f"       {config['error']}")
    for notice in config.get("notices", []):
        print(f"       {notice}")
    for key in report["keys"]:
        state = key["masked"] if key["present"] else "not set: these models are skipped"
        print(f"[{'ok  ' if key['present'] else 'warn'}] key {key['env']}: {state} ({', '.join(key['models'])})")
    if "usable_models" in report:
        print(f"[{mark[bool(report['usable_models'])]}] usable models: {', '.join(report['usable_models']) or 'none'}")
    broken = [name for name, fine in report["grammars"].items() if not fine]
    print(
        f"[{mark[not broken]}] grammars: {len(report['grammars']) - len(broken)} of {len(report['grammars'])} load"
        + (f" (failed: {', '.join(broken)})" if broken else "")
    )
    if "cache" in report:
        for store, where in (("cache", "dir"), ("ledger", "path")):
            entry = report[store]
            broken_store = f" ({entry['error']}; move it aside or delete it to start afresh)" if entry["error"] else ""
            print(f"[{mark[entry['usable']]}] {store}: {entry[where]}{broken_store}")
    if "gateway_budget" in report:
        print_gateway(report["gateway_budget"])
    if "telemetry" in report:
        print(telemetry_line(report["telemetry"]))
    if "live" in report:
        print_live(report["live"])
    print("all good" if report["ok"] else "problems found (see FAIL above)")
    return 0 if report["ok"] else 1


# ---------------------------------------------------------------------------------------------
# `tierline doctor --live`: one tiny request per configured model

LIVE_WINDOW_PREFIX = "def add(a, b):\n    return a"
LIVE_MAX_TOKENS = 8


def _verdict(error: Exception, api_key_env: str | None) -> tuple[str, str]:
    """(verdict, what to do) for a failed live check."""
    from tierline.providers.base import ProviderError, ProviderTimeout, RateLimited, Rejected
    from tierline.providers.errors import advice

    if isinstance(error, Rejected):
        kind = {401: "key refused", 402: "no credit", 403: "access denied", 404: "model not found"}.get(
            error.status or 0, "request refused"
        )
        return kind, advice(error.status, api_key_env)
    if isinstance(error, RateLimited):
        return "rate limited (key accepted)", "try again in a minute"
    if isinstance(error, ProviderTimeout):
        return "timeout", "the endpoint is slow or unreachable; check base_url and any proxy"
    if isinstance(error, ProviderError) and error.provider_wide:
        return "unreachable", "check base_url, the network, HTTPS_PROXY/NO_PROXY"
    return "error", "see the detail"


async def _check_model(model: Any, env: Mapping[str, str], client: Any) -> dict[str, Any]:
    import time

    from tierline.prompt.window import PromptWindow
    from tierline.providers.base import CallRequest, ProviderError

    row: dict[str, Any] = {"model": model.name, "tier": model.tier, "api": model.api, "url": model.base_url}
    key = env.get(model.api_key_env, "") if model.api_key_env else None
    if model.api_key_env and not key:
        return {**row, "ok": None, "verdict": f"skipped: {model.api_key_env} is not set", "latency_ms": None}
    window = PromptWindow("python", "doctor.py", LIVE_WINDOW_PREFIX, "\n")
    started = time.monotonic()
    try:
        result = await client.complete(CallRequest(model, window, key or None, LIVE_MAX_TOKENS, False))
    except ProviderError as error:
        verdict, todo = _verdict(error, model.api_key_env)
        latency = round((time.monotonic() - started) * 1000)
        return {**row, "ok": False, "verdict": verdict, "detail": error.detail, "todo": todo, "latency_ms": latency}
    return {
        **row,
        "ok": True,
        "verdict": "ok: reachable, key accepted, model found",
        "latency_ms": round(result.latency_ms),
        "first_token_ms": round(result.first_token_ms) if result.first_token_ms is not None else None,
    }


def live_checks(config: Any, env: Mapping[str, str] = os.environ) -> list[dict[str, Any]]:
    """One tiny request per configured model, all at once; never raises for a model's failure."""
    import asyncio

    from tierline.providers.openai import ProviderClient

    async def run() -> list[dict[str, Any]]:
        client = ProviderClient()
        try:
            return list(await asyncio.gather(*(_check_model(m, env, client) for m in config.models)))
        finally:
            await client.aclose()

    return asyncio.run(run())


def print_live(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        mark = {True: "ok  ", False: "FAIL", None: "skip"}[row["ok"]]
        latency = f" {row['latency_ms']} ms" if row.get("latency_ms") is not None else ""
        line = f"[{mark}] live {row['model']} ({row['tier']}, {row['api']}):{latency} {row['verdict']}"
        if row.get("detail"):
            line += f": {row['detail']}"
        if row.get("todo"):
            line += f" ({row['todo']})"
        print(line)
