"""Routing under provider trouble: tierline (the real server over LSP) vs LiteLLM's Router vs static.

    .venv/bin/python tests/benchmarks/bench_routing.py [--scenario NAME|all] [--requests N]
                                                       [--json FILE] [--quick]

Four providers, each its own simulator on its own port: A = cheap model 1, B = cheap model 2 (a
little pricier, a little slower), C = mid, D = premium. The same request stream (every request a
different snippet, so no cache can hide anything) is replayed, one request at a time like one
developer invoking completions, through:

* tierline: `tierline serve` as a subprocess driven over stdio by `tierline.devtools.driver.EditorSession`
  (Invoked inline completions; the typing scenario sends Automatic ones per keystroke);
* LiteLLM's Router (`litellm==1.106.2`, `latency-based-routing`, fallbacks cheap -> mid -> premium);
* static: A, then B, C, D on failure, plain httpx, no memory.

Each (scenario, router) pair runs in a fresh worker process with fresh simulators (one LiteLLM
Router per process). Upstream attempts, the provider that served each request and spend come from
the simulators' request logs (plus refused connections, counted client-side), computed the same
way for every router. See the section "Routing under provider trouble" of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from tierline.devtools.simulator import (  # noqa: E402
    Behaviour,
    Simulator,
    _apply_limits,
    answer_text,
    parse_completion_request,
    write_toml,
)
from tierline.prompt.tokens import estimate_tokens  # noqa: E402
from tierline.prompt.window import chat_messages, cut_window  # noqa: E402

HERE = Path(__file__).resolve()
ROUTERS = ("tierline", "litellm", "static")
SCENARIOS = ("steady", "brownout", "flapping", "mixed_faults", "outage", "typing")

# Providers: one simulator each. Prices in USD per million tokens, the same for every router.
PROVIDERS: dict[str, dict[str, Any]] = {
    "A": {"model": "cheap-a", "tier": "cheap", "in": 0.07, "out": 0.16, "latency_ms": 150},
    "B": {"model": "cheap-b", "tier": "cheap", "in": 0.14, "out": 0.28, "latency_ms": 180},
    "C": {"model": "mid-c", "tier": "mid", "in": 1.00, "out": 5.00, "latency_ms": 300},
    "D": {"model": "premium-d", "tier": "premium", "in": 5.00, "out": 25.00, "latency_ms": 500},
}
ORDER = ("A", "B", "C", "D")
SLOWDOWN = 10  # brownout: 10x the base latency
LATENCY_BUDGET_MS = 1000
TIMEOUT_MS = 3000
MAX_TOKENS = 128
THINK_S = 0.05  # gap between one answer and the next request
RETURN_WINDOW = 5  # "back on a provider": >= 50 % of RETURN_WINDOW consecutive requests served by it
SETTLE_REQUESTS = 10  # "off a degraded provider within 10 requests"


# ---------------------------------------------------------------------------------------------
# Simulators that log which request and how many tokens


class BenchSimulator(Simulator):
    """The tierline simulator; each log record also carries the bench request number and the
    tokens the call would be billed (prompt estimate, and the answer the model gives)."""

    def _open_record(self, request: Any, model: str, stream: bool) -> dict[str, Any]:
        record = super()._open_record(request, model, stream)
        found = re.search(rb"req-(\d+)", request.body or b"")
        record["req"] = int(found.group(1)) if found else None
        try:
            api = "fim" if request.path.rstrip("/").endswith("/v1/completions") else "chat"
            parsed = parse_completion_request(api, request.body)
            text, _ = _apply_limits(answer_text(parsed, Behaviour()), parsed.stop, parsed.max_tokens)
            record["tokens_in"], record["tokens_out"] = parsed.prompt_tokens, estimate_tokens(text)
        except Exception:  # a bad request: nothing billed
            record["tokens_in"] = record["tokens_out"] = 0
        return record


class Providers:
    """The four simulators; `down`/`up` stop one and restart it on the same port (connection refused)."""

    def __init__(self) -> None:
        self.sims: dict[str, BenchSimulator] = {}
        self.ports: dict[str, int] = {}
        self.base_urls: dict[str, str] = {}
        self.old_records: dict[str, list[dict[str, Any]]] = {p: [] for p in ORDER}
        self.latency: dict[str, float] = {}
        self.is_down: set[str] = set()

    async def start(self) -> None:
        for name in ORDER:
            await self._start_one(name, 0)
            self.set_latency(name, PROVIDERS[name]["latency_ms"])

    async def _start_one(self, name: str, port: int) -> None:
        sim = BenchSimulator()
        url = await sim.start(port=port)
        self.sims[name] = sim
        self.base_urls[name] = url
        self.ports[name] = int(url.rsplit(":", 1)[1].split("/")[0])

    def set_latency(self, name: str, latency_ms: float) -> None:
        self.latency[name] = latency_ms
        # First token at 40 % of the answer time, as a remote model streams.
        self.sims[name].set_behaviour("*", latency_ms=latency_ms, ttft_ms=0.4 * latency_ms)

    def arm_fault(self, name: str, fault: str, **extra: Any) -> None:
        """The next request meets the fault; a rate limit lasts its Retry-After (every request
        until `clear_fault`), as a real one does: a retry inside that window is refused too."""
        count = None if fault == "rate_limit" else 1
        self.sims[name].set_behaviour("*", fault=fault, fault_count=count, **extra)

    def clear_fault(self, name: str) -> None:
        self.sims[name].set_behaviour("*", fault=None, fault_count=0)

    async def down(self, name: str) -> None:
        sim = self.sims[name]
        self.old_records[name] += sim.requests
        await sim.stop()
        self.is_down.add(name)

    async def up(self, name: str) -> None:
        await self._start_one(name, self.ports[name])
        self.set_latency(name, self.latency[name])
        self.is_down.discard(name)

    def provider_of_url(self, url: str) -> str | None:
        for name, port in self.ports.items():
            if f":{port}" in url:
                return name
        return None

    def records(self) -> dict[str, list[dict[str, Any]]]:
        return {name: self.old_records[name] + self.sims[name].requests for name in ORDER}

    async def stop(self) -> None:
        for sim in self.sims.values():
            await sim.stop()


# ---------------------------------------------------------------------------------------------
# The request stream: every request a different small Python function, cursor at its end

_NAMES = ["orders", "events", "rows", "users", "prices", "samples", "lines", "tasks", "files", "scores"]
_OPS = ["item * {k}", "item + {k}", "len(str(item)) % {k}", "abs(item - {k})", "item // ({k} + 1)"]


def request_source(index: int) -> str:
    rng = random.Random(index)
    noun = rng.choice(_NAMES)
    op = rng.choice(_OPS).format(k=rng.randint(2, 97))
    return (
        f"# req-{index:05d}: helpers for {noun}\n"
        f"def summarize_{noun}_{index}({noun}, limit={rng.randint(2, 40)}):\n"
        f'    """Combine the first {noun} into one number."""\n'
        f"    total = {rng.randint(0, 9)}\n"
        f"    for item in {noun}[:limit]:\n"
        f"        total += {op}\n"
        f"    "
    )


def cursor_of(source: str) -> tuple[int, int]:
    lines = source.split("\n")
    return len(lines) - 1, len(lines[-1])


def chat_prompt(index: int) -> list[dict[str, str]]:
    """The same prompt tierline sends for this request (same window, same framing)."""
    source = request_source(index)
    window = cut_window(source, "", "python", f"req_{index:05d}.py", (3000, 1000))
    return chat_messages(window)


# ---------------------------------------------------------------------------------------------
# Routers under test: `await complete(index)` -> {"ok", "served", "refused"}


class TierlineRouter:
    name = "tierline"

    def __init__(self, providers: Providers, workdir: Path):
        self.providers, self.workdir = providers, workdir
        self.session: Any = None

    def config(self) -> dict[str, Any]:
        models = []
        for name in ORDER:
            spec = PROVIDERS[name]
            models.append(
                {
                    "name": spec["model"],
                    "tier": spec["tier"],
                    "base_url": self.providers.base_urls[name],
                    "model": spec["model"],
                    "api": "chat",
                    "provider": name,
                    "input_per_mtok": spec["in"],
                    "output_per_mtok": spec["out"],
                    "timeout_ms": TIMEOUT_MS,
                }
            )
        return {
            "routing": {
                "latency_budget_ms": LATENCY_BUDGET_MS,
                "ewma_alpha": 0.3,
                "thresholds": {"mid": 0.35, "premium": 0.70},
            },
            "cache": {"ttl_seconds": 0, "size_limit_mb": 64, "dir": str(self.workdir / "cache")},
            "budget": {"daily_usd": 0},
            "ledger": {"dir": str(self.workdir / "state")},
            "completion": {"max_tokens": MAX_TOKENS},
            "models": models,
        }

    async def start(self) -> None:
        from tierline.devtools.driver import EditorSession

        path = self.workdir / "tierline.toml"
        write_toml(self.config(), path)
        env = {"TIERLINE_CONFIG": str(path)}
        for var, sub in (
            ("XDG_CONFIG_HOME", "xdg-config"),
            ("XDG_CACHE_HOME", "xdg-cache"),
            ("XDG_STATE_HOME", "xdg-state"),
        ):
            env[var] = str(self.workdir / sub)
        self.session = await EditorSession.start(env)
        self.model_to_provider = {PROVIDERS[p]["model"]: p for p in ORDER}

    async def complete(self, index: int) -> dict[str, Any]:
        source = request_source(index)
        uri = (self.workdir / f"req_{index:05d}.py").as_uri()
        self.session.open(uri, source, "python")
        try:
            completion = await self.session.complete(uri, *cursor_of(source))
        finally:
            from lsprotocol import types

            self.session.client.text_document_did_close(
                types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
            )
        route = completion.route or {}
        attempts = route.get("attempts") or []
        refused = [
            self.model_to_provider.get(a["model"])
            for a in attempts
            if "ConnectError" in (a.get("detail") or "")
            and self.model_to_provider.get(a["model"]) in self.providers.is_down
        ]
        return {
            "ok": bool(completion.text),
            "served": self.model_to_provider.get(route.get("model") or ""),
            "refused": refused,
            "tier": route.get("tier"),
        }

    async def stop(self) -> dict[str, Any]:
        stats = await self.session.command("tierline.stats")
        await self.session.stop()
        return {"tierline_stats": stats}


class LiteLLMRouter:
    """LiteLLM's Router with latency-based routing, retries, cooldowns and fallbacks."""

    name = "litellm"
    # Chosen to be fair (and documented in docs/benchmarks.md):
    NUM_RETRIES = 1  # one retry inside the group: a flaky call is retried, not escalated to mid
    ALLOWED_FAILS = 1  # cool a deployment down on its 2nd failure in a minute (429: at once)
    COOLDOWN_S = 5  # as tierline's first breaker cooldown

    def __init__(self, providers: Providers, workdir: Path):
        self.providers = providers
        self.refused_now: list[str] = []

    async def start(self) -> None:
        import litellm
        from litellm import Router
        from litellm.integrations.custom_logger import CustomLogger

        litellm.telemetry = False
        litellm.suppress_debug_info = True
        litellm.set_verbose = False
        bench = self

        class RefusedCounter(CustomLogger):
            async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001
                # A call to a stopped simulator never reaches its log: count it here. (Only while
                # it is down: a reset or a cut stream is an APIConnectionError too, and logged.)
                base = (kwargs.get("litellm_params") or {}).get("api_base") or ""
                provider = bench.providers.provider_of_url(base)
                if provider in bench.providers.is_down:
                    bench.refused_now.append(provider)

        litellm.callbacks = [RefusedCounter()]
        groups = {"cheap": "cheap", "mid": "mid", "premium": "premium"}
        model_list = [
            {
                "model_name": groups[PROVIDERS[p]["tier"]],
                "litellm_params": {
                    "model": f"openai/{PROVIDERS[p]['model']}",
                    "api_base": self.providers.base_urls[p],
                    "api_key": "sk-bench-dummy",
                    "timeout": TIMEOUT_MS / 1000,
                    "max_retries": 0,
                    "input_cost_per_token": PROVIDERS[p]["in"] / 1e6,
                    "output_cost_per_token": PROVIDERS[p]["out"] / 1e6,
                },
                "model_info": {"id": p},
            }
            for p in ORDER
        ]
        self.router = Router(
            model_list=model_list,
            routing_strategy="latency-based-routing",
            fallbacks=[{"cheap": ["mid"]}, {"mid": ["premium"]}],
            num_retries=self.NUM_RETRIES,
            allowed_fails=self.ALLOWED_FAILS,
            cooldown_time=self.COOLDOWN_S,
            timeout=TIMEOUT_MS / 1000,
            cache_responses=False,
        )

    async def complete(self, index: int) -> dict[str, Any]:
        self.refused_now = []
        try:
            response = await self.router.acompletion(
                model="cheap", messages=chat_prompt(index), max_tokens=MAX_TOKENS, temperature=0.1
            )
            text = response.choices[0].message.content or ""
            hidden = getattr(response, "_hidden_params", {}) or {}
            served = hidden.get("model_id") or self.providers.provider_of_url(hidden.get("api_base") or "")
            ok = bool(text.strip())
        except Exception:  # noqa: BLE001 - a failed request, whatever LiteLLM raised
            ok, served = False, None
        await asyncio.sleep(0)  # let LiteLLM's async failure callbacks run
        return {"ok": ok, "served": served if ok else None, "refused": list(self.refused_now)}

    def forget(self) -> None:
        """After the warm-up: forget latencies and cooldowns, so the cold first call (imports,
        connection) does not stick to one deployment for the whole run."""
        self.router.cache.in_memory_cache.flush_cache()

    async def stop(self) -> dict[str, Any]:
        return {}


