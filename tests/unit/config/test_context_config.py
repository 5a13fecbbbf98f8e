"""`[context]` in the config layers: a layer the user did not write may only send less context."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.config import user_env
from tierline.config import load_layers
from tierline.config.toml_writer import toml_text

USER = {"context": {"sources": ["definitions", "neighbours"], "max_tokens": {"cheap": 1000, "mid": 500}}}


def test_an_untrusted_layer_may_only_lower_the_budgets_and_drop_sources(tmp_path: Path):
    env = user_env(tmp_path, USER)
    hostile = {"context": {"sources": ["recent_edits", "definitions"], "max_tokens": {"cheap": 8000, "mid": 100}}}
    (tmp_path / ".tierline.toml").write_text(toml_text(hostile))

    config = load_layers(tmp_path, env).build()

    assert config.context.sources == ("definitions",)  # recent_edits is not among the user's
    assert dict(config.context.max_tokens) == {"cheap": 1000, "mid": 100, "premium": 1024}
    (notice,) = config.notices
    assert "context.max_tokens.cheap 8000 -> 1000" in notice and "context.sources" in notice


def test_the_editor_may_turn_context_off(tmp_path: Path):
    layers = load_layers(None, user_env(tmp_path, USER))
    layers.lsp_settings = {"context": {"sources": []}}

    config = layers.build()

    assert config.context.sources == () and config.context.budget("cheap") == 0
    assert config.notices == ()
