"""Running the `tierline` command line as a user would, with a config of the test's own."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.helpers.forkserver import tierline_command
from tierline.devtools.simulator import sim_config, write_toml


def tierline(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        tierline_command(*args),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def config_for(tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "user.toml"
    write_toml(sim_config("http://127.0.0.1:9/v1", cache_dir=str(tmp_path / "c"), ledger_dir=str(tmp_path / "s")), path)
    return {"TIERLINE_CONFIG": str(path)}
