"""Remote endpoints go through the user's proxy (HTTP(S)_PROXY, NO_PROXY); loopback ones never do."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.test_providers_wire import ANSWER, Harness, config
from tierline.devtools.simulator import Simulator
from tierline.providers.openai import is_loopback


class ForwardProxy:
    """A plain HTTP forward proxy on 127.0.0.1 that sends every request to one upstream (the
    simulator), logging the absolute URL it was asked for."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.seen: list[str] = []
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, version = lines[0].split(" ")
            self.seen.append(target)
            path = "/" + target.split("://", 1)[1].split("/", 1)[1]
            length = next(
                (int(v) for k, _, v in (h.partition(": ") for h in lines[1:]) if k.lower() == "content-length"), 0
            )
            body = await reader.readexactly(length)
            headers = [h for h in lines[1:] if h and not h.lower().startswith(("connection", "proxy-"))]
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
            up_writer.write(
                ("\r\n".join([f"{method} {path} {version}", *headers, "Connection: close"]) + "\r\n\r\n").encode(
                    "latin-1"
                )
                + body
            )
            await up_writer.drain()
            while data := await up_reader.read(65536):
                writer.write(data)
                await writer.drain()
            up_writer.close()
        finally:
            writer.close()


async def test_remote_endpoint_goes_through_the_proxy(
    simulator: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host, port = simulator.base_url.split("//")[1].split("/")[0].split(":")
    proxy = ForwardProxy((host, int(port)))
    monkeypatch.setenv("HTTP_PROXY", await proxy.start())
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    remote = {
        "name": "remote",
        "tier": "cheap",
        "base_url": "http://models.example.test/_wire/openai-chat/v1",
        "model": "m",
        "api_key_env": "TEST_KEY",
    }
    h = Harness(config(tmp_path, remote))
    try:
        routed = await h.keystroke()
    finally:
        await h.close()
        await proxy.stop()
    assert routed.text == ANSWER
    assert proxy.seen == ["http://models.example.test/_wire/openai-chat/v1/chat/completions"]


async def test_loopback_endpoint_never_goes_through_the_proxy(
    simulator: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    local = {
        "name": "local",
        "tier": "cheap",
        "base_url": simulator.base_url.removesuffix("/v1") + "/_wire/ollama-chat/v1",
        "model": "m",
    }
    h = Harness(config(tmp_path, local))
    try:
        assert (await h.keystroke()).text == ANSWER
    finally:
        await h.close()


def test_loopback_names() -> None:
    assert (
        is_loopback("http://127.0.0.1:11434/v1")
        and is_loopback("http://localhost:8080")
        and is_loopback("http://[::1]:1/v1")
    )
    assert not is_loopback("https://api.openai.com/v1")