class StaticRouter:
    """A first; on any failure B, then C, then D. No memory."""

    name = "static"

    def __init__(self, providers: Providers, workdir: Path):
        self.providers = providers

    async def start(self) -> None:
        import httpx

        self.http = httpx.AsyncClient(timeout=TIMEOUT_MS / 1000, trust_env=False)

    async def complete(self, index: int) -> dict[str, Any]:
        import httpx

        refused = []
        for name in ORDER:
            body = {
                "model": PROVIDERS[name]["model"],
                "messages": chat_prompt(index),
                "max_tokens": MAX_TOKENS,
                "temperature": 0.1,
            }
            try:
                response = await self.http.post(
                    self.providers.base_urls[name] + "/chat/completions",
                    json=body,
                    headers={"Authorization": "Bearer sk-bench-dummy"},
                )
                if response.status_code != 200:
                    continue
                text = response.json()["choices"][0]["message"]["content"]
                if text and text.strip():
                    return {"ok": True, "served": name, "refused": refused}
            except httpx.ConnectError:
                if name in self.providers.is_down:
                    refused.append(name)
            except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError):
                continue
        return {"ok": False, "served": None, "refused": refused}

    async def stop(self) -> dict[str, Any]:
        await self.http.aclose()
        return {}


ROUTER_CLASSES = {"tierline": TierlineRouter, "litellm": LiteLLMRouter, "static": StaticRouter}


