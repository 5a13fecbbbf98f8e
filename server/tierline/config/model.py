"""The configuration's shape: frozen dataclasses and the built-in defaults, the one place each default lives."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tierline.config import paths
from tierline.wire import TIERS as TIERS
from tierline.wire import Tier

APIS: tuple[str, ...] = ("chat", "fim", "anthropic")
AUTHS: tuple[str, ...] = ("bearer", "x-api-key", "api-key", "none")
TRIGGERS: tuple[str, ...] = ("automatic", "manual")

# Prices in USD per million tokens, OpenRouter list prices of November 2026.
DEFAULT_MODELS: list[dict[str, Any]] = [
    {
        "name": "deepseek-v4-flash",
        "tier": "cheap",
        "base_url": "https://openrouter.ai/api/v1",
        "model": "deepseek/deepseek-v4-flash",
        "api": "chat",
        "api_key_env": "OPENROUTER_API_KEY",
        "input_per_mtok": 0.14,
        "output_per_mtok": 0.28,
        "cached_input_per_mtok": 0.014,
        "timeout_ms": 8000,
        "pass_at_1": {"default": 0.62},
    },
    {
        "name": "qwen2.5-coder-32b",
        "tier": "cheap",
        "base_url": "https://openrouter.ai/api/v1",
        "model": "qwen/qwen-2.5-coder-32b-instruct",
        "api": "chat",
        "api_key_env": "OPENROUTER_API_KEY",
        "input_per_mtok": 0.07,
        "output_per_mtok": 0.16,
        "timeout_ms": 8000,
        "pass_at_1": {"default": 0.55, "python": 0.6},
    },
    {
        "name": "claude-haiku",
        "tier": "mid",
        "base_url": "https://openrouter.ai/api/v1",
        "model": "anthropic/claude-haiku-4.5",
        "api": "chat",
        "api_key_env": "OPENROUTER_API_KEY",
        "input_per_mtok": 1.0,
        "output_per_mtok": 5.0,
        "timeout_ms": 8000,
    },
    {
        "name": "claude-sonnet",
        "tier": "mid",
        "base_url": "https://openrouter.ai/api/v1",
        "model": "anthropic/claude-sonnet-4.5",
        "api": "chat",
        "api_key_env": "OPENROUTER_API_KEY",
        "input_per_mtok": 3.0,
        "output_per_mtok": 15.0,
        "timeout_ms": 10000,
    },
    {
        "name": "claude-opus",
        "tier": "premium",
        "base_url": "https://openrouter.ai/api/v1",
        "model": "anthropic/claude-opus-4.5",
        "api": "chat",
        "api_key_env": "OPENROUTER_API_KEY",
        "input_per_mtok": 5.0,
        "output_per_mtok": 25.0,
        "timeout_ms": 15000,
    },
]

# The defaults as TOML would spell them. Editors mirror these (a test compares them).
DEFAULTS: dict[str, Any] = {
    "routing": {
        "latency_budget_ms": 1500,
        "ewma_alpha": 0.3,
        "thresholds": {"mid": 0.35, "premium": 0.70},
        "languages": {},
        "auto_calibrate": False,
    },
    "cache": {"ttl_seconds": 300, "size_limit_mb": 256, "dir": ""},
    # store: "local" (SQLite in the state dir, every process of this user), "litellm" (the models' LiteLLM
    # proxy: its key and team budget are the cap, accounting/gateway.py) or "redis://HOST:PORT/DB" (a team).
    # user: who spends, in a shared store ("" = $USER). user_daily_usd: a per-user daily cap (0 = none).
    "budget": {
        "daily_usd": 5.0,
        "monthly_usd": 0.0,
        "store": "local",
        "user": "",
        "user_daily_usd": 0.0,
        "downshift": True,
    },
    "ledger": {"dir": ""},
    "completion": {
        "trigger": "automatic",
        "languages": [],
        "max_tokens": 128,
        "prefix_chars": 3000,
        "suffix_chars": 1000,
        "debounce_ms": 0,
        "latency_vs_cost": 1.0,
        # An invoked request near a tier boundary also shows the cheap and premium answers
        # (completion/alternatives.py): up to two more calls, only when the user asked.
        "alternatives": True,
    },
    "models": DEFAULT_MODELS,
    # Added to the built-in excludes (tierline/privacy); redact: secrets become placeholders before sending.
    "privacy": {"exclude": [], "redact": True},
    # Cross-file context (tierline/context): its sources, and its tokens per tier (docs/benchmarks.md).
    "context": {
        "sources": ["definitions", "neighbours", "recent_edits"],
        "max_tokens": {"cheap": 1536, "mid": 1024, "premium": 1024},
    },
    # Opt-in exports of usage figures (tierline/telemetry): "" = off. User-only (config/tighten.py).
    "telemetry": {"otlp_endpoint": "", "prometheus": ""},
}

# Editor-side sections an LSP client may send along with ours; not server config.
EDITOR_ONLY_KEYS = frozenset({"server", "trace", "statusBar", "keybindings", "python", "workspaceTrusted"})


class ConfigError(ValueError):
    """A config value that cannot be used: says which file and which key."""

    def __init__(self, source: str, key: str, problem: str):
        self.source = source
        self.key = key
        self.problem = problem
        super().__init__(f"{source}: {key}: {problem}")


# What a [[models]] entry that leaves a key out gets.
MODEL_DEFAULTS: dict[str, Any] = {"api": "chat", "input_per_mtok": 0.0, "output_per_mtok": 0.0, "timeout_ms": 8000}


@dataclass(frozen=True)
class ModelSpec:
    name: str
    tier: Tier  # a str in a test's hand-built spec is taken as its Tier (`__post_init__`)
    base_url: str
    model: str
    api: str = MODEL_DEFAULTS["api"]
    api_key_env: str | None = None
    input_per_mtok: float = MODEL_DEFAULTS["input_per_mtok"]
    output_per_mtok: float = MODEL_DEFAULTS["output_per_mtok"]
    timeout_ms: int = MODEL_DEFAULTS["timeout_ms"]
    provider: str = ""
    pass_at_1: Mapping[str, float] = field(default_factory=dict)
    cached_input_per_mtok: float | None = None
    # Request shaping (docs/providers.md): None/empty = what the API and host take by default.
    auth: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    extra_body: Mapping[str, Any] = field(default_factory=dict)
    path: str | None = None
    max_tokens_field: str | None = None
    stream_usage: bool | None = None  # send stream_options.include_usage (None: unless the host refuses it)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tier", Tier(self.tier))  # "cheap" -> Tier.CHEAP; a bad tier is a ValueError

    def strength(self, language: str) -> float | None:
        """pass@1 for a language, else the model's default, else unknown (None)."""
        return self.pass_at_1.get(language, self.pass_at_1.get("default"))

    def cost_usd(self, tokens_in: int, tokens_out: int, cached_in: int = 0) -> float:
        cached_price = self.cached_input_per_mtok if self.cached_input_per_mtok is not None else self.input_per_mtok
        fresh_in = max(0, tokens_in - cached_in)
        return (
            fresh_in * self.input_per_mtok + cached_in * cached_price + tokens_out * self.output_per_mtok
        ) / 1_000_000


