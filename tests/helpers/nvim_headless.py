"""Run a Lua script in a headless Neovim (the test extra's binary) with the plugin on its path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.common import ROOT

PLUGIN = ROOT / "editors" / "nvim"


def run_lua(script: Path, tmp_path: Path, **env_extra: str) -> str:
    """The script's output; fails on a non-zero exit or any `not ok` line, skips without Neovim."""
    nvim = Path(sys.executable).parent / "nvim"
    if not nvim.is_file():
        pytest.skip(f"no Neovim at {nvim} (pip install -e '.[test]')")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NVIM", "VIM", "XDG_"))}
    env.update(
        XDG_CONFIG_HOME=str(tmp_path / "c"), XDG_STATE_HOME=str(tmp_path / "s"), XDG_DATA_HOME=str(tmp_path / "d")
    )
    env.update(TIERLINE_PLUGIN=str(PLUGIN), **env_extra)
    run = subprocess.run(
        [str(nvim), "--headless", "-u", "NONE", "-i", "NONE", "-l", str(script)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = run.stdout + run.stderr
    print(output)
    failed = [line for line in output.splitlines() if line.startswith("not ok")]
    assert run.returncode == 0 and not failed, output
    return output
