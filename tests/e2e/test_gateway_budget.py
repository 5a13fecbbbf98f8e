"""The team's gateway as the budget authority (`[budget] store = "litellm"`), for a real editor: the
server over stdio, its models behind a gateway on 127.0.0.1.

The budget figures come from tests/helpers/gateway_stub.py (LiteLLM's own `/key/info` and `/team/info`
need its Postgres database; the stub returns the shapes LiteLLM's source builds, and the
budget_exceeded test shows the real proxy without a database answering them with an error, which
tierline takes as "unreadable"). The gateway's `budget_exceeded` refusal comes from LiteLLM's real proxy
(tests/e2e/test_litellm_proxy.py starts it), its key budget enforced through a custom auth hook: the
proxy's database-free budget settings do not refuse anything (`litellm_settings: max_budget` needs
the database for the proxy's spend, and the SDK's own `max_budget` counter did not count the
proxy's chat answers), and its Prisma client cannot be generated offline, so a Postgres on
loopback would not help.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.gateway_stub import GatewayState, gateway_stub, key_info, team_info
from tierline.accounting import gateway
from tierline.accounting.budget_store import to_nano
from tierline.commands.demo import LOADER_CURSOR, NESTED_PY

# One worker runs this module's tests (pytest-xdist `loadgroup`), so LiteLLM's proxy with a budget
# (`budget_proxy`, module-scoped: ~25 s of CPU to start) starts once, not once per worker that gets
# one of them.
pytestmark = pytest.mark.xdist_group("litellm-budget-proxy")

KEY = "sk-team-gateway-DO-NOT-LEAK-7c1e9a"
KEY_ENV = "TIERLINE_TEST_GATEWAY_KEY"
MAX_TOKENS = 128
CHEAP = {"input_per_mtok": 0.14, "output_per_mtok": 0.28}
PREMIUM = {"input_per_mtok": 5.0, "output_per_mtok": 25.0}


def models(base_url: str, *tiers: str) -> list[dict[str, Any]]:
    made = {
        "cheap": {"name": "deepseek-v4-flash", "tier": "cheap", "model": "deepseek/deepseek-v4-flash", **CHEAP},
        "premium": {"name": "claude-opus", "tier": "premium", "model": "anthropic/claude-opus-4.5", **PREMIUM},
    }
    return [{**made[tier], "base_url": base_url, "api_key_env": KEY_ENV} for tier in tiers]


def overrides(base_url: str, *tiers: str, daily_usd: float = 5.0, to: str = "cheap") -> dict[str, Any]:
    thresholds = {"cheap": {"mid": 1.0, "premium": 1.0}, "premium": {"mid": 0.0, "premium": 0.0}}[to]
    return {
        "routing": {"thresholds": thresholds},
        "budget": {"store": "litellm", "daily_usd": daily_usd, "monthly_usd": 0.0},
        "completion": {"max_tokens": MAX_TOKENS},
        "context": {"sources": []},
        "models": models(base_url, *tiers),
    }


def open_loader(editor: Any, tmp_path: Path, name: str = "loader.py") -> str:
    path = tmp_path / name
    path.write_text(NESTED_PY)
    editor.open(path.as_uri(), NESTED_PY, "python")
    return path.as_uri()


async def complete(editor: Any, uri: str) -> Any:
    return await editor.complete(uri, *LOADER_CURSOR)


@pytest.fixture
def gateway_state(simulator: Any) -> GatewayState:
    return GatewayState(key=KEY, upstream=simulator.base_url.removesuffix("/v1"))


def leaks(tmp_path: Path, editor: Any) -> list[str]:
    """Where the key shows up: messages, logs, anything the server wrote."""
    found = [m for m in editor.messages if KEY in m]
    for path in tmp_path.rglob("*"):
        if path.is_file() and KEY.encode() in path.read_bytes():
            found.append(str(path))
    return found


# -- doctor and stats show what is left ------------------------------------------------------------
async def test_stats_and_doctor_show_the_gateway_budget_left(start_editor, gateway_state, tmp_path):
    gateway_state.key_info = key_info(KEY, spend=2.5, max_budget=10.0, team_id="team-a")
    gateway_state.team_info = team_info("team-a", spend=40.0, max_budget=47.0)
    with gateway_stub(gateway_state) as root:
        editor = await start_editor(overrides(f"{root}/v1", "cheap"), env={KEY_ENV: KEY})
        uri = open_loader(editor, tmp_path)
        answered = await complete(editor, uri)
        assert answered.text
        stats = await editor.command("tierline.stats")
        config = tmp_path / "tierline-0.toml"
        doctor = subprocess.run(
            [sys.executable, "-m", "tierline", "doctor"],
            env={**os.environ, "TIERLINE_CONFIG": str(config), KEY_ENV: KEY},
            capture_output=True,
            text=True,
            timeout=60,
        )
    cost = stats["budget"]["spent_today_usd"]  # to the nano-dollar
    assert cost > 0
    assert stats["gateway_budget"] == {
        "url": root,
        "key": "dev-laptop",
        "team": "platform",
        "key_remaining_usd": 7.5,
        "team_remaining_usd": 7.0,
        "remaining_usd": 7.0,
        # What tierline spent since the read (the gateway may not have counted it yet) is taken off.
        "available_usd": round(7.0 - cost, 9),
        "checked_at": stats["gateway_budget"]["checked_at"],
        "capping": True,
        "error": None,
        "exhausted": False,
    }
    assert stats["budget"]["store"] == "litellm"
    assert (
        f"[ok  ] gateway budget: $7.000000 left at {root} (key dev-laptop: $7.500000, team platform: $7.000000)"
        in doctor.stdout.splitlines()
    )
    assert KEY not in doctor.stdout + doctor.stderr
    # The key went in the Authorization header only: never in a URL.
    assert gateway_state.reads[:2] == ["/key/info", "/team/info"]
    assert set(gateway_state.authorizations) == {f"Bearer {KEY}"}
    assert leaks(tmp_path, editor) == []


# -- refused or downshifted before the gateway would refuse --------------------------------------
async def test_a_call_the_gateway_budget_cannot_pay_is_not_sent(start_editor, gateway_state, simulator, tmp_path):
    # $0.0001 left: the cheap model's worst case (128 tokens out alone is $0.0000358, plus the prompt)
    # does not fit twice, and the local daily cap ($5) would let it through.
    gateway_state.key_info = key_info(KEY, spend=0.9999, max_budget=1.0)
    with gateway_stub(gateway_state) as root:
        editor = await start_editor(overrides(f"{root}/v1", "premium", to="premium"), env={KEY_ENV: KEY})
        uri = open_loader(editor, tmp_path)
        refused = await complete(editor, uri)
        again = await complete(editor, open_loader(editor, tmp_path, "other.py"))
        stats = await editor.command("tierline.stats")
    assert refused.text is None and again.text is None
    assert [a["outcome"] for a in refused.route["attempts"]] == ["skipped_budget"]
    assert refused.route["attempts"][0]["detail"].startswith(
        "the gateway's budget for dev-laptop had $0.000100 left at "
    )
    assert gateway_state.calls == [] and simulator.requests == []  # nothing reached the gateway
    told = [m for m in editor.messages if "gateway's budget" in m]
    assert len(told) == 1 and "completions through the gateway pause until its budget is raised" in told[0]
    assert stats["gateway_budget"]["remaining_usd"] == pytest.approx(0.0001)
    assert stats["model_calls"] == 0


async def test_a_premium_request_downshifts_to_the_cheap_model_the_gateway_budget_pays(
    start_editor, gateway_state, simulator, tmp_path
):
    # $0.001 left: the premium worst case (128 x $25/M = $0.0032 out) does not fit, the cheap one does.
    gateway_state.key_info = key_info(KEY, spend=0.999, max_budget=1.0)
    with gateway_stub(gateway_state) as root:
        editor = await start_editor(overrides(f"{root}/v1", "cheap", "premium", to="premium"), env={KEY_ENV: KEY})
        answered = await complete(editor, open_loader(editor, tmp_path))
    assert answered.text
    assert answered.route["tier"] == "cheap" and answered.route["downshifted"] == "premium"
    assert [(a["model"], a["outcome"]) for a in answered.route["attempts"]] == [
        ("claude-opus", "skipped_budget"),
        ("deepseek-v4-flash", "ok"),
    ]
    assert [r["model"] for r in simulator.requests] == ["deepseek/deepseek-v4-flash"]
    assert gateway_state.calls == ["/v1/chat/completions"]


# -- a gateway that cannot be read or believed ---------------------------------------------------
HOSTILE = {
    "not json": b"<html>502 Bad Gateway</html>",
    "a string budget": key_info(KEY, max_budget="lots"),
    "a negative spend": key_info(KEY, spend=-1000.0, max_budget=1.0),
    "NaN": b'{"key": "k", "info": {"key_alias": "x", "spend": NaN, "max_budget": 1.0}}',
    "a huge budget": b'{"key": "k", "info": {"key_alias": "x", "spend": 0, "max_budget": 1e400}}',
    "a list": b"[1, 2, 3]",
    "a boolean budget": key_info(KEY, max_budget=True),
    "a huge answer": b'{"info": {"key_alias": "' + b"x" * (300 * 1024) + b'"}}',
}


@pytest.mark.parametrize("answer", list(HOSTILE), ids=list(HOSTILE))
async def test_an_answer_that_makes_no_sense_falls_back_to_the_local_cap(
    start_editor, gateway_state, simulator, tmp_path, answer
):
    gateway_state.key_info = HOSTILE[answer]
    with gateway_stub(gateway_state) as root:
        editor = await start_editor(overrides(f"{root}/v1", "cheap"), env={KEY_ENV: KEY})
        first = await complete(editor, open_loader(editor, tmp_path))
        second = await complete(editor, open_loader(editor, tmp_path, "other.py"))
        stats = await editor.command("tierline.stats")
    # The local cap ($5 a day) holds: both answered, and the user was told once.
    assert first.text and second.text
    told = [m for m in editor.messages if "the gateway's budget could not be read" in m]
    assert len(told) == 1, editor.messages
    assert "the local caps ([budget] daily_usd, monthly_usd) hold until it can be" in told[0]
    assert stats["gateway_budget"]["capping"] is False and stats["gateway_budget"]["error"]
    assert stats["budget"]["daily_usd"] == 5.0
    assert leaks(tmp_path, editor) == []


async def test_a_gateway_that_stalls_is_given_up_on_and_the_local_cap_holds(start_editor, gateway_state, tmp_path):
    gateway_state.key_info = key_info(KEY, spend=0.0, max_budget=10.0)
    gateway_state.slow_s = gateway.TIMEOUT_S + 2
    with gateway_stub(gateway_state) as root:
        editor = await start_editor(overrides(f"{root}/v1", "cheap"), env={KEY_ENV: KEY})
        answered = await complete(editor, open_loader(editor, tmp_path))
        stats = await editor.command("tierline.stats")
    assert answered.text
    assert stats["gateway_budget"]["error"] == f"no answer within {gateway.TIMEOUT_S:.0f} s"
    assert len([m for m in editor.messages if "could not be read" in m]) == 1


async def test_no_local_cap_and_no_gateway_figure_sends_nothing(start_editor, gateway_state, simulator, tmp_path):
    gateway_state.key_info = key_info(KEY, max_budget="lots")
    with gateway_stub(gateway_state) as root:
        editor = await start_editor(overrides(f"{root}/v1", "cheap", daily_usd=0.0), env={KEY_ENV: KEY})
        refused = await complete(editor, open_loader(editor, tmp_path))
    assert refused.text is None
    assert refused.route["attempts"][0]["outcome"] == "skipped_budget"
    assert refused.route["attempts"][0]["detail"].startswith("the gateway's budget could not be read (")
    assert simulator.requests == [] and gateway_state.calls == []


# -- the parsing, alone ----------------------------------------------------------------------------
def test_the_tighter_of_key_and_team_wins_and_spend_past_the_budget_is_zero_left():
    assert gateway.parse_key_info(key_info(KEY, spend=3, max_budget=2), KEY) == (0.0, None, "dev-laptop")
    assert gateway.parse_key_info(key_info(KEY, max_budget=None), KEY)[0] is None  # no budget on the key
    # An alias that holds the key is not shown; the last four characters are.
    assert gateway.parse_key_info(key_info(KEY, alias=f"my {KEY}"), KEY)[2] == f"…{KEY[-4:]}"
    reading = gateway.Reading(5.0, 2.0, "k", "t", 0.0, 0)
    assert reading.remaining == 2.0
    assert gateway.Reading(None, None, "k", None, 0.0, 0).remaining is None
    for bad in (float("nan"), float("inf"), -1.0, 1e10, "1", True, [1]):
        with pytest.raises(gateway.GatewayProblem):
            gateway.money(bad, "x")


def test_the_budget_store_is_the_users_choice_only(tmp_path):
    """`store = "litellm"` says whose budget the spend counts against: a workspace cannot set it."""
    from tierline.config.tighten import tighten

    tightened = tighten({"budget": {"store": "local"}}, {"budget": {"store": "litellm"}})
    assert tightened.data == {} and tightened.ignored == ["budget.store"]


# -- LiteLLM's real proxy ------------------------------------------------------------------------
BUDGET_AUTH = """
from litellm.proxy._types import UserAPIKeyAuth

