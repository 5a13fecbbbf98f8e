"""Acceptance over the real server: the item's command, `tierline.accepted`, fates, stats, retention."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tierline.commands.demo import LOADER_CURSOR, NESTED_PY, SIMPLE_PY

SIMPLE_CURSOR = (5, 4)


def open_doc(editor, tmp_path: Path, name: str, text: str) -> str:
    uri = (tmp_path / name).as_uri()
    editor.open(uri, text, "python")
    return uri


def fates(tmp_path: Path) -> dict[str, tuple]:
    with sqlite3.connect(tmp_path / "state" / "ledger.sqlite3") as db:
        rows = db.execute("SELECT request_id, fate, shown_chars, accepted_chars, retained_chars, tier FROM fates")
        return {row[0]: row[1:] for row in rows}


def spend(tmp_path: Path, tier: str) -> float:
    with sqlite3.connect(tmp_path / "state" / "ledger.sqlite3") as db:
        (total,) = db.execute("SELECT SUM(cost_usd) FROM calls WHERE tier = ?", (tier,)).fetchone()
        return float(total)


async def accept(editor, completion, *extra):
    command = completion.command
    return await editor.command(command["command"], *command["arguments"], *extra)


async def test_the_item_carries_the_accept_command_and_accepting_shows_in_stats_under_its_tier(start_editor, tmp_path):
    editor = await start_editor()
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)

    completion = await editor.complete(uri, *SIMPLE_CURSOR)
    request_id = completion.route["request_id"]

    assert completion.command["command"] == "tierline.accepted"
    assert completion.command["arguments"] == [request_id]
    before = await editor.command("tierline.stats")
    assert before["acceptance"]["shown"] == 1 and before["acceptance"]["accepted"] == 0
    assert before["acceptance"]["cost_per_accepted_char_usd"] is None

    answer = await accept(editor, completion)
    editor.type_text(uri, *SIMPLE_CURSOR, completion.text)  # what the editor inserts on Tab

    assert answer == {"recorded": True, "request_id": request_id, "accepted_chars": len(completion.text)}
    stats = await editor.command("tierline.stats")
    chars = len(completion.text)
    expected = {
        "shown": 1,
        "accepted": 1,
        "rate": 1.0,
        "accepted_chars": chars,
        "retained_chars": 0,  # not measured yet: too soon
        "cost_per_accepted_char_usd": round(spend(tmp_path, "cheap") / chars, 10),
        "retained": {"30s": None, "120s": None, "300s": None, "600s": None},  # not measured yet either
    }
    assert stats["acceptance"] == expected
    assert stats["by_tier"]["cheap"]["acceptance"] == expected
    assert fates(tmp_path)[request_id] == ("accepted", chars, chars, None, "cheap")


async def test_a_higher_tier_acceptance_counts_under_that_tier_not_cheap(start_editor, tmp_path):
    editor = await start_editor()
    simple = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)
    nested = open_doc(editor, tmp_path, "loader.py", NESTED_PY)

    await editor.complete(simple, *SIMPLE_CURSOR)  # shown, never accepted
    higher = await editor.complete(nested, *LOADER_CURSOR)
    await accept(editor, higher)

    stats = await editor.command("tierline.stats")
    tier = higher.route["tier"]
    assert tier in ("mid", "premium")
    assert stats["by_tier"][tier]["acceptance"]["accepted"] == 1
    assert stats["by_tier"][tier]["acceptance"]["rate"] == 1.0
    assert stats["by_tier"]["cheap"]["acceptance"]["shown"] == 1
    assert stats["by_tier"]["cheap"]["acceptance"]["accepted"] == 0
    assert stats["acceptance"]["rate"] == 0.5


async def test_partial_acceptances_add_up_and_a_whole_one_takes_every_character(start_editor, tmp_path):
    editor = await start_editor()
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)
    completion = await editor.complete(uri, *SIMPLE_CURSOR)
    request_id = completion.route["request_id"]
    chars = len(completion.text)

    first = await accept(editor, completion, {"kind": "word", "chars": 7})
    assert first["accepted_chars"] == 7
    assert fates(tmp_path)[request_id][:3] == ("partial", chars, 7)
    await accept(editor, completion, {"kind": "line", "chars": chars + 50})  # capped at what was shown
    assert fates(tmp_path)[request_id][:3] == ("accepted", chars, chars)

    stats = await editor.command("tierline.stats")
    assert stats["acceptance"]["accepted"] == 1 and stats["acceptance"]["accepted_chars"] == chars


async def test_a_completion_replaced_without_acceptance_is_ignored_and_a_dismissed_one_dismissed(
    start_editor, tmp_path
):
    editor = await start_editor()
    uri = open_doc(editor, tmp_path, "loader.py", NESTED_PY)
    other = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)

    first = await editor.complete(uri, *LOADER_CURSOR)
    editor.type_text(uri, LOADER_CURSOR[0], LOADER_CURSOR[1], "x = 1\n" + " " * LOADER_CURSOR[1])
    second = await editor.complete(uri, LOADER_CURSOR[0] + 1, LOADER_CURSOR[1])
    dismissed = await editor.complete(other, *SIMPLE_CURSOR)
    await accept(editor, dismissed, {"kind": "dismiss"})

    recorded = fates(tmp_path)
    assert recorded[first.route["request_id"]][0] == "ignored"
    assert recorded[second.route["request_id"]][0] == "shown"  # still on screen
    assert recorded[dismissed.route["request_id"]][0] == "dismissed"
    stats = await editor.command("tierline.stats")
    assert stats["acceptance"]["shown"] == 3 and stats["acceptance"]["accepted"] == 0


async def test_typing_through_then_accepting_records_the_first_completion_once(start_editor, tmp_path):
    editor = await start_editor()
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)
    shown = await editor.complete(uri, *SIMPLE_CURSOR)
    editor.type_text(uri, *SIMPLE_CURSOR, shown.text[:3])

    rest = await editor.complete(uri, SIMPLE_CURSOR[0], SIMPLE_CURSOR[1] + 3)
    assert rest.text == shown.text[3:]
    answer = await accept(editor, rest)

    assert answer["request_id"] == shown.route["request_id"]
    recorded = fates(tmp_path)
    assert list(recorded) == [shown.route["request_id"]]  # one fate per completion, not per keystroke
    # The three characters typed through are the user's, not the completion's.
    assert recorded[shown.route["request_id"]][:3] == ("accepted", len(shown.text), len(shown.text) - 3)


async def test_accepting_the_first_item_after_typing_through_it_counts_only_what_it_wrote(start_editor, tmp_path):
    # VS Code may keep showing the first item while the user types its first characters, and
    # accept that item whole on Tab: the characters typed meanwhile are still the user's.
    editor = await start_editor()
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)
    shown = await editor.complete(uri, *SIMPLE_CURSOR)
    editor.type_text(uri, *SIMPLE_CURSOR, shown.text[:1])
    await editor.complete(uri, SIMPLE_CURSOR[0], SIMPLE_CURSOR[1] + 1)

    answer = await accept(editor, shown)

    assert answer["accepted_chars"] == len(shown.text) - 1
    stats = await editor.command("tierline.stats")
    assert stats["acceptance"]["accepted"] == 1 and stats["acceptance"]["accepted_chars"] == len(shown.text) - 1


async def test_retained_characters_are_what_is_still_there_when_the_document_closes(start_editor, tmp_path):
    editor = await start_editor()
    kept = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)
    undone = open_doc(editor, tmp_path, "other.py", SIMPLE_PY)

    completion = await editor.complete(kept, *SIMPLE_CURSOR)
    await accept(editor, completion)
    editor.type_text(kept, *SIMPLE_CURSOR, completion.text)
    regret = await editor.complete(undone, *SIMPLE_CURSOR)
    await accept(editor, regret)
    editor.type_text(undone, *SIMPLE_CURSOR, regret.text)
    # The user deletes what they accepted in the second file ("result = " stays).
    line, start = SIMPLE_CURSOR
    editor.replace(undone, (line, start + 9), (line, start + len(regret.text)), "")
    for uri in (kept, undone):
        editor.client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )

    stats = await editor.command("tierline.stats")
    recorded = fates(tmp_path)
    assert recorded[completion.route["request_id"]][3] == len(completion.text)
    assert recorded[regret.route["request_id"]][3] == len("result = ")
    assert stats["acceptance"]["retained_chars"] == len(completion.text) + len("result = ")
    # Closed before any checkpoint: every checkpoint is the text as closed.
    share = round((len(completion.text) + len("result = ")) / (len(completion.text) + len(regret.text)), 4)
    assert stats["acceptance"]["retained"] == {"30s": share, "120s": share, "300s": share, "600s": share}


@pytest.mark.parametrize(
    "arguments",
    [[], [42], ["x" * 65], ["abc", {"kind": "paragraph", "chars": 3}], ["abc", {"kind": "word", "chars": -1}]],
)
async def test_malformed_acceptances_get_an_error_and_the_server_keeps_answering(start_editor, tmp_path, arguments):
    editor = await start_editor()
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)

    with pytest.raises(JsonRpcException) as raised:
        await editor.command("tierline.accepted", *arguments)

    assert "tierline.accepted" in str(raised.value)
    assert (await editor.complete(uri, *SIMPLE_CURSOR)).text


async def test_an_unknown_request_is_not_recorded(start_editor, tmp_path):
    editor = await start_editor()

    answer = await editor.command("tierline.accepted", "not-a-request")

    assert answer["recorded"] is False
    assert (await editor.command("tierline.stats"))["acceptance"]["accepted"] == 0
