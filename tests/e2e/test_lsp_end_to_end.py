"""The real server over stdio (pytest-lsp client) and the real simulator over HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled

from tests.helpers.common import SECRET
from tests.helpers.lsp import SIMPLE_CURSOR, completion_requests, open_doc
from tierline.commands.demo import LOADER_CURSOR, NESTED_PY, SIMPLE_PY
from tierline.devtools.simulator import model_tag

COMPLEX_CURSOR = LOADER_CURSOR  # four levels deep in a loop in a method, with external imports


async def test_simple_position_goes_cheap_and_the_text_comes_from_that_model(start_editor, simulator, tmp_path):
    editor = await start_editor()
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)

    completion = await editor.complete(uri, *SIMPLE_CURSOR)

    route = completion.route
    assert route["tier"] == "cheap"
    assert route["model"] in ("qwen2.5-coder-32b", "deepseek-v4-flash")
    assert route["cached"] is False and route["cost_usd"] > 0
    assert [a["outcome"] for a in route["attempts"]] == ["ok"]
    assert route["uri"] == uri and route["position"] == {"line": 5, "character": 4}
    assert completion.text and "tl_" in completion.text
    # The text really is that model's: the simulator tags each answer with the model id.
    requested = completion_requests(simulator)
    assert len(requested) == 1
    assert model_tag(requested[0]["model"]) in completion.text
    assert "```" not in completion.text and not completion.text.startswith("    ")


async def test_complex_position_goes_to_a_higher_tier(start_editor, tmp_path):
    editor = await start_editor()
    simple = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)
    nested = open_doc(editor, tmp_path, "loader.py", NESTED_PY)

    cheap = await editor.complete(simple, *SIMPLE_CURSOR)
    higher = await editor.complete(nested, *COMPLEX_CURSOR)

    assert cheap.route["tier"] == "cheap"
    assert higher.route["tier"] in ("mid", "premium")
    assert higher.route["score"] > cheap.route["score"]
    assert higher.route["model"] in {"claude-haiku", "claude-sonnet", "claude-opus"}
    assert higher.text and "claude" in higher.text


async def test_explain_scores_without_calling_a_model(start_editor, simulator, tmp_path):
    editor = await start_editor()
    uri = open_doc(editor, tmp_path, "loader.py", NESTED_PY)

    explained = await editor.command(
        "tierline.explain", uri, {"line": COMPLEX_CURSOR[0], "character": COMPLEX_CURSOR[1]}
    )

    features = explained["features"]
    for key in (
        "language",
        "nesting_depth",
        "imports",
        "stdlib_imports",
        "external_imports",
        "system_imports",
        "context_tokens",
    ):
        assert key in features
    assert features["language"] == "python"
    assert features["nesting_depth"] >= 4
    assert features["external_imports"] >= 3
    assert 0.0 <= explained["score"] <= 1.0
    assert explained["tier"] in ("mid", "premium")
    assert explained["model"] in {"claude-haiku", "claude-sonnet", "claude-opus"}
    assert completion_requests(simulator) == []


async def test_identical_request_is_served_from_the_disk_cache(start_editor, simulator, tmp_path):
    editor = await start_editor()
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)

    first = await editor.complete(uri, *SIMPLE_CURSOR)
    second = await editor.complete(uri, *SIMPLE_CURSOR)

    assert second.text == first.text
    assert second.route["cached"] is True and second.route["cost_usd"] == 0
    assert len(completion_requests(simulator)) == 1
    cache_dir = tmp_path / "cache"
    assert cache_dir.is_dir() and (cache_dir.stat().st_mode & 0o777) == 0o700


async def test_cache_survives_a_server_restart(start_editor, simulator, tmp_path):
    first_editor = await start_editor()
    uri = open_doc(first_editor, tmp_path, "utils.py", SIMPLE_PY)
    first = await first_editor.complete(uri, *SIMPLE_CURSOR)
    await first_editor.client.shutdown_session()

    second_editor = await start_editor()
    open_doc(second_editor, tmp_path, "utils.py", SIMPLE_PY)
    again = await second_editor.complete(uri, *SIMPLE_CURSOR)

    assert again.text == first.text and again.route["cached"] is True
    assert len(completion_requests(simulator)) == 1


async def test_typing_the_start_of_a_completion_serves_the_rest_without_a_call(start_editor, simulator, tmp_path):
    editor = await start_editor()
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)
    shown = await editor.complete(uri, *SIMPLE_CURSOR)
    typed = shown.text[:4]

    editor.type_text(uri, SIMPLE_CURSOR[0], SIMPLE_CURSOR[1], typed)
    rest = await editor.complete(uri, SIMPLE_CURSOR[0], SIMPLE_CURSOR[1] + len(typed))

    assert rest.text == shown.text[4:]
    assert rest.route["cached"] is True
    assert len(completion_requests(simulator)) == 1


async def test_escalate_sends_only_the_next_request_to_premium(start_editor, tmp_path):
    editor = await start_editor()
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)

    await editor.command("tierline.escalate")
    escalated = await editor.complete(uri, *SIMPLE_CURSOR)
    editor.type_text(uri, 5, 4, "x = ")
    after = await editor.complete(uri, 5, 8)

    assert escalated.route["tier"] == "premium" and escalated.route["model"] == "claude-opus"
    assert "claude_opus" in escalated.text
    assert "escalated" in escalated.route["reason"]
    assert after.route["tier"] == "cheap" and after.route["cached"] is False


async def test_explaining_a_position_leaves_a_pending_escalation_for_the_next_request(start_editor, tmp_path):
    # tierline.explain calls no model and changes nothing: the escalation still goes to the completion.
    editor = await start_editor()
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)

    await editor.command("tierline.escalate")
    explained = await editor.command("tierline.explain", uri, {"line": SIMPLE_CURSOR[0], "character": SIMPLE_CURSOR[1]})
    escalated = await editor.complete(uri, *SIMPLE_CURSOR)

    assert explained["tier"] == "premium"  # what the next request would do
    assert escalated.route["tier"] == "premium" and escalated.route["model"] == "claude-opus"


async def test_failing_model_falls_back_to_the_next_one(start_editor, simulator, tmp_path):
    editor = await start_editor()
    simulator.set_behaviour("qwen2.5-coder-32b", fault="server_error")
    simulator.set_behaviour("deepseek-v4-flash", fault="server_error")
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)

    completion = await editor.complete(uri, *SIMPLE_CURSOR)

    outcomes = [(a["model"], a["outcome"]) for a in completion.route["attempts"]]
    assert outcomes[:2] == [("qwen2.5-coder-32b", "server_error"), ("deepseek-v4-flash", "server_error")]
    assert outcomes[2] == ("claude-haiku", "ok")
    # Never down: the answer came from the next tier up, and says so.
    assert completion.route["tier"] == "mid" and completion.route["model"] == "claude-haiku"
    assert "claude_haiku" in completion.text


async def test_stats_count_requests_calls_hits_and_savings(start_editor, tmp_path):
    editor = await start_editor()
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)
    await editor.complete(uri, *SIMPLE_CURSOR)
    await editor.complete(uri, *SIMPLE_CURSOR)
    editor.type_text(uri, 5, 4, "x = ")
    await editor.complete(uri, 5, 8)

    stats = await editor.command("tierline.stats")

    assert stats["requests"] == 3
    assert stats["model_calls"] == 2
    assert stats["cache_hits"] == 1
    assert 0 < stats["spend_usd"] < stats["premium_baseline_usd"]
    assert stats["savings_pct"] > 50
    assert stats["by_tier"]["cheap"]["requests"] == 3
    model = next(iter(m for m in stats["by_model"].values() if m["calls"]))
    assert model["ewma_ms"] is not None and model["p95_ms"] is not None and model["spend_usd"] > 0
    assert stats["today"]["requests"] == 3
    assert stats["budget"]["daily_usd"] == 5.0 and stats["budget"]["reached"] is False


async def test_cancelling_the_request_closes_the_http_call(start_editor, simulator, tmp_path):
    editor = await start_editor()
    simulator.set_behaviour("*", fault="hang")
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)
    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(*SIMPLE_CURSOR),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
    )
    pending = asyncio.ensure_future(
        editor.client.protocol.send_request_async(types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id="cancel-me")
    )
    await simulator.wait_for(lambda r: r["outcome"] == "pending", timeout=10)

    editor.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="cancel-me"))

    disconnected = await simulator.wait_for(lambda r: r["outcome"] == "disconnected", timeout=10)
    assert disconnected["model"]
    with pytest.raises(JsonRpcRequestCancelled):
        await pending
    stats = await editor.command("tierline.stats")
    assert stats["requests"] == 1 and stats["spend_usd"] == 0


async def test_newer_request_for_the_same_document_cancels_the_older(start_editor, simulator, tmp_path):
    editor = await start_editor()
    simulator.set_behaviour("qwen2.5-coder-32b", fault="hang", fault_count=1)
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)
    older = asyncio.ensure_future(editor.complete(uri, *SIMPLE_CURSOR))
    await simulator.wait_for(lambda r: r["outcome"] == "pending", timeout=10)

    editor.type_text(uri, 5, 4, "r")
    newer = await editor.complete(uri, 5, 5)

    assert (await older).text is None
    assert newer.text and newer.route["tier"] == "cheap"
    await simulator.wait_for(lambda r: r["outcome"] == "disconnected", timeout=10)


async def test_model_without_its_key_is_skipped_with_one_message(start_editor, simulator, tmp_path):
    overrides = {
        "models": [
            {
                "name": "needs-key",
                "tier": "cheap",
                "base_url": simulator.base_url,
                "model": "sim/needs-key",
                "api_key_env": "TIERLINE_TEST_UNSET_KEY",
                "input_per_mtok": 0.01,
                "output_per_mtok": 0.01,
            },
            {
                "name": "open-cheap",
                "tier": "cheap",
                "base_url": simulator.base_url,
                "model": "sim/open-cheap",
                "input_per_mtok": 0.14,
                "output_per_mtok": 0.28,
            },
            {
                "name": "open-premium",
                "tier": "premium",
                "base_url": simulator.base_url,
                "model": "sim/open-premium",
                "input_per_mtok": 5,
                "output_per_mtok": 25,
            },
        ]
    }
    editor = await start_editor(overrides)
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)

    first = await editor.complete(uri, *SIMPLE_CURSOR)
    editor.type_text(uri, 5, 4, "r")
    second = await editor.complete(uri, 5, 5)

    assert first.route["model"] == second.route["model"] == "open-cheap"
    warnings = [m for m in editor.messages if "TIERLINE_TEST_UNSET_KEY" in m]
    assert len(warnings) == 1 and "needs-key" in warnings[0]


async def test_api_key_is_sent_but_never_stored_logged_or_shown(start_editor, simulator, tmp_path):
    overrides = {
        "models": [
            {
                "name": "keyed-cheap",
                "tier": "cheap",
                "base_url": simulator.base_url,
                "model": "sim/keyed-cheap",
                "api_key_env": "TIERLINE_TEST_KEY",
                "input_per_mtok": 0.14,
                "output_per_mtok": 0.28,
            },
            {
                "name": "keyed-premium",
                "tier": "premium",
                "base_url": simulator.base_url,
                "model": "sim/keyed-premium",
                "api_key_env": "TIERLINE_TEST_KEY",
                "input_per_mtok": 5,
                "output_per_mtok": 25,
            },
        ]
    }
    editor = await start_editor(overrides, env={"TIERLINE_TEST_KEY": SECRET})
    simulator.set_behaviour("sim/keyed-cheap", fault="server_error", fault_count=1)
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)

    await editor.complete(uri, *SIMPLE_CURSOR)
    editor.type_text(uri, 5, 4, "r")
    await editor.complete(uri, 5, 5)
    stats = await editor.command("tierline.stats")
    await editor.client.shutdown_session()

    assert all(r["authorization"] for r in completion_requests(simulator))
    seen = [str(editor.routes), str(editor.messages), str(stats)]
    for path in (tmp_path / "cache", tmp_path / "state", editor.log_file):
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        seen += [p.read_bytes().decode("utf-8", errors="replace") for p in files]
    assert all(SECRET not in text for text in seen)
    assert all(SECRET[-12:] not in text for text in seen)


async def test_bad_config_file_is_named_and_the_server_keeps_running(start_editor, simulator, tmp_path):
    bad = f'[routing]\nthresholds = {{ mid = "high", premium = 0.7 }}\n\n[[models]]\nname = "x"\ntier = "cheap"\nbase_url = "{simulator.base_url}"\nmodel = "m"\n'
    editor = await start_editor(config_text=bad)
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)

    explained = await editor.command("tierline.explain", uri, {"line": 5, "character": 4})

    assert any("routing.thresholds.mid" in m and "tierline-0.toml" in m for m in editor.messages)
    # Fail closed: no built-in cloud model takes the place of the refused config.
    assert explained["model"] is None and "refused" in explained["model_reason"]


async def test_bad_setting_from_the_editor_is_refused_and_the_previous_config_kept(start_editor, tmp_path):
    editor = await start_editor()
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)
    editor.settings({"routing": {"latency_budget_ms": "fast"}})
    completion = await editor.complete(uri, *SIMPLE_CURSOR)

    assert any("routing.latency_budget_ms" in m and "LSP settings" in m for m in editor.messages)
    assert completion.text and completion.route["tier"] == "cheap"


async def test_settings_from_the_editor_change_routing_without_a_restart(start_editor, tmp_path):
    # The editor's settings may only tighten: raise the thresholds the user's file set low.
    editor = await start_editor({"routing": {"thresholds": {"mid": 0.0, "premium": 0.0}}})
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)
    before = await editor.command("tierline.explain", uri, {"line": 5, "character": 4})

    editor.settings({"routing": {"thresholds": {"mid": 0.9, "premium": 0.95}}, "server": {"command": ["x"]}})
    after = await editor.command("tierline.explain", uri, {"line": 5, "character": 4})

    assert before["tier"] == "premium" and after["tier"] == "cheap"


async def test_daily_budget_is_a_hard_cap(start_editor, simulator, tmp_path):
    editor = await start_editor({"budget": {"daily_usd": 0.0000001}})
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)

    completion = await editor.complete(uri, *SIMPLE_CURSOR)
    stats = await editor.command("tierline.stats")

    assert completion.text is None
    assert completion.route["attempts"][0]["outcome"] == "skipped_budget"
    assert completion_requests(simulator) == []
    assert any("budget" in m for m in editor.messages)
    assert stats["spend_usd"] == 0


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
async def test_positions_after_non_ascii_text_map_to_the_same_code(start_editor, tmp_path, encoding):
    # "é" is 2 bytes in utf-8 and 1 unit in utf-16; "🙂" is 4 bytes and 2 units.
    text = 'GREETING = "héllo 🙂"\nname = GREETING + "🙂"; size = len(name)\n'
    # No cross-file context: the twin below would get the first document as a snippet (another key).
    editor = await start_editor({"context": {"sources": []}}, encoding=encoding)
    uri = open_doc(editor, tmp_path, "emoji.py", text)
    line = text.split("\n")[1]
    cut = line.index("size")
    character = len(line[:cut].encode("utf-8")) if encoding == "utf-8" else len(line[:cut].encode("utf-16-le")) // 2

    completion = await editor.complete(uri, 1, character)

    # Mid-line: a single line, and the range is exactly the cursor in the negotiated encoding.
    assert completion.text and "\n" not in completion.text
    assert completion.route["position"] == {"line": 1, "character": character}
    # An incremental edit after the emoji lands where the editor meant it: the edited document
    # and a fresh one opened with the expected text give the same prompt, so the second is a
    # cache hit (the cache key is the code around the cursor).
    typed = "total = 1; "
    editor.type_text(uri, 1, character, typed)
    moved = character + (len(typed.encode("utf-8")) if encoding == "utf-8" else len(typed))
    edited = await editor.complete(uri, 1, moved)
    expected = text.replace("size = len", typed + "size = len")
    (tmp_path / "twin").mkdir()
    twin = open_doc(editor, tmp_path / "twin", "emoji.py", expected)
    fresh = await editor.complete(twin, 1, moved)
    assert edited.route["cached"] is False
    assert fresh.route["cached"] is True and fresh.text == edited.text


async def test_with_a_manual_trigger_only_an_invoked_request_calls_a_model(start_editor, simulator, tmp_path):
    editor = await start_editor({"completion": {"trigger": "manual"}})
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)

    typed = await editor.complete(uri, *SIMPLE_CURSOR, automatic=True)
    assert typed.text is None and typed.route is None
    assert completion_requests(simulator) == []

    asked = await editor.complete(uri, *SIMPLE_CURSOR)
    assert asked.text and asked.route["model"] is not None
    assert len(completion_requests(simulator)) == 1


async def test_backspace_does_not_fire_a_call(start_editor, simulator, tmp_path):
    editor = await start_editor({"completion": {"debounce_ms": 0}})
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY.replace("    \n", "    ret\n"))

    editor.replace(uri, (5, 6), (5, 7), "")
    completion = await editor.complete(uri, 5, 6, automatic=True)

    assert completion.text is None and completion.route is None
    assert completion_requests(simulator) == []


async def test_empty_settings_from_neovim_are_accepted(start_editor, tmp_path):
    # Neovim encodes an empty Lua table as a JSON array.
    editor = await start_editor(initialization_options=[])
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)
    editor.settings([])

    completion = await editor.complete(uri, *SIMPLE_CURSOR)

    assert completion.text and editor.messages == []