async def user_api_key_auth(request, api_key):
    # A virtual key as the proxy's database would hold it: $0.01 budget, $0.02 spent.
    if api_key == "{key}":
        return UserAPIKeyAuth(api_key=api_key, token="hashed-team-key", key_alias="dev-laptop",
                              max_budget=0.01, spend=0.02)
    raise Exception("unknown key")
"""

PROXY_CONFIG = """
model_list:
  - model_name: deepseek/deepseek-v4-flash
    litellm_params:
      model: openai/gpt-4o-mini
      api_key: not-used
      mock_response: "return x\\n"
  - model_name: anthropic/claude-opus-4.5
    litellm_params:
      model: openai/gpt-4o
      api_key: not-used
      mock_response: "return x\\n"
general_settings:
  master_key: sk-master-not-used-by-tierline
  custom_auth: budget_auth.user_api_key_auth
  custom_auth_run_common_checks: true
litellm_settings:
  telemetry: false
  num_retries: 0
"""


@pytest.fixture(scope="module")
def budget_proxy(tmp_path_factory: pytest.TempPathFactory):
    from tests.helpers.litellm import LITELLM, start_proxy

    if not LITELLM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{LITELLM} is missing: tests/run-all.sh installs litellm[proxy] there")
        pytest.skip("LiteLLM's proxy is not installed (bash tests/run-all.sh installs it in .litellm/venv)")
    directory = tmp_path_factory.mktemp("litellm-budget")
    (directory / "budget_auth.py").write_text(BUDGET_AUTH.replace("{key}", KEY))
    with start_proxy(directory, PROXY_CONFIG) as base:
        yield base


def spent_key_refused(base: str) -> dict[str, Any]:
    """The proxy's answer to the spent key. Its budget check reads a spend counter the proxy seeds
    as calls settle, so the first call or two may still pass: asked until it refuses (at most 10)."""
    for _ in range(10):
        response = httpx.post(
            f"{base}/v1/chat/completions",
            headers={"Authorization": f"Bearer {KEY}"},
            json={"model": "deepseek/deepseek-v4-flash", "messages": [{"role": "user", "content": "hi"}]},
            timeout=30,
        )
        if response.status_code != 200:
            return {"status": response.status_code, **response.json()}
    pytest.fail("LiteLLM's proxy never refused the spent key")


async def test_the_gateways_budget_exceeded_is_a_budget_refusal_not_a_failure(start_editor, budget_proxy, tmp_path):
    refusal = spent_key_refused(budget_proxy)
    assert refusal["status"] == 422 and refusal["error"]["type"] == "budget_exceeded"  # LiteLLM's shape
    # store = "litellm": the real proxy cannot answer /key/info without its database, so the local
    # cap ($5) holds, said once; the gateway's own refusal is still the budget's.
    editor = await start_editor(overrides(f"{budget_proxy}/v1", "cheap", "premium", to="cheap"), env={KEY_ENV: KEY})
    first = await complete(editor, open_loader(editor, tmp_path))
    second = await complete(editor, open_loader(editor, tmp_path, "other.py"))
    stats = await editor.command("tierline.stats")
    assert first.text is None and second.text is None
    attempts = first.route["attempts"]
    # The cheap call reached the gateway and was refused for the budget; the premium model (the
    # fallback walk goes up a tier when a model fails) goes through the same key: not called.
    assert [(a["model"], a["outcome"]) for a in attempts] == [
        ("deepseek-v4-flash", "skipped_budget"),
        ("claude-opus", "skipped_budget"),
    ]
    assert attempts[0]["detail"].startswith("HTTP 422: Budget has been exceeded! Key=")
    assert attempts[1]["detail"].startswith("the gateway refused a call for its budget (HTTP 422")
    # The next request calls nothing: the key's budget is spent (a dearer model is not tried either).
    assert [(a["model"], a["outcome"]) for a in second.route["attempts"]] == [("deepseek-v4-flash", "skipped_budget")]
    assert second.route["attempts"][0]["detail"].startswith("the gateway refused a call for its budget")
    told = [m for m in editor.messages if "the gateway refused the call for its budget" in m]
    assert len(told) == 1
    assert "completions through the gateway pause until its budget is raised" in told[0]
    unreadable = [m for m in editor.messages if "the gateway's budget could not be read" in m]
    assert len(unreadable) == 1 and "HTTP 500" in unreadable[0]
    # Not a provider failure: no model set aside or counted as failing.
    assert all(row.get("failures", 0) == 0 for row in stats["by_model"].values()), stats["by_model"]
    assert not any("set aside" in m for m in editor.messages)
    assert stats["gateway_budget"]["exhausted"] is True
    assert leaks(tmp_path, editor) == []
    assert json.dumps(stats).count(KEY) == 0


# -- both editors show it --------------------------------------------------------------------------
async def test_neovim_statusline_and_stats_window_show_the_gateway_budget(
    start_editor, gateway_state, simulator, tmp_path
):
    from tests.helpers.nvim_headless import run_lua

    gateway_state.key_info = key_info(KEY, spend=2.5, max_budget=10.0, team_id="team-a")
    gateway_state.team_info = team_info("team-a", spend=40.0, max_budget=47.0)
    answers = []
    with gateway_stub(gateway_state) as root:
        editor = await start_editor(overrides(f"{root}/v1", "cheap"), env={KEY_ENV: KEY})
        answers.append(await editor.command("tierline.stats"))  # not read before the first request
        await complete(editor, open_loader(editor, tmp_path))
        answers.append(await editor.command("tierline.stats"))
    plain = await start_editor({"models": models(simulator.base_url, "cheap")}, env={KEY_ENV: KEY})
    answers.append(await plain.command("tierline.stats"))  # store = "local": gateway_budget is null
    (tmp_path / "stats.json").write_text(json.dumps(answers))
    output = run_lua(
        Path(__file__).parent / "gateway_status_render.lua",
        tmp_path,
        TIERLINE_GATEWAY_STATS=str(tmp_path / "stats.json"),
    )
    lines = output.splitlines()
    assert "stats 1: Gateway not read yet: the local caps hold" in lines
    left = answers[1]["gateway_budget"]["available_usd"]
    assert left < 7.0
    assert any(line.startswith("statusline 2: ") and line.endswith(" gateway $7.00 left") for line in lines), output
    checked = answers[1]["gateway_budget"]["checked_at"]
    assert f"stats 2: Gateway $7.00 left (key dev-laptop $7.50, team platform $7.00)   read {checked}" in lines
    assert not any(line.startswith("stats 3:") for line in lines)
    assert not any("gateway" in line for line in lines if line.startswith("statusline 3:"))


async def test_concurrent_requests_never_spend_past_the_gateway_budget(
    start_editor, gateway_state, simulator, tmp_path
):
    """Twenty requests at once against a budget of 3.5 worst cases: every call in flight holds its
    worst case against the gateway's figure, so what is spent stays within it, to the nano-dollar."""
    from tests.helpers.budget import CURSOR, ledger_rows, open_document, worst_case

    gateway_state.key_info = key_info(KEY, max_budget=100.0)
    with gateway_stub(gateway_state) as root:
        probe = await start_editor(overrides(f"{root}/v1", "cheap"), env={KEY_ENV: KEY})
        worst = await worst_case(probe, tmp_path)
        budget = round(3.5 * worst, 9)
        gateway_state.key_info = key_info(KEY, spend=0.0, max_budget=budget)
        editor = await start_editor(overrides(f"{root}/v1", "cheap"), env={KEY_ENV: KEY})
        simulator.set_behaviour(latency_ms=200)  # calls overlap: many are in flight at once
        uris = [open_document(editor, tmp_path, i) for i in range(20)]
        results = await asyncio.gather(*(editor.complete(uri, *CURSOR) for uri in uris))
    rows = ledger_rows(tmp_path)
    paid = [r for r in rows if r[4] == "ok"]
    answered = sum(1 for r in results if r.text)
    assert answered == len(paid) == len(gateway_state.calls) >= 3
    assert sum(to_nano(r[3]) for r in rows) <= to_nano(budget)
    assert any(r[4] == "skipped_budget" for r in rows)


