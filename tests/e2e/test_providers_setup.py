"""`tierline init`, the presets for direct keys, and `tierline doctor --live`, by their effect."""

from __future__ import annotations

import copy
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.forkserver import tierline_command
from tests.helpers.providers import ANSWER, SECRET, Harness, config, wire_url
from tierline.config import ModelSpec, load_config, parse_config
from tierline.devtools.simulator import Simulator, SimulatorThread, write_toml
from tierline.prompt.window import PromptWindow
from tierline.providers.presets import PRESETS
from tierline.providers.shaping import headers_for, max_tokens_field, shape, takes_stream_options


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    return subprocess.run(tierline_command(*args), env={**base, **env}, capture_output=True, text=True, timeout=120)


# -- tierline init ----------------------------------------------------------------------------


def test_init_writes_the_models_of_the_keys_that_are_set(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    done = run_cli("init", env={"TIERLINE_CONFIG": str(path), "ANTHROPIC_API_KEY": SECRET})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 models from anthropic" in done.stdout
    text = path.read_text()
    assert SECRET not in text and 'api_key_env = "ANTHROPIC_API_KEY"' in text
    loaded = load_config(env={"TIERLINE_CONFIG": str(path)})
    assert [(m.name, m.tier, m.api) for m in loaded.models] == [
        ("claude-haiku", "cheap", "anthropic"),
        ("claude-sonnet", "mid", "anthropic"),
        ("claude-opus", "premium", "anthropic"),
    ]
    # A second run keeps the file; --force replaces it.
    again = run_cli("init", env={"TIERLINE_CONFIG": str(path), "DEEPSEEK_API_KEY": "x"})
    assert again.returncode == 1 and "exists" in again.stdout and path.read_text() == text
    forced = run_cli("init", "--force", env={"TIERLINE_CONFIG": str(path), "DEEPSEEK_API_KEY": "x"})
    assert forced.returncode == 0 and "deepseek-fim" in path.read_text()


def test_init_without_any_key_says_which_to_set(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    done = run_cli("init", env={"TIERLINE_CONFIG": str(path)})
    assert done.returncode == 1 and "ANTHROPIC_API_KEY" in done.stdout and "--provider ollama" in done.stdout
    assert not path.exists()


# -- each preset against its provider's documented wire format --------------------------------

PRESET_WIRE = [
    ("anthropic", "anthropic-messages"),
    ("deepseek", "deepseek-fim"),
    ("mistral", "mistral-fim"),
    ("openai", "openai-chat"),
    ("ollama", "ollama-chat"),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(("preset", "scenario"), PRESET_WIRE)
async def test_preset_cheap_model_completes_against_its_wire_format(
    simulator: Simulator, tmp_path: Path, preset: str, scenario: str
) -> None:
    """A user with only this provider's key (or a local Ollama) gets completions from the preset."""
    cheap = copy.deepcopy(next(m for m in PRESETS[preset].models if m["tier"] == "cheap"))
    if preset == "ollama":
        cheap["api"] = "chat"  # the replay speaks Ollama's chat endpoint
    cheap["base_url"] = wire_url(simulator, scenario)
    if cheap.get("api_key_env"):
        cheap["api_key_env"] = "TEST_KEY"
    h = Harness(config(tmp_path, cheap))
    try:
        routed = await h.keystroke()
        assert routed.text == ANSWER, routed.route
    finally:
        await h.close()


def test_every_preset_loads() -> None:
    for preset in PRESETS.values():
        assert parse_config({"models": list(preset.models)}).models


# -- request shaping by host ------------------------------------------------------------------


def spec(**keys: Any) -> ModelSpec:
    raw = {"name": "m", "tier": "cheap", "base_url": "https://openrouter.ai/api/v1", "model": "x/y", **keys}
    return parse_config({"models": [raw]}).models[0]


def test_openrouter_gets_attribution_headers_and_others_do_not() -> None:
    assert headers_for(spec(), "k")["X-Title"] == "tierline"
    assert "HTTP-Referer" in headers_for(spec(), "k")
    other = headers_for(spec(base_url="https://api.deepseek.com/v1"), "k")
    assert "X-Title" not in other and "HTTP-Referer" not in other
    # The user's own headers win.
    assert headers_for(spec(headers={"X-Title": "mine"}), "k")["X-Title"] == "mine"


def test_defaults_by_host() -> None:
    assert max_tokens_field(spec(base_url="https://api.openai.com/v1", model="o3-mini")) == "max_completion_tokens"
    assert max_tokens_field(spec(base_url="https://api.openai.com/v1", model="gpt-4.1")) == "max_tokens"
    assert not takes_stream_options(spec(base_url="https://api.mistral.ai/v1"))
    assert takes_stream_options(spec())
    codestral = spec(base_url="https://codestral.mistral.ai/v1", api="fim")
    window = PromptWindow("python", "f.py", "def f(", ")\n")
    call = shape(codestral, window, "k", (32, True))
    assert call.url == "https://codestral.mistral.ai/v1/fim/completions" and "stream_options" not in call.body
    azure = spec(
        base_url="https://x.openai.azure.com/openai/deployments/d", path="/chat/completions?api-version=2024-10-21"
    )
    azure_call = shape(azure, window, "k", (32, False))
    assert azure_call.headers["api-key"] == "k" and "Authorization" not in azure_call.headers
    assert azure_call.url.endswith("/deployments/d/chat/completions?api-version=2024-10-21")


def test_bad_shaping_keys_are_refused_with_the_key_named() -> None:
    from tierline.config import ConfigError

    for keys, where in (
        ({"auth": "basic"}, "models[0].auth"),
        ({"path": "fim"}, "models[0].path"),
        ({"headers": {"X": "a\nb"}}, "models[0].headers.X"),
        ({"max_tokens_field": "max tokens"}, "models[0].max_tokens_field"),
        ({"stream_usage": "yes"}, "models[0].stream_usage"),
    ):
        with pytest.raises(ConfigError) as caught:
            spec(**keys)
        assert caught.value.key == where


# -- tierline doctor --live -------------------------------------------------------------------


def test_doctor_live_gives_one_verdict_line_per_model(tmp_path: Path) -> None:
    with SimulatorThread() as sim:
        base = sim.base_url.removesuffix("/v1")

        def model(name: str, scenario: str, **keys: Any) -> dict[str, Any]:
            return {"name": name, "tier": "cheap", "base_url": f"{base}/_wire/{scenario}/v1", "model": "m",
                    "api_key_env": "TEST_KEY", **keys}  # fmt: skip

        with __import__("socket").socket() as closed:
            closed.bind(("127.0.0.1", 0))
            dead_port = closed.getsockname()[1]
        models = [
            model("good", "openai-chat"),
            model("badkey", "openai-bad-key"),
            model("typo", "openai-unknown-model"),
            model("nokey", "openai-chat", api_key_env="UNSET_KEY_FOR_TEST"),
            {"name": "down", "tier": "mid", "base_url": f"http://127.0.0.1:{dead_port}/v1", "model": "m"},
        ]
        path = tmp_path / "config.toml"
        write_toml(
            {"models": models, "cache": {"dir": str(tmp_path / "c")}, "ledger": {"dir": str(tmp_path / "s")}}, path
        )
        done = run_cli("doctor", "--live", env={"TIERLINE_CONFIG": str(path), "TEST_KEY": SECRET})
        live = {line.split(" live ")[1].split()[0]: line for line in done.stdout.splitlines() if " live " in line}
        assert set(live) == {"good", "badkey", "typo", "nokey", "down"}, done.stdout
        assert live["good"].startswith("[ok  ]") and " ms ok: reachable, key accepted, model found" in live["good"]
        assert live["badkey"].startswith("[FAIL]") and "key refused" in live["badkey"] and "$TEST_KEY" in live["badkey"]
        assert live["typo"].startswith("[FAIL]") and "model not found" in live["typo"]
        assert live["nokey"].startswith("[skip]") and "UNSET_KEY_FOR_TEST is not set" in live["nokey"]
        assert live["down"].startswith("[FAIL]") and "unreachable" in live["down"]
        assert SECRET not in done.stdout + done.stderr
        assert done.returncode == 1
        # One request per model with a key, no more.
        assert len([r for r in sim.requests() if r.get("wire")]) == 3
