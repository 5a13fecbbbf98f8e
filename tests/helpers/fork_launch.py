"""Stands in for `python -m tierline ARGS` in the tests: hands this process's stdin, stdout and
stderr, arguments, environment and directory to the fork server (tests/helpers/forkserver.py), which
forks a copy of itself with tierline already imported to run them; then lives as long as that copy,
passes it the signals it gets, and exits as it exited.

Run as `python -I -S fork_launch.py SOCKET ARGS...`: standard library only, so it starts in
milliseconds. When the fork server cannot be reached it becomes the real command (exec).
"""

import json
import os
import signal
import socket
import struct
import sys

FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)


def exec_real(args: list[str]) -> None:
    os.execv(sys.executable, [sys.executable, "-m", "tierline", *args])


def read_message(connection: socket.socket) -> dict:
    header = _read_exactly(connection, 4)
    if header is None:
        raise EOFError("the fork server hung up")
    (length,) = struct.unpack("!I", header)
    body = _read_exactly(connection, length)
    if body is None:
        raise EOFError("the fork server hung up")
    return json.loads(body)


def _read_exactly(connection: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        try:
            chunk = connection.recv(size - len(data))
        except InterruptedError:
            continue
        if not chunk:
            return None
        data += chunk
    return data


def main() -> None:
    path, args = sys.argv[1], sys.argv[2:]
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(path)
    except OSError:
        exec_real(args)
    request = json.dumps({"argv": args, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
    payload = struct.pack("!I", len(request)) + request
    # The three descriptors travel with the first bytes; the rest follows on the same stream.
    sent = socket.send_fds(connection, [payload[:4096]], [0, 1, 2])
    if sent < len(payload):  # (sending nothing to a server that already answered is a broken pipe)
        connection.sendall(payload[sent:])
    answer = read_message(connection)
    if "pid" not in answer:
        exec_real(args)  # the environment asks for an interpreter started differently
    child = answer["pid"]
    # The copy holds the pipes now: without this process's own copies, the editor's side sees the
    # end of the server's output when the copy exits, not when this one does.
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    for number in FORWARDED:
        signal.signal(number, lambda received, _frame: os.kill(child, received))
    status = read_message(connection)["status"]
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)
    sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


if __name__ == "__main__":
    main()