# -- the gateway's answers, classified -------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "body"),
    [
        # LiteLLM 1.106's proxy, as tests/e2e/test_gateway_budget.py sees it from the real one.
        (
            422,
            {
                "error": {
                    "message": "Budget has been exceeded! Key=x Current cost: 0.02, Max budget: 0.01",
                    "type": "budget_exceeded",
                    "param": None,
                    "code": "422",
                }
            },
        ),
        # Older releases (and `litellm.budget_exceeded_status_code = 429`).
        (
            429,
            {
                "error": {
                    "message": "Budget has been exceeded! Current cost: 1.2, Max budget: 1.0",
                    "type": "budget_exceeded",
                    "param": None,
                    "code": "429",
                }
            },
        ),
        (
            400,
            {
                "error": {
                    "message": "ExceededBudget: Key over 1h budget. Spend=$0.0100, Limit=$0.01",
                    "type": "budget_exceeded",
                    "param": None,
                    "code": "400",
                }
            },
        ),
        (400, {"error": {"message": "ExceededBudget: User=u over budget. Spend=2.0, Budget=1.0", "code": "400"}}),
    ],
)
def test_the_gateways_budget_refusals_are_budget_exceeded(status, body):
    from tierline.providers.base import BudgetExceeded
    from tierline.providers.errors import error_from_status

    error = error_from_status(status, json.dumps(body).encode(), None, (KEY,))
    assert isinstance(error, BudgetExceeded) and error.outcome == "skipped_budget"