# ---------------------------------------------------------------------------------------------
# Scenarios: timed events on the providers, a closed loop of requests


def scenario_plan(name: str, requests: int, quick: bool) -> dict[str, Any]:
    """Events at seconds from the start ("at") or before request number ("before")."""
    k = 0.5 if quick else 1.0
    base_a = PROVIDERS["A"]["latency_ms"]
    slow_a = SLOWDOWN * base_a
    if name == "steady":
        return {"requests": requests, "events": [], "degraded": None}
    if name == "brownout":
        start, end, total = 8 * k, 20 * k, 20 * k + (35 if not quick else 20)
        return {
            "duration_s": total,
            "events": [
                {"at": start, "do": "latency", "provider": "A", "ms": slow_a, "label": "brownout"},
                {"at": end, "do": "latency", "provider": "A", "ms": base_a, "label": "recovered"},
            ],
            "degraded": {"provider": "A", "windows": [(start, end)], "recovered_at": end},
        }
    if name == "flapping":
        period, cycles, warm = 6 * k, 3, 6 * k
        events, windows = [], []
        for c in range(cycles):
            t0 = warm + 2 * c * period
            events.append({"at": t0, "do": "latency", "provider": "A", "ms": slow_a, "label": f"slow {c + 1}"})
            events.append({"at": t0 + period, "do": "latency", "provider": "A", "ms": base_a, "label": f"fast {c + 1}"})
            windows.append((t0, t0 + period))
        return {
            "duration_s": warm + 2 * cycles * period + period,
            "events": events,
            "degraded": {"provider": "A", "windows": windows, "recovered_at": None},
        }
    if name == "mixed_faults":
        # Six faults on A, one of each kind, spread evenly: about 4 % of requests meet one.
        faults = [
            ("rate_limit", {"retry_after_s": 2.0}),
            ("server_error", {}),
            ("malformed", {}),
            ("reset", {}),
            ("cut_stream", {}),
            ("hang", {}),
        ]
        n = max(requests, 6 * 25)
        step = n // len(faults)
        events = [
            {"before": step // 2 + i * step, "do": "fault", "provider": "A", "fault": f, "extra": extra, "label": f}
            for i, (f, extra) in enumerate(faults)
        ]
        return {"requests": n, "events": events, "degraded": None}
    if name == "outage":
        # 17 s down: not a sum of tierline's cooldowns (5 + 10 s), so the backoff shows.
        start, end, total = 8 * k, 25 * k, 25 * k + (35 if not quick else 20)
        return {
            "duration_s": total,
            "events": [
                {"at": start, "do": "down", "provider": "A", "label": "A down (connection refused)"},
                {"at": end, "do": "up", "provider": "A", "label": "A back on the same port"},
            ],
            "degraded": {"provider": "A", "windows": [(start, end)], "recovered_at": end},
        }
    raise ValueError(name)


async def apply_event(providers: Providers, event: dict[str, Any]) -> None:
    if event["do"] == "latency":
        providers.set_latency(event["provider"], event["ms"])
    elif event["do"] == "fault":
        providers.arm_fault(event["provider"], event["fault"], **event.get("extra", {}))
    elif event["do"] == "clear_fault":
        providers.clear_fault(event["provider"])
    elif event["do"] == "down":
        await providers.down(event["provider"])
    elif event["do"] == "up":
        await providers.up(event["provider"])


async def run_worker(scenario: str, router_name: str, requests: int, quick: bool) -> dict[str, Any]:
    plan = scenario_plan(scenario, requests, quick)
    providers = Providers()
    await providers.start()
    with tempfile.TemporaryDirectory(prefix="tierline-bench-") as tmp:
        router = ROUTER_CLASSES[router_name](providers, Path(tmp))
        await router.start()
        # Warm-up (connections, imports): two requests, not counted, logs cleared after.
        for w in range(2):
            await router.complete(90000 + w)
        for sim in providers.sims.values():
            sim.reset()
        if hasattr(router, "forget"):
            router.forget()
        for name in ORDER:
            providers.set_latency(name, PROVIDERS[name]["latency_ms"])
        t0 = time.monotonic()
        pending = sorted((e for e in plan["events"] if "at" in e), key=lambda e: e["at"])
        by_index = {e["before"]: e for e in plan["events"] if "before" in e}
        applied: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        index = 0
        while True:
            now = time.monotonic() - t0
            if "requests" in plan and index >= plan["requests"]:
                break
            if "duration_s" in plan and now >= plan["duration_s"]:
                break
            while pending and pending[0]["at"] <= now:
                event = pending.pop(0)
                await apply_event(providers, event)
                applied.append({**event, "t": time.monotonic() - t0})
            if index in by_index:
                event = by_index[index]
                await apply_event(providers, event)
                applied.append({**event, "t": time.monotonic() - t0})
                if event.get("fault") == "rate_limit":  # it lasts its Retry-After
                    ends = {"at": now + event["extra"]["retry_after_s"], "do": "clear_fault"}
                    pending = sorted([*pending, {**ends, "provider": event["provider"], "label": "rate limit over"}],
                                     key=lambda e: e["at"])  # fmt: skip
            started = time.monotonic()
            result = await router.complete(index)
            rows.append({"req": index, "t": started - t0, "latency_ms": (time.monotonic() - started) * 1000, **result})
            index += 1
            await asyncio.sleep(THINK_S)
        await asyncio.sleep(0.3)  # background probes still in flight land in the logs
        extra = await router.stop()
    records = {
        name: [{**r, "t": r["received_at"] - t0} for r in recs if r.get("req") is None or r["req"] < 90000]
        for name, recs in providers.records().items()
    }
    await providers.stop()
    return {
        "scenario": scenario,
        "router": router_name,
        "plan": plan,
        "events": applied,
        "rows": rows,
        "records": records,
        **extra,
    }


# ---------------------------------------------------------------------------------------------
# Typing: keystrokes at 8-12 chars/s in bursts, each a didChange + an Automatic request; the
# editor cancels the older request when it sends a newer one (as VS Code does).

TYPED_LINES = [
    "total = sum(item.price for item in order.items)",
    "if total > limit:",
    "    return round(total * 0.9, 2)",
    "names = [user.name.title() for user in users]",
    "result = {key: value for key, value in pairs}",
    "for index, row in enumerate(rows):",
    "    print(index, row)",
    "while queue and not stopped:",
    "    task = queue.pop()",
    "count = len([line for line in lines if line])",
    "average = total / max(1, count)",
    'message = f"{count} items, {average:.2f} each"',
]


async def run_typing(bursts: int, quick: bool) -> dict[str, Any]:
    from lsprotocol import types

    providers = Providers()
    await providers.start()
    rng = random.Random(7)
    bursts = max(4, bursts // 2) if quick else bursts
    with tempfile.TemporaryDirectory(prefix="tierline-bench-") as tmp:
        router = TierlineRouter(providers, Path(tmp))
        await router.start()
        session = router.session
        uri = (Path(tmp) / "typing.py").as_uri()
        text = "def report(order, users, rows, lines, queue, pairs, limit=100):\n"
        session.open(uri, text, "python")
        line = 1
        t0 = time.monotonic()
        burst_rows = []
        pending: list[tuple[str, asyncio.Future]] = []
        counter = 0
        for b in range(bursts):
            typed = "    " + TYPED_LINES[b % len(TYPED_LINES)]
            rate = rng.uniform(8, 12)
            started = time.monotonic() - t0
            session.type_text(uri, line, 0, "\n")  # a new line below (no request on Enter alone)
            line += 1
            character = 0
            await asyncio.sleep(1 / rate)
            for ch in typed:
                session.type_text(uri, line, character, ch)
                character += 1
                if pending and not pending[-1][1].done():
                    session.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=pending[-1][0]))
                counter += 1
                msg_id = f"typing-{counter}"
                params = types.InlineCompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=types.Position(line=line, character=character),
                    context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
                )
                future = asyncio.ensure_future(
                    session.client.protocol.send_request_async(
                        types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id
                    )
                )
                pending.append((msg_id, future))
                # 8-12 chars/s, each gap +-20 % around the burst's rate.
                await asyncio.sleep(rng.uniform(0.8, 1.2) / rate)
            pause = rng.uniform(1.5, 3.0)
            await asyncio.sleep(pause)
            burst_rows.append(
                {
                    "burst": b,
                    "t0": started,
                    "t1": time.monotonic() - t0,
                    "keystrokes": len(typed),
                    "rate_cps": round(rate, 1),
                    "pause_s": round(pause, 2),
                }
            )
        results = await asyncio.gather(*(f for _, f in pending), return_exceptions=True)
        shown = sum(
            1 for r in results if not isinstance(r, BaseException) and r is not None and getattr(r, "items", None)
        )
        await asyncio.sleep(0.3)
        await router.stop()
    records = [
        {**r, "provider": name, "t": r["received_at"] - t0} for name, recs in providers.records().items() for r in recs
    ]
    await providers.stop()
    for row in burst_rows:
        calls = [r for r in records if row["t0"] <= r["t"] < row["t1"]]
        row["upstream_calls"] = len(calls)
        row["answered_calls"] = sum(1 for r in calls if r.get("status") == 200)
    return {
        "scenario": "typing",
        "router": "tierline",
        "bursts": burst_rows,
        "requests_sent": counter,
        "completions_shown": shown,
        "records": records,
    }


