"""Loading and validating the layers: built-in defaults, TOML files and LSP settings.

Precedence (later wins): built-in defaults, the user's file (``TIERLINE_CONFIG``, else the XDG
config), the workspace ``.tierline.toml`` (untrusted: without the keys `config.trust` restricts),
LSP ``initializationOptions``, ``workspace/didChangeConfiguration``. A bad value is refused with a
:class:`ConfigError` naming the file and the key; callers keep their previous config, and never
put the built-in model registry in place of a refused one.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

from tierline.config import languages as language_settings
from tierline.config import paths
from tierline.config.model import (
    APIS,
    AUTHS,
    DEFAULT_MODELS,
    DEFAULTS,
    EDITOR_ONLY_KEYS,
    MODEL_DEFAULTS,
    TIERS,
    TRIGGERS,
    BudgetConfig,
    CacheConfig,
    CompletionConfig,
    Config,
    ConfigError,
    ContextConfig,
    LedgerConfig,
    ModelSpec,
    PrivacyConfig,
    RoutingConfig,
    Thresholds,
)
from tierline.config.telemetry import parse_telemetry
from tierline.config.tighten import notice as tighten_notice
from tierline.config.tighten import tighten
from tierline.config.trust import WORKSPACE_FILE, TrustStore
from tierline.config.urls import public_url
from tierline.wire import Tier

# ---------------------------------------------------------------------------------------------
# Validation: raw dict (TOML-shaped) -> Config


def _number(source: str, key: str, value: Any, lo: float | None = None, hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ConfigError(source, key, f"must be a number, got {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        bounds = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise ConfigError(source, key, f"must be {bounds}, got {value!r}")
    return float(value)


def _integer(source: str, key: str, value: Any, lo: int = 0, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or int(value) != value:
        raise ConfigError(source, key, f"must be a whole number, got {value!r}")
    if value < lo:
        raise ConfigError(source, key, f"must be at least {lo}, got {value!r}")
    if hi is not None and value > hi:
        raise ConfigError(source, key, f"must be at most {hi:,}, got {value!r}")
    return int(value)


def _string(source: str, key: str, value: Any, choices: tuple[str, ...] | None = None) -> str:
    if not isinstance(value, str):
        raise ConfigError(source, key, f"must be a string, got {value!r}")
    if choices is not None and value not in choices:
        raise ConfigError(source, key, f"must be one of {', '.join(choices)}, got {value!r}")
    return value


def _boolean(source: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(source, key, f"must be true or false, got {value!r}")
    return value


def _table(source: str, key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(source, key, f"must be a table, got {value!r}")
    return value


def _check_keys(source: str, section: str, table: Mapping[str, Any], allowed: Mapping[str, Any]) -> None:
    for key in table:
        if key not in allowed:
            where = f"{section}.{key}" if section else key
            known = ", ".join(sorted(allowed))
            raise ConfigError(source, where, f"unknown key (known: {known})")


# Sane upper bounds for every number (a typo or a hostile layer cannot ask for a million tokens).
# `[completion] latency_vs_cost` at most: a second of waiting worth $1 of wasted spend (no wait at all).
MAX_LATENCY_VS_COST = 1000.0
LIMITS: dict[str, int] = {
    "latency_budget_ms": 120_000,
    "timeout_ms": 600_000,
    "ttl_seconds": 30 * 86_400,
    "size_limit_mb": 65_536,
    "max_tokens": 8_192,
    "window_chars": 100_000,
    "debounce_ms": 10_000,
    "per_mtok": 10_000,
    "usd": 100_000,
    "list_items": 1_000,
}


def default_provider(base_url: str) -> str:
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{parts.hostname}:{port}"


_MODEL_KEYS = {
    "name",
    "tier",
    "base_url",
    "model",
    "api",
    "api_key_env",
    "input_per_mtok",
    "output_per_mtok",
    "timeout_ms",
    "provider",
    "pass_at_1",
    "cached_input_per_mtok",
    "auth",
    "headers",
    "extra_body",
    "path",
    "max_tokens_field",
    "stream_usage",
}


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def _api_key_env(source: str, key: str, value: Any) -> str | None:
    """The NAME of the variable holding the key. A value that is not a variable name (most likely a
    pasted key) is refused without being echoed: config errors are shown and logged."""
    if not value:
        return None
    if not isinstance(value, str):
        raise ConfigError(source, key, "must be the name of an environment variable (a string)")
    from tierline.privacy.redaction import looks_like_secret

    if not _ENV_NAME.fullmatch(value) or looks_like_secret(value):
        raise ConfigError(
            source,
            key,
            "looks like an API key, not the name of an environment variable (value not shown). "
            'Put the key in a variable, e.g. export MY_KEY=..., and write api_key_env = "MY_KEY"',
        )
    return value


def _privacy(source: str, raw: Any) -> PrivacyConfig:
    table = _table(source, "privacy", raw)
    _check_keys(source, "privacy", table, DEFAULTS["privacy"])
    exclude = table.get("exclude", [])
    if not isinstance(exclude, (list, tuple)) or not all(isinstance(x, str) for x in exclude):
        raise ConfigError(source, "privacy.exclude", f"must be a list of glob patterns, got {exclude!r}")
    if len(exclude) > LIMITS["list_items"]:
        raise ConfigError(source, "privacy.exclude", f"must have at most {LIMITS['list_items']:,} patterns")
    redact = table.get("redact", DEFAULTS["privacy"]["redact"])
    if not isinstance(redact, bool):
        raise ConfigError(source, "privacy.redact", f"must be true or false, got {redact!r}")
    return PrivacyConfig(exclude=tuple(exclude), redact=redact)


def _context(source: str, raw: Any) -> ContextConfig:
    table = _table(source, "context", raw)
    _check_keys(source, "context", table, DEFAULTS["context"])
    known = DEFAULTS["context"]["sources"]
    sources = table.get("sources", known)
    if not isinstance(sources, (list, tuple)) or any(s not in known for s in sources):
        raise ConfigError(source, "context.sources", f"must be a list of {', '.join(known)}; got {sources!r}")
    budgets = _table(source, "context.max_tokens", table.get("max_tokens", {}))
    _check_keys(source, "context.max_tokens", budgets, DEFAULTS["context"]["max_tokens"])
    max_tokens = tuple(
        (tier, _integer(source, f"context.max_tokens.{tier}", budgets.get(tier, default), 0, LIMITS["window_chars"]))
        for tier, default in DEFAULTS["context"]["max_tokens"].items()
    )
    return ContextConfig(tuple(dict.fromkeys(sources)), max_tokens)


def _model(source: str, index: int, raw: Any) -> ModelSpec:
    key = f"models[{index}]"
    raw = _table(source, key, raw)
    _check_keys(source, key, raw, dict.fromkeys(_MODEL_KEYS))
    for required in ("name", "tier", "base_url", "model"):
        if required not in raw:
            raise ConfigError(source, f"{key}.{required}", "is required")
    base_url = _string(source, f"{key}.base_url", raw["base_url"]).rstrip("/")
    if urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).hostname:
        raise ConfigError(source, f"{key}.base_url", f"must be an http(s) URL, got {base_url!r}")
    pass_at_1_raw = _table(source, f"{key}.pass_at_1", raw.get("pass_at_1", {}))
    pass_at_1 = {lang: _number(source, f"{key}.pass_at_1.{lang}", v, 0.0, 1.0) for lang, v in pass_at_1_raw.items()}
    api_key_env = _api_key_env(source, f"{key}.api_key_env", raw.get("api_key_env"))
    cached = raw.get("cached_input_per_mtok")
    return ModelSpec(
        name=_string(source, f"{key}.name", raw["name"]),
        tier=Tier(_string(source, f"{key}.tier", raw["tier"], TIERS)),
        base_url=base_url,
        model=_string(source, f"{key}.model", raw["model"]),
        api=_string(source, f"{key}.api", raw.get("api", MODEL_DEFAULTS["api"]), APIS),
        api_key_env=api_key_env,
        input_per_mtok=_number(
            source,
            f"{key}.input_per_mtok",
            raw.get("input_per_mtok", MODEL_DEFAULTS["input_per_mtok"]),
            0.0,
            LIMITS["per_mtok"],
        ),
        output_per_mtok=_number(
            source,
            f"{key}.output_per_mtok",
            raw.get("output_per_mtok", MODEL_DEFAULTS["output_per_mtok"]),
            0.0,
            LIMITS["per_mtok"],
        ),
        timeout_ms=_integer(
            source, f"{key}.timeout_ms", raw.get("timeout_ms", MODEL_DEFAULTS["timeout_ms"]), 1, LIMITS["timeout_ms"]
        ),
        provider=_string(source, f"{key}.provider", raw["provider"])
        if raw.get("provider")
        else default_provider(base_url),
        pass_at_1=pass_at_1,
        cached_input_per_mtok=(
            _number(source, f"{key}.cached_input_per_mtok", cached, 0.0, LIMITS["per_mtok"])
            if cached is not None
            else None
        ),
        **_shaping(source, key, raw),
    )


def _shaping(source: str, key: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The per-model request shaping keys: auth, headers, extra_body, path, max_tokens_field."""
    out: dict[str, Any] = {}
    if "auth" in raw:
        out["auth"] = _string(source, f"{key}.auth", raw["auth"], AUTHS)
    if "headers" in raw:
        headers = _table(source, f"{key}.headers", raw["headers"])
        out["headers"] = {
            _string(source, f"{key}.headers", name): _string(source, f"{key}.headers.{name}", value)
            for name, value in headers.items()
        }
        for name, value in out["headers"].items():
            if not name or any(c in name + value for c in "\r\n\0"):
                raise ConfigError(
                    source, f"{key}.headers.{name}", "header names and values may not contain line breaks"
                )
    if "extra_body" in raw:
        out["extra_body"] = _table(source, f"{key}.extra_body", raw["extra_body"])
    if "path" in raw:
        path = _string(source, f"{key}.path", raw["path"])
        if not path.startswith("/") or "://" in path:
            raise ConfigError(source, f"{key}.path", f"must start with '/', got {path!r}")
        out["path"] = path
    if "max_tokens_field" in raw:
        field_name = _string(source, f"{key}.max_tokens_field", raw["max_tokens_field"])
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", field_name):
            raise ConfigError(source, f"{key}.max_tokens_field", f"must be a JSON field name, got {field_name!r}")
        out["max_tokens_field"] = field_name
    if "stream_usage" in raw:
        if not isinstance(raw["stream_usage"], bool):
            raise ConfigError(source, f"{key}.stream_usage", f"must be true or false, got {raw['stream_usage']!r}")
        out["stream_usage"] = raw["stream_usage"]
    return out


