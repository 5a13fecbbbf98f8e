"""Every copy-paste config in docs/providers.md (the README sends users there) answers, as written.

A user with only `ANTHROPIC_API_KEY`, only a DeepSeek or a Mistral key, an OpenAI, Azure or
OpenRouter key, or a local Ollama / llama.cpp copies a block and gets completions. Each `[[models]]`
entry is used exactly as the docs print it (its `base_url`, `path`, `auth`, `stream_usage`,
`max_tokens_field`, `extra_body`): only the network around it is a test's. Remote hosts are reached
through `HTTPS_PROXY` (a CONNECT tunnel) and a TLS server holding a certificate for each provider's
host, signed by a throwaway CA in `SSL_CERT_FILE`; it hands each request to the simulator's replay
of that provider's documented wire format, which refuses a request shaped wrong for it (Anthropic
without `x-api-key`, Mistral with `stream_options`, OpenAI's reasoning models with `max_tokens`,
Azure without `api-key`). Loopback servers (Ollama, llama.cpp) are the same replay on a free port
instead of the default one: the one change made to those entries.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import trustme

from tests.helpers.common import ROOT
from tests.helpers.network import LoopbackServer, TunnelProxy, _splice, tls_context_for, use_proxy_and_ca
from tests.helpers.providers import ANSWER, Harness, config
from tierline.config.loading import tomllib
from tierline.devtools.simulator import Simulator

DOCS = ROOT / "docs" / "providers.md"


def documented_models() -> list[dict[str, Any]]:
    """Every `[[models]]` entry of every ```toml block in docs/providers.md."""
    blocks = re.findall(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.DOTALL)
    return [model for block in blocks for model in tomllib.loads(block).get("models", [])]


def wire_scenario(model: dict[str, Any]) -> str:
    """The provider's documented wire format the entry talks to (by its host, as the provider is)."""
    url = urlsplit(model["base_url"])
    host, api = url.hostname or "", model.get("api", "chat")
    if host == "api.anthropic.com":
        return "anthropic-messages"
    if host == "api.deepseek.com":
        return "deepseek-fim" if api == "fim" else "deepseek-chat"
    if host.endswith("mistral.ai"):
        return "mistral-fim"
    if host == "api.openai.com":
        return "openai-chat"
    if host.endswith(".openai.azure.com"):
        return "azure-chat"
    if host == "openrouter.ai":
        return "openrouter-chat"
    if url.port == 11434:
        return "ollama-fim" if api == "fim" else "ollama-chat"
    if url.port == 8080:
        return "llamacpp-no-done"
    raise AssertionError(f"docs/providers.md has a model this test does not know: {model['name']} at {host}")


MODELS = documented_models()
REMOTE_HOSTS = sorted({urlsplit(m["base_url"]).hostname or "" for m in MODELS} - {"127.0.0.1", "localhost"})


class ProviderFront(LoopbackServer):
    """An HTTP(S) server standing in for providers' hosts: each request goes to the simulator under
    `/_wire/<scenario>` (chosen by the Host it was sent to, or fixed), one request per connection."""

    def __init__(self, simulator: tuple[str, int], context: ssl.SSLContext | None, scenario: str | None = None):
        super().__init__(context)
        self.simulator, self.scenario = simulator, scenario

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        request_line, *header_lines = head.rstrip("\r\n").split("\r\n")
        method, path, version = request_line.split(" ")
        headers = {k.lower(): v for k, _, v in (h.partition(": ") for h in header_lines)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        host = headers.get("host", "").split(":")[0]
        model = next((m for m in MODELS if urlsplit(m["base_url"]).hostname == host), None)
        scenario = self.scenario or (wire_scenario(model) if model else "unknown-host")
        if model is not None and host == "api.deepseek.com":  # one host, two formats: by path
            scenario = "deepseek-fim" if path.startswith("/beta/") else "deepseek-chat"
        kept = [h for h in header_lines if not h.lower().startswith("connection")]
        forwarded = "\r\n".join([f"{method} /_wire/{scenario}{path} {version}", *kept, "Connection: close"])
        upstream = await asyncio.open_connection(*self.simulator)
        upstream[1].write(forwarded.encode("latin-1") + b"\r\n\r\n" + body)
        await upstream[1].drain()
        await _splice((reader, writer), upstream)


@pytest.fixture
async def providers_world(simulator: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """HTTPS_PROXY -> CONNECT tunnel -> TLS for every documented host -> the simulator's replays."""
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    host, port = simulator.base_url.split("//")[1].split("/")[0].split(":")
    front = ProviderFront((host, int(port)), tls_context_for(ca, *REMOTE_HOSTS))
    proxy = TunnelProxy(await front.listen())
    use_proxy_and_ca(monkeypatch, await proxy.start(), ca_file)
    yield (host, int(port))
    await proxy.stop()
    await front.stop()


def test_the_docs_cover_the_keys_users_hold() -> None:
    hosts = {urlsplit(m["base_url"]).hostname for m in MODELS}
    assert {"api.anthropic.com", "api.deepseek.com", "api.mistral.ai", "api.openai.com", "openrouter.ai"} <= hosts
    assert {11434, 8080} <= {urlsplit(m["base_url"]).port for m in MODELS}  # Ollama, llama.cpp


@pytest.mark.parametrize("documented", MODELS, ids=[m["name"] for m in MODELS])
async def test_a_documented_config_answers_as_written(
    documented: dict[str, Any], providers_world: tuple[str, int], tmp_path: Path
) -> None:
    entry = dict(documented)
    local: ProviderFront | None = None
    if urlsplit(entry["base_url"]).hostname in ("127.0.0.1", "localhost"):
        local = ProviderFront(providers_world, None, wire_scenario(entry))
        _, port = await local.listen()
        url = urlsplit(entry["base_url"])
        entry["base_url"] = urlunsplit(url._replace(netloc=f"127.0.0.1:{port}"))
    env = {entry["api_key_env"]: "sk-docs-test-key-0000"} if entry.get("api_key_env") else {"UNUSED": ""}
    h = Harness(config(tmp_path, entry), env)
    try:
        routed = await h.keystroke()
    finally:
        await h.close()
        if local is not None:
            await local.stop()
    assert routed.route is not None
    assert [(a["model"], a["outcome"]) for a in routed.route["attempts"]] == [(entry["name"], "ok")], routed.route
    assert routed.text == ANSWER
    (charge,) = h.charges
    # Priced as documented (OpenRouter states the cost itself; local models are free).
    assert (charge.cost_usd > 0) == (entry.get("input_per_mtok", 0) > 0 or charge.cost_source == "reported")
