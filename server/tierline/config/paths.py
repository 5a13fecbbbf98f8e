"""Where tierline keeps its files: the XDG base directories, with the XDG defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def _xdg(env: Mapping[str, str], variable: str, fallback: str) -> Path:
    value = env.get(variable)
    base = Path(value) if value and os.path.isabs(value) else Path.home() / fallback
    return base / "tierline"


def config_dir(env: Mapping[str, str] = os.environ) -> Path:
    return _xdg(env, "XDG_CONFIG_HOME", ".config")


def cache_dir(env: Mapping[str, str] = os.environ) -> Path:
    return _xdg(env, "XDG_CACHE_HOME", ".cache")


def state_dir(env: Mapping[str, str] = os.environ) -> Path:
    return _xdg(env, "XDG_STATE_HOME", ".local/state")


def private_dir(path: Path) -> Path:
    """Create a directory only its owner can read (cache and ledger hold usage data). An existing
    directory is used as it is: tierline only changes the mode of directories it creates."""
    if path.is_dir():
        return path
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)  # mkdir's mode is masked by the umask
    return path
