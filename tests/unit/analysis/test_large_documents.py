"""Large documents: a request parses only the top-level statement around the cursor, and the
features it reads are the same as from the whole tree."""

from __future__ import annotations

import pytest

from tests.helpers.common import FIXTURES
from tierline.analysis import documents
from tierline.analysis.documents import Document
from tierline.analysis.languages import language_from, parser_for
from tierline.analysis.scoring import CodeAtCursor, extract_features, summarize_imports

# Brace and indentation languages whose top-level statements start in column 0.
FILES = [
    "python/unix_events.py",
    "python/httpx_client.py",
    "go/exec.go",
    "rust/tempfile_file.rs",
    "c/gzlog.c",
    "cpp/gtest-port.cc",
    "javascript/express_response.js",
    "typescript/rxjs_ajax.ts",
]


@pytest.mark.parametrize("name", FILES)
def test_the_statement_alone_gives_the_same_nesting_as_the_whole_file(name: str, monkeypatch) -> None:
    path = FIXTURES / name
    language = language_from(path.as_uri(), None)
    source = path.read_bytes()
    whole = Document(path.as_uri(), language, 1, source, parser=parser_for(language))
    monkeypatch.setattr(documents, "LARGE_DOCUMENT_LINES", 0)
    chunked = Document(path.as_uri(), language, 1, source, parser=parser_for(language))
    imports = summarize_imports(source, whole.syntax_tree(), language)

    checked = differ = 0
    for row in range(0, len(whole.line_starts), 3):
        line = whole.line_bytes(row)
        offset = whole.line_starts[row] + len(line) - len(line.lstrip())  # the first code on the line
        full = extract_features(CodeAtCursor(source, whole.syntax_tree(), offset, language), imports, 0)
        part = extract_features(chunked.code_at(offset), imports, 0)
        checked += 1
        differ += full.nesting_depth != part.nesting_depth
    assert checked > 100
    # Column-0 lines inside multi-line strings can split a statement; allow a rare miss.
    assert differ <= checked // 100, f"{differ} of {checked} positions differ"


def test_a_small_document_still_uses_its_whole_tree() -> None:
    source = b"def f():\n    return 1\n"
    document = Document("file:///f.py", "python", 1, source, parser=parser_for("python"))
    code = document.code_at(len(source) - 2)
    assert code.source is document.source and code.tree is document.syntax_tree()
