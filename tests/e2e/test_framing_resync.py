"""After one bad frame the real server over stdio answers the good requests that follow.

Raw bytes on the server's stdin (no LSP library could send these). Each case writes one bad
frame immediately followed by two good requests in the same write, as a buggy client would, and
the two requests must be answered: the reader resynchronises on `Content-Length:` wherever it is
in the bytes, not only at the start of a line (the junk before it rarely ends with a line break).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.helpers.stdio import Peer, encode, frame, spawn
from tierline.devtools.simulator import write_toml

MiB = 1 << 20


async def start_server(tmp_path: Path, simulator) -> tuple[Peer, asyncio.Task[None], Path]:
    """A real `tierline serve` on stdio, initialized, reading raw bytes from the test."""
    config = {
        "cache": {"dir": str(tmp_path / "cache")},
        "ledger": {"dir": str(tmp_path / "state")},
        "models": [{"name": "fim", "tier": "cheap", "api": "fim", "base_url": simulator.base_url, "model": "fim-m"}],
    }
    write_toml(config, tmp_path / "framing.toml")
    log = tmp_path / "server.log"
    peer, reader = await spawn(log, tmp_path / "framing.toml")
    result = await peer.call(1, "initialize", {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}})
    assert "capabilities" in result["result"], result
    peer.write(frame(encode({"jsonrpc": "2.0", "method": "initialized", "params": {}})))
    return peer, reader, log


def stats(msg_id: int) -> bytes:
    return frame(
        encode(
            {
                "jsonrpc": "2.0",
                "id": msg_id,
                "method": "workspace/executeCommand",
                "params": {"command": "tierline.stats"},
            }
        )
    )


STATS_BODY = encode(
    {"jsonrpc": "2.0", "id": 7, "method": "workspace/executeCommand", "params": {"command": "tierline.stats"}}
)

# name -> the bad bytes sent before the good requests
BAD_FRAMES = {
    # The length says fewer bytes than the body has: the rest of the body runs into the next header.
    "content-length too small": b"Content-Length: 20\r\n\r\n" + STATS_BODY,
    # The length says more: the body swallows the next frames unless the reader sees their header.
    "content-length too large": b"Content-Length: 400\r\n\r\n" + STATS_BODY,
    # More by a few bytes: the next header straddles the claimed end of the body.
    "content-length too large by a few bytes": b"Content-Length: %d\r\n\r\n" % (len(STATS_BODY) + 9) + STATS_BODY,
    # Far more (under the 64 MiB that cannot be skipped): nothing else will ever fill it.
    "content-length far too large": b"Content-Length: 9000000\r\n\r\n" + STATS_BODY,
    "a body without a header": STATS_BODY,
    "junk without a line break": b"\x00\xffgarbage{]",
    "a 2 MiB header line": b"X-Junk: " + b"A" * (2 * MiB) + b"\r\n",
    "a 2 MiB line without a line break": b"B" * (2 * MiB),
    "a header that is not a number": b"Content-Length: abc",
    "a header inside a header": b"Content-Length: 5",
    "a header block that never ends": b"Content-Length: 10\r\nX-Junk: " + b"C" * (2 * MiB),
}


@pytest.mark.parametrize("bad", list(BAD_FRAMES), ids=list(BAD_FRAMES))
async def test_good_requests_after_a_bad_frame_are_answered(simulator, tmp_path, bad):
    peer, reader, log = await start_server(tmp_path, simulator)
    try:
        waiters = {}
        for msg_id in (101, 102):
            waiters[msg_id] = asyncio.get_running_loop().create_future()
            peer.waiters[msg_id] = waiters[msg_id]
        peer.write(BAD_FRAMES[bad] + stats(101) + stats(102))
        assert peer.process.stdin is not None
        await peer.process.stdin.drain()
        # A bound, not a measure: a server that lost its place in the stream never answers.
        answers = await asyncio.wait_for(asyncio.gather(*waiters.values()), 60)
        for answer in answers:
            assert "requests" in answer["result"], answer
        # Still in step afterwards: a plain request, and no pop-up about the client's junk.
        again = await peer.call(103, "workspace/executeCommand", {"command": "tierline.stats"})
        assert "result" in again
        assert not [n for n in peer.notifications if n["method"] == "window/showMessage"]
        assert peer.process.returncode is None
    finally:
        await peer.call(104, "shutdown", None)
        peer.write(frame(encode({"jsonrpc": "2.0", "method": "exit"})))
        assert await asyncio.wait_for(peer.process.wait(), 30) == 0
        reader.cancel()
    stderr = await peer.process.stderr.read() if peer.process.stderr else b""
    assert b"Traceback" not in stderr
    assert "Traceback" not in log.read_text()


async def test_a_request_split_across_writes_is_read_whole(simulator, tmp_path):
    """The resync must not mistake a frame that arrives a few bytes at a time for junk."""
    peer, reader, _ = await start_server(tmp_path, simulator)
    waiter = asyncio.get_running_loop().create_future()
    peer.waiters[201] = waiter
    data = stats(201)
    assert peer.process.stdin is not None
    for i in range(0, len(data), 7):
        peer.write(data[i : i + 7])
        await peer.process.stdin.drain()
    answer = await asyncio.wait_for(waiter, 60)
    assert "requests" in answer["result"]
    await peer.call(202, "shutdown", None)
    peer.write(frame(encode({"jsonrpc": "2.0", "method": "exit"})))
    assert await asyncio.wait_for(peer.process.wait(), 30) == 0
    reader.cancel()
    assert answer["id"] == 201
