"""`/metrics` on loopback for Prometheus, with prometheus-client.

prometheus-client rather than OpenTelemetry's Prometheus exporter: it is the reference client,
stable for years (the OpenTelemetry exporter is still a beta), names metrics exactly as written here
(no unit suffixes derived from OTel names), and works without the OpenTelemetry SDK, so a user who
only wants `/metrics` needs one small package. The registry is this object's own: no process or
platform collectors (they would export the command line, which can hold paths).
"""

from __future__ import annotations

from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

from tierline.telemetry.observation import Observation
from tierline.wire import Outcome

LATENCY_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0)


class PrometheusExport:
    def __init__(self, host: str, port: int):
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self._requests = Counter(
            "tierline_requests",
            "Model calls and cache hits, by tier, model and outcome",
            ["tier", "model", "outcome", "cached"],
            registry=registry,
        )
        self._cache_hits = Counter("tierline_cache_hits", "Answers served from the cache", ["tier"], registry=registry)
        self._cost = Counter("tierline_cost_usd", "What the calls cost, in USD", ["tier", "model"], registry=registry)
        self._tokens = Counter(
            "tierline_tokens", "Tokens sent and received", ["tier", "model", "type"], registry=registry
        )
        self._latency = Histogram(
            "tierline_request_duration_seconds",
            "How long a model call took",
            ["tier", "model", "outcome"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._first_chunk = Histogram(
            "tierline_time_to_first_chunk_seconds",
            "Time to the first chunk of a streamed answer",
            ["tier", "model"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._accepted = Counter(
            "tierline_accepted", "Completions the user accepted", ["tier", "model", "language"], registry=registry
        )
        self._accepted_chars = Counter(
            "tierline_accepted_chars",
            "Characters of completions the user accepted",
            ["tier", "model", "language"],
            registry=registry,
        )
        self._server: WSGIServer | None = None
        self._server, _ = start_http_server(port, addr=host, registry=registry)

    def observe(self, obs: Observation) -> None:
        self._requests.labels(obs.tier, obs.model, obs.outcome, str(obs.cached).lower()).inc()
        if obs.cached:
            self._cache_hits.labels(obs.tier).inc()
            return
        if obs.outcome == Outcome.SKIPPED_BUDGET:
            return  # refused before it was sent: no call to time
        self._cost.labels(obs.tier, obs.model).inc(max(0.0, obs.cost_usd))
        self._tokens.labels(obs.tier, obs.model, "input").inc(max(0, obs.tokens_in))
        self._tokens.labels(obs.tier, obs.model, "output").inc(max(0, obs.tokens_out))
        self._latency.labels(obs.tier, obs.model, obs.outcome).observe(obs.latency_s)
        if obs.first_chunk_s is not None:
            self._first_chunk.labels(obs.tier, obs.model).observe(obs.first_chunk_s)

    def accepted(self, labels: dict[str, str], chars: int, first: bool) -> None:
        values = (labels["tier"], labels["model"], labels["language"])
        if first:
            self._accepted.labels(*values).inc()
        if chars:
            self._accepted_chars.labels(*values).inc(chars)

    def close(self, give_up: bool = False) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
