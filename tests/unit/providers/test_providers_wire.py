"""Each provider's documented wire format, replayed by the simulator over real HTTP on 127.0.0.1,
through the real pipeline (CompletionEngine): what is served, what is charged, what is sent, and
how failures are taken (issue 9)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers.providers import ANSWER, SECRET, Harness, calls, config, model
from tierline import __version__
from tierline.analysis import languages
from tierline.analysis.documents import Document
from tierline.completion.request import CursorRequest
from tierline.devtools.simulator import Simulator

pytestmark = pytest.mark.asyncio


# -- clean streams: served, and charged as the provider reported ------------------------------

# (scenario, model keys, tokens_in, cached_in, tokens_out, reported cost or None)
CLEAN = [
    ("openai-chat", {}, 2048, 1024, 7, None),
    ("openrouter-chat", {}, 100, 0, 7, 0.0004213),
    ("deepseek-chat", {}, 1500, 1280, 7, None),
    ("deepseek-fim", {"api": "fim"}, 300, 256, 7, None),
    ("anthropic-messages", {"api": "anthropic"}, 1840, 1800, 9, None),
    ("mistral-fim", {"api": "fim", "path": "/fim/completions", "stream_usage": False}, 300, 0, 7, None),
    ("ollama-chat", {"api_key_env": ""}, 90, 0, 7, None),
    ("llamacpp-no-done", {}, 80, 0, 7, None),
    ("azure-chat", {"auth": "api-key"}, None, 0, None, None),
    ("vllm-bare-end", {}, None, 0, None, None),
    ("delta-null", {}, None, 0, None, None),
    ("litellm-cost", {}, None, 0, None, 0.000321),
]


@pytest.mark.parametrize(("scenario", "keys", "tokens_in", "cached_in", "tokens_out", "reported"), CLEAN)
async def test_clean_stream_is_served_and_charged(
    simulator: Simulator,
    harness: Any,
    scenario: str,
    keys: dict[str, Any],
    tokens_in: int | None,
    cached_in: int,
    tokens_out: int | None,
    reported: float | None,
) -> None:
    h = harness(model(simulator, "m1", scenario, **keys))
    routed = await h.keystroke()
    assert routed.text == ANSWER, routed.route
    assert routed.route is not None and [a["outcome"] for a in routed.route["attempts"]] == ["ok"]
    (charge,) = h.charges
    if reported is not None:
        assert charge.cost_usd == reported and charge.cost_source == "reported"
    if tokens_in is not None and tokens_out is not None:
        # The provider's usage, not tierline's estimate, priced at the model's prices.
        assert (charge.tokens_in, charge.tokens_out, charge.cached_tokens_in) == (tokens_in, tokens_out, cached_in)
        fresh = tokens_in - cached_in
        assert reported is not None or charge.cost_usd == pytest.approx(
            (fresh * 2.0 + cached_in * 0.5 + tokens_out * 10.0) / 1e6, abs=1e-12
        )
    # "reported" only when the provider said what the call cost; "usage" when it sent its token counts.
    assert charge.cost_source == ("reported" if reported else "usage" if tokens_in is not None else "estimated")
    (sent,) = calls(simulator, scenario)
    assert sent["headers"]["user-agent"] == f"tierline/{__version__}"


async def test_single_line_early_stop_is_marked_estimated(simulator: Simulator, harness: Any) -> None:
    """A mid-line completion stops reading at the end of its line: before the usage chunk."""
    h = harness(model(simulator, "m1", "openai-chat"))
    h.version += 1
    source = b"x = foo()\n"
    document = Document("file:///t.py", "python", 1, source, parser=languages.parser_for("python"))
    routed = await h.engine.complete(CursorRequest(document, len("x = foo(")))
    assert routed.route is not None and routed.route["attempts"][0]["outcome"] == "ok", routed.route
    (charge,) = h.charges
    assert charge.cost_source == "estimated"


# -- stream failures: the attempt fails, the request does not ---------------------------------


@pytest.mark.parametrize(
    ("scenario", "detail"),
    [
        ("openrouter-error-in-stream", "Provider returned error"),
        ("anthropic-overloaded", "Overloaded"),
        ("cut", "connection failed"),
        ("bad-shape", "unexpected `choices`"),
    ],
)
async def test_broken_stream_fails_the_attempt_and_falls_back(
    simulator: Simulator, harness: Any, scenario: str, detail: str
) -> None:
    api = {"api": "anthropic"} if scenario.startswith("anthropic") else {}
    h = harness(model(simulator, "broken", scenario, **api), model(simulator, "good", "openai-chat"))
    routed = await h.keystroke()
    assert routed.route is not None
    attempts = routed.route["attempts"]
    assert [(a["model"], a["outcome"]) for a in attempts] == [("broken", "server_error"), ("good", "ok")]
    assert detail in attempts[0]["detail"]
    assert routed.text == ANSWER
    # Nothing of the broken stream was served or cached.
    assert "json.lo" not in (routed.text or "")
    assert [c.model for c in h.charges if c.outcome == "ok"] == ["good"]


async def test_length_cut_serves_only_whole_lines(simulator: Simulator, harness: Any) -> None:
    h = harness(model(simulator, "m1", "openai-length"))
    routed = await h.keystroke()
    assert routed.text == ANSWER  # "return tot" (cut mid-token) is dropped


# -- permanent errors: one call, one message, set aside until the config changes --------------

PERMANENT = [
    ("openai-bad-key", {}, 401, "Incorrect API key provided"),
    ("openai-unknown-model", {}, 404, "does not exist"),
    ("openai-moderation", {}, 400, "safety system"),
    ("openai-too-large", {}, 413, "Request too large"),
    ("openrouter-no-credits", {}, 402, "requires more credits"),
    ("mistral-fim", {"api": "fim", "path": "/fim/completions"}, 422, "Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("scenario", "keys", "status", "said"), PERMANENT)
async def test_permanent_error_costs_one_call_and_one_message(
    simulator: Simulator, harness: Any, scenario: str, keys: dict[str, Any], status: int, said: str
) -> None:
    h = harness(model(simulator, "m1", scenario, **keys))
    first = await h.keystroke()
    assert first.text is None and first.route is not None
    (attempt,) = first.route["attempts"]
    assert attempt["outcome"] == "rejected"
    assert attempt["detail"].startswith(f"HTTP {status}") and said in attempt["detail"]
    for _ in range(23):
        routed = await h.keystroke()
        assert routed.text is None
    assert len(calls(simulator, scenario)) == 1
    assert len(h.messages) == 1
    level, text = h.messages[0]
    assert level == "error" and "'m1' is set aside" in text and said in text
    everything = repr(h.messages) + repr(first.route) + repr(h.engine.stats())
    assert SECRET not in everything
    assert h.engine.stats()["by_model"]["m1"]["rejected"].startswith(f"HTTP {status}")
    assert h.engine.stats()["by_model"]["m1"]["breaker"] == "rejected"


async def test_rejected_model_gets_one_more_call_after_its_config_changes(
    simulator: Simulator, harness: Any, tmp_path: Path
) -> None:
    h = harness(model(simulator, "m1", "openai-bad-key"))
    await h.keystroke()
    await h.keystroke()
    h.engine.reconfigure(config(tmp_path, model(simulator, "m1", "openai-bad-key")))  # unchanged
    await h.keystroke()
    assert len(calls(simulator, "openai-bad-key")) == 1
    h.engine.reconfigure(config(tmp_path, model(simulator, "m1", "openai-bad-key", timeout_ms=9000)))
    await h.keystroke()
    await h.keystroke()
    assert len(calls(simulator, "openai-bad-key")) == 2
    assert len(h.messages) == 2  # once per config


async def test_rejected_model_is_passed_over_for_the_next(simulator: Simulator, harness: Any) -> None:
    h = harness(model(simulator, "bad", "openai-unknown-model"), model(simulator, "good", "openai-chat"))
    first = await h.keystroke()
    assert first.text == ANSWER
    second = await h.keystroke()
    assert second.route is not None and [a["model"] for a in second.route["attempts"]] == ["good"]


async def test_key_echoed_by_provider_is_masked(simulator: Simulator, harness: Any) -> None:
    h = harness(model(simulator, "m1", "openai-bad-key"))
    routed = await h.keystroke()
    assert routed.route is not None
    detail = routed.route["attempts"][0]["detail"]
    assert SECRET not in detail and "***" in detail


# -- transient: Retry-After honoured even when every model is down ----------------------------


async def test_retry_after_is_honoured_when_every_model_is_down(simulator: Simulator, harness: Any) -> None:
    h = harness(model(simulator, "m1", "openai-rate-limit"))
    first = await h.keystroke()
    assert first.route is not None and first.route["attempts"][0]["outcome"] == "rate_limited"
    for _ in range(15):
        routed = await h.keystroke()
        assert routed.text is None
        assert routed.route is not None and routed.route["attempts"] == []
    assert len(calls(simulator, "openai-rate-limit")) == 1
    assert h.messages == []  # transient: no message


# -- request shaping --------------------------------------------------------------------------


async def test_request_shaping_keys_reach_the_wire(simulator: Simulator, harness: Any) -> None:
    h = harness(
        model(
            simulator,
            "m1",
            "openai-chat",
            headers={"X-Title": "my-app", "X-Custom": "1"},
            extra_body={"provider": {"sort": "latency"}, "temperature": 0.0},
            auth="x-api-key",
        )
    )
    routed = await h.keystroke()
    assert routed.text == ANSWER
    (sent,) = calls(simulator, "openai-chat")
    assert sent["headers"]["x-title"] == "my-app" and sent["headers"]["x-custom"] == "1"
    assert sent["headers"]["x-api-key"] == "<present>" and "authorization" not in sent["headers"]
    assert sent["body"]["provider"] == {"sort": "latency"} and sent["body"]["temperature"] == 0.0
    assert sent["body"]["stream_options"] == {"include_usage": True}


async def test_reasoning_model_needs_max_completion_tokens(simulator: Simulator, harness: Any) -> None:
    refused = harness(model(simulator, "o", "openai-chat", model="o3-mini"))
    assert (await refused.keystroke()).text is None
    fine = harness(model(simulator, "o", "openai-chat", model="o3-mini", max_tokens_field="max_completion_tokens"))
    assert (await fine.keystroke()).text == ANSWER
    bodies = [r["body"] for r in calls(simulator, "openai-chat")]
    assert "max_tokens" in bodies[0] and bodies[1]["max_completion_tokens"] == 128 and "max_tokens" not in bodies[1]


async def test_auth_none_and_path_override(simulator: Simulator, harness: Any) -> None:
    h = harness(
        model(simulator, "m1", "mistral-fim", api="fim", path="/fim/completions", stream_usage=False, auth="none")
    )
    assert (await h.keystroke()).text == ANSWER
    (sent,) = calls(simulator, "mistral-fim")
    assert sent["path"].endswith("/v1/fim/completions")
    assert "authorization" not in sent["headers"] and "stream_options" not in sent["body"]


async def test_anthropic_request_shape(simulator: Simulator, harness: Any) -> None:
    h = harness(model(simulator, "claude", "anthropic-messages", api="anthropic"))
    await h.keystroke("import os\n\n\ndef total_of(values):\n    ")
    (sent,) = calls(simulator, "anthropic-messages")
    assert sent["path"].endswith("/v1/messages")
    assert sent["headers"]["x-api-key"] == "<present>" and sent["headers"]["anthropic-version"] == "2023-06-01"
    blocks = sent["body"]["messages"][0]["content"]
    assert blocks[0]["cache_control"] == {"type": "ephemeral"} and "import os" in blocks[0]["text"]
    assert "cache_control" not in blocks[-1] and "<|cursor|>" in blocks[-1]["text"]
    assert "stream_options" not in sent["body"] and sent["body"]["max_tokens"] == 128


async def test_ledger_rows_say_reported_or_priced_from_usage(simulator: Simulator, tmp_path: Path) -> None:
    import sqlite3

    for scenario in ("openrouter-chat", "deepseek-chat"):
        h = Harness(config(tmp_path / scenario, model(simulator, scenario, scenario)))
        assert (await h.keystroke()).text == ANSWER
        await h.close()
    rows = {}
    for scenario in ("openrouter-chat", "deepseek-chat"):
        with sqlite3.connect(tmp_path / scenario / "state" / "ledger.sqlite3") as db:
            rows[scenario] = db.execute(
                "SELECT tokens_in, cached_tokens_in, cost_usd, cost_source FROM calls WHERE outcome = 'ok'"
            ).fetchall()
    assert rows["openrouter-chat"] == [(100, 0, 0.0004213, "reported")]
    ((tokens_in, cached, cost, source),) = rows["deepseek-chat"]
    assert (tokens_in, cached, source) == (1500, 1280, "usage")
    assert cost == pytest.approx((220 * 2.0 + 1280 * 0.5 + 7 * 10.0) / 1e6, abs=1e-12)
