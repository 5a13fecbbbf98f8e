"""`tierline bench`: the real CLI against the simulator on 127.0.0.1, answering with the code that
was really there (devtools/oracle.py) when the model's skill beats the position's hidden difficulty."""

from __future__ import annotations

import asyncio
import html
import json

from tests.helpers.bench import bench, config, ledger, oracle
from tests.helpers.common import FIXTURES

try:
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    import tomli as tomllib
import os
import re
import shutil
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.forkserver import tierline_command
from tests.helpers.privacy import ALL_SECRETS, SECRETS_PY
from tierline.devtools.quality import QualityModel
from tierline.devtools.simulator import SimulatorThread, sim_config
from tierline.privacy.redaction import PLACEHOLDER_PREFIX

CONTRACT_MODEL_KEYS = {"tier", "exact", "edit_similarity", "parse_rate", "cost_usd", "p50_ms", "p95_ms"}
MODELS = ("deepseek-v4-flash", "qwen2.5-coder-32b", "claude-haiku", "claude-sonnet", "claude-opus")


@pytest.fixture
def sim() -> Iterator[SimulatorThread]:
    with SimulatorThread() as thread:
        yield thread


def fates(tmp_path: Path) -> int:
    db = sqlite3.connect(tmp_path / "state" / "ledger.sqlite3")
    try:
        if not db.execute("SELECT name FROM sqlite_master WHERE name = 'fates'").fetchall():
            return 0
        return int(db.execute("SELECT COUNT(*) FROM fates").fetchone()[0])
    finally:
        db.close()


def prices() -> dict[str, tuple[float, float]]:
    from tierline.config import DEFAULT_MODELS

    return {m["name"]: (m["input_per_mtok"], m["output_per_mtok"]) for m in DEFAULT_MODELS}


def hidden_difficulty(position: str) -> float:
    """The simulator's hidden difficulty of a position in fixtures/ (devtools/quality.py): the
    indentation of the cursor's line and the tricky code above it."""
    path, line, column, _ = position.rsplit(":", 3)
    lines = (FIXTURES / path).read_text(encoding="utf-8").split("\n")
    prefix = "\n".join([*lines[: int(line) - 1], lines[int(line) - 1][: int(column) - 1]])
    return QualityModel().difficulty(prefix, None)