def _thresholds(source: str, key: str, table: Mapping[str, Any], defaults: Thresholds) -> Thresholds:
    _check_keys(source, key, table, DEFAULTS["routing"]["thresholds"])
    mid = _number(source, f"{key}.mid", table.get("mid", defaults.mid), 0.0, 1.0)
    premium = _number(source, f"{key}.premium", table.get("premium", defaults.premium), 0.0, 1.0)
    if premium < mid:
        raise ConfigError(source, f"{key}.premium", f"must be at least {key}.mid ({mid})")
    return Thresholds(mid=mid, premium=premium)


def _optional_dir(source: str, key: str, value: Any, default: Path) -> Path:
    text = _string(source, key, value)
    return Path(os.path.expanduser(text)) if text else default


def _budget(source: str, budget: Mapping[str, Any]) -> BudgetConfig:
    b = DEFAULTS["budget"]
    store = _string(source, "budget.store", budget.get("store", b["store"]))
    if store not in ("local", "litellm") and not store.startswith(("redis://", "rediss://", "unix://")):
        shown = public_url(store)  # a refused URL still holds its password: never shown
        raise ConfigError(
            source, "budget.store", f'must be "local", "litellm" or a redis://HOST:PORT/DB URL, got {shown!r}'
        )
    downshift = budget.get("downshift", b["downshift"])
    if not isinstance(downshift, bool):
        raise ConfigError(source, "budget.downshift", f"must be true or false, got {downshift!r}")
    return BudgetConfig(
        daily_usd=_number(source, "budget.daily_usd", budget.get("daily_usd", b["daily_usd"]), 0.0, LIMITS["usd"]),
        monthly_usd=_number(
            source, "budget.monthly_usd", budget.get("monthly_usd", b["monthly_usd"]), 0.0, LIMITS["usd"]
        ),
        store=store,
        user=_string(source, "budget.user", budget.get("user", b["user"])),
        user_daily_usd=_number(
            source, "budget.user_daily_usd", budget.get("user_daily_usd", b["user_daily_usd"]), 0.0, LIMITS["usd"]
        ),
        downshift=downshift,
    )


