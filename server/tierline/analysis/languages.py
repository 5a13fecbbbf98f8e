"""Language names and tree-sitter parsers.

An LSP ``languageId`` (or, when it is missing or ``plaintext``, the file extension) becomes one
of the language names in docs/architecture.md. The nine parsed languages get a tree-sitter parser
from ``tree_sitter_language_pack``, imported lazily on first use so that ``initialize`` does not
pay the ~20 ms the import costs. Any other language passes through lowercased and is scored with
the indentation/brace fallback.
"""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:  # pragma: no cover
    from tree_sitter import Parser

PARSED_LANGUAGES: frozenset[str] = frozenset(
    {"python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp"}
)

# LSP languageIds (VS Code spellings, plus the Neovim filetypes that differ) -> our names.
# JSX parses with the javascript grammar (tree-sitter-javascript includes JSX); TSX needs its own.
_LANGUAGE_IDS: dict[str, str] = {
    "python": "python",
    "py": "python",
    "javascript": "javascript",
    "javascriptreact": "javascript",
    "js": "javascript",
    "jsx": "javascript",
    "typescript": "typescript",
    "ts": "typescript",
    "typescriptreact": "tsx",
    "tsx": "tsx",
    "go": "go",
    "golang": "go",
    "rust": "rust",
    "rs": "rust",
    "java": "java",
    "c": "c",
    "cpp": "cpp",
    "c++": "cpp",
    "cuda-cpp": "cpp",
}

# Extensions, used when the client sends no useful languageId. Includes a few unparsed
# languages so that the fallback still gets a meaningful name.
_EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".pyw": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    # .h is ambiguous; C is the safer grammar (C++ headers still mostly parse with it).
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".c++": "cpp",
    ".hh": "cpp",
    ".hpp": "cpp",
    ".hxx": "cpp",
    ".h++": "cpp",
    ".ipp": "cpp",
    ".inl": "cpp",
    ".rb": "ruby",
    ".lua": "lua",
    ".php": "php",
    ".kt": "kotlin",
    ".kts": "kotlin",
    ".swift": "swift",
    ".scala": "scala",
    ".cs": "csharp",
    ".sh": "shellscript",
    ".bash": "shellscript",
    ".pl": "perl",
    ".r": "r",
    ".dart": "dart",
    ".ex": "elixir",
    ".exs": "elixir",
    ".hs": "haskell",
    ".ml": "ocaml",
    ".zig": "zig",
    ".sql": "sql",
}

# languageIds that say nothing about the code: look at the extension instead.
_UNINFORMATIVE_IDS = frozenset({"", "plaintext", "text", "txt", "unknown"})

# One snippet per grammar, for grammar_status(): each must parse without an error node.
_SAMPLES: dict[str, bytes] = {
    "python": b"def f(x):\n    return x + 1\n",
    "javascript": b"function f(x) { return <a>{x}</a>; }\n",
    "typescript": b"function f(x: number): number { return x + 1; }\n",
    "tsx": b"const f = (x: number) => <div>{x}</div>;\n",
    "go": b"package main\n\nfunc f(x int) int { return x + 1 }\n",
    "rust": b"fn f(x: i32) -> i32 { x + 1 }\n",
    "java": b"class A { int f(int x) { return x + 1; } }\n",
    "c": b"int f(int x) { return x + 1; }\n",
    "cpp": b"template <typename T> T f(T x) { return x + 1; }\n",
}

_parsers: dict[str, Parser | None] = {}


def _extension_language(uri: str) -> str | None:
    path = unquote(urlsplit(uri).path) if "://" in uri or uri.startswith("file:") else uri
    _, ext = posixpath.splitext(path.rsplit("\\", 1)[-1])
    return _EXTENSIONS.get(ext.lower())


# A header is C or C++ by what it holds, whatever the editor called it (VS Code and Neovim call
# every .h file one or the other): these only occur in C++.
_CPP_MARKERS = re.compile(
    # Linear on any text: indentation without line breaks, and a class head bounded in length.
    r"^[ \t]*(template\s*<|namespace\s+\w|class\s+\w+[^;(]{0,200}\{|(public|private|protected)\s*:|using\s+namespace\b)"
    r"|\bstd::|\bconstexpr\b|\bnullptr\b",
    re.MULTILINE,
)
HEADER_SCAN_CHARS = 65536


def header_language(text: str) -> str:
    """ "cpp" when a header's text holds C++ constructs, else "c"."""
    return "cpp" if _CPP_MARKERS.search(text[:HEADER_SCAN_CHARS]) else "c"


def language_from(uri: str, language_id: str | None, text: str | None = None) -> str:
    """The language name for a document: its languageId if informative, else its extension; a
    `.h` header (given its text) is C or C++ by what it holds."""
    lang_id = (language_id or "").strip().lower()
    if lang_id not in _UNINFORMATIVE_IDS:
        language = _LANGUAGE_IDS.get(lang_id, lang_id)
    else:
        language = _extension_language(uri) or (lang_id or "plaintext")
    if text is not None and language in ("c", "cpp") and _is_plain_header(uri):
        return header_language(text)
    return language


def _is_plain_header(uri: str) -> bool:
    path = unquote(urlsplit(uri).path) if "://" in uri or uri.startswith("file:") else uri
    return path.lower().endswith(".h")


def parser_for(language: str) -> Parser | None:
    """A cached tree-sitter parser for a parsed language; None for any other language.

    None too when the grammar cannot be loaded (the caller falls back to the heuristics).
    """
    if language not in PARSED_LANGUAGES:
        return None
    if language not in _parsers:
        try:
            import tree_sitter_language_pack  # lazy: ~20 ms, not on the initialize path

            _parsers[language] = tree_sitter_language_pack.get_parser(language)  # type: ignore[arg-type]
        except Exception:  # a broken wheel must not take the server down
            _parsers[language] = None
    return _parsers[language]


def grammar_status() -> dict[str, bool]:
    """For ``tierline doctor``: each parsed language -> whether its grammar loads and parses."""
    status: dict[str, bool] = {}
    for language in sorted(PARSED_LANGUAGES):
        parser = parser_for(language)
        try:
            status[language] = parser is not None and not parser.parse(_SAMPLES[language]).root_node.has_error
        except Exception:
            status[language] = False
    return status
