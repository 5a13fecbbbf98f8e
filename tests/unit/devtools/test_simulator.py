"""The simulator over real HTTP (httpx against a running Simulator): answers, streams, faults, the
request log, the config it writes. No sleeps: waits go through `Simulator.wait_for`."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tierline import config as tl_config
from tierline.devtools.simulator import (
    PROSE_ANSWER,
    Simulator,
    SimulatorThread,
    model_tag,
    sim_config,
    simulated_completion,
    toml_text,
    write_toml,
)
from tierline.prompt.window import CURSOR_MARKER, PromptWindow, chat_messages

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CHAT_MODEL = "deepseek/deepseek-v4-flash"
FIM_MODEL = "qwen/qwen-2.5-coder-32b-instruct"
WINDOW = PromptWindow(language="python", filename="app.py", prefix="import os\n\ndef load(path):\n    ", suffix="\n")


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator()
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.base_url, timeout=5.0) as http:
        yield http


def chat_body(model: str = CHAT_MODEL, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": chat_messages(WINDOW), "max_tokens": 128, **extra}


def fim_body(prompt: str = "total = ", suffix: str = "\n", **extra: Any) -> dict[str, Any]:
    return {"model": FIM_MODEL, "prompt": prompt, "suffix": suffix, "max_tokens": 128, **extra}


async def sse_events(response: httpx.Response) -> list[str]:
    return [line[len("data: ") :] async for line in response.aiter_lines() if line.startswith("data: ")]


def content_of(events: list[str], api: str = "chat") -> str:
    chunks = [json.loads(e) for e in events if e != "[DONE]"]
    if api == "chat":
        return "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    return "".join(c["choices"][0]["text"] for c in chunks if c["choices"])


# ---------------------------------------------------------------------------------------------
# Answers


async def test_chat_answer_is_fenced_code_tagged_with_the_model(client: httpx.AsyncClient) -> None:
    response = await client.post("/chat/completions", json=chat_body())
    assert response.status_code == 200
    body = response.json()
    content = body["choices"][0]["message"]["content"]
    # The prefix is everything before the cursor marker, the instruction header included.
    prefix, _, suffix = chat_messages(WINDOW)[-1]["content"].rpartition(CURSOR_MARKER)
    assert content == f"```python\n{simulated_completion(CHAT_MODEL, prefix, suffix)}\n```"
    assert "tl_deepseek_v4_flash_" in content
    assert body["object"] == "chat.completion" and body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"]["prompt_tokens"] > 0 and body["usage"]["completion_tokens"] > 0


async def test_fim_answer_is_raw(client: httpx.AsyncClient) -> None:
    response = await client.post("/completions", json=fim_body())
    body = response.json()
    assert body["object"] == "text_completion"
    assert body["choices"][0]["text"] == simulated_completion(FIM_MODEL, "total = ", "\n")
    assert "```" not in body["choices"][0]["text"]
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]


async def test_chat_stream_ends_with_done_and_carries_usage(client: httpx.AsyncClient) -> None:
    whole = (await client.post("/chat/completions", json=chat_body())).json()
    body = chat_body(stream=True, stream_options={"include_usage": True})
    async with client.stream("POST", "/chat/completions", json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = await sse_events(response)
    assert events[-1] == "[DONE]"
    last = json.loads(events[-2])
    assert last["choices"] == [] and last["usage"] == whole["usage"]
    assert content_of(events) == whole["choices"][0]["message"]["content"]


async def test_fim_stream_without_include_usage_has_no_usage(client: httpx.AsyncClient) -> None:
    async with client.stream("POST", "/completions", json=fim_body(stream=True)) as response:
        events = await sse_events(response)
    assert events[-1] == "[DONE]"
    assert all("usage" not in json.loads(e) for e in events[:-1])
    assert content_of(events, "fim") == simulated_completion(FIM_MODEL, "total = ", "\n")


async def test_stream_with_latency_still_completes(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.set_behaviour("*", latency_ms=30, ttft_ms=10)
    async with client.stream("POST", "/chat/completions", json=chat_body(stream=True)) as response:
        events = await sse_events(response)
    assert events[-1] == "[DONE]"


async def test_stop_and_max_tokens_cut_the_answer(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.set_behaviour("*", answer="first line\nsecond line")
    stopped = (await client.post("/completions", json=fim_body(stop=["\n"]))).json()["choices"][0]
    assert stopped == {**stopped, "text": "first line", "finish_reason": "stop"}
    short = (await client.post("/completions", json=fim_body(max_tokens=1))).json()["choices"][0]
    assert short["finish_reason"] == "length" and len(short["text"]) < len("first line")


async def test_fixed_answer_is_sent_as_is(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.set_behaviour("deepseek-v4-flash", answer="return 42")
    response = await client.post("/chat/completions", json=chat_body())
    assert response.json()["choices"][0]["message"]["content"] == "return 42"


async def test_models_lists_the_default_registry(client: httpx.AsyncClient) -> None:
    ids = [m["id"] for m in (await client.get("/models")).json()["data"]]
    assert ids == [m["model"] for m in tl_config.DEFAULT_MODELS]


async def test_bad_requests_get_openai_style_400(client: httpx.AsyncClient) -> None:
    no_model = await client.post("/chat/completions", json={"messages": []})
    assert no_model.status_code == 400 and "model" in no_model.json()["error"]["message"]
    not_json = await client.post("/completions", content=b"{nope", headers={"content-type": "application/json"})
    assert not_json.status_code == 400
    assert (await client.get("/chat/completions")).status_code == 405
    assert (await client.get("/nowhere")).status_code == 404


# ---------------------------------------------------------------------------------------------
# Faults, as a client sees them


async def test_rate_limit_is_429_with_retry_after(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.set_behaviour(CHAT_MODEL, fault="rate_limit", retry_after_s=2.5)
    response = await client.post("/chat/completions", json=chat_body())
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3" and response.headers["retry-after-ms"] == "2500"
    assert response.json()["error"]["type"] == "rate_limit_error"
    assert sim.requests[-1]["outcome"] == "rate_limit" and sim.requests[-1]["status"] == 429


async def test_server_error_is_503_also_for_streams(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.set_behaviour("*", fault="server_error")
    response = await client.post("/chat/completions", json=chat_body(stream=True))
    assert response.status_code == 503 and "error" in response.json()


async def test_reset_is_a_transport_error(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.set_behaviour("*", fault="reset")
    with pytest.raises(httpx.TransportError):
        await client.post("/chat/completions", json=chat_body())
    record = await sim.wait_for(lambda r: r["outcome"] == "reset")
    assert record["status"] is None


async def test_malformed_is_200_with_invalid_json(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.set_behaviour("*", fault="malformed")
    response = await client.post("/chat/completions", json=chat_body())
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()


async def test_malformed_stream_has_an_invalid_chunk(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.set_behaviour("*", fault="malformed")
    async with client.stream("POST", "/completions", json=fim_body(stream=True)) as response:
        events = await sse_events(response)
    with pytest.raises(json.JSONDecodeError):
        json.loads(events[0])


async def test_cut_stream_stops_without_done(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.set_behaviour("*", fault="cut_stream")
    received: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError):
        async with client.stream("POST", "/chat/completions", json=chat_body(stream=True)) as response:
            async for line in response.aiter_lines():
                received.append(line)
    events = [line for line in received if line.startswith("data: ")]
    assert events and "data: [DONE]" not in events


async def test_cut_non_stream_body_is_incomplete(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.set_behaviour("*", fault="cut_stream")
    with pytest.raises(httpx.RemoteProtocolError):
        await client.post("/completions", json=fim_body())


@pytest.mark.parametrize(
    ("fault", "check"),
    [
        ("prose", lambda text: text == PROSE_ANSWER),
        ("empty", lambda text: text == ""),
        ("repeat", lambda text: len(set(text.splitlines())) == 1 and len(text.splitlines()) == 40),
    ],
)
async def test_bad_answers_are_200(sim: Simulator, client: httpx.AsyncClient, fault: str, check: Any) -> None:
    sim.set_behaviour("*", fault=fault)
    response = await client.post("/completions", json=fim_body(max_tokens=4000))
    assert response.status_code == 200 and check(response.json()["choices"][0]["text"])
    assert sim.requests[-1]["outcome"] == fault


async def test_hang_times_out_and_is_logged_as_disconnected(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.set_behaviour("*", fault="hang")
    with pytest.raises(httpx.ReadTimeout):
        await client.post("/chat/completions", json=chat_body(), timeout=0.3)
    record = await sim.wait_for(lambda r: r["outcome"] != "pending")
    assert record["outcome"] == "disconnected" and record["status"] is None


async def test_disconnect_during_latency_is_recorded(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.set_behaviour("*", latency_ms=60_000)
    with pytest.raises(httpx.ReadTimeout):
        await client.post("/completions", json=fim_body(), timeout=0.3)
    record = await sim.wait_for(lambda r: r["outcome"] != "pending")
    assert record["outcome"] == "disconnected"


async def test_fault_count_limits_the_fault_to_n_requests(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.set_behaviour("claude-opus", fault="server_error", fault_count=2)
    opus = chat_body("anthropic/claude-opus-4.5")
    statuses = [(await client.post("/chat/completions", json=opus)).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert (await client.post("/chat/completions", json=chat_body())).status_code == 200


async def test_specific_behaviour_overrides_star(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.set_behaviour("*", fault="server_error")
    sim.set_behaviour(CHAT_MODEL, fault=None)
    assert (await client.post("/chat/completions", json=chat_body())).status_code == 200
    assert (await client.post("/completions", json=fim_body())).status_code == 503


async def test_stop_ends_a_hanging_request(sim: Simulator) -> None:
    sim.set_behaviour("*", fault="hang")
    async with httpx.AsyncClient(base_url=sim.base_url, timeout=5.0) as http:
        pending = asyncio.ensure_future(http.post("/chat/completions", json=chat_body()))
        await sim.wait_for(lambda r: r["outcome"] == "pending")
        await sim.stop()
        with pytest.raises(httpx.TransportError):
            await pending


async def test_stop_with_an_idle_keep_alive_connection_logs_nothing(sim: Simulator, client: httpx.AsyncClient) -> None:
    errors: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda loop, context: errors.append(context))
    assert (await client.get("/models")).status_code == 200  # leaves the connection open, idle
    await sim.stop()
    assert errors == []


# ---------------------------------------------------------------------------------------------
# Admin endpoints and the request log


async def test_admin_endpoints(sim: Simulator, client: httpx.AsyncClient) -> None:
    root = sim.base_url.removesuffix("/v1")
    set_fault = await client.post(
        f"{root}/_sim/behaviour", json={"model": FIM_MODEL, "fault": "empty", "fault_count": 1}
    )
    assert set_fault.json() == {"model": FIM_MODEL, "behaviour": {"fault": "empty", "fault_count": 1}}
    assert (await client.post(f"{root}/_sim/behaviour", json={"fault": "explode"})).status_code == 400
    assert (await client.post(f"{root}/_sim/behaviour", json={"colour": "red"})).status_code == 400
    await client.post("/completions", json=fim_body())
    log = (await client.get(f"{root}/_sim/requests")).json()
    assert [(r["path"], r["outcome"]) for r in log] == [("/v1/completions", "empty")]
    assert (await client.post(f"{root}/_sim/reset")).json() == {"ok": True}
    assert (await client.get(f"{root}/_sim/requests")).json() == []


async def test_request_record_fields(sim: Simulator, client: httpx.AsyncClient) -> None:
    await client.post("/chat/completions", json=chat_body(), headers={"Authorization": "Bearer sk-secret"})
    await client.post("/completions", json=fim_body(stream=True))
    with_key, without_key = sim.requests
    assert set(with_key) == {
        "id",
        "model",
        "path",
        "stream",
        "status",
        "outcome",
        "first_token",  # the first chunk of a stream is out (billed from there)
        "received_at",
        "duration_ms",
        "authorization",
        "prefix",  # what reached the provider: the privacy tests check no secret is in it
        "suffix",
    }
    assert with_key["authorization"] is True and without_key["authorization"] is False
    assert "sk-secret" not in json.dumps(sim.requests)
    assert (with_key["model"], with_key["stream"], with_key["status"]) == (CHAT_MODEL, False, 200)
    assert (without_key["model"], without_key["stream"]) == (FIM_MODEL, True)
    assert with_key["received_at"] <= without_key["received_at"] and with_key["duration_ms"] >= 0


async def test_keep_alive_and_chunked_request_body(sim: Simulator) -> None:
    """Two requests on one raw connection, the second with a chunked body."""
    port = int(sim.base_url.rsplit(":", 1)[1].split("/")[0])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = json.dumps(fim_body()).encode()
    writer.write(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    half = len(body) // 2
    writer.write(
        b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (half, body[:half], len(body) - half, body[half:])
    )
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 5)  # until the server closes (Connection: close)
    writer.close()
    assert raw.count(b"HTTP/1.1 200 OK") == 2
    assert [r["outcome"] for r in sim.requests] == ["ok", "ok"]


# ---------------------------------------------------------------------------------------------
# The deterministic completion


def test_completion_is_deterministic_and_tagged() -> None:
    first = simulated_completion("anthropic/claude-opus-4.5", "x = 1\n", "")
    assert first == simulated_completion("anthropic/claude-opus-4.5", "x = 1\n", "")
    assert "tl_claude_opus_4_5_" in first
    assert first != simulated_completion("anthropic/claude-haiku-4.5", "x = 1\n", "")
    assert first != simulated_completion("anthropic/claude-opus-4.5", "y = 2\n", "")


def test_completion_follows_the_cursor_line() -> None:
    model = "m/tiny"
    assert simulated_completion(model, "def f():\n    ", "\n").startswith("result = tl_tiny_")
    assert simulated_completion(model, "total = ", "\n").startswith("tl_tiny_")
    assert simulated_completion(model, "total =", "\n").startswith(" tl_tiny_")
    assert simulated_completion(model, "print(", ")\n").startswith("tl_tiny_")
    assert simulated_completion(model, "def f(x):", "\n").startswith("\n    result = tl_tiny_")
    assert simulated_completion(model, "    return", "\n").startswith(" tl_tiny_")


def test_model_tag() -> None:
    assert model_tag("qwen/qwen-2.5-coder-32b-instruct") == "qwen_2_5_coder_32b_instruct"
    assert model_tag("GPT-4o") == "gpt_4o"


async def test_chat_cursor_is_the_last_marker(client: httpx.AsyncClient) -> None:
    messages = [{"role": "user", "content": f"Complete at {CURSOR_MARKER}.\nname = {CURSOR_MARKER}\n"}]
    body = (await client.post("/chat/completions", json={"model": CHAT_MODEL, "messages": messages})).json()
    expected = simulated_completion(CHAT_MODEL, f"Complete at {CURSOR_MARKER}.\nname = ", "\n")
    assert body["choices"][0]["message"]["content"] == f"```\n{expected}\n```"


# ---------------------------------------------------------------------------------------------
# Config for tierline, and the TOML writer


def test_sim_config_parses_and_points_at_the_simulator(tmp_path: Path) -> None:
    base_url = "http://127.0.0.1:4321/v1"
    raw = sim_config(base_url, cache_dir=str(tmp_path / "cache"), ledger_dir=str(tmp_path / "ledger"))
    config = tl_config.parse_config(tl_config.deep_merge(tl_config.DEFAULTS, raw), "sim")
    assert [m.name for m in config.models] == [m["name"] for m in tl_config.DEFAULT_MODELS]
    for spec, default in zip(config.models, tl_config.DEFAULT_MODELS, strict=True):
        assert spec.base_url == base_url and spec.api_key_env is None
        assert (spec.input_per_mtok, spec.output_per_mtok) == (default["input_per_mtok"], default["output_per_mtok"])
    assert config.model_named("qwen2.5-coder-32b").api == "fim"
    assert config.cache.dir == tmp_path / "cache" and config.ledger.dir == tmp_path / "ledger"
    assert tl_config.DEFAULT_MODELS[0]["base_url"] != base_url  # the registry itself is untouched


def test_write_toml_round_trips(tmp_path: Path) -> None:
    raw = sim_config("http://127.0.0.1:4321/v1", cache_dir=str(tmp_path))
    path = tmp_path / "sub" / "tierline.toml"
    write_toml(raw, path)
    with path.open("rb") as f:
        assert tomllib.load(f) == raw
    text = path.read_text()
    assert "thresholds = { mid = 0.35, premium = 0.7 }" in text and text.count("[[models]]") == 5


def test_toml_text_escapes_and_skips_none() -> None:
    data = {
        "title": 'say "hi"\n\t\\ \x01 é',
        "n": 3,
        "on": True,
        "empty": [],
        "table": {"odd key": 1.5, "unset": None, "list": ["a", 2], "inline": {}},
    }
    assert tomllib.loads(toml_text(data)) == {**data, "table": {"odd key": 1.5, "list": ["a", 2], "inline": {}}}


# ---------------------------------------------------------------------------------------------
# Thread wrapper, loopback only, CLI


def test_simulator_thread_for_sync_code() -> None:
    with SimulatorThread() as sim:
        sim.set_behaviour("*", fault="server_error", fault_count=1)
        with httpx.Client(base_url=sim.base_url, timeout=5.0) as http:
            assert http.post("/completions", json=fim_body()).status_code == 503
            assert http.post("/completions", json=fim_body()).status_code == 200
        assert [r["status"] for r in sim.requests()] == [503, 200]
        assert sim.wait_for(lambda r: r["status"] == 200)["outcome"] == "ok"
        sim.reset()
        assert sim.requests() == []


async def test_refuses_a_non_loopback_host() -> None:
    with pytest.raises(ValueError, match="loopback"):
        await Simulator().start("0.0.0.0")
    with pytest.raises(ValueError):
        Simulator().set_behaviour("*", latency_ms=-1)


def test_cli_writes_config_prints_url_and_stops_on_sigterm(tmp_path: Path) -> None:
    config_path = tmp_path / "sim.toml"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tierline.devtools.simulator",
            "--port",
            "0",
            "--write-config",
            str(config_path),
            "--cache-dir",
            str(tmp_path / "c"),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = process.stdout.readline()  # the readiness signal: printed once listening
        assert line.startswith("tierline simulator listening on http://127.0.0.1:")
        base_url = line.rsplit(" ", 1)[1].strip()
        with config_path.open("rb") as f:
            assert tomllib.load(f)["models"][0]["base_url"] == base_url
        assert httpx.get(base_url + "/models", timeout=5).status_code == 200
        # Plausible code for the language, as the demo's (not tl_<model> lines): for trying an editor.
        body = {"model": FIM_MODEL, "prompt": "package main\n\nfunc main() {\n\t", "suffix": "\n}\n", "max_tokens": 64}
        answer = httpx.post(base_url + "/completions", json=body, timeout=5).json()["choices"][0]["text"]
        assert answer.strip() and "tl_" not in answer and "result =" not in answer, answer
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()


def test_cli_refuses_a_public_host(capsys: pytest.CaptureFixture[str]) -> None:
    from tierline.devtools.simulator import main

    assert main(["--host", "0.0.0.0"]) == 2
    assert "loopback" in capsys.readouterr().err
