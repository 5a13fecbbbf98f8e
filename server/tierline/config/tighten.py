"""Monotone layers: what a layer the user did not write may change (only tighten).

The untrusted workspace `.tierline.toml` and the editor's LSP settings (`initializationOptions`,
`workspace/didChangeConfiguration`) may come from the repository: a `.vscode/settings.json`, a
Helix `.helix/languages.toml`, a Neovim exrc. So each of them may only make tierline safer or
cheaper than what the user's own layers say: lower caps and limits, fewer tokens, a smaller window,
higher thresholds, more exclusions. They never choose where code or keys go (`[[models]]`, the
directories, the budget store), whose spend it is (`[budget] user`), or turn privacy off. A value
that would loosen is clamped to the user's; a key that may not be set is ignored; both are named in
one notice. Lists (`[privacy] exclude`) are added to the user's, never put in their place.

A value of the wrong type is passed through untouched so that validation refuses it with the usual
message naming the layer and the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tierline.config import languages as language_settings
from tierline.config.model import DEFAULTS

# Everything else a layer the user did not write sets is ignored: `[[models]]` (where code and keys
# go), `[cache] dir`, `[ledger] dir` (where files are written), `[budget] store` (a shared store
# elsewhere, or "litellm": whose budget the spend counts against), `[budget] user` (whose spend it
# is), `[routing] auto_calibrate` (would lower the thresholds over time), `[telemetry] otlp_endpoint`
# and `[telemetry] prometheus` (where usage figures go, which port opens: user-only,
# tierline/config/telemetry.py), and any key added later until it is listed below with its safe
# direction.

# Numbers that may only go down; `zero_is_unlimited`: 0 means "no cap", the loosest value of all.
LOWER_ONLY: tuple[tuple[str, str, bool], ...] = (
    ("budget", "daily_usd", True),
    ("budget", "monthly_usd", True),
    ("budget", "user_daily_usd", True),
    ("completion", "max_tokens", False),
    ("completion", "prefix_chars", False),
    ("completion", "suffix_chars", False),
    ("completion", "latency_vs_cost", False),  # lower: waits longer, fewer calls
)

# Numbers that may only go up (each still bounded by validation).
HIGHER_ONLY: tuple[tuple[str, str], ...] = (
    ("completion", "debounce_ms"),  # fewer automatic requests
    ("cache", "ttl_seconds"),  # answers reused longer; 0 would turn the cache off
    ("routing", "latency_budget_ms"),  # more models fit, the cheapest of them is chosen
)

# Booleans and choices: the one value a layer may move to.
ONLY_TOWARDS: tuple[tuple[str, str, Any], ...] = (
    ("privacy", "redact", True),
    ("budget", "downshift", False),  # refusing spends less than sending to another tier
    ("completion", "trigger", "manual"),
    ("completion", "alternatives", False),  # fewer calls: only the chosen tier answers
)


_HANDLED = frozenset(
    [(section, key) for section, key, _ in LOWER_ONLY]
    + list(HIGHER_ONLY)
    + [(section, key) for section, key, _ in ONLY_TOWARDS]
    + [("completion", "languages"), ("routing", "thresholds"), ("routing", "languages"), ("privacy", "exclude")]
    + [("context", "sources"), ("context", "max_tokens")]
)


@dataclass
class Tightened:
    """A layer reduced to what it may change, and what was ignored or clamped (for the notice)."""

    data: dict[str, Any] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    clamped: list[str] = field(default_factory=list)

    def changed(self) -> list[str]:
        return self.ignored + self.clamped


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _section(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name)
    return value if isinstance(value, Mapping) else {}


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def tighten(base: Mapping[str, Any], layer: Mapping[str, Any]) -> Tightened:
    """`layer` reduced so that merging it over `base` (the user's merged layers, defaults included)
    can only tighten. The result is merged with `merge_tightened`."""
    out = Tightened()
    data: dict[str, Any] = {}
    for name, value in layer.items():
        if name == "models":
            out.ignored.append(name)
        elif isinstance(value, Mapping):
            data[name] = {}
            for key, item in value.items():
                if (name, key) in _HANDLED or key not in _section(DEFAULTS, name):
                    data[name][key] = item  # unknown keys go on to validation, which refuses them
                else:
                    out.ignored.append(f"{name}.{key}")
        else:
            data[name] = value  # not a table: validation refuses it

    for section, key, zero_is_unlimited in LOWER_ONLY:
        table = _section(data, section)
        if key not in table:
            continue
        new, old = table[key], _section(base, section).get(key)
        if not (_is_number(new) and _is_number(old)):
            continue
        if zero_is_unlimited:
            if new == 0 and old != 0:
                del data[section][key]
                out.ignored.append(f"{section}.{key} = 0 (no cap)")
            elif old != 0 and new > old:
                data[section][key] = old
                out.clamped.append(f"{section}.{key} {_show(new)} -> {_show(old)}")
        elif new > old:
            data[section][key] = old
            out.clamped.append(f"{section}.{key} {_show(new)} -> {_show(old)}")

    for section, key in HIGHER_ONLY:
        table = _section(data, section)
        if key not in table:
            continue
        new, old = table[key], _section(base, section).get(key)
        if _is_number(new) and _is_number(old) and new < old:
            data[section][key] = old
            out.clamped.append(f"{section}.{key} {_show(new)} -> {_show(old)}")

    for section, key, allowed in ONLY_TOWARDS:
        table = _section(data, section)
        if key in table and table[key] != allowed and isinstance(table[key], type(allowed)):
            if table[key] != _section(base, section).get(key):
                out.ignored.append(f"{section}.{key}")
            del data[section][key]

    _tighten_languages(base, data, out)
    _tighten_thresholds(base, data, out)
    _tighten_context(base, data, out)
    _add_excludes(base, data)
    out.data = {name: value for name, value in data.items() if value != {} or not isinstance(value, dict)}
    return out


def _tighten_languages(base: Mapping[str, Any], data: dict[str, Any], out: Tightened) -> None:
    """`[completion] languages`: the layer may only narrow it ([] is every language); per language
    (the table form, config/languages.py) only turn one off, hold it to fewer `max_lines` (0 = no
    limit, the loosest) or make its `trigger` manual."""
    table = _section(data, "completion")
    new = table.get("languages")
    old = _section(base, "completion").get("languages")
    if isinstance(new, Mapping) and isinstance(old, Mapping):
        data["completion"]["languages"], ignored = language_settings.tighten(old, new, _section(base, "completion"))
        out.ignored.extend(ignored)
        return
    if not isinstance(new, list) or not isinstance(old, list) or not all(isinstance(x, str) for x in new):
        return
    if not old:
        if not new:
            del data["completion"]["languages"]
        return
    narrowed = [language for language in new if language in old]
    if narrowed != new or not narrowed:
        out.clamped.append(f"completion.languages {new} -> {narrowed or old}")
    data["completion"]["languages"] = narrowed or list(old)


def _raised(base_table: Mapping[str, Any], new: Any, out: Tightened, where: str) -> Any:
    """Thresholds may only go up (fewer requests reach the dearer tiers)."""
    if not isinstance(new, Mapping):
        return new
    raised = dict(new)
    for tier in ("mid", "premium"):
        value: Any = new.get(tier)
        floor: Any = base_table.get(tier)
        if _is_number(value) and _is_number(floor) and value < floor:
            raised[tier] = floor
            out.clamped.append(f"{where}.{tier} {_show(value)} -> {_show(floor)}")
    return raised


def _tighten_thresholds(base: Mapping[str, Any], data: dict[str, Any], out: Tightened) -> None:
    routing = _section(data, "routing")
    base_routing = _section(base, "routing")
    default = _section(base_routing, "thresholds")
    if "thresholds" in routing:
        data["routing"]["thresholds"] = _raised(default, routing["thresholds"], out, "routing.thresholds")
    languages = routing.get("languages")
    if not isinstance(languages, Mapping):
        return
    base_languages = _section(base_routing, "languages")
    raised_languages: dict[str, Any] = {}
    for language, section in languages.items():
        if not isinstance(section, Mapping) or "thresholds" not in section:
            raised_languages[language] = section
            continue
        floor = _section(_section(base_languages, language), "thresholds") or default
        where = f"routing.languages.{language}.thresholds"
        raised_languages[language] = {**section, "thresholds": _raised(floor, section["thresholds"], out, where)}
    data["routing"]["languages"] = raised_languages


def _tighten_context(base: Mapping[str, Any], data: dict[str, Any], out: Tightened) -> None:
    """`[context]`: fewer sources (a subset of the user's), fewer tokens per tier (never more)."""
    table = _section(data, "context")
    base_table = _section(base, "context")
    sources, old_sources = table.get("sources"), base_table.get("sources")
    if isinstance(sources, list) and isinstance(old_sources, list) and all(isinstance(x, str) for x in sources):
        narrowed = [source for source in sources if source in old_sources]
        if narrowed != sources:
            out.clamped.append(f"context.sources {sources} -> {narrowed}")
        data["context"]["sources"] = narrowed
    budgets, old_budgets = table.get("max_tokens"), _section(base_table, "max_tokens")
    if isinstance(budgets, Mapping):
        lowered = dict(budgets)
        for tier, value in budgets.items():
            ceiling = old_budgets.get(tier)
            if _is_number(value) and _is_number(ceiling) and value > ceiling:
                lowered[tier] = ceiling
                out.clamped.append(f"context.max_tokens.{tier} {_show(value)} -> {_show(ceiling)}")
        data["context"]["max_tokens"] = lowered


def _add_excludes(base: Mapping[str, Any], data: dict[str, Any]) -> None:
    """`[privacy] exclude` from the layer is added to the user's, never put in its place."""
    privacy = _section(data, "privacy")
    new = privacy.get("exclude")
    old = _section(base, "privacy").get("exclude")
    if isinstance(new, list) and isinstance(old, list):
        data["privacy"]["exclude"] = old + [pattern for pattern in new if pattern not in old]


def notice(subject: str, tightened: Tightened, advice: str) -> str:
    """One message naming every key that was ignored or clamped (names and numbers only: a value
    that is text is never echoed)."""
    parts = []
    if tightened.ignored:
        parts.append(f"ignored {', '.join(tightened.ignored)}")
    if tightened.clamped:
        parts.append(f"clamped {', '.join(tightened.clamped)}")
    return f"tierline: {subject} may only make tierline safer or cheaper: {'; '.join(parts)}. {advice}"
