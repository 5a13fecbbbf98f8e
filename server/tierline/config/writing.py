"""Writing calibration results into the user's config file (`tierline calibrate --apply` and
`[routing] auto_calibrate`), keeping everything else in it, comments included.

Only `[routing.languages.<lang>]` tables and the `pass_at_1` line of a `[[models]]` entry are
replaced or added; the result must load (TOML and tierline's own checks) or nothing is written;
the file is replaced atomically.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from tierline.config import paths
from tierline.config.loading import deep_merge, parse_config
from tierline.config.model import DEFAULTS, ConfigError, Thresholds

_LANGUAGE_NAME = re.compile(r"^[a-z0-9_+-]{1,32}$")


def writable_language(name: str) -> bool:
    """A language name safe to write as a TOML table key (the ledger could hold anything)."""
    return bool(_LANGUAGE_NAME.match(name))


class CalibrationError(Exception):
    """The proposal cannot be written (unreadable config, or the result would not load)."""


def user_config_path(env: Mapping[str, str] = os.environ) -> Path:
    """The user's own config file: `$TIERLINE_CONFIG`, else `$XDG_CONFIG_HOME/tierline/config.toml`."""
    explicit = env.get("TIERLINE_CONFIG")
    return Path(explicit).expanduser() if explicit else paths.config_dir(env) / "config.toml"


# ---------------------------------------------------------------------------------------------
# Writing the user config


def _without_language_table(text: str, language: str) -> str:
    """The TOML text minus a `[routing.languages.<language>]` table (header to the next header)."""
    header = re.compile(rf"""^\s*\[\s*routing\s*\.\s*languages\s*\.\s*(["']?){re.escape(language)}\1\s*\]\s*(#.*)?$""")
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        if header.match(line):
            skipping = True
            continue
        if skipping and line.lstrip().startswith("["):
            skipping = False
        if not skipping:
            out.append(line)
    return "".join(out)


# `languages = {}` under [routing] (as written by tools): an empty inline table cannot be extended.
_EMPTY_INLINE_LANGUAGES = re.compile(r"^\s*languages\s*=\s*\{\s*\}\s*(#.*)?\n?", re.MULTILINE)


def with_language_thresholds(text: str, thresholds: Mapping[str, Thresholds]) -> str:
    """The config text with these per-language thresholds written in (replacing earlier ones).
    Everything else, comments included, stays as it was."""
    day = dt.datetime.now(dt.timezone.utc).date().isoformat()
    text = _EMPTY_INLINE_LANGUAGES.sub("", text)
    for language in thresholds:
        text = _without_language_table(text, language)
    text = text.rstrip("\n") + ("\n\n" if text.strip() else "")
    for language, values in sorted(thresholds.items()):
        text += (
            f"[routing.languages.{language}]  # tierline calibrate, {day}\n"
            f"thresholds = {{ mid = {values.mid:.2f}, premium = {values.premium:.2f} }}\n\n"
        )
    return text.rstrip("\n") + "\n"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8") if path.exists() else ""
    except OSError as error:
        raise CalibrationError(f"cannot read {path}: {error.strerror}") from None


def _write_if_it_loads(path: Path, new_text: str, what: str) -> None:
    """Replace ``path`` with ``new_text`` atomically, only if it loads as a tierline config."""
    try:
        parse_config(deep_merge(DEFAULTS, tomllib.loads(new_text)), str(path))
    except (tomllib.TOMLDecodeError, ConfigError) as error:
        raise CalibrationError(f"{path} would not load with the new {what} ({error}); nothing written") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(path.name + ".tierline-tmp")
    scratch.write_text(new_text, encoding="utf-8")
    os.replace(scratch, path)


def apply_thresholds(path: Path, thresholds: Mapping[str, Thresholds]) -> None:
    """Write the thresholds to ``path``; refuse (CalibrationError) if the result would not load."""
    bad = [name for name in thresholds if not _LANGUAGE_NAME.match(name)]
    if bad:
        raise CalibrationError(f"refusing language name(s) {', '.join(map(repr, bad))}")
    _write_if_it_loads(path, with_language_thresholds(_read(path), thresholds), "thresholds")


# ---------------------------------------------------------------------------------------------
# pass_at_1 in [[models]] entries

_MODELS_HEADER = re.compile(r"^\s*\[\[\s*models\s*\]\]\s*(#.*)?$")
_ANY_HEADER = re.compile(r"^\s*\[")
_PASS_AT_1_LINE = re.compile(r"^\s*pass_at_1\s*=\s*\{[^\n]*\}\s*(#.*)?$")


def _models_entries(lines: list[str]) -> list[tuple[int, int]]:
    """(first, end) line ranges of the `[[models]]` entries (header included)."""
    entries, start = [], None
    for number, line in enumerate(lines):
        if _ANY_HEADER.match(line):
            if start is not None:
                entries.append((start, number))
                start = None
            if _MODELS_HEADER.match(line):
                start = number
    if start is not None:
        entries.append((start, len(lines)))
    return entries


def with_pass_at_1(text: str, rates: Mapping[str, Mapping[str, float]]) -> tuple[str, list[str]]:
    """The config text with each measured model's `pass_at_1` written into its `[[models]]` entry
    (measured languages replace earlier values, others are kept), and the models written. A model
    whose entry is not in this file (it comes from the defaults), or whose `pass_at_1` is not one
    inline table, is left alone."""
    lines = text.splitlines(keepends=True)
    written: list[str] = []
    for first, end in reversed(_models_entries(lines)):
        try:
            entry = tomllib.loads("".join(lines[first:end]))["models"][0]
        except (tomllib.TOMLDecodeError, KeyError, IndexError, TypeError):
            continue
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or name not in rates:
            continue
        old = entry.get("pass_at_1", {})
        kept = [n for n in range(first + 1, end) if _PASS_AT_1_LINE.match(lines[n])]
        if not isinstance(old, dict) or ("pass_at_1" in entry and len(kept) != 1):
            continue
        merged = {**{k: v for k, v in old.items() if isinstance(v, (int, float))}, **rates[name]}
        pairs = ", ".join(
            f"{language} = {rate:.2f}" for language, rate in sorted(merged.items()) if writable_language(language)
        )
        line = f"pass_at_1 = {{ {pairs} }}  # tierline calibrate --from-bench\n"
        if kept:
            lines[kept[0]] = line
        else:
            last = max((n for n in range(first + 1, end) if lines[n].strip()), default=first)
            lines.insert(last + 1, line if lines[last].endswith("\n") else "\n" + line)
        written.append(name)
    return "".join(lines), sorted(written)


def apply_pass_at_1(path: Path, rates: Mapping[str, Mapping[str, float]]) -> list[str]:
    """Write measured pass@1 rates into the `[[models]]` entries of ``path``; the models written."""
    new_text, written = with_pass_at_1(_read(path), rates)
    if written:
        _write_if_it_loads(path, new_text, "pass_at_1")
    return written
