"""A message nested too deeply to parse still gets its answer: the real server over stdio is sent an
`initialize` whose options nest 20,000 levels deep (raw bytes: no JSON library writes that), and the
editor, waiting on that request's id, is told why; the next `initialize` is answered as usual."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.helpers.stdio import frame, spawn
from tierline.lsp.framing import PARSE_ERROR, top_level_id

DEPTH = 20_000


def deep_initialize(msg_id: int) -> bytes:
    options = "[" * DEPTH + "]" * DEPTH
    head = f'{{"jsonrpc": "2.0", "id": {msg_id}, "method": "initialize", "params": {{"processId": null,'
    body = head + f' "capabilities": {{}}, "initializationOptions": {options}}}}}'

    return body.encode()


async def test_a_request_too_deep_to_parse_is_answered_under_its_id(tmp_path: Path) -> None:
    peer, reader = await spawn(tmp_path / "server.log", tmp_path / "none.toml", XDG_STATE_HOME=str(tmp_path))
    try:
        waiter = asyncio.get_running_loop().create_future()
        peer.waiters[1] = waiter
        peer.write(frame(deep_initialize(1)))
        answer = await asyncio.wait_for(waiter, 60)
        assert answer["error"]["code"] == PARSE_ERROR
        assert "nests too deeply" in answer["error"]["message"]
        result = await peer.call(2, "initialize", {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}})
        assert "capabilities" in result["result"], result
    finally:
        peer.process.kill()
        await peer.process.wait()
        reader.cancel()


def test_the_id_is_read_from_the_top_level_only() -> None:
    assert top_level_id(deep_initialize(7).decode()) == 7
    assert top_level_id('{"params": {"id": 5}, "id": "abc"}') == "abc"
    assert top_level_id('{"params": {"id": 5}}') is None  # a notification's nested "id" is not its id
    assert top_level_id('{"id": true}') is None and top_level_id('{"id": 1.5}') is None
