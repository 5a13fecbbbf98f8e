"""`tierline init`: a starter config with the models of each provider whose API key is set.

Writes the user config (`$TIERLINE_CONFIG`, else `$XDG_CONFIG_HOME/tierline/config.toml`); an
existing file is kept unless `--force`. Keys themselves are never written: only the names of the
environment variables that hold them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tierline.config import parse_config, paths
from tierline.config.toml_writer import toml_text
from tierline.providers.presets import PRESETS, Preset

# When several keys are set, models are listed in this order (earlier = preferred within a tier
# at equal price): direct keys first, then OpenRouter.
ORDER = ("anthropic", "deepseek", "mistral", "openai", "openrouter", "ollama")


class InitError(Exception):
    """Nothing to write, or a file in the way: says what to do."""


def config_path(env: Mapping[str, str] = os.environ) -> Path:
    explicit = env.get("TIERLINE_CONFIG")
    return Path(explicit).expanduser() if explicit else paths.config_dir(env) / "config.toml"


def chosen_presets(env: Mapping[str, str], asked: Sequence[str] = ()) -> list[Preset]:
    if asked:
        unknown = [name for name in asked if name not in PRESETS]
        if unknown:
            raise InitError(f"unknown provider(s) {', '.join(unknown)} (known: {', '.join(ORDER)})")
        return [PRESETS[name] for name in ORDER if name in asked]
    found = [PRESETS[name] for name in ORDER if PRESETS[name].key_env and env.get(PRESETS[name].key_env or "")]
    if not found:
        variables = ", ".join(p.key_env for p in PRESETS.values() if p.key_env)
        raise InitError(
            f"no provider key is set: set one of {variables} (or use --provider ollama for local models), "
            "then run `tierline init` again"
        )
    return found


def starter_config(presets: Sequence[Preset]) -> str:
    models: list[dict[str, Any]] = []
    names: set[str] = set()
    for preset in presets:
        for model in preset.models:
            entry = dict(model)
            if entry["name"] in names:  # the same model name from two providers
                entry["name"] = f"{entry['name']}-{preset.name}"
            names.add(entry["name"])
            models.append(entry)
    parse_config({"models": models})  # the starter must load: refuse to write one that does not
    header = "\n".join(
        [
            "# tierline starter config, written by `tierline init`.",
            "# Providers: " + "; ".join(f"{p.title} ({p.key_env or 'no key'})" for p in presets) + ".",
            "# Keys stay in the environment; only the variables' names are here. Prices: USD per million tokens.",
            "# Every key: docs/providers.md and the README's configuration section.",
            "",
            "[budget]",
            "daily_usd = 5.0",
            "",
        ]
    )
    return header + toml_text({"models": models})


def run_init(asked: Sequence[str] = (), force: bool = False, env: Mapping[str, str] = os.environ) -> int:
    path = config_path(env)
    try:
        presets = chosen_presets(env, asked)
        if path.exists() and not force:
            raise InitError(f"{path} exists: keeping it (use --force to replace it)")
        text = starter_config(presets)
    except InitError as error:
        print(f"tierline init: {error}")
        return 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    count = text.count("[[models]]")
    print(f"wrote {path}: {count} models from {', '.join(p.name for p in presets)}")
    print("check it with `tierline doctor --live`")
    return 0
