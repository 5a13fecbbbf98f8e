"""Where things are, and the config every end-to-end test starts from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tierline.config import deep_merge
from tierline.devtools.simulator import Simulator, sim_config

# Every test reaches the checkout through these, so a test file can move without counting parents.
TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
FIXTURES = ROOT / "fixtures"
DATA = TESTS / "data"
SECRET = "sk-test-DO-NOT-LEAK-5f0c9e1d2b3a"


def editor_config(simulator: Simulator, tmp_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    config = sim_config(simulator.base_url, cache_dir=str(tmp_path / "cache"), ledger_dir=str(tmp_path / "state"))
    # The driver's plain `complete` is an invoked request; alternatives (more calls near a tier
    # boundary) would change what most tests count. Their own tests turn them on.
    config["completion"]["alternatives"] = False
    return deep_merge(config, overrides or {})
