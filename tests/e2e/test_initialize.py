"""`initialize` over stdio, as an editor sends it: the server advertises inline completions and
agrees on the position encoding the editor offers (utf-8 first when offered, else utf-16)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers.stdio import spawn


async def initialize(tmp_path: Path, capabilities: dict[str, Any]) -> dict[str, Any]:
    peer, reader = await spawn(tmp_path / "server.log", tmp_path / "none.toml", XDG_STATE_HOME=str(tmp_path))
    try:
        answer = await peer.call(
            1, "initialize", {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": capabilities}
        )
        return answer["result"]["capabilities"]
    finally:
        peer.process.kill()
        await peer.process.wait()
        reader.cancel()


@pytest.mark.parametrize(
    ("offered", "agreed"),
    [(["utf-8", "utf-16"], "utf-8"), (["utf-16"], "utf-16"), (None, "utf-16")],
)
async def test_initialize_advertises_inline_completions_and_agrees_on_an_encoding(tmp_path: Path, offered, agreed):
    capabilities = {"general": {"positionEncodings": offered}} if offered else {}
    answered = await initialize(tmp_path, capabilities)
    assert "inlineCompletionProvider" in answered
    assert answered.get("positionEncoding", "utf-16") == agreed
