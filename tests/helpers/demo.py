"""One real `tierline demo --json` run shared by the tests that read it (the `demo_run` fixture in
tests/conftest.py): the demo is the suite's longest single command, so the README's example, the
demo's rows and its acceptance block are checked on the same run, in a newcomer's environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.common import ROOT

# The tests that read the shared run go to one pytest-xdist worker (`loadgroup`), so it starts once.
DEMO_GROUP = pytest.mark.xdist_group("demo-run")


def newcomer_env(home: Path) -> dict[str, str]:
    """No key, no config of ours, fresh cache and state: a machine that has only just installed it."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not (k.endswith("_API_KEY") or k.startswith("TIERLINE_") or k.startswith("XDG_"))
    }
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env[name] = str(home / name.lower())
    return env


def run_demo_json(home: Path) -> dict[str, Any]:
    """`tierline demo --json` from the checkout, by the real interpreter, as a newcomer runs it."""
    result = subprocess.run(
        [sys.executable, "-m", "tierline", "demo", "--json"],
        cwd=ROOT,
        env=newcomer_env(home),
        capture_output=True,
        text=True,
        # A bound, not a speed check: the demo takes ~17 s on an idle 2-core machine; with 4 test
        # workers on 2 cores, several times that.
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    demo: dict[str, Any] = json.loads(result.stdout)
    return demo
