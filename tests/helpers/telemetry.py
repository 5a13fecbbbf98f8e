"""An OTLP/HTTP receiver on 127.0.0.1 that decodes what it gets, and a Prometheus scrape."""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from google.protobuf.json_format import MessageToJson
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from prometheus_client.parser import text_string_to_metric_families


@dataclass
class Receiver:
    """A real OTLP/HTTP endpoint on 127.0.0.1: keeps every body it is sent, answers `status`."""

    status: int = 200
    hang: bool = False  # read the export, then answer nothing until the test ends
    released: threading.Event = field(default_factory=threading.Event)
    bodies: list[tuple[str, bytes]] = field(default_factory=list)
    posted: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                receiver.bodies.append((self.path, body))
                if receiver.hang:
                    receiver.posted.release()
                    receiver.released.wait(60)
                    return
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()
                receiver.posted.release()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.released.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def raw(self) -> bytes:
        return b"".join(body for _, body in self.bodies)

    def spans(self) -> list[Any]:
        out = []
        for path, body in self.bodies:
            if path == "/v1/traces":
                request = ExportTraceServiceRequest.FromString(body)
                out += [span for rs in request.resource_spans for ss in rs.scope_spans for span in ss.spans]
        return out

    def metrics(self) -> list[ExportMetricsServiceRequest]:
        return [ExportMetricsServiceRequest.FromString(body) for path, body in self.bodies if path == "/v1/metrics"]

    def decoded(self) -> str:
        parts = []
        for path, body in self.bodies:
            kind = ExportTraceServiceRequest if path == "/v1/traces" else ExportMetricsServiceRequest
            parts.append(MessageToJson(kind.FromString(body)))
        return "\n".join(parts)


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def metric_samples(text: str) -> Samples:
    """Prometheus' text format as {(name, sorted labels): value}."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape(port: int) -> Samples:
    return metric_samples(httpx.get(f"http://127.0.0.1:{port}/metrics").text)
