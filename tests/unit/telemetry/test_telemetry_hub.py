"""The engine's side of telemetry (`telemetry.hub.Telemetry`): reconfiguring moves or stops the
exports, an export that fails costs nothing and is told once, hostile figures do not poison a sum."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from tests.helpers.ports import free_port
from tests.helpers.telemetry import scrape
from tierline.completion.request import Charge
from tierline.config.model import TelemetryConfig
from tierline.telemetry.hub import Telemetry
from tierline.telemetry.prometheus import PrometheusExport
from tierline.wire import Outcome


@dataclass
class State:
    """What telemetry reads of a request: its id, language and analysis (none here)."""

    request_id: str = "r1"
    language: str = "python"
    analysis: None = None


def serves(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 200
    except httpx.ConnectError:
        return False


def test_reconfiguring_moves_and_stops_metrics():
    first, second = free_port(), free_port()
    told: list[str] = []
    telemetry = Telemetry(TelemetryConfig(prometheus=f"127.0.0.1:{first}"), lambda level, text: told.append(text))
    try:
        assert serves(first) and telemetry.enabled
        telemetry.reconfigure(TelemetryConfig(prometheus=f"127.0.0.1:{second}"))
        assert not serves(first) and serves(second)
        telemetry.reconfigure(TelemetryConfig())
        assert not serves(second) and not telemetry.enabled
        telemetry.observe(Charge("cheap", "m", Outcome.OK, 100.0, 10, 2, 0.001), None, State())  # off: nothing
    finally:
        telemetry.close()
    assert told == []


def test_a_failing_export_is_told_once_and_raises_nothing(monkeypatch: pytest.MonkeyPatch):
    def broken(self: PrometheusExport, obs: object) -> None:
        raise RuntimeError("registry broke")

    monkeypatch.setattr(PrometheusExport, "observe", broken)
    told: list[str] = []
    telemetry = Telemetry(TelemetryConfig(prometheus=f"127.0.0.1:{free_port()}"), lambda level, text: told.append(text))
    try:
        for _ in range(3):
            telemetry.observe(Charge("cheap", "m", Outcome.OK, 100.0, 10, 2, 0.001), None, State())
    finally:
        telemetry.close()
    assert told == ["tierline: telemetry (prometheus) failed: RuntimeError('registry broke')"]


def test_a_hostile_cost_or_latency_counts_as_zero():
    port = free_port()
    telemetry = Telemetry(TelemetryConfig(prometheus=f"127.0.0.1:{port}"))
    try:
        for cost, latency in ((float("nan"), float("inf")), (-5.0, -1.0), (0.25, 500.0)):
            telemetry.observe(Charge("cheap", "m", Outcome.OK, latency, 10, 2, cost), None, State())
        samples = scrape(port)
    finally:
        telemetry.close()
    labels = (("model", "m"), ("tier", "cheap"))
    assert samples[("tierline_cost_usd_total", labels)] == 0.25
    assert samples[("tierline_request_duration_seconds_sum", (*labels[:1], ("outcome", "ok"), labels[1]))] == 0.5
