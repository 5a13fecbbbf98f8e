"""Pure modules: post-processing, documents and encodings, config, cache keys, ledger."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierline.accounting.cache import cache_key
from tierline.accounting.ledger import CallRow, Ledger, utc_day
from tierline.analysis import languages
from tierline.analysis.documents import Document
from tierline.completion.postprocess import clean, first_line_complete, invalid_reason
from tierline.completion.session import ShownCompletion, typed_through
from tierline.config import (
    DEFAULTS,
    ConfigError,
    ConfigLayers,
    deep_merge,
    load_config,
    parse_config,
    strip_editor_keys,
)
from tierline.prompt.window import PromptWindow, cut_window


def window(prefix: str, suffix: str = "", language: str = "python") -> PromptWindow:
    return PromptWindow(language=language, filename="f.py", prefix=prefix, suffix=suffix)


# -- post-processing ----------------------------------------------------------------------------


def test_fences_and_prose_are_stripped():
    raw = "Here is the completion:\n```python\nreturn a + b\n```\nThis adds the numbers."
    assert clean(raw, window("def add(a, b):\n    "), single_line=False) == "return a + b"


def test_text_already_after_the_cursor_is_not_repeated():
    w = window("total = compute(", ")\nprint(total)\n")
    assert clean("a, b)", w, single_line=True) == "a, b"
    w = window("def f():\n    ", "\nprint(total)\n")
    assert clean("x = 1\nprint(total)", w, single_line=False) == "x = 1"


def test_mid_line_completion_stops_at_the_line_end():
    w = window("value = ", " + 1\n")
    assert clean("first()\nsecond()", w, single_line=True) == "first()"


def test_restated_line_start_is_dropped():
    w = window("    result = ")
    assert clean("result = compute()", w, single_line=False) == "compute()"


def test_indentation_already_typed_is_not_doubled():
    w = window("def f():\n    ")
    assert clean("    return 1", w, single_line=False) == "return 1"


def test_whitespace_only_answer_is_no_item():
    assert clean("   \n\n", window("x = "), single_line=False) == ""


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("I'm sorry, but I can't help with that request.", "prose or apology instead of code"),
        ("```\n```", "only fences"),
        ("", "empty after cleaning"),
        ("x = 1\n" * 12, "repetition loop"),
        ("value\x07 = 1", "control characters"),
        ("foo())) + 1", "unbalanced brackets"),
    ],
)
def test_invalid_answers_are_recognised(raw, reason):
    w = window("def f():\n    ")
    assert invalid_reason(raw, clean(raw, w, single_line=False), w) == reason


def test_closing_a_bracket_the_context_opened_is_fine():
    w = window("total = compute(a, ")
    assert invalid_reason("b)", clean("b)", w, True), w) is None


def test_streaming_single_line_is_complete_after_its_first_code_line():
    assert not first_line_complete("```python\n")
    assert not first_line_complete("```python\nreturn a")
    assert first_line_complete("```python\nreturn a + b\n")
    assert first_line_complete("x = 1\n")


# -- documents ----------------------------------------------------------------------------------


def test_incremental_edits_keep_text_lines_and_tree_in_step():
    text = 'name = "héllo 🙂"\nvalue = 1\n'
    doc = Document("file:///t.py", "python", 1, text.encode(), parser=languages.parser_for("python"))
    doc.syntax_tree()
    # utf-16: "🙂" counts two units; insert after it on line 0.
    doc.apply_change((0, 15), (0, 15), "!", "utf-16")
    doc.apply_change((1, 0), (1, 0), "if value:\n    pass\n", "utf-16")
    expected = 'name = "héllo 🙂!"\nif value:\n    pass\nvalue = 1\n'
    assert doc.source.decode() == expected
    assert doc.line_bytes(2) == b"    pass"
    tree = doc.syntax_tree()
    assert not tree.root_node.has_error
    assert tree.root_node.text.decode() == expected
    # The incrementally edited tree equals a fresh parse.
    fresh = languages.parser_for("python").parse(doc.source)
    assert str(tree.root_node) == str(fresh.root_node)


def test_utf8_and_utf16_positions_reach_the_same_byte():
    text = "s = '🙂é' + x\n"
    doc = Document("file:///t.py", "python", 1, text.encode())
    byte = text.encode().index(b"+")
    assert doc.offset_at(0, len("s = '🙂é' ".encode()), "utf-8") == byte
    assert doc.offset_at(0, len("s = '🙂é' ".encode("utf-16-le")) // 2, "utf-16") == byte
    assert doc.offset_at(0, len("s = '🙂é' "), "utf-32") == byte
    assert doc.offset_at(5, 0, "utf-16") == len(text.encode())  # past the end clamps


def test_import_summary_is_kept_across_edits_that_cannot_change_imports():
    from tierline.analysis import scoring

    doc = Document("file:///t.py", "python", 1, b"import os\n\nx = 1\n", parser=languages.parser_for("python"))
    first = doc.imports(scoring.summarize_imports)
    doc.apply_change((2, 5), (2, 5), "2", "utf-8")
    assert doc.imports(scoring.summarize_imports) is first
    doc.apply_change((1, 0), (1, 0), "import json", "utf-8")
    second = doc.imports(scoring.summarize_imports)
    assert second is not first and second.imports == first.imports + 1
    doc.apply_change((0, 0), (0, 9), "", "utf-8")  # delete "import os"
    assert doc.imports(scoring.summarize_imports).imports == second.imports - 1


def test_deleting_across_lines_and_full_replacement():
    doc = Document("file:///t.c", "c", 1, b"int a;\nint b;\nint c;\n", parser=languages.parser_for("c"))
    doc.syntax_tree()
    doc.apply_change((0, 5), (2, 5), "", "utf-8")
    assert doc.source == b"int a;\n" and doc.last_change_was_deletion
    assert list(doc.line_starts) == [0, 7]
    doc.apply_change(None, None, "x\ny", "utf-8")
    assert doc.line_bytes(1) == b"y" and doc.syntax_tree() is not None


# -- config -------------------------------------------------------------------------------------


def test_defaults_parse_and_have_every_tier():
    config = parse_config(DEFAULTS)
    assert {m.tier for m in config.models} == {"cheap", "mid", "premium"}
    flash = config.model_named("deepseek-v4-flash")
    assert (flash.input_per_mtok, flash.output_per_mtok) == (0.14, 0.28)
    opus = config.model_named("claude-opus")
    assert (opus.input_per_mtok, opus.output_per_mtok) == (5.0, 25.0)


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ({"routing": {"thresholds": {"mid": 1.5}}}, "routing.thresholds.mid"),
        ({"routing": {"latency_budgett_ms": 5}}, "routing.latency_budgett_ms"),
        ({"cache": {"ttl_seconds": -1}}, "cache.ttl_seconds"),
        ({"models": [{"name": "x", "tier": "gold", "base_url": "http://h/v1", "model": "m"}]}, "models[0].tier"),
        ({"models": [{"name": "x", "tier": "cheap", "base_url": "ftp://h", "model": "m"}]}, "models[0].base_url"),
        ({"models": [{"name": "x", "tier": "cheap", "model": "m"}]}, "models[0].base_url"),
        ({"completion": {"trigger": "sometimes"}}, "completion.trigger"),
    ],
)
def test_bad_values_name_the_key(override, key):
    with pytest.raises(ConfigError) as error:
        parse_config(deep_merge(DEFAULTS, override), "/home/u/.tierline.toml")
    assert error.value.key == key
    assert str(error.value).startswith("/home/u/.tierline.toml: " + key)


def test_config_file_precedence(tmp_path: Path):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / ".tierline.toml").write_text("[budget]\ndaily_usd = 2.5\n")
    xdg = tmp_path / "xdg"
    (xdg / "tierline").mkdir(parents=True)
    (xdg / "tierline" / "config.toml").write_text("[budget]\ndaily_usd = 9.0\n")
    env = {"XDG_CONFIG_HOME": str(xdg)}
    assert load_config(workspace, env).budget.daily_usd == 2.5
    assert load_config(tmp_path, env).budget.daily_usd == 9.0
    explicit = tmp_path / "explicit.toml"
    explicit.write_text("[budget]\ndaily_usd = 1.0\n")
    # CONTRACT (2026-11-30): the user's file ($TIERLINE_CONFIG), then the workspace file; (2026-12-02) an
    # untrusted workspace file may only tighten: it lowers 9.0 to 2.5, it cannot raise 1.0 to 2.5.
    assert load_config(workspace, {**env, "TIERLINE_CONFIG": str(explicit)}).budget.daily_usd == 1.0
    assert load_config(tmp_path, {**env, "TIERLINE_CONFIG": str(explicit)}).budget.daily_usd == 1.0


def test_toml_syntax_error_names_the_file(tmp_path: Path):
    broken = tmp_path / "broken.toml"
    broken.write_text("[routing\n")
    with pytest.raises(ConfigError) as error:
        load_config(None, {"TIERLINE_CONFIG": str(broken)})
    assert str(broken) in str(error.value)


def test_lsp_settings_override_the_file_and_editor_keys_are_ignored():
    layers = ConfigLayers(lsp_settings=strip_editor_keys({"routing": {"latency_budget_ms": 9000}, "server": {"x": 1}}))
    assert layers.build().routing.latency_budget_ms == 9000


# -- cache keys and typing-through --------------------------------------------------------------


def test_cache_key_ignores_trailing_blanks_but_not_the_cursor_line():
    a = window("def f():\n    x = 1   \n    ")
    b = window("def f():\n    x = 1\n    ")
    c = window("def f():\n    x = 1\n  ")
    assert cache_key(a, "cheap") == cache_key(b, "cheap")
    assert cache_key(b, "cheap") != cache_key(c, "cheap")
    assert cache_key(b, "cheap") != cache_key(b, "mid")


def test_typed_through_serves_the_rest_only_when_the_typing_matches():
    source = b"x = foo"
    shown = ShownCompletion(offset=4, context_tail=b"x = ", text="foobar()", model="m", tier="cheap")
    assert typed_through(shown, source, 7) == "bar()"
    assert typed_through(shown, b"x = fox", 7) is None
    assert typed_through(shown, b"y = foo", 7) is None


def test_cut_window_keeps_whole_lines():
    before = "line one\nline two\nline three\n    cur"
    cut = cut_window(before, "after\nmore", "python", "f.py", (20, 100))
    assert cut.prefix == "line three\n    cur"
    assert cut.current_line_prefix == "    cur"


# -- ledger -------------------------------------------------------------------------------------


def test_ledger_rows_add_up_and_hold_no_code(tmp_path: Path):
    ledger = Ledger(tmp_path / "state")
    ledger.record(CallRow("r1", "python", "cheap", "flash", 1000, 20, 0.0002, 0.0055, 120.0, "ok", False))
    ledger.record(CallRow("r2", "python", "cheap", "flash", 0, 0, 0.0, 0.0, 0.0, "ok", True))
    ledger.record(CallRow("r3", "go", "mid", "haiku", 0, 0, 0.0, 0.0, 800.0, "server_error", False))
    summary = ledger.summary()
    assert (summary["requests"], summary["model_calls"], summary["cache_hits"]) == (3, 2, 1)
    assert summary["by_model"]["haiku"]["failures"] == 1
    assert summary["savings_pct"] == pytest.approx(96.4, abs=0.1)
    assert ledger.spent_on(utc_day()) == pytest.approx(0.0002)
    assert (tmp_path / "state").stat().st_mode & 0o777 == 0o700


def test_line_index_matches_a_plain_list_under_random_edits():
    """The blocked line index gives the same line starts as recomputing them, edit after edit."""
    import random

    from tierline.analysis import lines

    rng = random.Random(7)
    text = "".join(f"line {i}\n" * rng.randint(0, 2) for i in range(3000)).encode()
    doc = Document("file:///x.txt", "text", 1, text)
    for _ in range(400):
        size = len(doc.source)
        start = rng.randint(0, size)
        end = min(size, start + rng.choice([0, 0, 1, 5, 200, 5000]))
        new = rng.choice(["", "x", "\n", "a\nb\n", "\n" * 700, "tail"])
        (sr, sc), (er, ec) = doc.point_at(start), doc.point_at(end)
        doc.apply_change((sr, sc), (er, ec), new, "utf-8")
        assert list(doc.line_starts) == [0, *lines.line_starts(doc.source)]
    assert doc.line_starts.line_of(len(doc.source)) == len(doc.line_starts) - 1


def test_an_anthropic_prompt_cache_write_is_billed_at_one_and_a_quarter_times_input():
    """Anthropic's usage: input_tokens excludes cache reads and writes; writes cost 1.25x input,
    reads the cached price. A non-streamed Messages answer, as the provider sends it."""
    import json

    from tierline.completion.request import Charge
    from tierline.config.model import ModelSpec
    from tierline.providers.base import CallResult
    from tierline.providers.streaming import reader_for
    from tierline.wire import Outcome

    reader = reader_for("anthropic")
    usage = {"input_tokens": 1000, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 2000}
    answer = {
        "content": [{"type": "text", "text": "x"}],
        "stop_reason": "end_turn",
        "usage": {**usage, "output_tokens": 50},
    }
    reader.feed_document(json.dumps(answer).encode())
    assert reader.usage is not None
    opus = ModelSpec("opus", "premium", "https://api.anthropic.com", "claude-opus", api="anthropic",
                     input_per_mtok=5.0, output_per_mtok=25.0, cached_input_per_mtok=0.5)  # fmt: skip
    call = CallResult("x", reader.usage.tokens_in, reader.usage.tokens_out, reader.usage.cached_in, True, 10.0, 5.0,
                      cache_write_tokens_in=reader.usage.cache_write_in)  # fmt: skip

    charge = Charge.of_call(opus, Outcome.OK, call)

    # 1,000 fresh x $5 + 100 written x $6.25 + 2,000 read x $0.50 + 50 out x $25, per million tokens.
    assert charge.tokens_in == 3100
    assert charge.cost_usd == pytest.approx((1000 * 5 + 100 * 6.25 + 2000 * 0.5 + 50 * 25) / 1e6, abs=1e-15)
