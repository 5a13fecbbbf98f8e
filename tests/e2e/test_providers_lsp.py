"""A permanent provider error seen from the editor, over stdio: one call, one message, the status."""

from __future__ import annotations

from tests.helpers.lsp import open_doc

SECRET = "sk-test-DO-NOT-LEAK-5f0c9e1d2b3a"
SOURCE = "def add(a, b):\n    \n"


async def test_bad_key_costs_one_call_and_one_message_in_the_editor(start_editor, simulator, tmp_path):
    base = simulator.base_url.removesuffix("/v1")
    model = {
        "name": "direct",
        "tier": "cheap",
        "base_url": f"{base}/_wire/openai-bad-key/v1",
        "model": "gpt-4.1-nano",
        "api_key_env": "TEST_PROVIDER_KEY",
    }
    editor = await start_editor({"models": [model]}, env={"TEST_PROVIDER_KEY": SECRET})
    uri = open_doc(editor, tmp_path, "add.py", SOURCE)

    first = await editor.complete(uri, 1, 4)
    typed = "return a + b"
    for index, char in enumerate(typed):
        editor.type_text(uri, 1, 4 + index, char)
        later = await editor.complete(uri, 1, 5 + index)
        assert later.text is None
    stats = await editor.command("tierline.stats")

    assert first.text is None
    (attempt,) = first.route["attempts"]
    assert attempt["outcome"] == "rejected" and attempt["detail"].startswith("HTTP 401: Incorrect API key provided")
    assert len([r for r in simulator.requests if r.get("wire") == "openai-bad-key"]) == 1
    set_aside = [m for m in editor.messages if "set aside" in m]
    assert len(set_aside) == 1
    assert "'direct'" in set_aside[0] and "$TEST_PROVIDER_KEY" in set_aside[0]
    assert stats["by_model"]["direct"]["breaker"] == "rejected"
    assert stats["by_model"]["direct"]["rejected"].startswith("HTTP 401")
    log = editor.log_file.read_text()
    assert SECRET not in log + repr(editor.messages) + repr(stats) + repr(first.route)
