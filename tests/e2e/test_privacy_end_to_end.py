"""Nothing from an excluded file and no secret from the rule set reaches a provider: the real server
over stdio, the real simulator on 127.0.0.1, and what the simulator received."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.helpers.lsp import SIMPLE_CURSOR, completion_requests
from tests.helpers.privacy import (
    ALL_SECRETS,
    GITHUB_TOKEN,
    SECRETS_CURSOR,
    SECRETS_PY,
    assert_excluded,
    assert_sent,
)
from tierline.commands.demo import SIMPLE_PY
from tierline.privacy.redaction import PLACEHOLDER_PREFIX


def cache_rows(tmp_path: Path) -> list[tuple[str, str]]:
    db = tmp_path / "cache" / "cache.db"
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        return [(str(k), str(v)) for k, v in conn.execute("SELECT key, value FROM Cache")]


def ledger_rows(tmp_path: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(tmp_path / "state" / "ledger.sqlite3") as conn:
        conn.row_factory = sqlite3.Row
        return list(conn.execute("SELECT * FROM calls"))


@pytest.mark.parametrize(
    "relative",
    [
        ".env",
        "deploy/.env.production",
        "home/.ssh/id_rsa",
        "keys/id_ed25519.pub",
        "certs/server.pem",
        "k8s/secrets.yaml",
        "config/credentials.json",
        "infra/prod.tfvars",
        ".aws/config",
        ".docker/config.json",
    ],
)
async def test_a_built_in_excluded_file_is_never_sent_nor_cached(start_editor, simulator, tmp_path, relative):
    editor = await start_editor()
    path = tmp_path / relative
    uri = path.as_uri()
    editor.open(uri, SIMPLE_PY, "python")

    completion = await editor.complete(uri, *SIMPLE_CURSOR)
    explained = await editor.command("tierline.explain", uri, {"line": 5, "character": 4})

    assert completion.text is None
    route = completion.route
    assert route["excluded"] is True and route["score"] is None and route["model"] is None
    assert "built-in exclude" in route["reason"]
    assert completion_requests(simulator) == []
    assert cache_rows(tmp_path) == []
    assert explained["excluded"] is True and explained["model"] is None
    assert "nothing from this file is sent" in explained["model_reason"]


async def test_config_excludes_and_ignore_files_of_other_assistants(start_editor, simulator, tmp_path):
    (tmp_path / ".cursorignore").write_text("generated/\n")
    (tmp_path / ".aiexclude").write_text("*.sql\n")
    (tmp_path / ".tierlineignore").write_text("# comment\n/private_notes.md\n")
    # A workspace's ignore file cannot re-include a built-in exclude.
    (tmp_path / ".continueignore").write_text("!.env\n")
    editor = await start_editor({"privacy": {"exclude": ["**/fixtures/private/**"]}})
    excluded = {
        "generated/api.py": ".cursorignore",
        "db/schema.sql": ".aiexclude",
        "private_notes.md": ".tierlineignore",
        "tests/fixtures/private/data.py": "[privacy] exclude",
        ".env": "built-in exclude",
    }
    await assert_excluded(editor, tmp_path, excluded)
    assert completion_requests(simulator) == []

    # Not excluded: a python file elsewhere, and a notes file not at the root (anchored pattern).
    await assert_sent(editor, tmp_path, ("src/app.py", "docs/private_notes.md"))
    assert len(completion_requests(simulator)) == 1  # the second, same text, from the cache


async def test_an_ignore_file_written_during_the_session_applies_to_the_next_request(start_editor, simulator, tmp_path):
    editor = await start_editor()
    await assert_sent(editor, tmp_path, ("billing/rates.py",))
    assert len(completion_requests(simulator)) == 1

    # Written by another program (no editor event): the next request reads it.
    (tmp_path / ".tierlineignore").write_text("billing/\n")
    uri = (tmp_path / "billing" / "rates.py").as_uri()
    completion = await editor.complete(uri, *SIMPLE_CURSOR)
    assert completion.route["excluded"] is True and ".tierlineignore" in completion.route["reason"]

    # Emptied again: the file is sent again (from the cache: the same text was sent before).
    (tmp_path / ".tierlineignore").write_text("# nothing\n")
    await assert_sent(editor, tmp_path, ("billing/rates.py",))
    assert len(completion_requests(simulator)) == 1


async def test_an_untitled_buffer_with_a_known_name_is_excluded(start_editor, simulator):
    editor = await start_editor()
    editor.open("untitled:.env", SIMPLE_PY, "python")
    completion = await editor.complete("untitled:.env", *SIMPLE_CURSOR)
    assert completion.route["excluded"] is True
    assert completion_requests(simulator) == []


async def test_secrets_are_replaced_before_sending_and_counted(start_editor, simulator, tmp_path):
    editor = await start_editor()
    uri = (tmp_path / "storage.py").as_uri()
    editor.open(uri, SECRETS_PY, "python")

    completion = await editor.complete(uri, *SECRETS_CURSOR)

    assert completion.text
    sent = completion_requests(simulator)
    assert len(sent) == 1
    prompt = sent[0]["prefix"] + sent[0]["suffix"]
    assert "def add(a, b):" in prompt and "boto3" in prompt  # the code went, the secrets did not
    for secret in ALL_SECRETS:
        assert secret not in prompt
    assert prompt.count(PLACEHOLDER_PREFIX) == 3
    assert completion.route["redactions"] == 3
    rows = ledger_rows(tmp_path)
    assert [row["redactions"] for row in rows] == [3]
    assert all(secret not in str(tuple(row)) for row in rows for secret in ALL_SECRETS)


async def test_secrets_after_the_cursor_are_replaced_too(start_editor, simulator, tmp_path):
    editor = await start_editor()
    uri = (tmp_path / "storage.py").as_uri()
    text = "import boto3\n\n" + SECRETS_PY.split("\n", 2)[2]  # a blank line to write on, the secrets below
    editor.open(uri, text, "python")

    await editor.complete(uri, 1, 0)

    (sent,) = completion_requests(simulator)
    assert "AWS_SECRET_ACCESS_KEY" in sent["suffix"] and "def token():" in sent["suffix"]
    for secret in ALL_SECRETS:
        assert secret not in sent["prefix"] + sent["suffix"]
    assert sent["suffix"].count(PLACEHOLDER_PREFIX) == 3


async def test_a_one_word_password_in_a_yaml_file_is_not_sent(start_editor, simulator, tmp_path):
    editor = await start_editor()
    uri = (tmp_path / "docker-compose.yml").as_uri()
    text = "services:\n  db:\n    environment:\n      password: sunshine\n      user: app\n    image: \n"
    editor.open(uri, text, "yaml")

    await editor.complete(uri, 5, len("    image: "))

    sent = completion_requests(simulator)
    assert len(sent) == 1
    prompt = sent[0]["prefix"] + sent[0]["suffix"]
    assert "user: app" in prompt and "sunshine" not in prompt


async def test_a_placeholder_in_the_answer_gets_its_secret_back_and_the_cache_never_holds_it(
    start_editor, simulator, tmp_path
):
    editor = await start_editor()
    uri = (tmp_path / "storage.py").as_uri()
    editor.open(uri, SECRETS_PY, "python")
    await editor.complete(uri, *SECRETS_CURSOR)
    prefix = completion_requests(simulator)[0]["prefix"]
    token_mark = prefix.split('return "')[1].split('"')[0]
    assert token_mark.startswith(PLACEHOLDER_PREFIX)

    simulator.set_behaviour("*", answer=f'return "{token_mark}"')
    editor.type_text(uri, SECRETS_CURSOR[0], 4, " ")
    completion = await editor.complete(uri, SECRETS_CURSOR[0], 5)

    assert completion.text == f'return "{GITHUB_TOKEN}"'  # the user never sees a placeholder
    rows = cache_rows(tmp_path)
    assert rows and all(GITHUB_TOKEN not in value for _, value in rows)
    assert any(token_mark in value for _, value in rows)
    # Served again from the cache: restored again.
    again = await editor.complete(uri, SECRETS_CURSOR[0], 5)
    assert again.route["cached"] is True and again.text == completion.text


async def test_an_answer_with_a_placeholder_it_was_not_given_is_dropped(start_editor, simulator, tmp_path):
    editor = await start_editor()
    uri = (tmp_path / "storage.py").as_uri()
    editor.open(uri, SECRETS_PY, "python")
    simulator.set_behaviour("*", answer=f"return {PLACEHOLDER_PREFIX}0badc0de")
    completion = await editor.complete(uri, *SECRETS_CURSOR)
    assert completion.text is None
    assert {a["outcome"] for a in completion.route["attempts"]} == {"invalid"}


async def test_redact_false_sends_the_text_as_is(start_editor, simulator, tmp_path):
    editor = await start_editor({"privacy": {"redact": False}})
    uri = (tmp_path / "storage.py").as_uri()
    editor.open(uri, SECRETS_PY, "python")
    completion = await editor.complete(uri, *SECRETS_CURSOR)
    assert completion.route["redactions"] == 0
    assert GITHUB_TOKEN in completion_requests(simulator)[0]["prefix"]


async def test_excludes_from_the_editors_settings_apply_without_a_restart(start_editor, simulator, tmp_path):

    editor = await start_editor()
    uri = (tmp_path / "notes" / "draft.py").as_uri()
    editor.open(uri, SIMPLE_PY, "python")
    assert (await editor.complete(uri, *SIMPLE_CURSOR)).route["excluded"] is False
    editor.settings({"privacy": {"exclude": ["notes/"]}})
    completion = await editor.complete(uri, *SIMPLE_CURSOR)
    assert completion.route["excluded"] is True and "[privacy] exclude" in completion.route["reason"]
    assert len(completion_requests(simulator)) == 1


async def test_ignore_files_in_sub_folders_apply_to_their_own_folder(start_editor, simulator, tmp_path):
    """An `.aiexclude` (or any of the four) in a folder lists paths relative to that folder, as git
    reads a nested .gitignore; a deeper negation cannot re-include what the root's file excludes."""
    (tmp_path / "services" / "billing").mkdir(parents=True)
    (tmp_path / "services" / "billing" / ".aiexclude").write_text("/rates.py\nkeys/\n")
    (tmp_path / "services" / ".tierlineignore").write_text("*_internal.py\n")
    (tmp_path / ".cursorignore").write_text("vendor/\n")
    (tmp_path / "services" / "billing" / ".continueignore").write_text("!vendor/\n")
    editor = await start_editor()
    excluded = {
        "services/billing/rates.py": "listed in services/billing/.aiexclude",
        "services/billing/keys/store.py": "listed in services/billing/.aiexclude",
        "services/billing/ledger_internal.py": "listed in services/.tierlineignore",
        "services/billing/vendor/lib.py": "listed in .cursorignore",
    }
    await assert_excluded(editor, tmp_path, excluded)
    assert completion_requests(simulator) == []

    # Anchored to their own folder: the same names elsewhere are sent.
    await assert_sent(editor, tmp_path, ("rates.py", "services/rates.py", "services/billing/api/rates.py"))
