"""Each default is stated once (config/model.py:DEFAULTS): the config the loader builds from nothing,
the dataclasses' own defaults and the README's configuration reference all say the same."""

from __future__ import annotations

import re
import sys
from dataclasses import asdict

from tests.helpers.common import ROOT
from tierline.config import model
from tierline.config.loading import parse_config

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

README = ROOT / "README.md"
# Sections whose every key is a plain value in both (the README writes `[completion.languages.X]`
# tables where DEFAULTS has the list form, and directories as comments).
SECTIONS = ("routing", "cache", "budget", "completion", "context", "telemetry")


def plain(value: object) -> object:
    """Tuples as lists, pairs as tables: the TOML shape of a dataclass value."""
    if isinstance(value, tuple) and value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
        return {k: plain(v) for k, v in value}
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def test_the_dataclasses_defaults_are_the_defaults_table() -> None:
    built = parse_config({}, "built-in defaults")
    for section in SECTIONS + ("privacy",):
        table = model.DEFAULTS[section]
        for config in (getattr(built, section), type(getattr(built, section))()):
            values = {k: plain(v) for k, v in asdict(config).items()}
            for key, default in table.items():
                if key in ("dir", "languages"):
                    continue  # directories resolve to paths; languages has a table form too
                assert values[key] == plain(default), f"[{section}] {key}: {values[key]!r} != {default!r}"


def readme_reference() -> dict[str, object]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Configuration") :]
    block = re.search(r"```toml\n(.*?)```", section, re.S)
    assert block, "README: no ```toml block under ## Configuration"
    return tomllib.loads(block.group(1))


def test_the_readme_configuration_reference_states_the_defaults() -> None:
    reference = readme_reference()
    compared = 0
    for section in SECTIONS:
        for key, value in reference[section].items():
            if key == "languages":
                continue
            assert key in model.DEFAULTS[section], f"README [{section}] {key}: not a key of the defaults"
            assert plain(value) == plain(model.DEFAULTS[section][key]), f"README [{section}] {key} = {value!r}"
            compared += 1
    assert compared >= 20
