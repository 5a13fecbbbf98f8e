"""Language names from LSP languageIds and file names; lazy, cached grammars."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tierline.analysis.languages import PARSED_LANGUAGES, grammar_status, language_from, parser_for


@pytest.mark.parametrize(
    "uri, language_id, expected",
    [
        ("file:///a/app.py", "python", "python"),
        ("file:///a/app.jsx", "javascriptreact", "javascript"),  # the javascript grammar parses JSX
        ("file:///a/app.tsx", "typescriptreact", "tsx"),
        ("file:///a/app.ts", "typescript", "typescript"),
        ("file:///a/main.go", "go", "go"),
        ("file:///a/lib.rs", "rust", "rust"),
        ("file:///a/A.java", "java", "java"),
        ("file:///a/x.c", "c", "c"),
        ("file:///a/x.cc", "cpp", "cpp"),
        ("file:///a/x.rb", "ruby", "ruby"),
        ("file:///a/x.lua", "Lua", "lua"),  # other languages pass through, lowercased
        ("file:///a/x.ex", "elixir", "elixir"),
        # no useful languageId: the extension decides
        ("file:///a/x.tsx", None, "tsx"),
        ("file:///a/x.mjs", "plaintext", "javascript"),
        ("file:///a/dir%20with%20space/x.hpp", "", "cpp"),
        ("file:///a/x.h", None, "c"),
        ("file:///a/x.rb", None, "ruby"),
        ("/plain/path/x.go", None, "go"),
        ("untitled:Untitled-1", None, "plaintext"),
        ("file:///a/Makefile", "plaintext", "plaintext"),
        # the languageId wins over the extension when it says something
        ("file:///a/script", "python", "python"),
    ],
)
def test_language_from(uri: str, language_id: str | None, expected: str) -> None:
    assert language_from(uri, language_id) == expected


def test_parsers_are_cached_and_only_for_parsed_languages() -> None:
    assert PARSED_LANGUAGES == {"python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp"}
    for language in PARSED_LANGUAGES:
        parser = parser_for(language)
        assert parser is not None and parser is parser_for(language)
    assert parser_for("ruby") is None and parser_for("plaintext") is None


def test_every_grammar_loads_and_parses() -> None:
    assert grammar_status() == {language: True for language in sorted(PARSED_LANGUAGES)}


def test_importing_languages_does_not_load_the_grammars() -> None:
    code = (
        "import sys, tierline.analysis.languages, tierline.analysis.scoring\n"
        "assert 'tree_sitter_language_pack' not in sys.modules\n"
        "tierline.analysis.languages.parser_for('python')\n"
        "assert 'tree_sitter_language_pack' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