# The dataclasses below take their defaults from DEFAULTS: each default is stated once, there.
_ROUTING, _CACHE, _BUDGET = DEFAULTS["routing"], DEFAULTS["cache"], DEFAULTS["budget"]
_COMPLETION, _PRIVACY, _CONTEXT = DEFAULTS["completion"], DEFAULTS["privacy"], DEFAULTS["context"]


@dataclass(frozen=True)
class Thresholds:
    mid: float = _ROUTING["thresholds"]["mid"]
    premium: float = _ROUTING["thresholds"]["premium"]


@dataclass(frozen=True)
class RoutingConfig:
    latency_budget_ms: int = _ROUTING["latency_budget_ms"]
    ewma_alpha: float = _ROUTING["ewma_alpha"]
    thresholds: Thresholds = Thresholds()
    # Per-language thresholds (`[routing.languages.python] thresholds`), e.g. from `tierline calibrate`.
    languages: Mapping[str, Thresholds] = field(default_factory=dict)
    # Apply `tierline calibrate`'s parity proposal once a day (routing/auto_calibration.py).
    auto_calibrate: bool = _ROUTING["auto_calibrate"]

    def thresholds_for(self, language: str) -> Thresholds:
        return self.languages.get(language, self.thresholds)


@dataclass(frozen=True)
class CacheConfig:
    ttl_seconds: int = _CACHE["ttl_seconds"]
    size_limit_mb: int = _CACHE["size_limit_mb"]
    dir: Path = field(default_factory=paths.cache_dir)


