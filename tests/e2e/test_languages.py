"""Language names from LSP languageIds and file names; lazy, cached grammars."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.forkserver import tierline_command
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


C_HEADER = "#ifndef RING_H\n#define RING_H\n#include <stddef.h>\n\nstruct ring;\nint ring_put(struct ring *r, void *item);\n#endif\n"
CPP_HEADER = "#pragma once\n#include <atomic>\n\nnamespace ring {\ntemplate <typename T>\nclass Ring {\n public:\n  bool put(T item);\n};\n}\n"


@pytest.mark.parametrize("language_id", ["c", "cpp", None])
def test_a_header_is_c_or_cpp_by_what_it_holds(language_id: str | None) -> None:
    """VS Code and Neovim call every .h file C or C++: the text decides, so a C++ header gets the
    C++ grammar (and its score's language) and a C header the C one."""
    assert language_from("file:///src/ring.h", language_id, C_HEADER) == "c"
    assert language_from("file:///src/ring.h", language_id, CPP_HEADER) == "cpp"
    assert language_from("file:///src/ring.c", "c", CPP_HEADER) == "c"  # only headers are judged by their text


def test_tierline_score_reads_a_cpp_header_as_cpp(tmp_path: Path) -> None:
    header = tmp_path / "ring.h"
    header.write_text(CPP_HEADER)
    done = subprocess.run(
        tierline_command("score", f"{header}:8:5", "--json"),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=tmp_path,
    )
    assert json.loads(done.stdout)["features"]["language"] == "cpp"