def test_other_refusals_are_not_budget_refusals():
    from tierline.providers.base import BudgetExceeded, RateLimited, ServerError
    from tierline.providers.errors import error_from_status

    limited = error_from_status(429, b'{"error": {"message": "Rate limit reached", "type": "rate_limit"}}', "2")
    assert isinstance(limited, RateLimited)
    # A 500 that mentions a budget is the server's failure, not a spent budget.
    failed = error_from_status(500, b'{"error": {"message": "budget_exceeded handler crashed"}}', None)
    assert isinstance(failed, ServerError) and not isinstance(failed, BudgetExceeded)


# -- the arithmetic, alone -------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 1_796_300_000.0  # 2026-12-03

    def __call__(self) -> float:
        return self.now


def gateway_budget(tmp_path: Path, clock: Clock, daily_usd: float = 0.0) -> Any:
    from tierline.accounting.budget import Budget, Hooks
    from tierline.config import BudgetConfig

    config = BudgetConfig(daily_usd=daily_usd, store="litellm")
    account = gateway.Account("http://127.0.0.1:9", KEY_ENV)
    budget = Budget(
        config, tmp_path, Hooks(lambda level, text: None, lambda what, error: None, clock), gateway=(account, KEY)
    )
    return budget


def model_via(base: str) -> Any:
    from tierline.config import ModelSpec

    return ModelSpec("m", "cheap", f"{base}/v1", "m", api_key_env=KEY_ENV)


