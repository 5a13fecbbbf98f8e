"""`tierline calibrate` on a real session: the simulator's user accepts cheap answers less often on
hard positions (devtools/quality.py), and calibration moves each language's threshold the right way.

The session runs with the earlier hand-set weights installed as the user's own (a
`router_weights.json` beside the config, as `tierline calibrate --weights --apply` writes it): their
scores spread positions in complete files over both sides of the mid threshold, which is what
threshold calibration needs to act on; the shipped weights send nearly every position in finished
code to cheap (tests/unit/routing/test_routing_corpus.py)."""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path

from tests.helpers.common import FIXTURES, ROOT
from tests.helpers.forkserver import tierline_command
from tierline.config import load_config
from tierline.routing.refit import WEIGHTS_FILENAME

LINES_PER_FILE = 45
HANDSET = ROOT / "server" / "tierline" / "analysis" / "router_weights_handset.json"


def use_handset_weights(tmp_path: Path) -> None:
    """The hand-set weights as the user's, for every server and command of this test."""
    (tmp_path / WEIGHTS_FILENAME).write_text(HANDSET.read_text(encoding="utf-8"), encoding="utf-8")


# Go in this session is harder than its score says: a hidden offset the router cannot see.
HIDDEN_GO_OFFSET = 0.45


def positions(language: str) -> list[tuple[Path, int, int]]:
    """Ends of non-blank lines picked at random (seeded) in each fixture file of a language."""
    out = []
    for path in sorted((FIXTURES / language).iterdir()):
        lines = path.read_text(encoding="utf-8").split("\n")
        picker = random.Random(path.name)
        for index in picker.sample(range(len(lines)), min(LINES_PER_FILE, len(lines))):
            if lines[index].strip():
                out.append((path, index, len(lines[index].encode("utf-16-le")) // 2))
    return out


async def play_session(editor, simulator, tmp_path: Path) -> dict[str, int]:
    """Complete at each position; accept whatever the simulated user likes. Returns counts."""
    counts = {"shown": 0, "accepted": 0}
    opened: dict[Path, str] = {}
    for language in ("python", "go"):
        for path, line, character in positions(language):
            if path not in opened:
                opened[path] = (tmp_path / "work" / path.name).as_uri()
                editor.open(opened[path], path.read_text(encoding="utf-8"), language)
            completion = await editor.complete(opened[path], line, character)
            if not completion.text:
                continue
            counts["shown"] += 1
            if simulator.quality.verdict_for(completion.text):
                counts["accepted"] += 1
                await editor.command("tierline.accepted", *completion.command["arguments"])
    return counts


def calibrate(config_path: Path, *args: str) -> dict:
    env = {**os.environ, "TIERLINE_CONFIG": str(config_path)}
    done = subprocess.run(
        tierline_command("calibrate", "--json", *args),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def test_calibrate_lowers_the_threshold_where_cheap_trails_and_raises_it_where_cheap_matches(
    start_editor, simulator, tmp_path
):
    chat_only = {"models": [{**m, "api": "chat"} for m in _sim_models(simulator)]}
    use_handset_weights(tmp_path)
    editor = await start_editor(chat_only)
    simulator.quality.configure({"language_offsets": {"go": HIDDEN_GO_OFFSET}})

    counts = await play_session(editor, simulator, tmp_path)
    stats = await editor.command("tierline.stats")
    await editor.client.shutdown_session()

    assert stats["acceptance"]["shown"] == counts["shown"] > 250
    assert stats["acceptance"]["accepted"] == counts["accepted"]
    config_path = tmp_path / "tierline-0.toml"
    proposed = {p["language"]: p for p in calibrate(config_path)["proposals"]}
    go, python = proposed["go"], proposed["python"]
    assert go["evidence"]["verdict"] == "trails", go["evidence"]
    assert python["evidence"]["verdict"] == "matches", python["evidence"]
    assert go["parity"] == {"mid": 0.30, "premium": 0.70}
    assert python["parity"] == {"mid": 0.40, "premium": 0.70}
    # Before and after: Go buys acceptance with more mid calls; Python saves money.
    assert go["after"]["acceptance"] > go["before"]["acceptance"]
    assert go["after"]["spend_usd"] > go["before"]["spend_usd"]
    assert python["after"]["spend_usd"] < python["before"]["spend_usd"]

    applied = calibrate(config_path, "--apply")

    assert applied["applied"] is True and applied["config"] == str(config_path)
    config = load_config(None, {"TIERLINE_CONFIG": str(config_path)})
    assert (config.routing.thresholds_for("go").mid, config.routing.thresholds_for("go").premium) == (0.30, 0.70)
    assert config.routing.thresholds_for("python").mid == 0.40
    assert config.routing.thresholds_for("rust").mid == 0.35  # untouched languages keep the default


def _sim_models(simulator) -> list[dict]:
    from tierline.devtools.simulator import sim_config

    return sim_config(simulator.base_url)["models"]


async def test_auto_calibrate_applies_the_proposal_once_a_day_and_uses_it_at_once(start_editor, simulator, tmp_path):
    chat_only = {"models": [{**m, "api": "chat"} for m in _sim_models(simulator)]}
    simulator.quality.configure({"language_offsets": {"go": HIDDEN_GO_OFFSET}})
    use_handset_weights(tmp_path)
    first = await start_editor(chat_only)
    await play_session(first, simulator, tmp_path)
    await first.client.shutdown_session()

    editor = await start_editor({**chat_only, "routing": {"auto_calibrate": True}})
    uri = (tmp_path / "work" / "again.py").as_uri()
    editor.open(uri, "def add(a, b):\n    \n", "python")
    await editor.complete(uri, 1, 4)  # the first shown completion of the day runs it
    explained = await editor.command("tierline.explain", uri, {"line": 1, "character": 4})

    config_path = tmp_path / "tierline-1.toml"
    config = load_config(None, {"TIERLINE_CONFIG": str(config_path)})
    assert config.routing.thresholds_for("go").mid == 0.30
    assert config.routing.thresholds_for("python").mid == 0.40
    assert any("auto-calibrated" in m and "go mid 0.35 -> 0.30" in m for m in editor.messages), editor.messages
    assert "< mid 0.40" in explained["reason"]  # in use at once, no restart
    assert (tmp_path / "state" / "auto-calibrated-on").read_text().strip()

    await editor.complete(uri, 1, 4)  # not twice a day
    assert sum("auto-calibrated" in m for m in editor.messages) == 1