def parse_config(raw: Mapping[str, Any], source: str = "built-in defaults") -> Config:
    """Validate a TOML-shaped dict (already merged over the defaults) into a Config."""
    _check_keys(source, "", raw, DEFAULTS)
    routing = _table(source, "routing", raw.get("routing", {}))
    _check_keys(source, "routing", routing, DEFAULTS["routing"])
    thresholds = _table(source, "routing.thresholds", routing.get("thresholds", {}))
    default_thresholds = _thresholds(source, "routing.thresholds", thresholds, Thresholds())
    per_language = _table(source, "routing.languages", routing.get("languages", {}))
    language_thresholds = {}
    for language, section in per_language.items():
        key = f"routing.languages.{language}"
        section = _table(source, key, section)
        _check_keys(source, key, section, {"thresholds": None})
        table = _table(source, f"{key}.thresholds", section.get("thresholds", {}))
        language_thresholds[language] = _thresholds(source, f"{key}.thresholds", table, default_thresholds)
    cache = _table(source, "cache", raw.get("cache", {}))
    _check_keys(source, "cache", cache, DEFAULTS["cache"])
    budget = _table(source, "budget", raw.get("budget", {}))
    _check_keys(source, "budget", budget, DEFAULTS["budget"])
    ledger = _table(source, "ledger", raw.get("ledger", {}))
    _check_keys(source, "ledger", ledger, DEFAULTS["ledger"])
    completion = _table(source, "completion", raw.get("completion", {}))
    _check_keys(source, "completion", completion, DEFAULTS["completion"])
    languages, completion_languages = language_settings.parse(source, completion.get("languages", []))

    models_raw = raw.get("models", DEFAULT_MODELS)
    if not isinstance(models_raw, (list, tuple)) or not models_raw:
        raise ConfigError(source, "models", "must be a non-empty array of tables ([[models]])")
    models = tuple(_model(source, i, m) for i, m in enumerate(models_raw))
    seen: set[str] = set()
    for i, m in enumerate(models):
        if m.name in seen:
            raise ConfigError(source, f"models[{i}].name", f"duplicate model name {m.name!r}")
        seen.add(m.name)

    c, r, k = DEFAULTS["completion"], DEFAULTS["routing"], DEFAULTS["cache"]
    return Config(
        routing=RoutingConfig(
            latency_budget_ms=_integer(
                source,
                "routing.latency_budget_ms",
                routing.get("latency_budget_ms", r["latency_budget_ms"]),
                1,
                LIMITS["latency_budget_ms"],
            ),
            ewma_alpha=_number(source, "routing.ewma_alpha", routing.get("ewma_alpha", r["ewma_alpha"]), 0.01, 1.0),
            thresholds=default_thresholds,
            languages=language_thresholds,
            auto_calibrate=_boolean(
                source, "routing.auto_calibrate", routing.get("auto_calibrate", r["auto_calibrate"])
            ),
        ),
        cache=CacheConfig(
            ttl_seconds=_integer(
                source, "cache.ttl_seconds", cache.get("ttl_seconds", k["ttl_seconds"]), 0, LIMITS["ttl_seconds"]
            ),
            size_limit_mb=_integer(
                source,
                "cache.size_limit_mb",
                cache.get("size_limit_mb", k["size_limit_mb"]),
                1,
                LIMITS["size_limit_mb"],
            ),
            dir=_optional_dir(source, "cache.dir", cache.get("dir", ""), paths.cache_dir()),
        ),
        budget=_budget(source, budget),
        ledger=LedgerConfig(dir=_optional_dir(source, "ledger.dir", ledger.get("dir", ""), paths.state_dir())),
        completion=CompletionConfig(
            trigger=_string(source, "completion.trigger", completion.get("trigger", c["trigger"]), TRIGGERS),
            languages=languages,
            per_language=completion_languages,
            max_tokens=_integer(
                source, "completion.max_tokens", completion.get("max_tokens", c["max_tokens"]), 1, LIMITS["max_tokens"]
            ),
            prefix_chars=_integer(
                source,
                "completion.prefix_chars",
                completion.get("prefix_chars", c["prefix_chars"]),
                1,
                LIMITS["window_chars"],
            ),
            suffix_chars=_integer(
                source,
                "completion.suffix_chars",
                completion.get("suffix_chars", c["suffix_chars"]),
                0,
                LIMITS["window_chars"],
            ),
            debounce_ms=_integer(
                source,
                "completion.debounce_ms",
                completion.get("debounce_ms", c["debounce_ms"]),
                0,
                LIMITS["debounce_ms"],
            ),
            latency_vs_cost=_number(
                source,
                "completion.latency_vs_cost",
                completion.get("latency_vs_cost", c["latency_vs_cost"]),
                0.0,
                MAX_LATENCY_VS_COST,
            ),
            alternatives=_boolean(source, "completion.alternatives", completion.get("alternatives", c["alternatives"])),
        ),
        models=models,
        sources=(source,),
        privacy=_privacy(source, raw.get("privacy", {})),
        context=_context(source, raw.get("context", {})),
        telemetry=parse_telemetry(source, raw.get("telemetry", {})),
    )