def test_bench_measures_each_model_and_the_routing_priced_to_the_token(sim, tmp_path):
    oracle(sim, FIXTURES, skills={"deepseek-v4-flash": 0.3})  # a weak cheap model (the one routed cheap)
    run = bench(
        sim,
        tmp_path,
        str(FIXTURES),
        "--positions",
        "45",
        "--seed",
        "3",
        "--yes",
        "--json",
        "--html",
        str(tmp_path / "bench.html"),
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)

    # The contract's shape: every configured model, routed and all-premium, the two ratios.
    assert result["positions"] == 45
    assert set(result["by_model"]) == set(MODELS)
    for row in result["by_model"].values():
        assert CONTRACT_MODEL_KEYS <= set(row)
        assert all(0 <= row[k] <= 1 for k in ("exact", "edit_similarity", "parse_rate"))
    routed, premium = result["routed"], result["all_premium"]
    assert set(routed) == set(premium) == {"exact", "edit_similarity", "cost_usd"}
    assert result["quality_retained"] == pytest.approx(routed["exact"] / premium["exact"], abs=1e-3)
    assert result["cost_ratio"] == pytest.approx(routed["cost_usd"] / premium["cost_usd"], abs=1e-3)
    low, high = result["interval"]["quality_retained"]
    assert low <= result["quality_retained"] <= high
    # Stratified over the tiers this code routes to (each gets its share where the pool has enough).
    assert {c["tier"] for c in result["cases"]} == set(result["tier_mix"])

    # The weak cheap model misses much more often than premium on positions whose hidden difficulty
    # is high, and about as rarely on easy ones; the report names the misroutes it causes.
    hard = [c for c in result["cases"] if hidden_difficulty(c["position"]) >= 0.15]
    easy = [c for c in result["cases"] if hidden_difficulty(c["position"]) < 0.15]
    assert len(hard) >= 10 and len(easy) >= 10

    def gap(cases: list[dict[str, Any]]) -> float:
        return sum(
            c["results"]["claude-opus"]["exact"] - c["results"]["deepseek-v4-flash"]["exact"] for c in cases
        ) / len(cases)

    assert gap(hard) > 0.3 and gap(hard) > 2 * gap(easy)
    assert result["by_model"]["deepseek-v4-flash"]["exact"] < result["by_model"]["qwen2.5-coder-32b"]["exact"]
    assert result["quality_retained"] < 1
    misroutes = result["misroutes"]
    assert [m for m in misroutes if (m["model"], m["tier"]) == ("deepseek-v4-flash", "cheap")]

    # Every call is a ledger row marked bench, priced to the token, and none counts as shown.
    rows = ledger(tmp_path)
    assert len(rows) == 45 * 5 and all(row["bench"] == 1 for row in rows)
    for row in rows:
        p_in, p_out = prices()[row["model"]]
        assert row["cost_usd"] == pytest.approx((row["tokens_in"] * p_in + row["tokens_out"] * p_out) / 1e6, abs=1e-12)
    for name, figures in result["by_model"].items():
        assert figures["cost_usd"] == round(sum(r["cost_usd"] for r in rows if r["model"] == name), 8)
    assert result["spent_usd"] == round(sum(r["cost_usd"] for r in rows), 8)
    assert fates(tmp_path) == 0
    # The estimate asked for before the calls is within 20 % of what the ledger says they cost.
    assert abs(result["estimated_usd"] - result["spent_usd"]) <= 0.2 * result["spent_usd"]

    # The same command, resumed, calls nothing and prints the report: the headline with the interval.
    calls = len(sim.requests())
    again = bench(sim, tmp_path, str(FIXTURES), "--positions", "45", "--seed", "3", "--resume")
    assert again.returncode == 0, again.stderr
    assert len(sim.requests()) == calls
    headline = (
        f"routed: {100 * result['quality_retained']:.1f}% of all-premium's exact matches "
        f"at {100 * result['cost_ratio']:.1f}% of its cost"
    )
    assert headline in again.stdout.splitlines()
    assert f"95% interval: {100 * low:.1f}%-{100 * high:.1f}% of the exact matches" in again.stdout
    first = misroutes[0]
    assert any(line.startswith(f"  {first['position']}  {first['model']} wrote") for line in again.stdout.splitlines())
    assert html.escape(headline) in (tmp_path / "bench.html").read_text()


def test_an_excluded_file_is_never_sampled_and_a_secret_never_sent(sim, tmp_path):
    repo = tmp_path / "repo"
    (repo / "private").mkdir(parents=True)
    (repo / "app.py").write_text(SECRETS_PY + "".join(f"\ndef f{i}(x):\n    return x + {i}\n" for i in range(30)))
    (repo / "private" / "billing.py").write_text(
        "".join(f"def rate_{i}(x):\n    return x * {i}  # PRIVATE\n" for i in range(60))
    )
    (repo / ".aiexclude").write_text("private/\n")
    oracle(sim, repo)
    run = bench(sim, tmp_path, str(repo), "--positions", "20", "--yes", "--json", "--models", "claude-haiku")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)

    assert result["positions"] == 20
    assert all(c["position"].startswith("app.py:") for c in result["cases"])
    routed = {c["picks"][c["tier"]] for c in result["cases"]}  # --models, plus routed and all-premium
    assert set(result["by_model"]) == {"claude-haiku", "claude-opus"} | routed
    sent = [r["prefix"] + r["suffix"] for r in sim.requests()]
    assert len(sent) == len(ledger(tmp_path)) > 0
    assert not any("PRIVATE" in text or "rate_" in text for text in sent)
    assert not any(secret in text for text in sent for secret in ALL_SECRETS)
    assert all(PLACEHOLDER_PREFIX in text for text in sent)  # the secrets went as placeholders
    assert all(row["redactions"] >= 1 for row in ledger(tmp_path))  # counted, never the secret


def test_nothing_is_sent_until_the_estimate_is_confirmed(sim, tmp_path):
    oracle(sim, FIXTURES)
    run = bench(sim, tmp_path, str(FIXTURES), "--positions", "6", stdin="n\n")
    assert run.returncode == 1
    assert "model calls, estimated $" in run.stderr and "Go ahead? [y/N]" in run.stderr
    assert "nothing sent" in run.stderr
    assert sim.requests() == []

    yes = bench(sim, tmp_path, str(FIXTURES), "--positions", "6", "--json", stdin="y\n")
    assert yes.returncode == 0, yes.stderr
    assert len(sim.requests()) == 6 * 5


