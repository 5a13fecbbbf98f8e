"""OpenTelemetry over OTLP/HTTP: one span per model call or cache hit, and the GenAI client metrics.

Exported in the background (BatchSpanProcessor, PeriodicExportingMetricReader): a completion only
hands figures to an in-memory queue. A collector that is down, slow or answers garbage costs no
answer: the export fails in its own thread, within `EXPORT_TIMEOUT_S`, and the user is told once
(`on_failure`). The providers are this object's own, not OpenTelemetry's global ones, so nothing
else in the process (a library's instrumentation) exports through them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExportResult, MetricsData, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult
from opentelemetry.trace import SpanKind, Status, StatusCode

from tierline import __version__
from tierline.telemetry.observation import Observation, call_attributes, span_attributes, span_name
from tierline.wire import Outcome

# A collector that does not answer holds one export (and the flush at shutdown) this long at most.
EXPORT_TIMEOUT_S = 3.0
# The conventions' advised buckets: seconds for durations, tokens for token usage.
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)

# The exporters log every failed batch (every few seconds while a collector is down); the user
# gets one message from `on_failure` instead, and the server's log one line.
logging.getLogger("opentelemetry.exporter").setLevel(logging.CRITICAL)
logging.getLogger("opentelemetry.sdk").setLevel(logging.CRITICAL)

Failure = Callable[[str], None]  # called with what was not taken: "spans" or "metrics"


class _SpanExporter(OTLPSpanExporter):
    def __init__(self, endpoint: str, on_failure: Failure):
        super().__init__(endpoint=f"{endpoint}/v1/traces", timeout=EXPORT_TIMEOUT_S)
        self._on_failure = on_failure

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = super().export(spans)
        except Exception:  # a hostile answer must not end the export thread
            self._on_failure("spans")
            return SpanExportResult.FAILURE
        if result != SpanExportResult.SUCCESS:
            self._on_failure("spans")
        return result


class _MetricExporter(OTLPMetricExporter):
    def __init__(self, endpoint: str, on_failure: Failure):
        super().__init__(endpoint=f"{endpoint}/v1/metrics", timeout=EXPORT_TIMEOUT_S)
        self._on_failure = on_failure

    def export(
        self, metrics_data: MetricsData, timeout_millis: float | None = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        try:
            result = super().export(metrics_data, timeout_millis, **kwargs)
        except Exception:
            self._on_failure("metrics")
            return MetricExportResult.FAILURE
        if result != MetricExportResult.SUCCESS:
            self._on_failure("metrics")
        return result


class OtlpExport:
    def __init__(self, endpoint: str, on_failure: Failure):
        # Only these: no resource detectors (a process detector would export the command line).
        resource = Resource({"service.name": "tierline", "service.version": __version__})
        self._tracer_provider = TracerProvider(resource=resource)
        self._span_exporter = _SpanExporter(endpoint, on_failure)
        self._tracer_provider.add_span_processor(BatchSpanProcessor(self._span_exporter))
        self._tracer = self._tracer_provider.get_tracer("tierline", __version__)
        self._metric_exporter = _MetricExporter(endpoint, on_failure)
        reader = PeriodicExportingMetricReader(self._metric_exporter)
        self._meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
        meter = self._meter_provider.get_meter("tierline", __version__)
        self._duration = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="GenAI operation duration",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self._first_chunk = meter.create_histogram(
            "gen_ai.client.operation.time_to_first_chunk",
            unit="s",
            description="Time to receive the first chunk of a streamed answer",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self._tokens = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Number of input and output tokens used",
            explicit_bucket_boundaries_advisory=TOKEN_BUCKETS,
        )
        self._requests = meter.create_counter(
            "tierline.requests", unit="{call}", description="Model calls and cache hits, by tier and outcome"
        )
        self._cost = meter.create_counter("tierline.cost", unit="USD", description="What the calls cost")
        self._accepted = meter.create_counter(
            "tierline.accepted", unit="{completion}", description="Completions the user accepted"
        )
        self._accepted_chars = meter.create_counter(
            "tierline.accepted.chars", unit="{char}", description="Characters of completions the user accepted"
        )

    def observe(self, obs: Observation) -> None:
        end = time.time_ns()
        start = end - int(obs.latency_s * 1e9)
        span = self._tracer.start_span(
            span_name(obs), kind=SpanKind.CLIENT, attributes=span_attributes(obs), start_time=start
        )
        if not obs.ok:
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=end)
        attributes = call_attributes(obs)
        self._requests.add(1, attributes)
        self._cost.add(obs.cost_usd, {"tierline.tier": obs.tier, "tierline.model": obs.model})
        if obs.cached or obs.outcome == Outcome.SKIPPED_BUDGET:
            return  # no call was made: no GenAI operation to time or count tokens for
        self._duration.record(obs.latency_s, attributes)
        if obs.first_chunk_s is not None:
            self._first_chunk.record(obs.first_chunk_s, attributes)
        if obs.ok or obs.tokens_in or obs.tokens_out:
            self._tokens.record(obs.tokens_in, {**attributes, "gen_ai.token.type": "input"})
            self._tokens.record(obs.tokens_out, {**attributes, "gen_ai.token.type": "output"})

    def accepted(self, labels: dict[str, str], chars: int, first: bool) -> None:
        attributes = {f"tierline.{name}": value for name, value in labels.items()}
        if first:
            self._accepted.add(1, attributes)
        if chars:
            self._accepted_chars.add(chars, attributes)

    def close(self, give_up: bool = False) -> None:
        """Flush what is queued and stop: traces and metrics side by side, within the export timeout
        overall. `give_up`: the collector has failed already, so drop what is queued rather than
        make the editor's shutdown wait out the retries again."""
        if give_up:
            self._span_exporter.shutdown()  # type: ignore[no-untyped-call]
            self._metric_exporter.shutdown()
        threads = [
            threading.Thread(target=self._tracer_provider.shutdown, daemon=True),
            threading.Thread(target=self._meter_provider.shutdown, daemon=True),
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + EXPORT_TIMEOUT_S + 0.5
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
