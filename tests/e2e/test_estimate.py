"""`tierline estimate`: offline, priced to the token with the user's config, on the repository's fixtures."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.helpers.common import FIXTURES
from tests.helpers.forkserver import tierline_command
from tierline.devtools.simulator import write_toml

PRICES = {"cheap": (1.0, 2.0), "mid": (10.0, 20.0), "premium": (100.0, 200.0)}  # USD per Mtok in, out


def config(tmp_path: Path, thresholds: dict | None = None) -> Path:
    path = tmp_path / "config.toml"
    raw = {
        "models": [
            {
                "name": f"{tier}-model",
                "tier": tier,
                "base_url": "http://127.0.0.1:9/v1",
                "model": tier,
                "input_per_mtok": p_in,
                "output_per_mtok": p_out,
            }
            for tier, (p_in, p_out) in PRICES.items()
        ],
    }
    if thresholds:
        raw["routing"] = {"thresholds": thresholds}
    write_toml(raw, path)
    return path


def estimate(tmp_path: Path, *args: str, thresholds: dict | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TIERLINE_CONFIG": str(config(tmp_path, thresholds))}
    return subprocess.run(tierline_command("estimate", *args), capture_output=True, text=True, env=env, timeout=120)


def usd(tokens_in: int, tokens_out: int, tier: str) -> float:
    p_in, p_out = PRICES[tier]
    return (tokens_in * p_in + tokens_out * p_out) / 1_000_000


def test_estimate_prices_every_sampled_position_at_its_tier(tmp_path):
    result = json.loads(estimate(tmp_path, str(FIXTURES), "--json", "--per-day", "200").stdout)

    n, tokens = result["positions"], result["tokens"]
    assert n == 1000 and result["files"] >= 20 and result["lines"] > 10_000
    per_1k = result["per_1000_completions_usd"]
    for tier in PRICES:  # everyone on one tier: all the sampled tokens at its prices
        assert per_1k[f"all_{tier}"] == round(1000 * usd(tokens["in"], tokens["out"], tier) / n, 6)
    by_tier = result["by_tier"]
    assert sum(row["positions"] for row in by_tier.values()) == n
    routed = sum(usd(row["tokens_in"], row["tokens_out"], tier) for tier, row in by_tier.items())
    assert per_1k["tierline"] == round(1000 * routed / n, 6)
    assert per_1k["all_cheap"] < per_1k["tierline"] < per_1k["all_premium"]
    assert result["per_month_usd"]["tierline"] == round(per_1k["tierline"] * 200 * 30 / 1000, 4)
    assert set(result["by_language"]) >= {"python", "rust", "go", "typescript"}


def test_estimate_routes_with_the_users_thresholds(tmp_path):
    everything_cheap = json.loads(
        estimate(tmp_path, str(FIXTURES), "--json", thresholds={"mid": 1.0, "premium": 1.0}).stdout
    )
    per_1k = everything_cheap["per_1000_completions_usd"]
    assert per_1k["tierline"] == per_1k["all_cheap"]
    assert everything_cheap["by_tier"]["cheap"]["share_pct"] == 100.0


def test_estimate_prints_the_plans_and_says_what_it_assumed(tmp_path):
    run = estimate(tmp_path, str(FIXTURES))
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert any(line.startswith("tierline ") and "$" in line for line in lines)
    assert any(line.startswith("all_premium") for line in lines)
    assert "no cache hits" in run.stdout and "at 300 completions a day" in run.stdout


def test_estimate_of_a_directory_without_code_says_so(tmp_path):
    (tmp_path / "empty").mkdir()
    run = estimate(tmp_path, str(tmp_path / "empty"))
    assert run.returncode == 1 and "no code files" in run.stderr
    assert estimate(tmp_path, str(tmp_path / "missing")).returncode == 2