def test_max_usd_is_a_hard_stop(sim, tmp_path):
    oracle(sim, FIXTURES)
    run = bench(sim, tmp_path, str(FIXTURES), "--positions", "20", "--yes", "--json", "--max-usd", "0.02")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    spent = sum(row["cost_usd"] for row in ledger(tmp_path))
    assert 0 < spent <= 0.02
    assert result["stopped"] == "--max-usd 0.02 reached"
    assert result["spent_usd"] == round(spent, 8)
    assert len(ledger(tmp_path)) < 20 * 5


def test_ctrl_c_keeps_what_is_done_and_resume_goes_on(sim, tmp_path):
    oracle(sim, FIXTURES)
    sim.set_behaviour("claude-opus", fault="hang")  # premium calls hang until Ctrl-C
    env = {**os.environ, "TIERLINE_CONFIG": str(config(sim, tmp_path))}
    args = tierline_command("bench", str(FIXTURES), "--positions", "8", "--yes", "--json")
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        sim.wait_for(lambda r: r["model"].endswith("claude-opus-4.5"), timeout=60)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "run the same command with --resume" in err
    first = json.loads(out)
    done = sum(row["positions"] for row in first["by_model"].values())
    assert first["stopped"] == "interrupted" and 0 < done < 8 * 5
    assert "claude-opus" not in first["by_model"]  # its calls were hung up on: nothing kept

    sim.set_behaviour("claude-opus", fault=None)
    before = len(sim.requests())
    resumed = subprocess.run([*args, "--resume"], capture_output=True, text=True, env=env, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming, {done} of 40 calls already done" in resumed.stderr
    assert len(sim.requests()) - before == 40 - done  # only what was not done
    assert all(row["positions"] == 8 for row in json.loads(resumed.stdout)["by_model"].values())


def test_a_jsonl_suite_runs_the_same_comparison(sim, tmp_path):
    cases = [
        {"prefix": "def add(a, b):\n    return ", "expected": "a + b", "suffix": "\n", "language": "python"},
        {
            "prefix": "def neg(a):\n    return ",
            "expected": "-a",
            "suffix": "\n\n\nprint(neg(2))\n",
            "language": "python",
        },
        {
            "prefix": "func Max(a, b int) int {\n\t",
            "expected": "if a > b {\n\t\treturn a\n\t}\n\treturn b",
            "suffix": "\n}\n",
            "language": "go",
        },
    ]
    suite = tmp_path / "suite.jsonl"
    suite.write_text("".join(json.dumps(case) + "\n" for case in cases))
    answers = tmp_path / "answers"  # the simulator's answer key: each case written out whole
    answers.mkdir()
    for number, case in enumerate(cases):
        (answers / f"case{number}.txt").write_text(case["prefix"] + case["expected"] + case["suffix"])
    oracle(sim, answers)
    run = bench(sim, tmp_path, "--suite", str(suite), "--yes", "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["positions"] == 3
    assert [c["position"] for c in result["cases"]] == ["suite:1", "suite:2", "suite:3"]
    assert result["by_model"]["claude-opus"]["exact"] == 1.0
    assert result["by_model"]["claude-opus"]["parse_rate"] == 1.0

    (tmp_path / "bad.jsonl").write_text('{"prefix": "x"}\n')
    bad = bench(sim, tmp_path, "--suite", str(tmp_path / "bad.jsonl"), "--yes")
    assert bad.returncode == 2
    assert "bad.jsonl:1: needs string fields prefix, suffix, expected, language" in bad.stderr


def test_an_unknown_model_is_refused_by_name(sim, tmp_path):
    run = bench(sim, tmp_path, str(FIXTURES), "--models", "gpt-9", "--yes")
    assert run.returncode == 2
    assert "no model named gpt-9" in run.stderr
    assert sim.requests() == []


def calibrate(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TIERLINE_CONFIG": str(tmp_path / "tierline.toml")}
    command = tierline_command("calibrate", *args)
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)


def replayed(cases: list[dict[str, Any]], mid: float, premium: float) -> tuple[float, float]:
    """Exact-match rate and cost of these thresholds on the bench's positions, as the user would work it out."""
    picked = [
        (
            c["weight"],
            c["results"][c["picks"]["premium" if c["score"] >= premium else "mid" if c["score"] >= mid else "cheap"]],
        )
        for c in cases
    ]
    weight = sum(w for w, _ in picked)
    return round(sum(w * r["exact"] for w, r in picked) / weight, 4), round(
        sum(w * r["cost_usd"] for w, r in picked), 8
    )


def test_calibrate_from_bench_proposes_cheaper_thresholds_that_keep_the_exact_matches(sim, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "python", repo)
    oracle(sim, repo, skills={"qwen-2.5-coder-32b-instruct": 0.95})  # python's cheap model is as good as premium
    run = bench(sim, tmp_path, str(repo), "--positions", "24", "--yes", "--json")
    assert run.returncode == 0, run.stderr
    (tmp_path / "bench.json").write_text(run.stdout)
    result = json.loads(run.stdout)

    proposed = calibrate(tmp_path, "--from-bench", "bench.json", "--json")
    assert proposed.returncode == 0, proposed.stderr
    out = json.loads(proposed.stdout)
    (python,) = out["proposals"]
    assert python["language"] == "python" and python["positions"] == 24
    assert python["current"] == {"mid": 0.35, "premium": 0.7}
    assert python["changed"] and python["proposed"]["mid"] > 0.35  # more goes cheap
    mid, premium = python["proposed"]["mid"], python["proposed"]["premium"]
    cases = result["cases"]
    assert replayed(cases, 0.35, 0.7) == (python["before"]["exact"], python["before"]["cost_usd"])
    assert replayed(cases, mid, premium) == (python["after"]["exact"], python["after"]["cost_usd"])
    assert python["after"]["exact"] >= python["before"]["exact"]
    assert python["after"]["cost_usd"] < python["before"]["cost_usd"]
    qwen = [c["results"]["qwen2.5-coder-32b"]["exact"] for c in cases]
    assert out["pass_at_1"]["qwen2.5-coder-32b"] == {
        "default": round(sum(qwen) / len(qwen), 2),
        "python": round(sum(qwen) / len(qwen), 2),
    }
    assert out["applied"] is False
    assert "[routing.languages.python]" not in (tmp_path / "tierline.toml").read_text()  # nothing written yet

    applied = calibrate(tmp_path, "--from-bench", "bench.json", "--apply")
    assert applied.returncode == 0, applied.stderr
    assert f"wrote thresholds for python to {tmp_path / 'tierline.toml'}" in applied.stdout
    text = (tmp_path / "tierline.toml").read_text()
    assert f"thresholds = {{ mid = {mid:.2f}, premium = {premium:.2f} }}" in text
    # The measured pass@1 lands in each model's own [[models]] entry, and the config still loads.
    assert (
        f"wrote pass_at_1 for {', '.join(sorted(out['pass_at_1']))} to {tmp_path / 'tierline.toml'}" in applied.stdout
    )
    models = {m["name"]: m for m in tomllib.loads(text)["models"]}
    for name, rates in out["pass_at_1"].items():
        assert models[name]["pass_at_1"] == rates, name
    loaded = calibrate(tmp_path, "--from-bench", "bench.json", "--json")
    assert loaded.returncode == 0, loaded.stderr


def test_stratify_gives_each_tier_its_share_and_fills_from_the_pool():
    from tierline.bench.positions import Position, stratify

    def position(number: int, language: str) -> Position:
        return Position(f"f:{number}", "f", language, "next_line", "", "x", "")

    pool = [(position(n, "go" if n % 2 else "python"), "cheap") for n in range(100)]
    pool += [(position(100 + n, "python"), "mid") for n in range(20)]
    pool += [(position(200 + n, "c"), "premium") for n in range(5)]
    chosen = stratify(pool, 30, ("cheap", "mid", "premium"))
    tiers = [tier for _, tier in chosen]
    assert (tiers.count("cheap"), tiers.count("mid"), tiers.count("premium")) == (15, 10, 5)
    assert len({p.ident for p, _ in chosen}) == 30
    cheap_languages = [p.language for p, tier in chosen[:10]]
    assert cheap_languages.count("go") == cheap_languages.count("python") == 5  # languages in turn


def test_the_budget_stops_the_bench(sim, tmp_path):
    oracle(sim, FIXTURES)
    run = bench(
        sim, tmp_path, str(FIXTURES), "--positions", "20", "--yes", "--json", overrides={"budget": {"daily_usd": 0.01}}
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["stopped"] == "the budget is reached ([budget] in your config)"
    assert "daily budget" in run.stderr  # the server's own message, once
    paid = [row for row in ledger(tmp_path) if row["outcome"] != "skipped_budget"]
    assert 0 < sum(row["cost_usd"] for row in paid) <= 0.01
    assert len(sim.requests()) == len(paid) < 20 * 5


def test_tiers_asks_only_the_model_each_tier_would_pick(sim, tmp_path):
    oracle(sim, FIXTURES)
    run = bench(sim, tmp_path, str(FIXTURES), "--positions", "9", "--yes", "--json", "--tiers")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    picked = {name for case in result["cases"] for name in case["picks"].values()}
    assert set(result["by_model"]) == picked
    assert "claude-sonnet" not in picked  # the dearer mid model is never a tier's first choice
    assert len(sim.requests()) == sum(len(set(c["picks"].values())) for c in result["cases"])


def test_without_a_premium_model_the_headline_says_there_is_nothing_to_compare_with(sim, tmp_path):
    oracle(sim, FIXTURES)
    models = [m for m in sim_config(sim.base_url)["models"] if m["tier"] != "premium"]
    run = bench(sim, tmp_path, str(FIXTURES), "--positions", "4", "--yes", overrides={"models": models})
    assert run.returncode == 0, run.stderr
    assert "routed: nothing to compare with (no position has both a routed and a premium answer" in run.stdout


def snippets_in(request: dict[str, Any]) -> set[tuple[str, str]]:
    """(path, first line) of each cross-file snippet a request carried (chat blocks or FIM separators)."""
    prompt = str(request["prefix"]) + str(request["suffix"])
    blocks = re.findall(r'<snippet path="([^"]+)" line="\d+" source="\w+">\n([^\n]*)', prompt)
    separated = re.findall(r"<\|file_sep\|>([^\n]+)\n([^\n]*)", prompt)
    commented = re.findall(r"^# Path: ([^\n]+)\n# ([^\n]*)", prompt, re.M)
    return set(blocks) | set(separated[:-1]) | set(commented)  # the last separator heads the file itself


def file_of(request: dict[str, Any]) -> str:
    """The file a request completes: chat's "File: x." line, or FIM's last file separator."""
    named = re.search(r"File: (\S+)\.\n", str(request["prefix"]))
    separators = re.findall(r"<\|file_sep\|>([^\n]+)\n", str(request["prefix"]))
    return named.group(1) if named else separators[-1] if separators else ""  # "": FIM with no snippet


async def test_the_bench_prompt_carries_the_cross_file_context_the_server_sends(start_editor, simulator, tmp_path):
    from tests.helpers.context import GEOMETRY_PY, REPORT_CURSOR, REPORT_PY, indexed, write
    from tests.helpers.lsp import completion_requests

    write(tmp_path, "pkg/geometry.py", GEOMETRY_PY)
    write(tmp_path, "pkg/report.py", REPORT_PY + "    return sum(polygon_area(shape) for shape in shapes)\n")
    editor = await start_editor()
    uri = (tmp_path / "pkg" / "report.py").as_uri()
    editor.open(uri, REPORT_PY, "python")
    await indexed(editor)
    assert (await editor.complete(uri, *REPORT_CURSOR)).text
    (server_request,) = completion_requests(simulator)
    geometry = ("pkg/geometry.py", "def polygon_area(points):")
    assert snippets_in(server_request) == {geometry}

    # The bench on the same workspace with the same config (the editor's), as a user runs it.
    env = {**os.environ, "TIERLINE_CONFIG": str(tmp_path / "tierline-0.toml")}
    process = await asyncio.create_subprocess_exec(
        *tierline_command("bench", str(tmp_path), "--positions", "8", "--yes", "--json"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    cases = json.loads(out)["cases"]
    bench_requests = completion_requests(simulator)[1:]
    in_report = [r for r in bench_requests if file_of(r) == "report.py"]
    in_geometry = [r for r in bench_requests if r not in in_report]
    assert {c["position"].split(":")[0] for c in cases} == {"pkg/report.py", "pkg/geometry.py"}
    assert in_report and all(snippets_in(r) == {geometry} for r in in_report)
    assert in_geometry and all(file_of(r) in ("geometry.py", "") and not snippets_in(r) for r in in_geometry)


def test_without_a_key_it_says_which_models_are_left_out_and_calls_nothing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "OPENROUTER_API_KEY" and not k.startswith("TIERLINE_")}
    command = tierline_command("bench", str(FIXTURES / "python"), "--yes")
    run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 2
    assert "tierline bench: claude-opus is left out: $OPENROUTER_API_KEY is not set" in run.stderr
    assert run.stderr.rstrip().endswith("no configured model has its key set (tierline doctor says which)")