@dataclass(frozen=True)
class BudgetConfig:
    daily_usd: float = _BUDGET["daily_usd"]  # 0 = no daily cap (UTC day)
    monthly_usd: float = _BUDGET["monthly_usd"]  # 0 = no monthly cap (UTC month)
    store: str = _BUDGET["store"]  # "local" | "litellm" (the gateway's key budget is the cap) | "redis://HOST:PORT/DB"
    user: str = _BUDGET["user"]  # "" = $USER
    user_daily_usd: float = _BUDGET["user_daily_usd"]  # per-user daily cap in a shared store; 0 = none
    downshift: bool = _BUDGET["downshift"]  # a request that does not fit goes to a cheaper tier that does


@dataclass(frozen=True)
class LedgerConfig:
    dir: Path = field(default_factory=paths.state_dir)


@dataclass(frozen=True)
class LanguageCompletion:
    """`[completion.languages.X]` (config/languages.py): None = what `"*"`, then `[completion]`, says."""

    max_lines: int | None = None  # 0 = no limit; 1 = single-line completions
    trigger: str | None = None  # automatic | manual
    enabled: bool | None = None


@dataclass(frozen=True)
class CompletionConfig:
    trigger: str = _COMPLETION["trigger"]
    # the languages completed when `"*"` is off (the list form); () = all
    languages: tuple[str, ...] = tuple(_COMPLETION["languages"])
    max_tokens: int = _COMPLETION["max_tokens"]
    prefix_chars: int = _COMPLETION["prefix_chars"]
    suffix_chars: int = _COMPLETION["suffix_chars"]
    debounce_ms: int = _COMPLETION["debounce_ms"]  # least wait before an automatic request (then the cost-aware wait)
    # How much wasted spend a second of waiting is worth, in tenths of a cent (completion/session.py).
    latency_vs_cost: float = _COMPLETION["latency_vs_cost"]
    alternatives: bool = _COMPLETION["alternatives"]  # invoked requests near a boundary: cheap and premium answers too

    # `[completion.languages.X]` and `[completion.languages."*"]`, as (name, settings) pairs.
    per_language: tuple[tuple[str, LanguageCompletion], ...] = ()

    def _setting(self, language: str, name: str) -> Any:
        table = dict(self.per_language)
        for key in (language, "*"):
            value = getattr(table.get(key, LanguageCompletion()), name)
            if value is not None:
                return value
        return None

    def enabled_for(self, language: str) -> bool:
        enabled = self._setting(language, "enabled")
        if enabled is not None:
            return bool(enabled)
        return not self.languages or language in self.languages

    def trigger_for(self, language: str) -> str:
        return str(self._setting(language, "trigger") or self.trigger)

    def max_lines_for(self, language: str) -> int:
        """Lines a completion may hold in this language (0: no limit)."""
        return int(self._setting(language, "max_lines") or 0)


@dataclass(frozen=True)
class PrivacyConfig:
    exclude: tuple[str, ...] = tuple(_PRIVACY["exclude"])
    redact: bool = _PRIVACY["redact"]


@dataclass(frozen=True)
class ContextConfig:
    sources: tuple[str, ...] = tuple(_CONTEXT["sources"])
    max_tokens: tuple[tuple[str, int], ...] = tuple(_CONTEXT["max_tokens"].items())

    def budget(self, tier: Tier) -> int:
        """Tokens of cross-file context for a tier (0: none)."""
        return dict(self.max_tokens).get(tier, 0) if self.sources else 0


@dataclass(frozen=True)
class TelemetryConfig:
    """Opt-in exports of usage figures, never code (tierline/telemetry, docs/telemetry.md)."""

    otlp_endpoint: str = DEFAULTS["telemetry"]["otlp_endpoint"]  # "" = off; an OTLP/HTTP base URL
    prometheus: str = DEFAULTS["telemetry"]["prometheus"]  # "" = off; "HOST:PORT" on loopback: /metrics


@dataclass(frozen=True)
class Config:
    routing: RoutingConfig
    cache: CacheConfig
    budget: BudgetConfig
    ledger: LedgerConfig
    completion: CompletionConfig
    models: tuple[ModelSpec, ...]
    sources: tuple[str, ...] = ("built-in defaults",)
    privacy: PrivacyConfig = PrivacyConfig()
    context: ContextConfig = ContextConfig()
    telemetry: TelemetryConfig = TelemetryConfig()
    # Told to the user once: keys an untrusted workspace file may not set, and were ignored.
    notices: tuple[str, ...] = ()
    # Why no model is configured: the config was refused and nothing good came before it.
    refused: str = ""

    def models_in(self, tier: Tier) -> tuple[ModelSpec, ...]:
        return tuple(m for m in self.models if m.tier == tier)

    def model_named(self, name: str) -> ModelSpec | None:
        return next((m for m in self.models if m.name == name), None)
