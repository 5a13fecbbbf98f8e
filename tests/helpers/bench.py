"""Running `tierline bench` against the simulator in a thread, and reading what it booked."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from tests.helpers.forkserver import tierline_command
from tierline.devtools.oracle import Oracle
from tierline.devtools.simulator import SimulatorThread, sim_config, write_toml


def config(sim: SimulatorThread, tmp_path: Path, overrides: dict[str, Any] | None = None) -> Path:
    raw = sim_config(sim.base_url, cache_dir=str(tmp_path / "cache"), ledger_dir=str(tmp_path / "state"))
    raw.update(overrides or {})
    path = tmp_path / "tierline.toml"
    write_toml(raw, path)
    return path


def oracle(sim: SimulatorThread, root: Path, skills: dict[str, float] | None = None) -> None:
    """The simulator answers from the files under root (what `tierline simulator --oracle` does)."""

    def attach() -> None:
        simulator = sim._simulator  # the in-process simulator behind the thread
        simulator.oracle = Oracle(root)
        simulator.quality.configure({"skills": skills or {}})

    sim._call(attach)


def bench(
    sim: SimulatorThread, tmp_path: Path, *args: str, stdin: str = "", overrides: dict[str, Any] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TIERLINE_CONFIG": str(config(sim, tmp_path, overrides))}
    return subprocess.run(
        tierline_command("bench", *args),
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=300,
    )


def ledger(tmp_path: Path) -> list[sqlite3.Row]:
    db = sqlite3.connect(tmp_path / "state" / "ledger.sqlite3")
    db.row_factory = sqlite3.Row
    try:
        return db.execute("SELECT * FROM calls ORDER BY id").fetchall()
    finally:
        db.close()
