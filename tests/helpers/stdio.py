"""A raw JSON-RPC peer on the server's stdio: frames the test writes byte by byte, answers it reads."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.helpers.forkserver import tierline_command


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode("utf-8")  # ensure_ascii: a lone surrogate becomes "\ud800"


@dataclass
class Peer:
    """The server process and what it sent back."""

    process: asyncio.subprocess.Process
    responses: dict[Any, dict[str, Any]] = field(default_factory=dict)
    null_id_errors: int = 0
    notifications: list[dict[str, Any]] = field(default_factory=list)
    waiters: dict[Any, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)

    async def read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while True:
            length = None
            while True:
                line = await stdout.readline()
                if not line:
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                elif line in (b"\r\n", b"\n") and length is not None:
                    break
            assert length is not None
            message = json.loads(await stdout.readexactly(length))
            if "method" in message:
                self.notifications.append(message)
                if "id" in message:  # a request from the server (none expected): answer it
                    self.write(frame(encode({"jsonrpc": "2.0", "id": message["id"], "result": None})))
            elif message.get("id") is None:
                self.null_id_errors += 1
            else:
                self.responses[message["id"]] = message
                waiter = self.waiters.pop(message["id"], None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(message)

    def write(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)

    async def call(self, msg_id: int, method: str, params: Any) -> dict[str, Any]:
        waiter = asyncio.get_running_loop().create_future()
        self.waiters[msg_id] = waiter
        self.write(frame(encode({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})))
        return await asyncio.wait_for(waiter, 60)


async def spawn(log: Path, config: Path, **env: str) -> tuple[Peer, asyncio.Future[None]]:
    """`tierline serve` on pipes, with the test's config (and env on top), and a task reading its answers."""
    process = await asyncio.create_subprocess_exec(
        *tierline_command("serve", "--log-file", str(log)),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "TIERLINE_CONFIG": str(config), **env},
        limit=1 << 24,  # room for the largest frames the tests send back
    )
    peer = Peer(process)
    return peer, asyncio.ensure_future(peer.read())
