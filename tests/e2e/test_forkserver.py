"""The tests' fork server (tests/helpers/forkserver.py) stands in for `python -m tierline`: a forked
copy must do what the real command does with the same arguments, environment and directory, and
live and die with the launcher the test started."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.forkserver import tierline_command
from tests.helpers.stdio import Peer, encode, frame, spawn

pytestmark = pytest.mark.skipif(
    os.environ.get("TIERLINE_TEST_FORKSERVER") == "0", reason="the fork server is switched off"
)


def run(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("score", "absent.py:1:1"),  # read from the launcher's directory: exit 2
        ("score", "here.py:2:5"),
        ("doctor",),  # the config in the launcher's environment: only it (the XDG default under HOME)
    ],
)
def test_a_forked_copy_answers_as_the_real_command(tmp_path: Path, args: tuple[str, ...]) -> None:
    (tmp_path / "here.py").write_text("def f(x):\n    return x\n")
    # The fork server started in a test whose XDG folders are set: none of them may leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "TIERLINE_CONFIG"))}
    env["HOME"] = str(tmp_path)
    real = run([sys.executable, "-m", "tierline", *args], tmp_path, env)
    forked = run(tierline_command(*args), tmp_path, env)
    assert str(tmp_path) in forked[1] or args[0] == "score"
    assert tierline_command(*args)[:4] != [sys.executable, "-m", "tierline", args[0]]  # really forked
    assert forked == real


async def started(tmp_path: Path) -> tuple[Peer, asyncio.Future[None]]:
    """A server through the fork server, past `initialize`."""
    peer, reader = await spawn(tmp_path / "server.log", tmp_path / "none.toml", XDG_STATE_HOME=str(tmp_path))
    answer = await peer.call(1, "initialize", {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}})
    assert "capabilities" in answer["result"]
    return peer, reader


def test_a_killed_launcher_takes_its_server_with_it(tmp_path: Path) -> None:
    # Its input stays open (as an editor's would while it lives): only the fork server can end it.
    launcher = subprocess.Popen(
        tierline_command("serve", "--log-file", str(tmp_path / "server.log")),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TIERLINE_CONFIG": str(tmp_path / "none.toml"), "XDG_STATE_HOME": str(tmp_path)},
    )
    assert launcher.stdin is not None and launcher.stdout is not None
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "capabilities": {}}}
    launcher.stdin.write(frame(encode(initialize)))
    launcher.stdin.flush()
    assert launcher.stdout.readline().startswith(b"Content-Length:")  # the server is up
    launcher.kill()
    launcher.wait()
    # The server holds the other end of the pipe its answers come on: it ends when the server is gone.
    output = launcher.stdout.fileno()
    while select.select([output], [], [], 30)[0]:
        if not os.read(output, 65536):
            break
    else:
        pytest.fail("the server lived on after its launcher was killed")
    launcher.stdin.close()


async def test_ctrl_c_to_the_launcher_reaches_its_server(tmp_path: Path) -> None:
    # `tierline serve` shuts down cleanly on Ctrl-C (exit 0, said in its log); a launcher that kept
    # the signal would die of it instead, and its server be killed unannounced.
    peer, reader = await started(tmp_path)
    peer.process.send_signal(signal.SIGINT)
    assert await asyncio.wait_for(peer.process.wait(), 30) == 0
    await asyncio.wait_for(reader, 30)
    assert "Shutting down the server" in (tmp_path / "server.log").read_text()