def test_what_tierline_spent_since_the_read_and_holds_counts_against_it_until_the_next_read(tmp_path):
    from tierline.accounting.budget_store import Hold, Refusal

    clock = Clock()
    budget = gateway_budget(tmp_path, clock)
    model = model_via("http://127.0.0.1:9")
    budget.gateway.last = gateway.Reading(1.0, None, "k", None, clock.now, budget._gateway_base())
    first = budget.reserve(0.6, model)
    assert isinstance(first, Hold)
    held = budget.reserve(0.6, model)  # the first call still holds 0.6 of the 1.0
    assert isinstance(held, Refusal) and held.cap == "gateway" and held.held
    budget.settle(first, 0.5)
    assert isinstance(budget.reserve(0.6, model), Refusal)  # 0.5 spent since the read: 0.5 left
    assert isinstance(budget.reserve(0.4, model), Hold)
    # A new read (the gateway now knows the 0.5): tierline's spend of the last 15 s still counts,
    # the gateway may not have written it yet; after that, only the gateway's figure.
    clock.now += 1
    budget.gateway.last = gateway.Reading(0.5, None, "k", None, clock.now, budget._gateway_base())
    assert isinstance(budget.reserve(0.09, model), Refusal)  # 0.5 - 0.5 (recent) - 0.4 (held)
    clock.now += gateway.GATEWAY_LAG_S + 1
    budget.gateway.last = gateway.Reading(0.5, None, "k", None, clock.now, budget._gateway_base())
    assert isinstance(budget.reserve(0.09, model), Hold)  # 0.5 - 0.4 (held)
    # A model behind another gateway or key is not capped by this one.
    assert isinstance(budget.reserve(5.0, model_via("http://127.0.0.1:10")), Hold)


def test_a_reading_stops_capping_when_stale_or_last_month_and_exhaustion_ends(tmp_path):
    from tierline.accounting.budget_store import Hold, Refusal

    clock = Clock()
    budget = gateway_budget(tmp_path, clock, daily_usd=2.0)
    model = model_via("http://127.0.0.1:9")
    budget.gateway.last = gateway.Reading(0.1, None, "k", None, clock.now, 0)
    assert isinstance(budget.reserve(0.5, model), Refusal)
    clock.now += gateway.STALE_S + 1  # stale: the local cap ($2) holds
    assert isinstance(budget.reserve(0.5, model), Hold)
    budget.gateway.last = gateway.Reading(0.1, None, "k", None, clock.now - 40 * 86400, 0)
    assert budget.gateway.reading() is None  # last month's figure
    budget.gateway.last = None
    budget.gateway_refused(model, "HTTP 422: Budget has been exceeded!")
    refused = budget.reserve(0.01, model)
    assert isinstance(refused, Refusal) and refused.detail.startswith("the gateway refused a call for its budget")
    clock.now += gateway.EXHAUSTED_S + 1
    assert isinstance(budget.reserve(0.01, model), Hold)
