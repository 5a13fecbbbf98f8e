"""A small module the Neovim specs edit (a temporary copy of it)."""

import json
import os
from pathlib import Path


def load_settings(path: Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def settings_dir() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME", "~/.config")).expanduser()


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def bump(self, step: int = 1) -> int:
        self.count += step
        return self.count

