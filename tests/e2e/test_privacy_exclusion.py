"""Exclusion that matches how files are really named (issue 17): any spelling of a built-in
exclude, the credential files of common tools, a symlink to one, a path with `x/../`, the ignore
files of every workspace folder; an ignore file that is a FIFO, a link to the server's own stdin or
too big is skipped with a message, and the server keeps answering. The real server over stdio."""

from __future__ import annotations

import asyncio
import os

import pytest

from tests.helpers.lsp import SIMPLE_CURSOR, completion_requests
from tests.helpers.privacy import assert_excluded, assert_sent
from tierline.commands.demo import SIMPLE_PY
from tierline.privacy.exclusion import IGNORE_FILE_MAX_BYTES

# name by path, and the credential files of common tools.
CREDENTIAL_FILES = (
    ".ENV",
    "config/Secrets.yaml",
    "home/.ssh-backup/ID_RSA",
    "certs/server.PEM",
    "gcp/Credentials.json",
    "deploy/prod.env",
    ".envrc",
    "home/.pgpass",
    "home/.my.cnf",
    "home/.kube/config",
    "web/.htpasswd",
    "home/.vault-token",
    "home/.s3cfg",
    "infra/terraform.tfvars",
    "infra/terraform.tfvars.json",
    "gcp/service-account.json",
    "keys/AuthKey_ABC123.p8",
    "keys/server.ppk",
    "home/.bash_history",
    "home/.docker/config.json",
    "site/wp-config.php",
    "secrets/db.kdbx",
)

# Look-alikes that are code, and must still get completions.
ORDINARY_FILES = ("src/environment.py", "src/keyboard.py", "src/history.py", "docs/credits.py")


async def test_credential_files_at_any_spelling_are_never_sent(start_editor, simulator, tmp_path):
    editor = await start_editor()
    await assert_excluded(editor, tmp_path, dict.fromkeys(CREDENTIAL_FILES, "built-in exclude"))
    assert completion_requests(simulator) == []
    await assert_sent(editor, tmp_path, ORDINARY_FILES)


async def test_a_symlink_to_a_secret_and_a_path_through_dot_dot_are_excluded(start_editor, simulator, tmp_path):
    (tmp_path / ".env").write_text(SIMPLE_PY)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "settings.py").symlink_to(tmp_path / ".env")
    elsewhere = tmp_path / "home" / ".ssh"
    elsewhere.mkdir(parents=True)
    (elsewhere / "deploy_key").write_text("x")
    (tmp_path / "src" / "deploy.py").symlink_to(elsewhere / "deploy_key")
    editor = await start_editor()

    uris = [
        (tmp_path / "src" / "settings.py").as_uri(),
        (tmp_path / "src" / "deploy.py").as_uri(),
        tmp_path.as_uri() + "/src/../.env",
        tmp_path.as_uri() + "/src/./../.ENV",
    ]
    for uri in uris:
        editor.open(uri, SIMPLE_PY, "python")
        completion = await editor.complete(uri, *SIMPLE_CURSOR)
        assert completion.route["excluded"] is True and completion.text is None, uri
    assert completion_requests(simulator) == []


async def test_every_workspace_folders_ignore_files_apply(start_editor, simulator, tmp_path):
    # The second folder is not under the first (the root the editor names): its own ignore files count.
    second = tmp_path.parent / f"{tmp_path.name}-billing"
    (second / "rates").mkdir(parents=True)
    (second / ".aiexclude").write_text("/private.py\n")
    (second / "rates" / ".cursorignore").write_text("table.py\n")
    editor = await start_editor(workspace_folders=[tmp_path, second])

    await assert_excluded(
        editor,
        second,
        {"private.py": f"{second.name}/.aiexclude", "rates/table.py": f"{second.name}/rates/.cursorignore"},
    )
    assert completion_requests(simulator) == []
    await assert_sent(editor, second, ("api.py", "rates/private.py"))
    await assert_sent(editor, tmp_path, ("private.py",))


@pytest.mark.parametrize("kind", ["link to the server's stdin", "fifo", "too big"])
async def test_an_ignore_file_that_could_block_or_is_too_big_is_skipped_and_said(start_editor, tmp_path, kind):
    ignore = tmp_path / ".aiexclude"
    if kind == "fifo":
        os.mkfifo(ignore)
    elif kind == "too big":
        ignore.write_text("utils.py\n" + "# padding\n" * (IGNORE_FILE_MAX_BYTES // 10 + 1))
    else:
        ignore.symlink_to("/proc/self/fd/0")
    editor = await start_editor()
    uri = (tmp_path / "utils.py").as_uri()
    editor.open(uri, SIMPLE_PY, "python")

    try:
        first = await asyncio.wait_for(editor.complete(uri, *SIMPLE_CURSOR), 60)
        second = await asyncio.wait_for(editor.complete(uri, *SIMPLE_CURSOR), 60)
    except TimeoutError:
        # A deadline, not a measurement: a server blocked on the read never answers again, and the
        # test must fail rather than hang the suite (its shutdown would wait for ever too).
        editor.client._server.kill()
        pytest.fail(f"the server stopped answering with an ignore file that is a {kind}")

    assert first.text and second.text
    (said,) = [m for m in editor.messages if ".aiexclude" in m]
    assert "skipped" in said and ("not a regular file" in said or "MiB" in said)