# ---------------------------------------------------------------------------------------------
# Metrics, computed the same way for every router


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def spend_usd(records: dict[str, list[dict[str, Any]]]) -> float:
    """Tokens x prices for every call a model answered (HTTP 200, streamed or not, read to the end or not)."""
    total = 0.0
    for name, recs in records.items():
        spec = PROVIDERS[name]
        for r in recs:
            if r.get("status") == 200:
                total += (r["tokens_in"] * spec["in"] + r["tokens_out"] * spec["out"]) / 1e6
    return total


def metrics(result: dict[str, Any]) -> dict[str, Any]:
    rows, records, plan = result["rows"], result["records"], result["plan"]
    latencies = [r["latency_ms"] for r in rows]
    upstream = sum(len(v) for v in records.values()) + sum(len(r.get("refused") or []) for r in rows)
    n = len(rows)
    out: dict[str, Any] = {
        "requests": n,
        "p50_ms": percentile(latencies, 0.50),
        "p95_ms": percentile(latencies, 0.95),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies) if latencies else None,
        "failed": sum(1 for r in rows if not r["ok"]),
        "upstream_attempts": upstream,
        "extra_attempts": upstream - n,
        "extra_pct": 100.0 * (upstream - n) / n if n else 0.0,
        "spend_usd": spend_usd(records),
        # Time-based scenarios give a faster router more requests (and more spend): also per request.
        "spend_usd_per_100": 100 * spend_usd(records) / n if n else 0.0,
        "served_by": {p: sum(1 for r in rows if r["served"] == p) for p in ORDER},
        "not_cheap_tier": sum(1 for r in rows if r.get("tier") not in (None, "cheap")),
    }
    degraded = plan.get("degraded")
    if degraded:
        provider = degraded["provider"]
        sent_to: dict[int, int] = {}
        for rec in records[provider]:
            if rec.get("req") is not None:
                sent_to[rec["req"]] = sent_to.get(rec["req"], 0) + 1
        for r in rows:
            if provider in (r.get("refused") or []):
                sent_to[r["req"]] = sent_to.get(r["req"], 0) + 1
        in_windows, first_after = [], []
        after_start: list[float] = []
        for w0, w1 in degraded["windows"]:
            window_rows = [r for r in rows if w0 <= r["t"] < w1]
            first_after += window_rows[:SETTLE_REQUESTS]
            in_windows += window_rows[SETTLE_REQUESTS:]
        after_start = [r["latency_ms"] for r in rows if r["t"] >= degraded["windows"][0][0]]
        out["degraded_served_pct"] = (
            100.0 * sum(1 for r in in_windows if r["served"] == provider) / len(in_windows) if in_windows else None
        )
        out["degraded_sent_pct"] = (
            100.0 * sum(1 for r in in_windows if sent_to.get(r["req"])) / len(in_windows) if in_windows else None
        )
        out["degraded_first10_served"] = sum(1 for r in first_after if r["served"] == provider)
        whole = first_after + in_windows
        out["degraded_window_served"] = f"{sum(1 for r in whole if r['served'] == provider)}/{len(whole)}"
        out["requests_in_degraded_after_10"] = len(in_windows)
        out["p95_from_change_ms"] = percentile(after_start, 0.95)
        out["p99_from_change_ms"] = percentile(after_start, 0.99)
        during = [r["latency_ms"] for (w0, w1) in degraded["windows"] for r in rows if w0 <= r["t"] < w1]
        out["p95_degraded_ms"] = percentile(during, 0.95)
        out["p99_degraded_ms"] = percentile(during, 0.99)
        recovered_at = degraded.get("recovered_at")
        if recovered_at is not None:
            out["p95_after_recovery_ms"] = percentile([r["latency_ms"] for r in rows if r["t"] >= recovered_at], 0.95)
            after = [r for r in rows if r["t"] >= recovered_at]
            out["observed_after_recovery_s"] = (rows[-1]["t"] - recovered_at) if after else 0.0
            out["return_s"] = None
            for i in range(len(after)):
                window = after[i : i + RETURN_WINDOW]
                if len(window) < RETURN_WINDOW:
                    break
                if sum(1 for r in window if r["served"] == provider) * 2 >= RETURN_WINDOW:
                    out["return_s"] = after[i]["t"] - recovered_at
                    break
    return out


