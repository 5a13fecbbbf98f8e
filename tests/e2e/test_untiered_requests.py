"""A request that never reached a tier carries none: an excluded file's and a refused config's.

didRoute says `tier: null` for them (not "cheap", which read as if a cheap model had been
considered), and `tierline.stats` counts them in no tier: no ledger row, no request, no spend.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tierline.commands.demo import SIMPLE_PY

CURSOR = (5, 4)  # inside `def add(a, b):`, on the indented blank line


async def test_an_excluded_files_request_has_no_tier_and_no_per_tier_figure(
    start_editor: Any, simulator: Any, tmp_path: Path
) -> None:
    editor = await start_editor()
    answered_uri = (tmp_path / "utils.py").as_uri()
    editor.open(answered_uri, SIMPLE_PY, "python")
    answered = await editor.complete(answered_uri, *CURSOR)
    assert answered.text and answered.route and answered.route["tier"] == "cheap"
    before = await editor.command("tierline.stats")

    secret_uri = (tmp_path / ".env").as_uri()
    editor.open(secret_uri, "API_TOKEN=\n", "python")
    sent = len(simulator.requests)
    excluded = await editor.complete(secret_uri, 0, 10)

    assert excluded.text is None and excluded.route and excluded.route["excluded"] is True
    assert excluded.route["tier"] is None and excluded.route["model"] is None, excluded.route
    assert len(simulator.requests) == sent
    after = await editor.command("tierline.stats")
    assert after["requests"] == before["requests"]
    assert {tier: row["requests"] for tier, row in after["by_tier"].items()} == {
        tier: row["requests"] for tier, row in before["by_tier"].items()
    }


async def test_a_refused_configs_request_has_no_tier_and_no_per_tier_figure(start_editor: Any, tmp_path: Path) -> None:
    editor = await start_editor(config_text="[routing]\nlatency_budget_ms = 'soon'\n")
    uri = (tmp_path / "utils.py").as_uri()
    editor.open(uri, SIMPLE_PY, "python")
    refused = await editor.complete(uri, *CURSOR)

    assert refused.text is None and refused.route, refused
    assert "the config was refused" in refused.route["reason"]
    assert refused.route["tier"] is None and refused.route["model"] is None, refused.route
    stats = await editor.command("tierline.stats")
    assert stats["requests"] == 0 and stats["by_tier"] == {}, stats
