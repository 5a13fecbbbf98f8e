"""What the engine calls: `observe` for each ledger row, `accepted` for each acceptance, `close`.

Never costs an answer: every export call is guarded, a fault is told once per kind and the
completion goes on. With `[telemetry]` unset there is no export and each call returns at once.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from tierline.config.model import ConfigError, ModelSpec, TelemetryConfig
from tierline.config.telemetry import loopback_address, missing_packages, not_installed_message
from tierline.config.urls import public_url
from tierline.telemetry.observation import Charge, Observation, RequestState, observe_charge

log = logging.getLogger(__name__)

Notify = Callable[[str, str], None]
# Served answers remembered for their acceptance (which comes later, by request id).
REMEMBERED = 1000


class Export(Protocol):
    def observe(self, obs: Observation) -> None: ...
    def accepted(self, labels: dict[str, str], chars: int, first: bool) -> None: ...
    def close(self, give_up: bool = False) -> None: ...


class Telemetry:
    def __init__(self, config: TelemetryConfig, notify: Notify = lambda level, text: None):
        self._notify = notify
        self._said: set[str] = set()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._catch_loop()
        self._config = TelemetryConfig()
        self._exports: dict[str, Export] = {}
        self._served: OrderedDict[str, dict[str, str]] = OrderedDict()
        self._accepted_chars: OrderedDict[str, int] = OrderedDict()
        self.reconfigure(config)

    @property
    def enabled(self) -> bool:
        return bool(self._exports)

    # -- configuration -------------------------------------------------------------------------
    def reconfigure(self, config: TelemetryConfig) -> None:
        old, self._config = self._config, config
        if config == old:
            return
        missing = missing_packages(config)
        if missing:
            self._tell_once("missing", "warning", not_installed_message(missing))
        if config.prometheus != old.prometheus:
            self._replace("prometheus", None if "prometheus-client" in missing else self._open_prometheus)
        if config.otlp_endpoint != old.otlp_endpoint:
            otlp_missing = {"opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-http"} & set(missing)
            self._replace("otlp", None if otlp_missing else self._open_otlp)
            self._said.discard("otlp")  # a new collector's failure is told again

    def _replace(self, name: str, opener: Callable[[], Export | None] | None) -> None:
        old = self._exports.pop(name, None)
        if old is not None:
            if name == "otlp":  # its flush may wait on the collector: not on the editor's time
                give_up = name in self._said
                threading.Thread(target=lambda: self._guarded_close(name, old, give_up), daemon=True).start()
            else:
                self._guarded_close(name, old)  # the port must be free before it is bound again
        setting = self._config.otlp_endpoint if name == "otlp" else self._config.prometheus
        if opener is None or not setting:
            return
        try:
            export = opener()
        except Exception as error:
            self._tell_once(name, "warning", self._start_failed(name, error))
            return
        if export is not None:
            self._exports[name] = export

    def _open_otlp(self) -> Export:
        from tierline.telemetry.otlp import OtlpExport

        return OtlpExport(self._config.otlp_endpoint, self._export_failed)

    def _open_prometheus(self) -> Export | None:
        from tierline.telemetry.prometheus import PrometheusExport

        try:
            host, port = loopback_address("[telemetry]", self._config.prometheus)
        except ConfigError as error:  # validation refuses it first; never served off loopback
            self._tell_once("prometheus", "warning", f"tierline: {error}")
            return None
        return PrometheusExport(host, port)

    def _start_failed(self, name: str, error: Exception) -> str:
        if name == "prometheus":
            return (
                f"tierline: /metrics could not listen on {self._config.prometheus} ({type(error).__name__}: {error}); "
                "completions go on without it. Is another process using the port? Change [telemetry] prometheus."
            )
        return f"tierline: OpenTelemetry export could not start ({type(error).__name__}); completions go on without it."

    # -- from the engine -----------------------------------------------------------------------
    def observe(self, charge: Charge, spec: ModelSpec | None, state: RequestState) -> None:
        """A ledger row (a model call, a cache hit or a call the budget refused), as figures only."""
        if not self._exports:
            return
        self._catch_loop()
        try:
            obs = observe_charge(charge, spec, state)
        except Exception as error:  # a row of an unexpected shape: nothing exported, said once
            self._tell_once("observe", "warning", f"tierline: a usage row could not be exported ({error!r})")
            return
        if obs.ok:
            self._served[obs.request_id] = {"tier": obs.tier, "model": obs.model, "language": obs.language}
            while len(self._served) > REMEMBERED:
                self._served.popitem(last=False)
        for name, export in list(self._exports.items()):
            self._guard(name, functools.partial(export.observe, obs))

    def accepted(self, result: Mapping[str, Any]) -> None:
        """`tierline.accepted`'s answer (AcceptanceTracker.report): counts the completion once, and
        its accepted characters as they grow (a word, then a line, then the rest)."""
        if not self._exports or not isinstance(result, Mapping) or result.get("recorded") is not True:
            return
        request_id, chars = result.get("request_id"), result.get("accepted_chars")
        if not isinstance(request_id, str) or not isinstance(chars, int) or isinstance(chars, bool):
            return
        labels = self._served.get(request_id)
        if labels is None:
            return
        before = self._accepted_chars.get(request_id)
        self._accepted_chars[request_id] = max(chars, before or 0)
        while len(self._accepted_chars) > REMEMBERED:
            self._accepted_chars.popitem(last=False)
        grown = max(0, chars - (before or 0))
        for name, export in list(self._exports.items()):
            self._guard(name, functools.partial(export.accepted, labels, grown, before is None))

    def close(self) -> None:
        """Flush and stop every export (blocking: call it off the event loop)."""
        exports, self._exports = self._exports, {}
        for name, export in exports.items():
            self._guarded_close(name, export)

    # -- faults --------------------------------------------------------------------------------
    def _guard(self, name: str, action: Callable[[], None]) -> None:
        try:
            action()
        except Exception as error:
            self._tell_once(f"{name}-fault", "warning", f"tierline: telemetry ({name}) failed: {error!r}")

    def _guarded_close(self, name: str, export: Export, give_up: bool | None = None) -> None:
        """Close an export; one whose endpoint failed already gives up its queue (no second wait)."""
        try:
            export.close(give_up=name in self._said if give_up is None else give_up)
        except Exception as error:
            log.warning("telemetry (%s) did not close cleanly: %r", name, error)

    def _export_failed(self, what: str) -> None:
        """From an exporter's thread: the collector did not take a batch. Said once per endpoint."""
        self._tell_once("otlp", "warning", export_failed_message(public_url(self._config.otlp_endpoint), what))

    def _catch_loop(self) -> None:
        if self._loop is None:
            try:
                self._loop = asyncio.get_running_loop()
            except RuntimeError:
                pass

    def _tell_once(self, topic: str, level: str, text: str) -> None:
        with self._lock:
            if topic in self._said:
                return
            self._said.add(topic)
        log.warning("%s", text)
        loop = self._loop
        on_loop = False
        if loop is not None:
            try:
                on_loop = asyncio.get_running_loop() is loop
            except RuntimeError:
                on_loop = False
        if loop is None or on_loop:
            self._notify(level, text)
            return
        try:  # from an exporter's thread: the server talks to the editor from its loop only
            loop.call_soon_threadsafe(self._notify, level, text)
        except RuntimeError:
            pass  # the loop is closed: the server is gone, the log has it


def export_failed_message(endpoint: str, what: str) -> str:
    return (
        f"tierline: the OpenTelemetry collector at {endpoint} did not take tierline's {what} (down, or refusing "
        "them); completions go on, and this is said once. Check that it runs, or [telemetry] otlp_endpoint."
    )
