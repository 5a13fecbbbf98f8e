"""The VS Code extension's `tierline.*` settings mirror the server config: same keys, same defaults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tierline.config import DEFAULTS, EDITOR_ONLY_KEYS

PACKAGE_JSON = Path(__file__).resolve().parents[3] / "editors" / "vscode" / "package.json"

# The server keys the extension exposes as settings (dotted, below `tierline.`).
MIRRORED = [
    "routing.thresholds.mid",
    "routing.thresholds.premium",
    "routing.latency_budget_ms",
    "routing.ewma_alpha",
    "budget.daily_usd",
    "cache.ttl_seconds",
    "cache.size_limit_mb",
    "completion.languages",
    "completion.trigger",
    "completion.debounce_ms",
]


def _properties() -> dict[str, dict[str, Any]]:
    manifest = json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))
    return manifest["contributes"]["configuration"]["properties"]


def _default(dotted: str) -> Any:
    node: Any = DEFAULTS
    for part in dotted.split("."):
        node = node[part]
    return node


@pytest.mark.parametrize("key", MIRRORED)
def test_default_matches_server(key: str) -> None:
    props = _properties()
    assert f"tierline.{key}" in props, f"package.json does not contribute tierline.{key}"
    prop = props[f"tierline.{key}"]
    assert prop["default"] == _default(key), (
        f"tierline.{key}: package.json default {prop['default']!r} != tierline.config.DEFAULTS {_default(key)!r}"
    )
    json_type = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array"}[type(_default(key))]
    # `completion.languages` is a list or a table per language (`[completion.languages.X]`).
    types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
    assert json_type in types or (json_type == "integer" and "number" in types), (
        f"tierline.{key}: type {prop['type']!r}, server default is {json_type}"
    )


def test_every_setting_is_a_server_key_or_editor_only() -> None:
    for name in _properties():
        dotted = name.removeprefix("tierline.")
        if dotted.split(".")[0] in EDITOR_ONLY_KEYS:
            continue
        assert dotted in MIRRORED, f"{name} is neither a mirrored server key nor an editor-only key"
        _default(dotted)  # exists in the server's DEFAULTS


def test_trigger_enum_matches_server() -> None:
    from tierline.config import TRIGGERS

    assert tuple(_properties()["tierline.completion.trigger"]["enum"]) == TRIGGERS


def test_extension_sends_the_same_keys() -> None:
    """src/settings.ts SERVER_KEYS (what is sent to the server) lists exactly the mirrored keys."""
    source = (PACKAGE_JSON.parent / "src" / "settings.ts").read_text(encoding="utf-8")
    block = source.split("SERVER_KEYS", 1)[1].split("];", 1)[0]
    keys = [line.strip().strip('",') for line in block.splitlines() if line.strip().startswith('"')]
    assert keys == MIRRORED


def test_the_per_language_settings_match_the_server() -> None:
    from tierline.config import TRIGGERS
    from tierline.config.languages import KEYS, MAX_LINES

    prop = _properties()["tierline.completion.languages"]
    assert prop["type"] == ["array", "object"]
    fields = prop["additionalProperties"]["properties"]
    assert tuple(fields) == KEYS
    assert tuple(fields["trigger"]["enum"]) == TRIGGERS
    assert (fields["max_lines"]["minimum"], fields["max_lines"]["maximum"]) == (0, MAX_LINES)


def test_escalate_and_snooze_have_keys_of_their_own() -> None:
    """Issue 21: the user controls how eager tierline is by command, setting and key."""
    package = json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))
    keys = {binding["command"]: binding["key"] for binding in package["contributes"]["keybindings"]}
    commands = {command["command"] for command in package["contributes"]["commands"]}
    assert keys == {"tierline.escalateNext": "ctrl+alt+e", "tierline.snoozeCompletions": "ctrl+alt+z"}
    assert set(keys) <= commands