# ---------------------------------------------------------------------------------------------
# Orchestration and the report


def run_in_worker(scenario: str, router: str, requests: int, quick: bool) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    try:
        cmd = [sys.executable, str(HERE), "--worker", scenario, router, "--requests", str(requests), "--out", out]
        if quick:
            cmd.append("--quick")
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            raise RuntimeError(f"worker {scenario}/{router} failed:\n{proc.stderr[-4000:]}")
        return json.loads(Path(out).read_text())
    finally:
        Path(out).unlink(missing_ok=True)


def fmt(value: Any, spec: str = ".0f", none: str = "-") -> str:
    return none if value is None else format(value, spec)


def render(summary: dict[str, Any]) -> str:
    lines = []
    head = [
        "scenario",
        "router",
        "n",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "failed",
        "extra att.",
        "spend $",
        "$/100 req",
        "A/B/C/D served",
        "degr. window",
        "degr. served >10",
        "degr. sent >10",
        "p95 change→end",
        "p95 degraded",
        "p95 after rec.",
        "return s",
    ]
    table = [head]
    for scenario, routers in summary["scenarios"].items():
        if scenario == "typing":
            continue
        for router, m in routers.items():
            served = "/".join(str(m["served_by"][p]) for p in ORDER)
            ret = m.get("return_s", "n/a") if "return_s" in m else "n/a"
            if "return_s" in m and m["return_s"] is None:
                ret = f">{m['observed_after_recovery_s']:.0f} (never)"
            elif isinstance(ret, float):
                ret = f"{ret:.1f}"
            table.append(
                [
                    scenario,
                    router,
                    str(m["requests"]),
                    fmt(m["p50_ms"]),
                    fmt(m["p95_ms"]),
                    fmt(m["p99_ms"]),
                    fmt(m["max_ms"]),
                    str(m["failed"]),
                    f"{m['extra_attempts']} ({m['extra_pct']:.1f}%)",
                    f"{m['spend_usd']:.5f}",
                    f"{m['spend_usd_per_100']:.5f}",
                    served,
                    m.get("degraded_window_served", "-"),
                    fmt(m.get("degraded_served_pct"), ".1f")
                    + ("%" if m.get("degraded_served_pct") is not None else ""),
                    fmt(m.get("degraded_sent_pct"), ".1f") + ("%" if m.get("degraded_sent_pct") is not None else ""),
                    fmt(m.get("p95_from_change_ms"), ".1f"),
                    fmt(m.get("p95_degraded_ms"), ".1f"),
                    fmt(m.get("p95_after_recovery_ms"), ".1f"),
                    str(ret),
                ]
            )
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    for i, row in enumerate(table):
        lines.append("| " + " | ".join(cell.ljust(widths[j]) for j, cell in enumerate(row)) + " |")
        if i == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    typing = summary["scenarios"].get("typing")
    if typing:
        t = typing["tierline"]
        lines.append("")
        lines.append(
            f"typing (tierline): {t['bursts']} bursts, {t['keystrokes']} keystrokes "
            f"({t['keystrokes_per_burst']:.1f}/burst, each a didChange + an Automatic request), "
            f"{t['upstream_calls']} upstream calls, {t['answered_calls']} answered: "
            f"{t['paid_calls_per_burst']:.2f} paid calls per burst (max {t['max_calls_in_a_burst']}); "
            f"a client calling on every keystroke would pay {t['keystrokes_per_burst']:.1f}"
        )
    if summary.get("targets"):
        lines.append("")
        for target in summary["targets"]:
            lines.append(f"[{'met' if target['met'] else 'MISSED'}] {target['target']}: {target['measured']}")
    return "\n".join(lines)


