"""tierline against a gateway nobody here wrote: LiteLLM's proxy (`litellm[proxy]`, in its own venv
at `.litellm/venv`, installed by tests/run-all.sh), started on 127.0.0.1 with `mock_response`
models: chat, FIM, a rate limit, and a model it does not know. No network."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.litellm import LITELLM, start_proxy
from tests.helpers.providers import ANSWER, SECRET, Harness

# One worker runs this module's tests (pytest-xdist `loadgroup`), so LiteLLM's proxy (`litellm_proxy`,
# module-scoped: ~25 s of CPU to start) starts once, not once per worker that gets one of them.
pytestmark = pytest.mark.xdist_group("litellm-proxy")

MASTER_KEY = SECRET  # the proxy's key is the test's secret: it must never show up anywhere

CONFIG = f"""
model_list:
  - model_name: mock-chat
    litellm_params:
      model: openai/mock-chat
      api_key: not-used
      mock_response: "{ANSWER}\\n"
  - model_name: mock-fim
    litellm_params:
      model: text-completion-openai/mock-fim
      api_key: not-used
      mock_response: "{ANSWER}\\n"
  - model_name: mock-limited
    litellm_params:
      model: openai/mock-limited
      api_key: not-used
      mock_response: "litellm.RateLimitError"
general_settings:
  master_key: {MASTER_KEY}
litellm_settings:
  telemetry: false
  num_retries: 0
"""


@pytest.fixture(scope="module")
def litellm_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The proxy's base URL; stopped (by its process id) after the module."""
    if not LITELLM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{LITELLM} is missing: tests/run-all.sh installs litellm[proxy] there")
        pytest.skip("LiteLLM's proxy is not installed (bash tests/run-all.sh installs it in .litellm/venv)")
    with start_proxy(tmp_path_factory.mktemp("litellm"), CONFIG) as base:
        yield f"{base}/v1"


def gateway_model(base_url: str, name: str, model_id: str, **keys: Any) -> dict[str, Any]:
    return {
        "name": name,
        "tier": "cheap",
        "base_url": base_url,
        "model": model_id,
        "api_key_env": "TEST_KEY",
        "input_per_mtok": 1.0,
        "output_per_mtok": 2.0,
        **keys,
    }


def calls_to(h: Harness, name: str) -> int:
    return sum(1 for c in h.charges if c.model == name and not c.cached)


@pytest.mark.asyncio
async def test_chat_through_litellm(litellm_proxy: str, harness: Any) -> None:
    h = harness(gateway_model(litellm_proxy, "chat", "mock-chat"))
    routed = await h.keystroke()
    assert routed.text == ANSWER
    (charge,) = h.charges
    # LiteLLM reports the usage it counted (5 tokens; tierline's own estimate would be 7): the row is
    # priced from it. A streamed answer carries no response-cost header, so the cost is "usage".
    assert (charge.tokens_out, charge.cost_source) == (5, "usage")
    assert charge.cost_usd == pytest.approx((charge.tokens_in * 1.0 + charge.tokens_out * 2.0) / 1e6, abs=1e-12)


@pytest.mark.asyncio
async def test_fim_through_litellm(litellm_proxy: str, harness: Any) -> None:
    h = harness(gateway_model(litellm_proxy, "fim", "mock-fim", api="fim"))
    routed = await h.keystroke()
    assert routed.text == ANSWER
    assert routed.route is not None and routed.route["model"] == "fim"


@pytest.mark.asyncio
async def test_rate_limit_through_litellm_is_not_called_on_every_keystroke(litellm_proxy: str, harness: Any) -> None:
    h = harness(gateway_model(litellm_proxy, "limited", "mock-limited"))
    first = await h.keystroke()
    assert first.route is not None and first.route["attempts"][0]["outcome"] == "rate_limited"
    for _ in range(15):
        assert (await h.keystroke()).text is None
    assert calls_to(h, "limited") == 1
    assert h.messages == []


@pytest.mark.asyncio
async def test_unknown_model_through_litellm_costs_one_call_and_one_message(litellm_proxy: str, harness: Any) -> None:
    h = harness(gateway_model(litellm_proxy, "typo", "mock-chta"), gateway_model(litellm_proxy, "chat", "mock-chat"))
    routed = await h.keystroke()
    assert routed.text == ANSWER
    assert routed.route is not None
    rejected = routed.route["attempts"][0]
    assert rejected["outcome"] == "rejected" and "Invalid model name" in rejected["detail"]
    for _ in range(10):
        assert (await h.keystroke()).text == ANSWER
    assert calls_to(h, "typo") == 1
    (message,) = h.messages
    assert "'typo' is set aside" in message[1] and "Invalid model name" in message[1]
    assert SECRET not in repr(h.messages) + repr(routed.route)


def test_bench_through_litellm(litellm_proxy: str, tmp_path: Path) -> None:
    """`tierline bench --suite` against the proxy's mock models: the mock's answer is right where the
    suite expects it and wrong elsewhere, for every model; each call a bench row priced from LiteLLM's usage."""
    import json
    import sqlite3
    import sys

    from tierline.devtools.simulator import write_toml

    models = [
        gateway_model(litellm_proxy, "gw-cheap", "mock-chat"),
        gateway_model(litellm_proxy, "gw-mid", "mock-fim", api="fim", tier="mid"),
        gateway_model(
            litellm_proxy, "gw-premium", "mock-chat", tier="premium", input_per_mtok=5.0, output_per_mtok=25.0
        ),
    ]
    write_toml({"models": models, "ledger": {"dir": str(tmp_path / "state")}}, tmp_path / "tierline.toml")
    cases = [
        {"prefix": "def total_of(values):\n    ", "expected": ANSWER, "suffix": "\n", "language": "python"},
        {
            "prefix": "def mean_of(values):\n    ",
            "expected": "return sum(values) / len(values)",
            "suffix": "\n",
            "language": "python",
        },
    ]
    (tmp_path / "suite.jsonl").write_text("".join(json.dumps(case) + "\n" for case in cases))
    env = {**os.environ, "TIERLINE_CONFIG": str(tmp_path / "tierline.toml"), "TEST_KEY": MASTER_KEY}
    run = subprocess.run(
        [sys.executable, "-m", "tierline", "bench", "--suite", str(tmp_path / "suite.jsonl"), "--yes", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert {name: row["exact"] for name, row in result["by_model"].items()} == {
        "gw-cheap": 0.5,
        "gw-mid": 0.5,
        "gw-premium": 0.5,
    }
    assert result["quality_retained"] == 1.0
    db = sqlite3.connect(tmp_path / "state" / "ledger.sqlite3")
    rows = db.execute("SELECT model, tokens_in, tokens_out, cost_usd, bench, outcome FROM calls").fetchall()
    db.close()
    assert len(rows) == 6 and all(bench == 1 and outcome == "ok" for *_, bench, outcome in rows)
    prices = {"gw-cheap": (1.0, 2.0), "gw-mid": (1.0, 2.0), "gw-premium": (5.0, 25.0)}
    for model, tokens_in, tokens_out, cost, _, _ in rows:
        p_in, p_out = prices[model]
        assert cost == pytest.approx((tokens_in * p_in + tokens_out * p_out) / 1e6, abs=1e-12)
    assert result["all_premium"]["cost_usd"] == round(sum(r[3] for r in rows if r[0] == "gw-premium"), 8)
    assert MASTER_KEY not in run.stdout + run.stderr
