"""Providers' odd answers (issue 17), replayed by the simulator over real HTTP on 127.0.0.1: what
the user gets (the completion, the attempt's detail, any message) and what the next request does."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.providers import ANSWER, SECRET, calls, model
from tierline.devtools.simulator import Simulator

pytestmark = pytest.mark.asyncio


async def test_a_content_filtered_answer_is_never_shown_and_the_next_model_answers(
    simulator: Simulator, harness: Any
) -> None:
    h = harness(model(simulator, "azure", "azure-content-filter"), model(simulator, "other", "openai-chat"))
    routed = await h.keystroke()
    assert routed.text == ANSWER  # not "total = compute(va"
    assert routed.route is not None
    filtered, answered = routed.route["attempts"]
    assert (filtered["model"], filtered["outcome"]) == ("azure", "rejected")
    assert "content filter" in filtered["detail"]
    assert answered["model"] == "other"
    # The filter judged that answer, not the model: the next request tries it again, and no pop-up.
    await h.keystroke()
    assert len(calls(simulator, "azure-content-filter")) == 2
    assert h.messages == []


async def test_a_content_filtered_answer_alone_shows_nothing(simulator: Simulator, harness: Any) -> None:
    h = harness(model(simulator, "azure", "azure-content-filter"))
    routed = await h.keystroke()
    assert routed.text is None


async def test_an_input_flagged_by_moderation_fails_over_for_that_request_only(
    simulator: Simulator, harness: Any
) -> None:
    h = harness(model(simulator, "or", "openrouter-moderation"), model(simulator, "other", "openai-chat"))
    routed = await h.keystroke()
    assert routed.text == ANSWER
    assert routed.route is not None
    flagged = routed.route["attempts"][0]
    assert flagged["outcome"] == "rejected" and flagged["detail"].startswith("HTTP 403")
    assert "flagged" in flagged["detail"] and "stays in use" in flagged["detail"]  # says so
    # Not set aside for 15 minutes, the key not blamed: the next request calls it again.
    second = await h.keystroke()
    assert second.route is not None and second.route["attempts"][0]["model"] == "or"
    assert len(calls(simulator, "openrouter-moderation")) == 2
    assert h.messages == []
    assert h.engine.stats()["by_model"]["or"].get("breaker") != "rejected"


async def test_groq_usage_under_x_groq_is_read(simulator: Simulator, harness: Any) -> None:
    h = harness(model(simulator, "groq", "groq-chat"))
    routed = await h.keystroke()
    assert routed.text == ANSWER
    (charge,) = h.charges
    assert (charge.tokens_in, charge.tokens_out) == (120, 7)
    assert charge.cost_source == "usage"


async def test_an_error_body_that_is_a_json_array_has_its_message_read(simulator: Simulator, harness: Any) -> None:
    h = harness(model(simulator, "gemini", "gemini-error-array"))
    routed = await h.keystroke()
    assert routed.route is not None
    detail = routed.route["attempts"][0]["detail"]
    assert detail == "HTTP 400: API key not valid. Please pass a valid API key."


async def test_a_single_503_with_retry_after_is_honoured(simulator: Simulator, harness: Any) -> None:
    h = harness(model(simulator, "busy", "busy-retry-after"))
    first = await h.keystroke()
    assert first.route is not None and first.route["attempts"][0]["detail"].startswith("HTTP 503")
    for _ in range(10):
        routed = await h.keystroke()
        assert routed.route is not None and routed.route["attempts"] == []
    assert len(calls(simulator, "busy-retry-after")) == 1  # one 503, and it waits as asked
    assert h.messages == []


async def test_litellm_without_a_database_gets_advice_about_the_key(simulator: Simulator, harness: Any) -> None:
    h = harness(model(simulator, "gw", "litellm-no-db"))
    routed = await h.keystroke()
    assert routed.text is None
    (message,) = h.messages
    level, text = message
    assert level == "error" and "No connected db." in text
    assert "master key" in text and "check the key in $TEST_KEY" in text
    assert "extra_body" not in text  # not the request's fields: the key
    assert SECRET not in text


async def test_flagged_inputs_in_a_row_do_not_take_the_model_out(simulator: Simulator, harness: Any) -> None:
    """Each flag is about its own input: after several in a row, the next request still asks the
    model first (no breaker opened by them)."""
    h = harness(model(simulator, "or", "openrouter-moderation"), model(simulator, "other", "openai-chat"))
    for _ in range(4):
        routed = await h.keystroke()
        assert routed.text == ANSWER
        assert routed.route is not None and routed.route["attempts"][0]["model"] == "or"
    assert len(calls(simulator, "openrouter-moderation")) == 4
    assert h.engine.stats()["by_model"]["or"].get("breaker") in (None, "closed")