def typing_metrics(result: dict[str, Any]) -> dict[str, Any]:
    bursts = result["bursts"]
    calls = [b["upstream_calls"] for b in bursts]
    return {
        "bursts": len(bursts),
        "keystrokes": sum(b["keystrokes"] for b in bursts),
        "keystrokes_per_burst": statistics.mean(b["keystrokes"] for b in bursts),
        "upstream_calls": sum(calls),
        "answered_calls": sum(b["answered_calls"] for b in bursts),
        "paid_calls_per_burst": statistics.mean(calls),
        "max_calls_in_a_burst": max(calls),
        "requests_sent": result["requests_sent"],
        "completions_shown": result["completions_shown"],
        "per_burst": bursts,
    }


def evaluate_targets(s: dict[str, Any]) -> list[dict[str, Any]]:
    sc = s["scenarios"]
    targets = []

    def add(target: str, met: bool, measured: str) -> None:
        targets.append({"target": target, "met": bool(met), "measured": measured})

    tl = {name: routers["tierline"] for name, routers in sc.items() if "tierline" in routers and name != "typing"}
    if tl:
        # A model is healthy in every scenario here (B, C and D never fail).
        failed = {name: m["failed"] for name, m in tl.items()}
        add(
            "0 failed requests while any model is healthy",
            sum(failed.values()) == 0,
            ", ".join(f"{k} {v}" for k, v in failed.items()),
        )
    if "brownout" in sc:
        m = sc["brownout"]["tierline"]
        share = m.get("degraded_served_pct")
        add(
            ">= 95 % of traffic off a brownout provider within 10 requests",
            share is not None and share <= 5.0,
            f"after the first 10 brownout requests {fmt(share, '.1f')}% served by A "
            f"({fmt(m.get('degraded_sent_pct'), '.1f')}% had some call to A, shadow probes included); "
            f"{m['degraded_first10_served']} of the first 10 served by A",
        )
        if "litellm" in sc["brownout"]:
            ll = sc["brownout"]["litellm"]
            add(
                "p95 after the brownout <= LiteLLM's in the same run",
                m["p95_from_change_ms"] <= ll["p95_from_change_ms"],
                f"tierline {m['p95_from_change_ms']:.1f} ms vs LiteLLM {ll['p95_from_change_ms']:.1f} ms "
                f"(requests from the brownout start to the end); during the brownout "
                f"{m['p95_degraded_ms']:.1f} vs {ll['p95_degraded_ms']:.1f} ms (p99 {m['p99_degraded_ms']:.0f} vs "
                f"{ll['p99_degraded_ms']:.0f}); after recovery {m['p95_after_recovery_ms']:.1f} vs "
                f"{ll['p95_after_recovery_ms']:.1f} ms",
            )
    both = {n: r for n, r in sc.items() if n != "typing" and "tierline" in r and "litellm" in r}
    if both:
        p99 = {n: (r["tierline"]["p99_ms"], r["litellm"]["p99_ms"]) for n, r in both.items()}
        add(
            "p99 <= LiteLLM Router's in every scenario",
            all(t <= ll for t, ll in p99.values()),
            ", ".join(f"{n} {t:.0f} vs {ll:.0f} ms" for n, (t, ll) in p99.items()),
        )
        # Per request: a time-based scenario gives the faster router more requests, so more spend
        # in total for the same work (in the count-based ones, per request is the total / 150).
        spend = {n: (r["tierline"], r["litellm"]) for n, r in both.items()}
        add(
            "spend per request <= LiteLLM Router's in every scenario",
            all(t["spend_usd_per_100"] <= ll["spend_usd_per_100"] for t, ll in spend.values()),
            ", ".join(
                f"{n} ${t['spend_usd_per_100']:.5f} vs ${ll['spend_usd_per_100']:.5f} per 100 requests "
                f"(total ${t['spend_usd']:.5f} vs ${ll['spend_usd']:.5f}, {t['requests']} vs {ll['requests']} requests)"
                for n, (t, ll) in spend.items()
            ),
        )
    if "steady" in sc:
        m = sc["steady"]["tierline"]
        add(
            "<= 5 % extra calls in the steady scenario (hedges)",
            m["extra_pct"] <= 5.0,
            f"{m['extra_attempts']} extra of {m['requests']} = {m['extra_pct']:.1f}%",
        )
    back = {name: sc[name]["tierline"].get("return_s") for name in ("brownout", "outage") if name in sc}
    if back:
        add(
            "back on a recovered provider within 30 s",
            all(v is not None and v <= 30 for v in back.values()),
            ", ".join(f"{k} {fmt(v, '.1f', 'never')} s" for k, v in back.items()),
        )
    if "mixed_faults" in sc:
        m = sc["mixed_faults"]["tierline"]
        add(
            "<= 5 % extra upstream attempts under mixed faults",
            m["extra_pct"] <= 5.0,
            f"{m['extra_attempts']} extra of {m['requests']} requests = {m['extra_pct']:.1f}% "
            f"(6 faults injected = {600 / m['requests']:.1f}% floor)",
        )
    if "typing" in sc:
        t = sc["typing"]["tierline"]
        add(
            "<= 1.2 paid calls per typing burst",
            t["paid_calls_per_burst"] <= 1.2,
            f"{t['paid_calls_per_burst']:.2f} per burst over {t['bursts']} bursts",
        )
    return targets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", default="all", help=f"one of {', '.join(SCENARIOS)} or all")
    parser.add_argument(
        "--requests",
        type=int,
        default=150,
        help="requests in the count-based scenarios (steady, mixed_faults); bursts for typing = N/8",
    )
    parser.add_argument("--routers", default=",".join(ROUTERS), help="comma-separated subset of routers")
    parser.add_argument("--json", metavar="FILE", help="also write the summary JSON here")
    parser.add_argument("--raw", metavar="FILE", help="write every request and upstream call here")
    parser.add_argument("--quick", action="store_true", help="shorter phases (about half the time)")
    parser.add_argument("--worker", nargs=2, metavar=("SCENARIO", "ROUTER"), help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        scenario, router = args.worker
        if scenario == "typing":
            result = asyncio.run(run_typing(max(4, args.requests // 8), args.quick))
        else:
            result = asyncio.run(run_worker(scenario, router, args.requests, args.quick))
        Path(args.out).write_text(json.dumps(result))
        return 0

    scenarios = SCENARIOS if args.scenario == "all" else tuple(args.scenario.split(","))
    routers = tuple(r for r in args.routers.split(",") if r)
    summary: dict[str, Any] = {
        "machine": {"python": sys.version.split()[0], "cpus": os.cpu_count(), "platform": sys.platform},
        "setup": {
            "providers": PROVIDERS,
            "slowdown": SLOWDOWN,
            "latency_budget_ms": LATENCY_BUDGET_MS,
            "timeout_ms": TIMEOUT_MS,
            "think_s": THINK_S,
            "return_window": RETURN_WINDOW,
            "litellm": {
                "num_retries": LiteLLMRouter.NUM_RETRIES,
                "allowed_fails": LiteLLMRouter.ALLOWED_FAILS,
                "cooldown_time": LiteLLMRouter.COOLDOWN_S,
            },
        },
        "scenarios": {},
    }
    raw: dict[str, Any] = {}
    started = time.monotonic()
    for scenario in scenarios:
        summary["scenarios"][scenario] = {}
        for router in ("tierline",) if scenario == "typing" else routers:
            t = time.monotonic()
            result = run_in_worker(scenario, router, args.requests, args.quick)
            raw[f"{scenario}/{router}"] = result
            m = typing_metrics(result) if scenario == "typing" else metrics(result)
            m["events"] = [{k: e[k] for k in ("label", "t")} for e in result.get("events", [])]
            summary["scenarios"][scenario][router] = m
            print(f"  {scenario:13s} {router:9s} done in {time.monotonic() - t:5.1f} s", file=sys.stderr, flush=True)
    summary["targets"] = evaluate_targets(summary)
    summary["wall_s"] = round(time.monotonic() - started, 1)
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2, default=str))
    if args.raw:
        Path(args.raw).write_text(json.dumps(raw, default=str))
    print(render(summary))
    print()
    printable = {
        **summary,
        "scenarios": {
            s: {r: {k: v for k, v in m.items() if k != "per_burst"} for r, m in rs.items()}
            for s, rs in summary["scenarios"].items()
        },
    }
    print(json.dumps(printable, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
