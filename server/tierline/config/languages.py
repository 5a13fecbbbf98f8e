"""`[completion] languages`: which languages are completed, and how eagerly, per language.

Two spellings, both kept:

    [completion]
    languages = ["python", "go"]        # the list form: only these languages ([] = every language)

    [completion.languages.python]       # the table form: settings for one language
    max_lines = 1                       # 1 = single-line completions; 0 = no limit
    trigger = "manual"                  # automatic | manual (overrides [completion] trigger)
    enabled = true                      # false: never completed
    [completion.languages."*"]          # every language without a table of its own
    max_lines = 3

Layers merge language by language, so a list from one layer (the VS Code setting
`tierline.completion.languages`) and tables from another (the user's file) both hold: a list is
read, against what it is merged over, as the table form (`"*"` and every language it does not name
off, the ones it names on) before the merge (`align`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tierline.config.model import TRIGGERS, ConfigError, LanguageCompletion

WILDCARD = "*"
# A completion of more lines than this is a file, not a completion.
MAX_LINES = 1_000
# Languages with a table of their own (each request looks its language up among them).
MAX_LANGUAGES = 1_000
KEYS = ("max_lines", "trigger", "enabled")


def _is_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(x, str) for x in value)


def _is_empty_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and not value


def as_table(value: Any, base: Any = None) -> Any:
    """A `languages` value in the table form, read against `base` (what it is merged over, in either
    form). A list turns every language `base` names, and `"*"`, on or off; anything that is not a
    list is returned as it is (validation refuses what is not a table)."""
    if not _is_list(value):
        return value
    base_table = as_table(base) if base is not None else {}
    names = set(base_table) if isinstance(base_table, Mapping) else set()
    names.discard(WILDCARD)
    every = not value
    table: dict[str, Any] = {WILDCARD: {"enabled": every}}
    for name in sorted(names | set(value)):
        table[name] = {"enabled": every or name in value}
    return table


def align(base: Mapping[str, Any], layer: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`base` (the layers merged so far) and `layer` with their `[completion] languages` in one form:
    two lists stay lists (the layer's replaces the base's); when either is a table, both become
    tables (a list read against the other's table), so `deep_merge` merges them language by language."""
    base_completion, completion = base.get("completion"), layer.get("completion")
    if not isinstance(completion, Mapping) or "languages" not in completion:
        return dict(base), dict(layer)
    new = completion["languages"]
    old = base_completion.get("languages") if isinstance(base_completion, Mapping) else None
    if _is_list(new) and (old is None or _is_list(old)):
        return dict(base), dict(layer)
    old_table = as_table(old) if old is not None else {}
    new_table = as_table(new, old_table)
    if isinstance(new_table, Mapping):
        # Neovim sends an empty Lua table as a JSON array: an empty language table, merged as one
        # (a list in its place would replace the user's settings for that language).
        new_table = {name: {} if _is_empty_list(section) else section for name, section in new_table.items()}
    kept = dict(base_completion) if isinstance(base_completion, Mapping) else {}
    aligned_base = {**base, "completion": {**kept, "languages": old_table}}
    return aligned_base, {**layer, "completion": {**completion, "languages": new_table}}


def parse(source: str, value: Any) -> tuple[tuple[str, ...], tuple[tuple[str, LanguageCompletion], ...]]:
    """(the list form's languages, or (); the per-language settings). Raises ConfigError."""
    key = "completion.languages"
    if _is_list(value):
        return tuple(dict.fromkeys(value)), ()
    if not isinstance(value, Mapping):
        raise ConfigError(
            source, key, f"must be a list of language names or a table per language ([{key}.python]), got {value!r}"
        )
    if len(value) > MAX_LANGUAGES:
        raise ConfigError(source, key, f"must have at most {MAX_LANGUAGES:,} languages, got {len(value):,}")
    settings: list[tuple[str, LanguageCompletion]] = []
    for name, section in value.items():
        where = f"{key}.{name}"
        if _is_empty_list(section):
            section = {}  # Neovim sends an empty Lua table as a JSON array
        if not isinstance(section, Mapping):
            raise ConfigError(source, where, f"must be a table (max_lines, trigger, enabled), got {section!r}")
        for field in section:
            if field not in KEYS:
                raise ConfigError(source, f"{where}.{field}", f"unknown key (known: {', '.join(KEYS)})")
        settings.append((str(name), _settings(source, where, section)))
    star = dict(settings).get(WILDCARD, LanguageCompletion())
    only = tuple(name for name, s in settings if name != WILDCARD and s.enabled) if star.enabled is False else ()
    return only, tuple(settings)


def _settings(source: str, where: str, section: Mapping[str, Any]) -> LanguageCompletion:
    max_lines = section.get("max_lines")
    if max_lines is not None and (
        isinstance(max_lines, bool) or not isinstance(max_lines, int) or not 0 <= max_lines <= MAX_LINES
    ):
        raise ConfigError(
            source, f"{where}.max_lines", f"must be a whole number from 0 to {MAX_LINES:,}, got {max_lines!r}"
        )
    trigger = section.get("trigger")
    if trigger is not None and trigger not in TRIGGERS:
        raise ConfigError(source, f"{where}.trigger", f"must be one of {', '.join(TRIGGERS)}, got {trigger!r}")
    enabled = section.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise ConfigError(source, f"{where}.enabled", f"must be true or false, got {enabled!r}")
    return LanguageCompletion(max_lines=max_lines, trigger=trigger, enabled=enabled)


# ---------------------------------------------------------------------------------------------
# Tightening (config/tighten.py): what a layer the user did not write may set here


def _effective(table: Mapping[str, Any], name: str, field: str, default: Any) -> Any:
    for key in (name, WILDCARD):
        section = table.get(key)
        if isinstance(section, Mapping) and field in section:
            return section[field]
    return default


def _tighter_lines(new: Any, old: Any) -> bool:
    """Fewer lines is tighter; 0 (no limit) is the loosest."""
    if not isinstance(new, int) or isinstance(new, bool) or not isinstance(old, int) or isinstance(old, bool):
        return True  # the wrong type goes on to validation, which refuses it
    if new == 0:
        return old == 0
    return old == 0 or new <= old


def tighten(base: Any, layer: Any, defaults: Mapping[str, Any]) -> tuple[Any, list[str]]:
    """The layer's `languages` table reduced to what tightens (both already in the table form):
    turn languages off, hold them to fewer lines, make them manual. Returns (value, what was
    ignored). `defaults`: the `[completion]` values the table falls back to (its `trigger`)."""
    if not isinstance(layer, Mapping) or not isinstance(base, Mapping):
        return layer, []
    ignored: list[str] = []
    out: dict[str, Any] = {}
    for name, section in layer.items():
        if not isinstance(section, Mapping):
            out[name] = section
            continue
        kept: dict[str, Any] = {}
        for field, value in section.items():
            where = f"completion.languages.{name}.{field}"
            old_enabled = _effective(base, name, "enabled", True)
            if field == "enabled" and value is True and old_enabled is False:
                ignored.append(where)
                continue
            if (
                field == "trigger"
                and value == "automatic"
                and _effective(base, name, "trigger", defaults.get("trigger")) == "manual"
            ):
                ignored.append(where)
                continue
            if field == "max_lines" and not _tighter_lines(value, _effective(base, name, "max_lines", 0)):
                ignored.append(where)
                continue
            kept[field] = value
        out[name] = kept
    # A language's own values win over `"*"`, so a layer's `"*"` cannot loosen one the user named.
    return out, ignored
