"""A broken cache or ledger never costs an answer: the completion is served, the user is told once,
`tierline.stats` carries a warning, and `doctor` / `report` explain it in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_lsp import ClientServerConfig

from tests.helpers.common import editor_config
from tierline.devtools.driver import EditorSession, initialize_params
from tierline.devtools.simulator import write_toml

UTILS_PY = 'def greet(name):\n    return f"Hello, {name}!"\n\n\ndef add(a, b):\n    \n'
CURSOR = (5, 4)
GARBAGE = b"this is not a database\x00\xff" * 64


def _file_where_dir_goes(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("a file where a directory should be")


def _corrupt(name: str) -> Callable[[Path], None]:
    def corrupt(path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        (path / name).write_bytes(GARBAGE)

    return corrupt


def _dir_where_file_goes(name: str) -> Callable[[Path], None]:
    def block(path: Path) -> None:
        (path / name).mkdir(parents=True)

    return block


def _nothing(path: Path) -> None:
    pass


# (what breaks, which store, how to break its directory, a directory override)
FAULTS: list[tuple[str, str, Callable[[Path], None], str | None]] = [
    ("cache dir is a file", "cache", _file_where_dir_goes, None),
    ("ledger dir is a file", "ledger", _file_where_dir_goes, None),
    ("corrupt cache.db", "cache", _corrupt("cache.db"), None),
    ("corrupt ledger", "ledger", _corrupt("ledger.sqlite3"), None),
    ("cache.db is a directory", "cache", _dir_where_file_goes("cache.db"), None),
    ("ledger file is a directory", "ledger", _dir_where_file_goes("ledger.sqlite3"), None),
    ("cache on a read-only file system", "cache", _nothing, "/proc/tierline-cache"),
    ("ledger on a read-only file system", "ledger", _nothing, "/proc/tierline-state"),
]


@pytest.mark.parametrize(("fault", "store", "breaks", "directory"), FAULTS, ids=[f[0] for f in FAULTS])
async def test_a_broken_store_still_serves_answers_and_says_so_once(
    start_editor, tmp_path, fault: str, store: str, breaks: Callable[[Path], None], directory: str | None
):
    overrides: dict[str, Any] = {"completion": {"debounce_ms": 0}}
    if directory is not None:
        overrides[store] = {"dir": directory}
    else:
        breaks(tmp_path / ("cache" if store == "cache" else "state"))
    editor = await start_editor(overrides)
    uri = (tmp_path / "utils.py").as_uri()
    editor.open(uri, UTILS_PY, "python")

    first = await editor.complete(*((uri,) + CURSOR))
    editor.type_text(uri, 0, 0, "# hello\n")
    second = await editor.complete(uri, CURSOR[0] + 1, CURSOR[1])
    stats = await editor.command("tierline.stats")

    assert first.text and second.text, fault
    assert [a["outcome"] for a in first.route["attempts"]] == ["ok"]
    warnings = [
        m for m in editor.messages if f"tierline: the {'response cache' if store == 'cache' else 'ledger'}" in m
    ]
    assert len(warnings) == 1, editor.messages
    assert stats["warnings"] == warnings
    assert "Traceback" not in "".join(editor.messages)


async def test_a_full_disk_still_serves_answers(simulator, tmp_path):
    # A file size limit makes every write past 16 KiB fail with EFBIG, as a full disk fails them.
    if not Path("/usr/bin/prlimit").exists():
        pytest.skip("prlimit (util-linux) is not installed")
    config = tmp_path / "full.toml"
    write_toml(editor_config(simulator, tmp_path, {"completion": {"debounce_ms": 0}}), config)
    command = ["/usr/bin/prlimit", "--fsize=16384", sys.executable, "-m", "tierline", "serve"]
    client = await ClientServerConfig(
        server_command=command, server_env={**os.environ, "TIERLINE_CONFIG": str(config)}
    ).start()
    try:
        await client.initialize_session(initialize_params("utf-16", None, tmp_path.as_uri()))
        editor = EditorSession.attach(client)
        uri = (tmp_path / "big.py").as_uri()
        editor.open(uri, UTILS_PY, "python")
        served = []
        for i in range(8):  # each answer is cached and recorded: the files outgrow the limit
            editor.type_text(uri, 0, 0, f"# {'x' * 4000} {i}\n")
            completion = await editor.complete(uri, CURSOR[0] + i + 1, CURSOR[1])
            served.append(bool(completion.text))
        stats = await editor.command("tierline.stats")
    finally:
        await client.shutdown_session()
    assert served == [True] * 8
    assert stats["warnings"], "a write failed but nothing says so"
    assert len(editor.messages) == len(set(editor.messages)) and len(stats["warnings"]) <= 2


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tierline", *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_doctor_and_report_explain_a_corrupt_store_in_one_line(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[cache]\ndir = "{tmp_path / "cache"}"\n[ledger]\ndir = "{tmp_path / "state"}"\n')
    _corrupt("cache.db")(tmp_path / "cache")
    _corrupt("ledger.sqlite3")(tmp_path / "state")
    env = {**os.environ, "TIERLINE_CONFIG": str(config)}

    doctor = _run(["doctor"], env)
    report = _run(["report"], env)

    assert doctor.returncode == 1 and "Traceback" not in doctor.stdout + doctor.stderr
    [cache_line] = [line for line in doctor.stdout.splitlines() if "] cache:" in line]
    [ledger_line] = [line for line in doctor.stdout.splitlines() if "] ledger:" in line]
    assert cache_line.startswith("[FAIL]") and "DatabaseError" in cache_line
    assert ledger_line.startswith("[FAIL]") and "DatabaseError" in ledger_line
    assert report.returncode == 1 and "Traceback" not in report.stderr
    assert report.stderr.count("\n") == 1 and "cannot be read" in report.stderr
