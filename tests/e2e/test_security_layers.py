"""Monotone layers (issue 17): an untrusted workspace `.tierline.toml` and the editor's LSP settings
may only make tierline safer or cheaper. They never raise a cap, shorten the user's exclusions,
lower the thresholds, widen the window, choose the models or say whose spend it is; the notice
names every key ignored or clamped; a config that would overflow the parser is refused, and
`initialize` is answered."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.config import user_env
from tests.helpers.lsp import SIMPLE_CURSOR, completion_requests, open_doc
from tierline.commands.demo import SIMPLE_PY
from tierline.config import ConfigError, ConfigLayers, load_layers
from tierline.config.toml_writer import toml_text

USER = {
    "budget": {"daily_usd": 2.0, "user_daily_usd": 1.0},
    "privacy": {"exclude": ["notes/"]},
    "completion": {"languages": ["python", "go"]},
}

# Everything issue 17 saw a cloned repository do through keys it was allowed to set.
HOSTILE = {
    "budget": {"daily_usd": 100_000, "user_daily_usd": 0, "user": "colleague", "store": "redis://evil:6379/0"},
    "privacy": {"exclude": [], "redact": False},
    "routing": {
        "thresholds": {"mid": 0.0, "premium": 0.0},
        "languages": {"python": {"thresholds": {"mid": 0.0, "premium": 0.0}}},
        "auto_calibrate": True,
    },
    "completion": {"max_tokens": 100_000, "prefix_chars": 1_000_000, "languages": ["rust"], "debounce_ms": 0},
    "cache": {"ttl_seconds": 0, "dir": "/tmp/elsewhere", "size_limit_mb": 65_536},
    "ledger": {"dir": "/tmp/elsewhere"},
    "models": [{"name": "repo-model", "tier": "cheap", "base_url": "http://127.0.0.1:9/v1", "model": "x"}],
}

EVERY_KEY = (
    "budget.daily_usd",
    "budget.user_daily_usd",
    "budget.user",
    "budget.store",
    "privacy.redact",
    "routing.thresholds.mid",
    "routing.thresholds.premium",
    "routing.languages.python.thresholds.mid",
    "routing.auto_calibrate",
    "completion.max_tokens",
    "completion.prefix_chars",
    "completion.languages",
    "cache.ttl_seconds",
    "cache.dir",
    "cache.size_limit_mb",
    "ledger.dir",
    "models",
)


def assert_untouched(config) -> None:
    assert config.budget.daily_usd == 2.0 and config.budget.user_daily_usd == 1.0
    assert config.budget.user == "" and config.budget.store == "local"
    assert config.privacy.exclude == ("notes/",) and config.privacy.redact is True
    assert (config.routing.thresholds.mid, config.routing.thresholds.premium) == (0.35, 0.70)
    assert config.routing.thresholds_for("python").mid == 0.35 and config.routing.auto_calibrate is False
    assert (config.completion.max_tokens, config.completion.prefix_chars) == (128, 3000)
    assert config.completion.languages == ("python", "go")
    assert config.cache.ttl_seconds == 300 and config.cache.size_limit_mb == 256
    assert "elsewhere" not in str(config.cache.dir) + str(config.ledger.dir)
    assert "repo-model" not in [m.name for m in config.models]


@pytest.mark.parametrize("layer", ["workspace", "editor"])
def test_a_layer_the_user_did_not_write_cannot_loosen_anything(tmp_path: Path, layer: str):
    env = user_env(tmp_path, USER)
    if layer == "workspace":
        (tmp_path / ".tierline.toml").write_text(toml_text(HOSTILE))
        layers = load_layers(tmp_path, env)
    else:
        layers = load_layers(None, env)
        layers.lsp_settings = HOSTILE
    config = layers.build()

    assert_untouched(config)
    (notice,) = config.notices
    for key in EVERY_KEY:
        assert key in notice, key
    assert "colleague" not in notice and "evil" not in notice  # names keys, never echoes text values
    assert ("tierline trust" if layer == "workspace" else "your own config file") in notice


def test_such_a_layer_may_tighten_and_its_exclusions_are_added(tmp_path: Path):
    env = user_env(tmp_path, USER)
    tighter = {
        "budget": {"daily_usd": 0.5, "monthly_usd": 10.0, "downshift": False},
        "privacy": {"exclude": ["*.sql"]},
        "routing": {"thresholds": {"mid": 0.5, "premium": 0.9}},
        "completion": {"max_tokens": 64, "prefix_chars": 1000, "languages": ["go"], "trigger": "manual"},
        "cache": {"ttl_seconds": 3600},
    }
    (tmp_path / ".tierline.toml").write_text(toml_text(tighter))
    layers = load_layers(tmp_path, env)
    layers.lsp_settings = {"privacy": {"exclude": ["drafts/"]}, "budget": {"daily_usd": 0.25}}
    config = layers.build()

    assert (config.budget.daily_usd, config.budget.monthly_usd, config.budget.downshift) == (0.25, 10.0, False)
    assert config.privacy.exclude == ("notes/", "*.sql", "drafts/")
    assert (config.routing.thresholds.mid, config.routing.thresholds.premium) == (0.5, 0.9)
    assert (config.completion.max_tokens, config.completion.prefix_chars) == (64, 1000)
    assert config.completion.languages == ("go",) and config.completion.trigger == "manual"
    assert config.cache.ttl_seconds == 3600
    assert config.notices == ()


def test_a_trusted_workspace_file_counts_as_the_users(tmp_path: Path):
    from tierline.config.trust import TrustStore

    env = user_env(tmp_path, USER)
    (tmp_path / ".tierline.toml").write_text(toml_text({"budget": {"daily_usd": 7.0}}))
    TrustStore(env=env).trust(tmp_path)
    config = load_layers(tmp_path, env).build()
    assert config.budget.daily_usd == 7.0 and config.notices == ()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("completion.max_tokens", 100_000),
        ("completion.prefix_chars", 1_000_000),
        ("completion.debounce_ms", 86_400_000),
        ("cache.ttl_seconds", 10**12),
        ("budget.daily_usd", 10**9),
        ("routing.latency_budget_ms", 10**9),
    ],
)
def test_every_number_has_an_upper_bound(tmp_path: Path, key: str, value: int):
    section, name = key.split(".")
    env = user_env(tmp_path, {section: {name: value}})
    with pytest.raises(ConfigError) as refused:
        load_layers(None, env).build()
    assert refused.value.key == key and ("at most" in refused.value.problem or "between" in refused.value.problem)


# A hang is the failure this guards against: tomllib alone takes most of an hour over the dotted
# line of a megabyte (its time grows with the square of a key's parts), refused at once now.
@pytest.mark.timeout(120)
def test_a_config_nested_past_the_limit_is_refused_not_a_crash(tmp_path: Path):
    megabyte_of_dots = "a" + ".a" * 500_000 + " = 1"
    quoted_dots = '"a"' + '."a"' * 200_000 + " = 1"
    for text in ("a = " + "[" * 20_000 + "]" * 20_000, megabyte_of_dots, quoted_dots, "[a" + ".a" * 500_000 + "]"):
        (tmp_path / "user.toml").write_text(text)
        with pytest.raises(ConfigError) as refused:
            load_layers(None, {"TIERLINE_CONFIG": str(tmp_path / "user.toml")})
        assert "nested deeper than" in refused.value.problem
    deep: dict = {}
    node = deep
    for _ in range(5_000):
        node["a"] = {}
        node = node["a"]
    layers = ConfigLayers()
    with pytest.raises(ConfigError):
        from tierline.config import strip_editor_keys

        layers.lsp_settings = strip_editor_keys({"privacy": deep})


# -- end to end: the real server ------------------------------------------------------------------


async def test_a_cloned_repository_cannot_raise_the_cap_or_drop_the_users_exclusions(start_editor, simulator, tmp_path):
    (tmp_path / ".tierline.toml").write_text(
        toml_text({"privacy": {"exclude": []}, "routing": {"thresholds": {"mid": 0.0, "premium": 0.0}}})
    )
    editor = await start_editor({"privacy": {"exclude": ["notes/"]}})
    secret_notes = open_doc(editor, tmp_path, "notes/draft.py", SIMPLE_PY)
    code = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)

    excluded = await editor.complete(secret_notes, *SIMPLE_CURSOR)
    routed = await editor.complete(code, *SIMPLE_CURSOR)

    assert excluded.route["excluded"] is True and excluded.text is None
    assert routed.route["tier"] == "cheap"  # thresholds of 0 would have sent it to premium
    assert len(completion_requests(simulator)) == 1
    (notice,) = [m for m in editor.messages if "not trusted" in m]
    assert "routing.thresholds.mid 0.0 -> 0.35" in notice and "tierline trust" in notice


async def test_the_editors_settings_cannot_choose_models_or_whose_spend_it_is(start_editor, simulator, tmp_path):
    repo_model = {"name": "repo-model", "tier": "cheap", "base_url": simulator.base_url, "model": "repo-x"}
    editor = await start_editor(
        {"privacy": {"exclude": ["notes/"]}},
        initialization_options={"tierline": {"models": [repo_model], "budget": {"user": "colleague"}}},
    )
    code = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)
    first = await editor.complete(code, *SIMPLE_CURSOR)
    editor.settings({"privacy": {"exclude": []}})
    notes = open_doc(editor, tmp_path, "notes/draft.py", SIMPLE_PY)
    later = await editor.complete(notes, *SIMPLE_CURSOR)

    assert first.route["model"] != "repo-model" and "repo-x" not in [r["model"] for r in simulator.requests]
    assert later.route["excluded"] is True  # `exclude = []` added nothing and removed nothing
    (notice,) = [m for m in editor.messages if "editor's settings" in m]
    assert "models" in notice and "budget.user" in notice and "colleague" not in notice
    stats = await editor.command("tierline.stats")
    assert "colleague" not in str(stats)


async def test_initialize_is_answered_when_the_workspace_file_is_20000_deep(start_editor, tmp_path):
    (tmp_path / ".tierline.toml").write_text("a = " + "[" * 20_000 + "]" * 20_000)
    editor = await start_editor()
    uri = open_doc(editor, tmp_path, "utils.py", SIMPLE_PY)
    completion = await editor.complete(uri, *SIMPLE_CURSOR)

    assert completion.text is None and "refused" in completion.route["reason"]
    assert any(".tierline.toml" in m and "nested deeper than" in m for m in editor.messages)
