"""Ready model lists for users who hold a key with one provider directly (or run models locally),
next to the built-in OpenRouter registry. `tierline init` writes the ones whose keys are set.

Prices: USD per million tokens, each provider's list price of November 2026; `cached_input_per_mtok`
is the prompt-cache read price. Check them against your account before relying on spend figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tierline.config.model import DEFAULT_MODELS


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    key_env: str | None  # None: local, no key
    models: tuple[dict[str, Any], ...]


def _model(name: str, tier: str, base_url: str, model: str, **rest: Any) -> dict[str, Any]:
    return {"name": name, "tier": tier, "base_url": base_url, "model": model, **rest}


ANTHROPIC = Preset(
    "anthropic",
    "Anthropic (Messages API)",
    "ANTHROPIC_API_KEY",
    tuple(
        _model(name, tier, "https://api.anthropic.com/v1", model_id, api="anthropic",
               api_key_env="ANTHROPIC_API_KEY", input_per_mtok=price_in, output_per_mtok=price_out,
               cached_input_per_mtok=round(price_in / 10, 4), timeout_ms=timeout)
        for name, tier, model_id, price_in, price_out, timeout in (
            ("claude-haiku", "cheap", "claude-haiku-4-5", 1.0, 5.0, 8000),
            ("claude-sonnet", "mid", "claude-sonnet-4-5", 3.0, 15.0, 10000),
            ("claude-opus", "premium", "claude-opus-4-5", 5.0, 25.0, 15000),
        )
    ),
)  # fmt: skip

DEEPSEEK = Preset(
    "deepseek",
    "DeepSeek (FIM beta for the cheap tier, chat above it)",
    "DEEPSEEK_API_KEY",
    (
        _model("deepseek-fim", "cheap", "https://api.deepseek.com/beta", "deepseek-chat", api="fim",
               api_key_env="DEEPSEEK_API_KEY", input_per_mtok=0.28, output_per_mtok=0.42,
               cached_input_per_mtok=0.028, timeout_ms=8000),
        _model("deepseek-chat", "mid", "https://api.deepseek.com/v1", "deepseek-chat", api="chat",
               api_key_env="DEEPSEEK_API_KEY", input_per_mtok=0.28, output_per_mtok=0.42,
               cached_input_per_mtok=0.028, timeout_ms=10000),
    ),
)  # fmt: skip

MISTRAL = Preset(
    "mistral",
    "Mistral (Codestral FIM, then chat models)",
    "MISTRAL_API_KEY",
    (
        # Spelled out (not left to the host's defaults) so the entry also works through a gateway.
        _model("codestral", "cheap", "https://api.mistral.ai/v1", "codestral-latest", api="fim",
               path="/fim/completions", stream_usage=False, api_key_env="MISTRAL_API_KEY",
               input_per_mtok=0.3, output_per_mtok=0.9, timeout_ms=8000),
        _model("mistral-medium", "mid", "https://api.mistral.ai/v1", "mistral-medium-latest", api="chat",
               stream_usage=False, api_key_env="MISTRAL_API_KEY", input_per_mtok=0.4, output_per_mtok=2.0, timeout_ms=10000),
        _model("mistral-large", "premium", "https://api.mistral.ai/v1", "mistral-large-latest", api="chat",
               stream_usage=False, api_key_env="MISTRAL_API_KEY", input_per_mtok=2.0, output_per_mtok=6.0, timeout_ms=15000),
    ),
)  # fmt: skip

OPENAI = Preset(
    "openai",
    "OpenAI",
    "OPENAI_API_KEY",
    tuple(
        _model(name, tier, "https://api.openai.com/v1", model_id, api="chat", api_key_env="OPENAI_API_KEY",
               input_per_mtok=price_in, output_per_mtok=price_out, cached_input_per_mtok=round(price_in / 4, 4),
               timeout_ms=timeout)
        for name, tier, model_id, price_in, price_out, timeout in (
            ("gpt-4.1-nano", "cheap", "gpt-4.1-nano", 0.1, 0.4, 8000),
            ("gpt-4.1-mini", "mid", "gpt-4.1-mini", 0.4, 1.6, 10000),
            ("gpt-4.1", "premium", "gpt-4.1", 2.0, 8.0, 15000),
        )
    ),
)  # fmt: skip

OPENROUTER = Preset("openrouter", "OpenRouter (the built-in registry)", "OPENROUTER_API_KEY", tuple(DEFAULT_MODELS))

OLLAMA = Preset(
    "ollama",
    "Ollama on this machine (no key, no cost)",
    None,
    (
        _model("qwen-coder-local", "cheap", "http://127.0.0.1:11434/v1", "qwen2.5-coder:7b", api="fim",
               timeout_ms=10000),
        _model("qwen-coder-local-chat", "mid", "http://127.0.0.1:11434/v1", "qwen2.5-coder:7b", api="chat",
               timeout_ms=15000),
    ),
)  # fmt: skip

PRESETS: dict[str, Preset] = {p.name: p for p in (ANTHROPIC, DEEPSEEK, MISTRAL, OPENAI, OPENROUTER, OLLAMA)}
