"""Remote endpoints go through the user's proxy (HTTP(S)_PROXY, NO_PROXY); loopback ones never do.
HTTPS goes through the proxy as a CONNECT tunnel, checked against `SSL_CERT_FILE` (a corporate CA)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import trustme

from tests.helpers.network import LoopbackServer, TunnelProxy, _splice, tls_context_for, use_proxy_and_ca
from tests.helpers.providers import ANSWER, SECRET, Harness, config
from tierline.devtools.simulator import Simulator
from tierline.providers.openai import is_loopback


class ForwardProxy(LoopbackServer):
    """A plain HTTP forward proxy on 127.0.0.1 that sends every request to one upstream (the
    simulator), logging the absolute URL it was asked for."""

    def __init__(self, upstream: tuple[str, int]):
        super().__init__()
        self.upstream = upstream
        self.seen: list[str] = []

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


class TlsFront(LoopbackServer):
    """An HTTPS server for `models.example.test` (its certificate signed by a private CA, as a
    corporate one would be) in front of the simulator."""

    def __init__(self, upstream: tuple[str, int], ca: trustme.CA):
        super().__init__(tls_context_for(ca, "models.example.test"))
        self.upstream = upstream

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _splice((reader, writer), await asyncio.open_connection(*self.upstream))


@pytest.fixture
async def tunnel(simulator: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """HTTPS_PROXY -> a CONNECT proxy -> TLS for models.example.test -> the simulator; the CA in
    SSL_CERT_FILE only."""
    ca = trustme.CA()
    ca_file = tmp_path / "corporate-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    host, port = simulator.base_url.split("//")[1].split("/")[0].split(":")
    front = TlsFront((host, int(port)), ca)
    proxy = TunnelProxy(await front.listen())
    use_proxy_and_ca(monkeypatch, await proxy.start(), ca_file)
    yield proxy
    await proxy.stop()
    await front.stop()


def _remote_https(timeout_ms: int = 10_000) -> dict[str, object]:
    return {
        "name": "remote",
        "tier": "cheap",
        "base_url": "https://models.example.test/_wire/openai-chat/v1",
        "model": "m",
        "api_key_env": "TEST_KEY",
        "timeout_ms": timeout_ms,
    }


async def test_https_endpoint_goes_through_the_proxy_as_a_connect_tunnel(tunnel: TunnelProxy, tmp_path: Path) -> None:
    h = Harness(config(tmp_path, _remote_https()))
    try:
        routed = await h.keystroke()
    finally:
        await h.close()
    assert routed.text == ANSWER
    assert tunnel.seen == ["CONNECT models.example.test:443"]


async def test_https_certificate_not_signed_by_a_trusted_ca_is_refused(
    tunnel: TunnelProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    monkeypatch.setenv("SSL_CERT_FILE", str(other))
    h = Harness(config(tmp_path, _remote_https()))
    try:
        routed = await h.keystroke()
    finally:
        await h.close()
    assert routed.text is None
    assert routed.route is not None and [a["outcome"] for a in routed.route["attempts"]] == ["server_error"]
    assert "the server's certificate is not trusted" in routed.route["attempts"][0]["detail"]
    assert tunnel.seen == ["CONNECT models.example.test:443"]


async def test_no_proxy_sends_a_listed_host_around_the_proxy(
    tunnel: TunnelProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # models.example.test is reserved (RFC 2606) and resolves nowhere: going direct, the call fails.
    monkeypatch.setenv("NO_PROXY", "localhost,.example.test")
    h = Harness(config(tmp_path, _remote_https(timeout_ms=3_000)))
    try:
        routed = await h.keystroke()
    finally:
        await h.close()
    assert tunnel.seen == []
    assert routed.text is None


async def test_a_proxy_that_refuses_the_tunnel_is_named_with_its_answer(tunnel: TunnelProxy, tmp_path: Path) -> None:
    # A hostile proxy's reason phrase is input like a provider's message: a key in it is masked.
    tunnel.refuse = f"Proxy Authentication Required (saw {SECRET})"
    h = Harness(config(tmp_path, _remote_https()))
    try:
        routed = await h.keystroke()
    finally:
        await h.close()
    assert routed.text is None and routed.route is not None
    detail = routed.route["attempts"][0]["detail"]
    assert "the proxy refused it" in detail and "407" in detail
    assert "127.0.0.1" not in detail  # the proxy's address (and any credentials in it) stays out
    assert SECRET not in detail and "Proxy Authentication Required" in detail
