"""Writing per-language thresholds into the user's config file (`tierline calibrate --apply` and
`[routing] auto_calibrate`), keeping everything else in it, comments included.

Only `[routing.languages.<lang>]` tables are replaced or added; the result must load (TOML and
tierline's own checks) or nothing is written; the file is replaced atomically.
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


def apply_thresholds(path: Path, thresholds: Mapping[str, Thresholds]) -> None:
    """Write the thresholds to ``path``; refuse (CalibrationError) if the result would not load."""
    bad = [name for name in thresholds if not _LANGUAGE_NAME.match(name)]
    if bad:
        raise CalibrationError(f"refusing language name(s) {', '.join(map(repr, bad))}")
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except OSError as error:
        raise CalibrationError(f"cannot read {path}: {error.strerror}") from None
    new_text = with_language_thresholds(text, thresholds)
    try:
        parse_config(deep_merge(DEFAULTS, tomllib.loads(new_text)), str(path))
    except (tomllib.TOMLDecodeError, ConfigError) as error:
        raise CalibrationError(f"{path} would not load with the new thresholds ({error}); nothing written") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(path.name + ".tierline-tmp")
    scratch.write_text(new_text, encoding="utf-8")
    os.replace(scratch, path)