# ---------------------------------------------------------------------------------------------
# Layers: files and LSP settings


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; anything else (including the models array) is replaced."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def find_config_file(workspace_root: Path | None, env: Mapping[str, str] = os.environ) -> Path | None:
    """The file that decides most (kept for callers that show one path): the workspace file, else the user's."""
    return find_workspace_file(workspace_root) or find_user_file(env)


def find_user_file(env: Mapping[str, str] = os.environ) -> Path | None:
    """The user's own config: ``$TIERLINE_CONFIG``, else the XDG config, if it exists."""
    explicit = env.get("TIERLINE_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    xdg = paths.config_dir(env) / "config.toml"
    return xdg if xdg.is_file() else None


def find_workspace_file(workspace_root: Path | None) -> Path | None:
    if workspace_root is not None and (workspace_root / WORKSPACE_FILE).is_file():
        return workspace_root / WORKSPACE_FILE
    return None


def read_toml(path: Path) -> dict[str, Any]:
    return parse_toml(path, read_bytes(path))


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(str(path), "(file)", "not found") from None
    except OSError as error:
        raise ConfigError(str(path), "(file)", f"cannot read: {error.strerror or error}") from None


# A config is a few kilobytes and a few tables deep; anything far past that is an attack on the
# parser or on the merge (both recurse), and must not stop `initialize` from being answered.
MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 16
# tomllib's time grows with the square of a dotted key's parts (it checks every prefix of the key):
# one line `a.a.a... = 1` of 20,000 parts takes seconds, one of a megabyte most of an hour. A chain
# this long is refused before tomllib sees it (RE2: linear in the text, whatever the text).
MAX_KEY_PARTS = 64
_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')"""
_LONG_DOTTED_KEY = re2.compile(rf"(?:{_KEY_PART}[ \t]*\.[ \t]*){{{MAX_KEY_PARTS}}}{_KEY_PART}")


def parse_toml(path: Path, data: bytes) -> dict[str, Any]:
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(str(path), "(file)", f"is over {MAX_FILE_BYTES // 1024} KiB; not read")
    if _LONG_DOTTED_KEY.search(data):
        raise ConfigError(str(path), "(syntax)", f"nested deeper than {MAX_DEPTH} levels (a dotted key that long)")
    try:
        table = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(str(path), "(file)", "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "(syntax)", str(exc)) from None
    except RecursionError:
        # tomllib recurses once per nested array or inline table.
        raise ConfigError(str(path), "(syntax)", f"nested deeper than {MAX_DEPTH} levels") from None
    check_depth(str(path), table)
    return table


def check_depth(source: str, data: Any) -> None:
    """Refuse nesting deeper than MAX_DEPTH (dotted keys nest without recursing in the parser), walked
    without recursion so the check itself cannot overflow."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ConfigError(source, "(syntax)", f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, Mapping):
            stack.extend((child, depth + 1) for child in value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend((child, depth + 1) for child in value)


def strip_editor_keys(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """LSP settings arrive as the editor's whole `tierline` section; keep only server keys.
    Settings nested past MAX_DEPTH raise ConfigError (the merge would recurse through them)."""
    if not settings:
        return {}
    kept = {k: v for k, v in settings.items() if k not in EDITOR_ONLY_KEYS and v is not None}
    check_depth("LSP settings (tierline)", kept)
    return kept


@dataclass
class ConfigLayers:
    """The raw layers, kept so a bad new layer can be refused and the previous config kept.

    `file_*` is the user's file, `workspace_*` the workspace `.tierline.toml` as read;
    `workspace_trusted`: the user trusted it (`tierline trust`), so it counts as theirs. An
    untrusted workspace file and the LSP settings may only tighten (`config.tighten`). `error`: a
    layer could not be read; every build refuses until it is fixed (so a later settings change
    cannot bring in the built-in models).
    """

    file_path: Path | None = None
    file_data: dict[str, Any] = field(default_factory=dict)
    lsp_settings: dict[str, Any] = field(default_factory=dict)
    workspace_path: Path | None = None
    workspace_data: dict[str, Any] = field(default_factory=dict)
    workspace_trusted: bool = False
    notices: tuple[str, ...] = ()
    error: ConfigError | None = None

    def build(self) -> Config:
        if self.error is not None:
            raise self.error
        merged: dict[str, Any] = copy.deepcopy(DEFAULTS)
        sources: list[str] = []
        notices = list(self.notices)
        config = parse_config(merged, "built-in defaults")
        # Validate each layer as it is added, so an error names the file (or the editor) it is in.
        if self.file_path is not None:
            merged, file_data = language_settings.align(merged, self.file_data)
            merged = deep_merge(merged, file_data)
            config = parse_config(merged, str(self.file_path))
            sources.append(str(self.file_path))
        if self.workspace_path is not None:
            merged, data = language_settings.align(merged, self.workspace_data)
            if not self.workspace_trusted:
                tightened = tighten(merged, data)
                data = tightened.data
                if tightened.changed():
                    subject = f"{self.workspace_path} is not trusted, so it"
                    advice = f"If you trust it, run `tierline trust {self.workspace_path.parent}`."
                    notices.append(tighten_notice(subject, tightened, advice))
            merged = deep_merge(merged, data)
            config = parse_config(merged, str(self.workspace_path))
            sources.append(str(self.workspace_path))
        if self.lsp_settings:
            merged, lsp_settings = language_settings.align(merged, self.lsp_settings)
            tightened = tighten(merged, lsp_settings)
            if tightened.changed():
                own = str(self.file_path) if self.file_path else "$XDG_CONFIG_HOME/tierline/config.toml"
                subject = "the editor's settings (initializationOptions, didChangeConfiguration)"
                notices.append(tighten_notice(subject, tightened, f"Set these in your own config file ({own})."))
            merged = deep_merge(merged, tightened.data)
            config = parse_config(merged, "LSP settings (tierline)")
            sources.append("LSP settings")
        return dataclasses.replace(config, sources=tuple(sources) or ("built-in defaults",), notices=tuple(notices))


def load_layers(
    workspace_root: Path | None, env: Mapping[str, str] = os.environ, trust: TrustStore | None = None
) -> ConfigLayers:
    """Read the user's file and the workspace file. Raises ConfigError only for the user's file;
    a bad workspace file is kept as the layers' `error`, so the server can say so and serve nothing."""
    user = find_user_file(env)
    layers = ConfigLayers(file_path=user, file_data=read_toml(user) if user else {})
    workspace = find_workspace_file(workspace_root)
    if workspace is None or (user is not None and _same_file(user, workspace)):
        return layers
    layers.workspace_path = workspace
    try:
        data = read_bytes(workspace)
        table = parse_toml(workspace, data)
    except ConfigError as error:
        layers.error = error
        return layers
    layers.workspace_trusted = (trust or TrustStore(env=env)).is_trusted(workspace, data)
    layers.workspace_data = table
    return layers


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def load_config(workspace_root: Path | None = None, env: Mapping[str, str] = os.environ) -> Config:
    return load_layers(workspace_root, env).build()


def default_config() -> Config:
    return parse_config(DEFAULTS)


def refused_config(error: ConfigError) -> Config:
    """What runs when the config is refused and no good one came before: no model at all, and why.
    Never the built-in registry: the user may have meant a local model, not a cloud one."""
    return dataclasses.replace(default_config(), models=(), sources=(), refused=str(error))
