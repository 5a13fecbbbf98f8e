"""A fork server for the tests' `tierline serve` processes.

The suite starts some 260 servers; each spent ~0.75 s of CPU importing lsprotocol, pygls and
tierline before its first message (lsprotocol alone compiles ~760 generated methods at import), a
third of the suite's CPU on a 2-core machine. Here one process per test worker imports them once and
forks a copy for each server: `tierline_command()` gives the command a test starts instead of
`python -m tierline ...` — `fork_launch.py`, which hands its pipes, arguments, environment and
directory to this process and lives and dies with its copy. The copy runs `tierline.cli.main` as the
console script does: same code, same pipes, its own environment and directory, default signals.

What a fork does not give, so those tests start the real command: resource limits set on the
command (`prlimit`), and the interpreter's own start-up (the editors' suites and the demo run the
real `tierline`). `TIERLINE_TEST_FORKSERVER=0` starts every server the real way.
"""

from __future__ import annotations

import atexit
import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

LAUNCHER = Path(__file__).with_name("fork_launch.py")
# What a server imports before its first message, imported once here.
PRELOAD = (
    "tierline.cli",
    "tierline.lsp.transport",
    "tierline.lsp.server",
    # and what the command-line runs of tests/helpers/cli.py import
    "tierline.commands.bench",
    "tierline.commands.calibrate",
    "tierline.commands.doctor",
    "tierline.commands.estimate",
    "tierline.commands.report",
    "tierline.commands.score",
    "tierline.commands.trust",
)
_REQUEST_TIMEOUT_S = 10


def _interpreter_settings(env: dict[str, str]) -> dict[str, str]:
    """What the interpreter reads from the environment only as it starts (PYTHONPATH: a test that
    hides a package from the server): a copy of this process cannot take other values of these."""
    return {name: value for name, value in env.items() if name.startswith("PYTHON")}


def _send(connection: socket.socket, message: dict[str, int]) -> None:
    body = json.dumps(message).encode()
    try:
        connection.sendall(struct.pack("!I", len(body)) + body)
    except OSError:
        pass  # the launcher is gone; its copy is being killed


def _receive_request(connection: socket.socket) -> tuple[dict[str, Any], list[int]]:
    connection.settimeout(_REQUEST_TIMEOUT_S)
    first, fds, _flags, _address = socket.recv_fds(connection, 4096, 3)
    if len(first) < 4 or len(fds) != 3:
        raise ValueError("a request without its length or its three descriptors")
    (length,) = struct.unpack("!I", first[:4])
    body = first[4:]
    while len(body) < length:
        chunk = connection.recv(length - len(body))
        if not chunk:
            raise ValueError("the launcher hung up mid-request")
        body += chunk
    return json.loads(body), fds


def _become_server(request: dict[str, Any], fds: list[int]) -> list[str]:
    """In the forked copy: take the launcher's pipes, environment and directory; return the arguments."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(str(request["cwd"]))
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in request["env"].items()})
    tempfile.tempdir = None  # read again from this environment
    argv = [str(arg) for arg in request["argv"]]
    sys.argv = ["tierline", *argv]
    return argv


def serve_forks(path: str) -> list[str]:
    """Accept launchers on `path` until stdin closes (the test worker is gone). Returns only in a
    forked copy, with the arguments it is to run."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # only to wake the loop
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(wake_read, selectors.EVENT_READ, "child")
    selector.register(sys.stdin, selectors.EVENT_READ, "stdin")
    children: dict[int, socket.socket] = {}  # pid -> its launcher
    own_settings = _interpreter_settings(dict(os.environ))
    while True:
        for key, _events in selector.select():
            if key.data == "accept":
                connection, _ = listener.accept()
                try:
                    request, fds = _receive_request(connection)
                except (OSError, ValueError):
                    connection.close()
                    continue
                if _interpreter_settings(request["env"]) != own_settings:
                    for fd in fds:
                        os.close(fd)
                    _send(connection, {"exec": 1})  # the launcher becomes the real command
                    connection.close()
                    continue
                pid = os.fork()
                if pid == 0:
                    signal.set_wakeup_fd(-1)
                    for number in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
                        signal.signal(number, signal.SIG_DFL)
                    signal.signal(signal.SIGINT, signal.default_int_handler)
                    selector.close()
                    for other in [listener, connection, *children.values()]:
                        other.close()
                    os.close(wake_read)
                    os.close(wake_write)
                    return _become_server(request, fds)
                for fd in fds:
                    os.close(fd)
                children[pid] = connection
                selector.register(connection, selectors.EVENT_READ, pid)
                _send(connection, {"pid": pid})
            elif key.data == "child":
                os.read(wake_read, 4096)
                while children:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                    if pid == 0:
                        break
                    launcher = children.pop(pid, None)
                    if launcher is not None and launcher.fileno() != -1:
                        selector.unregister(launcher)
                        _send(launcher, {"status": status})
                        launcher.close()
            elif key.data == "stdin":
                for pid in children:
                    os.kill(pid, signal.SIGKILL)  # the worker is gone: so are the servers it started
                os._exit(0)
            else:
                # A launcher that hangs up before its copy exits was killed: so is the copy.
                pid, launcher = key.data, children[key.data]
                if not launcher.recv(1):
                    selector.unregister(launcher)
                    launcher.close()
                    os.kill(pid, signal.SIGKILL)


def main() -> None:
    sys.path.pop(0)  # this file's folder: its helpers must not shadow any module a server imports
    path = sys.argv[1]
    for module in PRELOAD:
        __import__(module)
    print("ready", flush=True)
    argv = serve_forks(path)
    from tierline.cli import main as tierline_main

    sys.exit(tierline_main(argv))


_socket_path: str | None = None


def tierline_command(*args: str) -> list[str]:
    """The command a test starts for `tierline ARGS` (`serve`, or a command-line run): through this
    worker's fork server unless `TIERLINE_TEST_FORKSERVER=0`."""
    if os.environ.get("TIERLINE_TEST_FORKSERVER") == "0":
        return [sys.executable, "-m", "tierline", *args]
    return [sys.executable, "-I", "-S", str(LAUNCHER), _started(), *args]


def _started() -> str:
    global _socket_path
    if _socket_path is None:
        folder = tempfile.mkdtemp(prefix="tierline-forks-")
        path = os.path.join(folder, "socket")
        process = subprocess.Popen(
            [sys.executable, __file__, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None
        )
        assert process.stdout is not None
        if process.stdout.readline() != b"ready\n":
            raise RuntimeError("the tests' fork server did not start")

        def stop() -> None:
            assert process.stdin is not None
            process.stdin.close()  # it kills what it still runs and exits
            process.wait()
            os.unlink(path)
            os.rmdir(folder)

        atexit.register(stop)
        _socket_path = path
    return _socket_path


if __name__ == "__main__":
    main()
