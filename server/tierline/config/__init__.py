"""Configuration: frozen dataclasses (`model`), the TOML and LSP layers (`loading`), XDG `paths`."""

from tierline.config.loading import (
    ConfigLayers, deep_merge, default_config, default_provider, find_config_file, load_config, load_layers,
    parse_config, read_toml, strip_editor_keys,
)
from tierline.config.model import (
    APIS, DEFAULT_MODELS, DEFAULTS, EDITOR_ONLY_KEYS, TIERS, TRIGGERS, BudgetConfig, CacheConfig, CompletionConfig,
    Config, ConfigError, LedgerConfig, ModelSpec, RoutingConfig, Thresholds,
)

__all__ = [
    "APIS", "DEFAULT_MODELS", "DEFAULTS", "EDITOR_ONLY_KEYS", "TIERS", "TRIGGERS", "BudgetConfig", "CacheConfig",
    "CompletionConfig", "Config", "ConfigError", "ConfigLayers", "LedgerConfig", "ModelSpec", "RoutingConfig",
    "Thresholds", "deep_merge", "default_config", "default_provider", "find_config_file", "load_config",
    "load_layers", "parse_config", "read_toml", "strip_editor_keys",
]
