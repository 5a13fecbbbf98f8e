"""Build the VS Code extension's node:test files and run one against a JSON file the server produced."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.common import ROOT

EXT_DIR = ROOT / "editors" / "vscode"


def _node() -> tuple[str, dict[str, str]]:
    """node from the editor-test setup (tests/editors/vscode/setup.sh) or PATH; skip without it."""
    env_file = Path(os.environ.get("TIERLINE_E2E_DIR", ROOT / ".e2e")) / "vscode-setup.env"
    candidates = [ROOT / ".e2e" / "bin" / "node"]
    if env_file.is_file():
        candidates[:0] = [Path(line[5:]) for line in env_file.read_text().splitlines() if line.startswith("NODE=")]
    node = next((str(c) for c in candidates if c.is_file()), None) or shutil.which("node")
    if node is None:
        pytest.skip("no node (run tests/editors/vscode/setup.sh): the VS Code side is not checked")
    if not (EXT_DIR / "node_modules" / "esbuild").is_dir():
        pytest.skip("editors/vscode/node_modules is missing (npm ci): the VS Code side is not checked")
    return node, dict(os.environ, PATH=os.pathsep.join([str(Path(node).parent), os.environ.get("PATH", "")]))


def run_node_test(test_js: str, **env_extra: str) -> str:
    """TAP output of `dist-test/<test_js>`; fails when the build or any test fails."""
    node, env = _node()
    build = subprocess.run(
        [node, "esbuild.mjs", "--tests"], cwd=EXT_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert build.returncode == 0, build.stdout + build.stderr
    run = subprocess.run(
        [node, "--test", "--test-reporter=tap", f"dist-test/{test_js}"],
        cwd=EXT_DIR,
        env=dict(env, **env_extra),
        capture_output=True,
        text=True,
        timeout=120,
    )
    print(run.stdout)
    assert run.returncode == 0, f"{run.stdout[-6000:]}\n{run.stderr[-2000:]}"
    return run.stdout
