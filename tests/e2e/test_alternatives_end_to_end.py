"""Alternatives over the real server: an invoked request near a tier boundary answers with the
chosen tier's answer plus the cheap and the premium one (completion/alternatives.py); accepting
one counts under its tier; an automatic request still gets one item."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

from tests.helpers.forkserver import tierline_command
from tierline.commands.demo import SIMPLE_PY

CURSOR = (5, 4)


async def score_at(start_editor, tmp_path: Path) -> float:
    """The position's score, asked of a first server (explain calls no model)."""
    probe = await start_editor()
    uri = (tmp_path / "utils.py").as_uri()
    probe.open(uri, SIMPLE_PY, "python")
    explained = await probe.command("tierline.explain", uri, {"line": CURSOR[0], "character": CURSOR[1]})
    await probe.stop()
    return float(explained["score"])


async def near_boundary_editor(start_editor, tmp_path: Path, overrides: dict | None = None):
    """A server whose thresholds put the position in mid, 0.05 from both boundaries."""
    score = await score_at(start_editor, tmp_path)
    thresholds = {"mid": round(score - 0.05, 4), "premium": round(score + 0.05, 4)}
    completion = {"alternatives": True, **(overrides or {}).get("completion", {})}
    editor = await start_editor({**(overrides or {}), "routing": {"thresholds": thresholds}, "completion": completion})
    uri = (tmp_path / "utils.py").as_uri()
    editor.open(uri, SIMPLE_PY, "python")
    return editor, uri


def calls_ok(tmp_path: Path) -> list[tuple]:
    with sqlite3.connect(tmp_path / "state" / "ledger.sqlite3") as db:
        return db.execute("SELECT request_id, tier, model FROM calls WHERE outcome = 'ok'").fetchall()


def fate_rows(tmp_path: Path) -> dict[str, tuple]:
    with sqlite3.connect(tmp_path / "state" / "ledger.sqlite3") as db:
        rows = db.execute("SELECT request_id, tier, fate, group_id FROM fates")
        return {row[0]: row[1:] for row in rows}


async def test_an_invoked_request_near_a_boundary_shows_three_tiers_and_the_premium_pick_counts_as_premium(
    start_editor, tmp_path
):
    editor, uri = await near_boundary_editor(start_editor, tmp_path)

    completion = await editor.complete(uri, *CURSOR)

    ids = [item["command"]["arguments"][0] for item in completion.items]
    texts = [item["text"] for item in completion.items]
    alternatives = completion.route["alternatives"]
    assert len(completion.items) == 3
    assert len(set(ids)) == 3 and len(set(texts)) == 3
    assert all(item["command"]["command"] == "tierline.accepted" for item in completion.items)
    assert [a["item_id"] for a in alternatives] == ids
    assert [a["tier"] for a in alternatives] == ["mid", "cheap", "premium"]
    assert ids[0] == completion.route["request_id"]
    # Each item is the answer of a call to its own model, recorded under the item's id.
    assert {item_id: (tier, model) for item_id, tier, model in calls_ok(tmp_path)} == {
        a["item_id"]: (a["tier"], a["model"]) for a in alternatives
    }

    premium_id = ids[2]
    answer = await editor.command("tierline.accepted", premium_id)
    assert answer == {"recorded": True, "request_id": premium_id, "accepted_chars": len(texts[2])}

    stats = await editor.command("tierline.stats")
    assert stats["acceptance"]["shown"] == 3 and stats["acceptance"]["accepted"] == 1
    assert stats["by_tier"]["premium"]["acceptance"]["accepted"] == 1
    assert stats["by_tier"]["premium"]["acceptance"]["accepted_chars"] == len(texts[2])
    assert stats["by_tier"]["mid"]["acceptance"]["accepted"] == 0
    assert stats["by_tier"]["cheap"]["acceptance"]["accepted"] == 0
    rows = fate_rows(tmp_path)
    assert rows[ids[0]] == ("mid", "ignored", ids[0])  # not chosen
    assert rows[ids[1]] == ("cheap", "ignored", ids[0])
    assert rows[premium_id] == ("premium", "accepted", ids[0])


async def test_an_automatic_request_near_a_boundary_still_gets_one_item(start_editor, tmp_path):
    editor, uri = await near_boundary_editor(start_editor, tmp_path, {"completion": {"debounce_ms": 0}})

    completion = await editor.complete(uri, *CURSOR, automatic=True)

    assert len(completion.items) == 1
    assert completion.route["alternatives"] == []
    stats = await editor.command("tierline.stats")
    assert stats["acceptance"]["shown"] == 1


async def test_far_from_a_boundary_an_invoked_request_gets_one_item(start_editor, tmp_path):
    score = await score_at(start_editor, tmp_path)
    thresholds = {"mid": round(score + 0.2, 4), "premium": 0.99}
    editor = await start_editor({"routing": {"thresholds": thresholds}, "completion": {"alternatives": True}})
    uri = (tmp_path / "utils.py").as_uri()
    editor.open(uri, SIMPLE_PY, "python")

    completion = await editor.complete(uri, *CURSOR)

    assert len(completion.items) == 1 and completion.route["tier"] == "cheap"
    assert completion.route["alternatives"] == []


