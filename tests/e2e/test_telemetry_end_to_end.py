"""Telemetry over the real server: OTLP/HTTP to a real loopback receiver, `/metrics` scraped over HTTP.

A secret, a distinctive file name and a distinctive workspace name are planted; no exported byte
(raw or decoded) carries them, nor the code, while the figures are the ledger's to the token and
the cent. A collector that is down or answers 500 costs no answer and gives one message.
"""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.common import SECRET
from tests.helpers.ports import free_port
from tests.helpers.telemetry import Receiver, metric_samples, scrape
from tierline.commands.demo import LOADER_CURSOR, NESTED_PY, SIMPLE_PY
from tierline.config import DEFAULT_MODELS
from tierline.telemetry.hub import export_failed_message

WORKSPACE = "quokka-payments-monorepo"
FILE_NAMES = ("zebracorn_payroll_4471.py", "loader_wombat_9183.py")
MARKER = "narwhal_ledger_total"  # an identifier in the code: prompt text, never a secret pattern
PLANTED = (SECRET, WORKSPACE, *FILE_NAMES, MARKER, "quokka", "zebracorn", "wombat", "narwhal")
# A first line planted in each document (the positions below move down one line).
HEAD = f"# {MARKER} {SECRET}\n"
SIMPLE_CURSOR = (6, 4)
NESTED_CURSOR = (LOADER_CURSOR[0] + 1, LOADER_CURSOR[1])
REQUEST_MODEL = {m["name"]: m["model"] for m in DEFAULT_MODELS}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.start()
    yield r
    r.stop()


def value(any_value: Any) -> Any:
    return getattr(any_value, any_value.WhichOneof("value"))


def attributes(item: Any) -> dict[str, Any]:
    return {kv.key: value(kv.value) for kv in item.attributes}


