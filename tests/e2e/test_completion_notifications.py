"""A client that reports the way copilot-language-server's clients do — the item's command plus
`textDocument/didShowCompletion` and `textDocument/didPartiallyAcceptCompletion` — is counted
right over the real server; hostile payloads get one log line each, never a crash."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tierline.commands.demo import SIMPLE_PY

CURSOR = (5, 4)
SHOW = "textDocument/didShowCompletion"
PARTIAL = "textDocument/didPartiallyAcceptCompletion"


def fate(tmp_path: Path, request_id: str) -> tuple:
    with sqlite3.connect(tmp_path / "state" / "ledger.sqlite3") as db:
        return db.execute(
            "SELECT fate, accepted_chars, displayed FROM fates WHERE request_id = ?", (request_id,)
        ).fetchone()


async def shown_item(start_editor, tmp_path: Path):
    editor = await start_editor()
    uri = (tmp_path / "utils.py").as_uri()
    editor.open(uri, SIMPLE_PY, "python")
    completion = await editor.complete(uri, *CURSOR)
    item = {
        "insertText": completion.text,
        "range": {"start": {"line": CURSOR[0], "character": CURSOR[1]}, "end": {"line": 5, "character": 4}},
        "command": completion.command,
    }
    return editor, completion, item


async def test_shown_then_partially_accepted_twice_then_accepted_whole(start_editor, tmp_path):
    editor, completion, item = await shown_item(start_editor, tmp_path)
    request_id = completion.route["request_id"]

    editor.client.protocol.notify(SHOW, {"item": item})
    editor.client.protocol.notify(PARTIAL, {"item": item, "acceptedLength": 7})
    editor.client.protocol.notify(PARTIAL, {"item": item, "acceptedLength": 12})  # cumulative: 12 in all
    stats = await editor.command("tierline.stats")  # answered after the notifications before it

    assert fate(tmp_path, request_id) == ("partial", 12, 1)
    assert stats["acceptance"]["accepted"] == 1 and stats["acceptance"]["accepted_chars"] == 12

    editor.client.protocol.notify(PARTIAL, {"item": item, "acceptedLength": 5})  # an older count: no step back
    await editor.command(completion.command["command"], *completion.command["arguments"])

    assert fate(tmp_path, request_id) == ("accepted", len(completion.text), 1)
    stats = await editor.command("tierline.stats")
    assert stats["acceptance"]["accepted_chars"] == len(completion.text)


async def test_an_item_sent_back_with_only_its_id_is_counted_too(start_editor, tmp_path):
    editor, completion, _ = await shown_item(start_editor, tmp_path)
    request_id = completion.route["request_id"]

    editor.client.protocol.notify(PARTIAL, {"item": {"id": request_id}, "acceptedLength": 4})
    await editor.command("tierline.stats")

    assert fate(tmp_path, request_id) == ("partial", 4, 0)


HOSTILE = [
    None,
    [],
    "item",
    {"item": None},
    {"item": 5},
    {"item": {"command": {"command": "tierline.accepted", "arguments": [{"x": 1}]}}},
    {"item": {"command": {"command": "tierline.accepted", "arguments": ["x" * 10_000]}}},
    {"item": {"command": {"command": "something.else", "arguments": ["abc"]}}},
    {"item": {"id": "abc"}, "acceptedLength": -1},
    {"item": {"id": "abc"}, "acceptedLength": 1e300},
    {"item": {"id": "abc"}, "acceptedLength": True},
    {"item": {"id": "abc"}, "acceptedLength": "12"},
    {"item": {"a": {"a": {"a": {"a": {"a": {"a": {"a": {"a": {"a": {"a": {"a": {}}}}}}}}}}}}},
]


@pytest.mark.parametrize("method", [SHOW, PARTIAL])
async def test_hostile_payloads_get_one_log_line_each_and_the_server_keeps_answering(start_editor, tmp_path, method):
    editor, completion, _ = await shown_item(start_editor, tmp_path)

    for payload in HOSTILE:
        editor.client.protocol.notify(method, payload)
    stats = await editor.command("tierline.stats")
    again = await editor.complete((tmp_path / "utils.py").as_uri(), *CURSOR)

    assert stats["acceptance"]["accepted"] == 0
    assert again.text == completion.text
    log = editor.log_file.read_text()
    ignored = [line for line in log.splitlines() if f"tierline: ignored: {method}" in line]
    expected = len(HOSTILE) if method == PARTIAL else len(HOSTILE) - 4  # shown takes no acceptedLength
    assert len(ignored) == expected, log[-3000:]
    assert "Traceback" not in log