async def test_alternatives_the_budget_cannot_hold_are_left_out_not_overshot(start_editor, tmp_path):
    """A daily cap that holds the mid call but not a premium one: the premium alternative is left
    out (never downshifted into a duplicate, never over the cap)."""
    score = await score_at(start_editor, tmp_path)
    thresholds = {"mid": round(score - 0.05, 4), "premium": round(score + 0.05, 4)}
    overrides = {"routing": {"thresholds": thresholds}, "budget": {"daily_usd": 0.0012}}
    editor = await start_editor({**overrides, "completion": {"alternatives": True}})
    uri = (tmp_path / "utils.py").as_uri()
    editor.open(uri, SIMPLE_PY, "python")

    completion = await editor.complete(uri, *CURSOR)

    assert [a["tier"] for a in completion.route["alternatives"]] == ["mid", "cheap"]
    with sqlite3.connect(tmp_path / "state" / "ledger.sqlite3") as db:
        rows = db.execute("SELECT request_id, tier, outcome, cost_usd FROM calls").fetchall()
    shown = {a["item_id"] for a in completion.route["alternatives"]}
    left_out = [row[1:] for row in rows if row[0] not in shown]
    assert left_out == [("premium", "skipped_budget", 0.0)]  # refused, not moved to mid or cheap
    stats = await editor.command("tierline.stats")
    assert stats["budget"]["spent_today_usd"] <= 0.0012


async def test_calibrate_reports_how_often_cheap_won_side_by_side(start_editor, tmp_path):
    editor, uri = await near_boundary_editor(start_editor, tmp_path)
    other = (tmp_path / "other.py").as_uri()
    editor.open(other, SIMPLE_PY, "python")

    first = await editor.complete(uri, *CURSOR)
    await editor.command("tierline.accepted", first.route["alternatives"][1]["item_id"])  # cheap
    second = await editor.complete(other, *CURSOR)  # the same window: all three from the cache
    await editor.command("tierline.accepted", second.route["alternatives"][2]["item_id"])  # premium
    await editor.client.shutdown_session()

    assert [a["tier"] for a in second.route["alternatives"]] == ["mid", "cheap", "premium"]
    (python,) = calibrate(tmp_path / "tierline-1.toml")["proposals"]
    assert python["cheap_vs_premium"] == {
        "samples": 2,
        "cheap_wins": 1,
        "cheap_win_rate": 0.5,
        "verdict": "too few samples",
    }
    assert python["samples"] == 2  # the routed requests; alternatives are not routed requests


def calibrate(config_path: Path, *args: str) -> dict:
    env = {**os.environ, "TIERLINE_CONFIG": str(config_path)}
    done = subprocess.run(
        tierline_command("calibrate", "--json", *args),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def test_alternatives_send_no_secret_and_nothing_from_an_excluded_file(start_editor, simulator, tmp_path):
    from tests.helpers.lsp import completion_requests
    from tests.helpers.privacy import ALL_SECRETS, SECRETS_CURSOR, SECRETS_PY

    probe = await start_editor()
    uri = (tmp_path / "storage.py").as_uri()
    probe.open(uri, SECRETS_PY, "python")
    where = {"line": SECRETS_CURSOR[0], "character": SECRETS_CURSOR[1]}
    score = float((await probe.command("tierline.explain", uri, where))["score"])
    await probe.stop()
    thresholds = {"mid": round(score - 0.05, 4), "premium": round(score + 0.05, 4)}
    editor = await start_editor({"routing": {"thresholds": thresholds}, "completion": {"alternatives": True}})
    editor.open(uri, SECRETS_PY, "python")
    excluded = (tmp_path / ".env").as_uri()
    editor.open(excluded, SECRETS_PY, "python")

    completion = await editor.complete(uri, *SECRETS_CURSOR)
    nothing = await editor.complete(excluded, *SECRETS_CURSOR)

    assert len(completion.items) == 3
    sent = completion_requests(simulator)
    assert len(sent) == 3  # the three tiers, once each; nothing from .env
    for request in sent:
        for secret in ALL_SECRETS:
            assert secret not in request["prefix"] + request["suffix"]
    assert nothing.items == [] and nothing.route["alternatives"] == []


async def test_an_invoked_request_served_by_typing_through_still_shows_the_tiers(start_editor, tmp_path):
    """VS Code asks again (Invoked) when the user cycles with Alt+]; the answer may come from typing
    through what is shown. The position is analysed then, and the tiers still come side by side."""
    # The score one character later (the simulator's answers here start with "result = "), and
    # thresholds that put that position close to mid, the first one well inside mid.
    lines = SIMPLE_PY.split("\n")
    lines[CURSOR[0]] = lines[CURSOR[0]][: CURSOR[1]] + "r" + lines[CURSOR[0]][CURSOR[1] :]
    probe = await start_editor()
    typed_uri = (tmp_path / "typed.py").as_uri()
    probe.open(typed_uri, "\n".join(lines), "python")
    where = {"line": CURSOR[0], "character": CURSOR[1] + 1}
    later = float((await probe.command("tierline.explain", typed_uri, where))["score"])
    await probe.stop()
    thresholds = {"mid": round(later + 0.05, 4), "premium": 0.95}
    editor = await start_editor(
        {"routing": {"thresholds": thresholds}, "completion": {"alternatives": True, "debounce_ms": 0}}
    )
    uri = (tmp_path / "utils.py").as_uri()
    editor.open(uri, SIMPLE_PY, "python")
    shown = await editor.complete(uri, *CURSOR, automatic=True)
    assert len(shown.items) == 1 and shown.text.startswith("r") and shown.route["tier"] == "mid"
    editor.type_text(uri, *CURSOR, "r")

    asked = await editor.complete(uri, CURSOR[0], CURSOR[1] + 1)

    assert "typed through" in asked.route["reason"]
    assert asked.items[0]["text"] == shown.text[1:]
    assert [a["tier"] for a in asked.route["alternatives"]] == [shown.route["tier"], "cheap", "premium"]
    premium = asked.route["alternatives"][2]["item_id"]
    await editor.command("tierline.accepted", premium)
    rows = fate_rows(tmp_path)
    original = shown.route["request_id"]
    assert rows[original] == (shown.route["tier"], "ignored", original)  # the first item, not chosen
    assert rows[premium] == ("premium", "accepted", original)
