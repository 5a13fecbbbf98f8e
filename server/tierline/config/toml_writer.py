"""A config written as TOML text (`tierline init`, the simulator's `--write-config`, tests): plain
values, tables, inline nested tables and arrays of tables; None means "unset" (TOML has no null)."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _toml_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _toml_string(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, (str, os.PathLike)):
        return _toml_string(os.fspath(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        pairs = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(pairs) + " }" if pairs else "{}"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as TOML")


def _toml_pairs(table: Mapping[str, Any]) -> list[str]:
    # None means "unset": TOML has no null, so the key is left out.
    return [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in table.items() if v is not None]


def _is_table_array(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, Mapping) for v in value)


def toml_text(config: Mapping[str, Any]) -> str:
    """Top-level scalars, then ``[tables]`` (nested tables inline), then ``[[arrays]]`` of tables."""
    scalars = {k: v for k, v in config.items() if not isinstance(v, Mapping) and not _is_table_array(v)}
    lines = _toml_pairs(scalars)
    for key, value in config.items():
        if isinstance(value, Mapping):
            lines += ["", f"[{_toml_key(key)}]", *_toml_pairs(value)]
    for key, value in config.items():
        if _is_table_array(value):
            for row in value:
                lines += ["", f"[[{_toml_key(key)}]]", *_toml_pairs(row)]
    return "\n".join(lines).lstrip("\n") + "\n"


def write_toml(config: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(toml_text(config), encoding="utf-8")
