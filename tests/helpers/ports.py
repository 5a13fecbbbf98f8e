"""A free port on 127.0.0.1 for a server a test starts (never a fixed one: tests run side by side)."""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