def ledger(tmp_path: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(tmp_path / "state" / "ledger.sqlite3") as db:
        db.row_factory = sqlite3.Row
        return list(db.execute("SELECT * FROM calls ORDER BY id"))


async def run_session(start_editor, tmp_path: Path, telemetry: dict[str, str]):
    """Two files with planted secrets in a distinctively named workspace: a cheap answer, a dearer
    one, the same request again (free), and the first one accepted."""
    workspace = tmp_path / WORKSPACE
    workspace.mkdir()
    # No cross-file context: the same request again is the same prompt, served free.
    editor = await start_editor({"telemetry": telemetry, "context": {"sources": []}}, workspace_folders=[workspace])
    simple = (workspace / FILE_NAMES[0]).as_uri()
    nested = (workspace / FILE_NAMES[1]).as_uri()
    editor.open(simple, HEAD + SIMPLE_PY, "python")
    editor.open(nested, HEAD + NESTED_PY, "python")
    first = await editor.complete(simple, *SIMPLE_CURSOR)
    second = await editor.complete(nested, *NESTED_CURSOR)
    again = await editor.complete(simple, *SIMPLE_CURSOR)
    assert first.text and second.text and again.text == first.text
    accepted = await editor.command(first.command["command"], *first.command["arguments"])
    assert accepted["recorded"] is True
    return editor, first, second


async def test_spans_metrics_and_prometheus_carry_the_ledgers_figures_and_nothing_of_the_code(
    start_editor, tmp_path, receiver
):
    port = free_port()
    editor, first, second = await run_session(
        start_editor, tmp_path, {"otlp_endpoint": receiver.url, "prometheus": f"127.0.0.1:{port}"}
    )
    scraped = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    await editor.client.shutdown_session()  # flushes the spans and metrics to the receiver

    rows = ledger(tmp_path)
    assert [r["tier"] for r in rows if not r["cached"]] == [first.route["tier"], second.route["tier"]]
    assert first.route["tier"] != second.route["tier"]  # two tiers, each under its own name
    assert sum(r["cached"] for r in rows) == 1

    # Nothing planted in any exported byte, raw or decoded.
    raw, decoded = receiver.raw(), receiver.decoded()
    assert {path for path, _ in receiver.bodies} == {"/v1/traces", "/v1/metrics"}
    for planted in (*PLANTED, str(tmp_path), "greet", "Loader"):
        assert planted.encode() not in raw, planted
        assert planted not in decoded, planted
        assert planted not in scraped, planted
    for text in (first.text, second.text):
        assert text.strip().encode() not in raw and text.strip() not in scraped

    # One span per ledger row, named and attributed after the GenAI conventions, figures exact.
    spans = receiver.spans()
    assert len(spans) == len(rows)
    first_chunk_s: dict[tuple[str, bool], float | None] = {}
    by_request = {(attributes(s)["tierline.request_id"], attributes(s)["tierline.cached"]): s for s in spans}
    for row in rows:
        span = by_request[(row["request_id"], bool(row["cached"]))]
        model_id = REQUEST_MODEL[row["model"]]
        assert span.name == f"{'text_completion' if row['model'] == 'qwen2.5-coder-32b' else 'chat'} {model_id}"
        got = attributes(span)
        score = got.pop("tierline.score", None)  # the router's, where the request was analysed
        assert (score is not None and 0 <= score <= 1) if not row["cached"] else score is None or 0 <= score <= 1
        first_chunk_s[(row["model"], bool(row["cached"]))] = got.pop("tierline.time_to_first_chunk_s", None)
        assert got == {
            "gen_ai.operation.name": "text_completion" if row["model"] == "qwen2.5-coder-32b" else "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.system": "openai",
            "gen_ai.request.model": model_id,
            "gen_ai.response.model": model_id,
            "gen_ai.usage.input_tokens": row["tokens_in"],
            "gen_ai.usage.output_tokens": row["tokens_out"],
            "tierline.tier": row["tier"],
            "tierline.model": row["model"],
            "tierline.language": "python",
            "tierline.outcome": "ok",
            "tierline.cached": bool(row["cached"]),
            "tierline.cost_usd": row["cost_usd"],
            "tierline.request_id": row["request_id"],
        }
    paid = [r for r in rows if not r["cached"]]
    assert all(r["tokens_in"] > 0 and r["tokens_out"] > 0 and r["cost_usd"] > 0 for r in paid)

    # The metrics: token usage and cost summed per model/tier, the acceptance counted under its tier.
    points: dict[str, list[tuple[dict[str, Any], Any]]] = {}
    (resource_attributes,) = {
        tuple(sorted(attributes(rm.resource).items())) for m in receiver.metrics() for rm in m.resource_metrics
    }
    assert dict(resource_attributes) == {"service.name": "tierline", "service.version": "0.1.0"}
    last = receiver.metrics()[-1]  # cumulative: the final flush holds the totals
    for rm in last.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                data = getattr(metric, metric.WhichOneof("data"))
                points[metric.name] = [(attributes(p), p) for p in data.data_points]
    for row in paid:
        for kind, column in (("input", "tokens_in"), ("output", "tokens_out")):
            (point,) = [
                p
                for a, p in points["gen_ai.client.token.usage"]
                if a["tierline.model"] == row["model"] and a["gen_ai.token.type"] == kind
            ]
            assert (point.count, point.sum) == (1, row[column])
        (duration,) = [p for a, p in points["gen_ai.client.operation.duration"] if a["tierline.model"] == row["model"]]
        assert duration.count == 1 and duration.sum == row["latency_ms"] / 1000
        (first_chunk,) = [
            p for a, p in points["gen_ai.client.operation.time_to_first_chunk"] if a["tierline.model"] == row["model"]
        ]
        assert first_chunk.count == 1 and 0 < first_chunk.sum <= duration.sum  # streamed: a first chunk, in time
        assert first_chunk_s[(row["model"], False)] == first_chunk.sum  # the span says the same
        (cost,) = [p for a, p in points["tierline.cost"] if a["tierline.model"] == row["model"]]
        assert cost.as_double == row["cost_usd"]
    assert {a["tierline.tier"]: p.as_int for a, p in points["tierline.accepted"]} == {first.route["tier"]: 1}
    assert [p.as_int for _, p in points["tierline.accepted.chars"]] == [len(first.text)]
    requests = {(a["tierline.tier"], a["tierline.cached"]): p.as_int for a, p in points["tierline.requests"]}
    assert requests == {
        (first.route["tier"], False): 1,
        (second.route["tier"], False): 1,
        (first.route["tier"], True): 1,
    }

    # Prometheus: the same figures under Prometheus names.
    samples = metric_samples(scraped)
    for row in paid:
        labels = {"tier": row["tier"], "model": row["model"]}
        key = tuple(sorted({**labels, "outcome": "ok", "cached": "false"}.items()))
        assert samples[("tierline_requests_total", key)] == 1
        assert samples[("tierline_cost_usd_total", tuple(sorted(labels.items())))] == row["cost_usd"]
        for kind, column in (("input", "tokens_in"), ("output", "tokens_out")):
            assert samples[("tierline_tokens_total", tuple(sorted({**labels, "type": kind}.items())))] == row[column]
    assert samples[("tierline_cache_hits_total", (("tier", first.route["tier"]),))] == 1
    accepted_key = tuple(
        sorted({"tier": first.route["tier"], "model": first.route["model"], "language": "python"}.items())
    )
    assert samples[("tierline_accepted_total", accepted_key)] == 1
    assert samples[("tierline_accepted_chars_total", accepted_key)] == len(first.text)


@pytest.mark.parametrize("collector", ["answers 500", "hangs", "is down"])
async def test_a_collector_that_fails_costs_no_answer_and_is_told_once(start_editor, tmp_path, receiver, collector):
    receiver.status, receiver.hang = 500, collector == "hangs"
    endpoint = receiver.url if collector != "is down" else f"http://127.0.0.1:{free_port()}"
    # Spans are sent every 50 ms here, so several exports fail while the editor is still asking.
    workspace = tmp_path / WORKSPACE
    workspace.mkdir()
    editor = await start_editor(
        {"telemetry": {"otlp_endpoint": endpoint}},
        workspace_folders=[workspace],
        env={"OTEL_BSP_SCHEDULE_DELAY": "50", "OTEL_METRIC_EXPORT_INTERVAL": "100"},
    )
    uri = (workspace / FILE_NAMES[0]).as_uri()
    editor.open(uri, HEAD + SIMPLE_PY, "python")
    answers = []
    for _ in range(3):
        completion = await editor.complete(uri, *SIMPLE_CURSOR)
        answers.append(completion.text)
        if collector != "is down":
            assert receiver.posted.acquire(timeout=30)  # an export was refused before the next request
        editor.type_text(uri, SIMPLE_CURSOR[0], SIMPLE_CURSOR[1], "r")
        editor.replace(uri, SIMPLE_CURSOR, (SIMPLE_CURSOR[0], SIMPLE_CURSOR[1] + 1), "")
    await editor.client.shutdown_session()

    assert all(answers) and len(set(answers)) == 1
    told = [m for m in editor.messages if "OpenTelemetry collector" in m]
    assert told in ([export_failed_message(endpoint, "spans")], [export_failed_message(endpoint, "metrics")])


async def test_a_completion_accepted_in_parts_counts_once_and_its_characters_as_they_grow(start_editor, tmp_path):
    port = free_port()
    editor = await start_editor({"telemetry": {"prometheus": f"127.0.0.1:{port}"}})
    uri = (tmp_path / "utils.py").as_uri()
    editor.open(uri, SIMPLE_PY, "python")
    completion = await editor.complete(uri, 5, 4)
    (request_id,) = completion.command["arguments"]
    await editor.command("tierline.accepted", request_id, {"kind": "word", "chars": 7})
    await editor.command("tierline.accepted", request_id, {"kind": "line", "chars": 5})
    await editor.command("tierline.accepted", "not-a-request")  # unknown: counts nothing

    labels = (("language", "python"), ("model", completion.route["model"]), ("tier", completion.route["tier"]))
    samples = scrape(port)
    assert samples[("tierline_accepted_total", labels)] == 1
    assert samples[("tierline_accepted_chars_total", labels)] == 12
    assert len([key for key in samples if key[0] == "tierline_accepted_total"]) == 1


async def test_a_taken_port_is_told_once_and_completions_go_on(start_editor, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        editor = await start_editor({"telemetry": {"prometheus": f"127.0.0.1:{port}"}})
        uri = (tmp_path / "utils.py").as_uri()
        editor.open(uri, SIMPLE_PY, "python")
        completion = await editor.complete(uri, 5, 4)
        assert completion.text
        (told,) = [m for m in editor.messages if "/metrics" in m]
        assert told.startswith(f"tierline: /metrics could not listen on 127.0.0.1:{port} (OSError: ")
        assert told.endswith(
            "completions go on without it. Is another process using the port? Change [telemetry] prometheus."
        )
