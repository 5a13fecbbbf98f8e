"""Servers on 127.0.0.1 for the network tests: a plain loopback server, a CONNECT proxy, TLS from a private CA."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from pathlib import Path

import pytest
import trustme


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


class LoopbackServer:
    """A server on a free port of 127.0.0.1 (TLS when given a context); `_serve` answers each connection."""

    def __init__(self, context: ssl.SSLContext | None = None):
        self.context = context
        self.server: asyncio.AbstractServer | None = None

    async def listen(self) -> tuple[str, int]:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.context)
        return "127.0.0.1", self.server.sockets[0].getsockname()[1]

    async def start(self) -> str:
        """Listen; the address as a proxy URL."""
        host, port = await self.listen()
        return f"http://{host}:{port}"

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


def use_proxy_and_ca(monkeypatch: pytest.MonkeyPatch, https_proxy: str, ca_file: Path) -> None:
    """HTTPS_PROXY and SSL_CERT_FILE set, every other proxy or CA variable unset."""
    monkeypatch.setenv("HTTPS_PROXY", https_proxy)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)


async def _splice(
    a: tuple[asyncio.StreamReader, asyncio.StreamWriter], b: tuple[asyncio.StreamReader, asyncio.StreamWriter]
) -> None:
    await asyncio.gather(_pipe(a[0], b[1]), _pipe(b[0], a[1]))


def tls_context_for(ca: trustme.CA, *hosts: str) -> ssl.SSLContext:
    """A server context with a certificate for these hosts, signed by `ca`."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*hosts).configure_cert(context)
    return context


class TunnelProxy(LoopbackServer):
    """A proxy that answers `CONNECT host:port` by tunnelling the bytes to one place, logging what
    it was asked for (it never sees inside the TLS)."""

    def __init__(self, target: tuple[str, int]):
        super().__init__()
        self.target = target
        self.seen: list[str] = []
        self.refuse = ""  # when set: answer 407 with this reason, as a proxy that wants credentials does

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        method, target, _ = head.split("\r\n", 1)[0].split(" ")
        self.seen.append(f"{method} {target}")
        if self.refuse:
            writer.write(f"HTTP/1.1 407 {self.refuse}\r\nContent-Length: 0\r\n\r\n".encode("latin-1"))
            writer.close()
            return
        if method != "CONNECT":
            writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            writer.close()
            return
        upstream = await asyncio.open_connection(*self.target)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await _splice((reader, writer), upstream)
