"""Scoring on real code (fixtures/): what a user of `tierline score` / `tierline.explain` sees."""

from __future__ import annotations

import dataclasses
import sys

import pytest

from tests.helpers.common import FIXTURES, TESTS
from tierline.analysis.languages import language_from, parser_for
from tierline.analysis.nesting import nesting_depth
from tierline.analysis.scoring import (
    CodeAtCursor,
    Features,
    ImportSummary,
    contributions,
    current_model,
    extract_features,
    score,
    summarize_imports,
)
from tierline.analysis.signals import Signals
from tierline.config import Thresholds
from tierline.routing.tiers import choose_tier

ALL_LANGUAGES = ("python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp", "ruby", "lua")


def load(name: str) -> tuple[bytes, object, str]:
    path = FIXTURES / name
    language = language_from(path.as_uri(), None)
    source = path.read_bytes()
    parser = parser_for(language)
    return source, (parser.parse(source) if parser is not None else None), language


def end_of(source: bytes, needle: str) -> int:
    """Byte offset just after the only occurrence of ``needle`` (the cursor after typing it)."""
    raw = needle.encode()
    assert source.count(raw) == 1, f"needle {needle!r} must occur once"
    return source.index(raw) + len(raw)


def features_at(name: str, offset: int, context_tokens: int = 1200) -> Features:
    source, tree, language = load(name)
    imports = summarize_imports(source, tree, language)
    return extract_features(CodeAtCursor(source, tree, offset, language), imports, context_tokens)


# (fixture, text deep inside nested code, text at the top level)
DEEP_AND_SHALLOW = [
    ("python/httpx_client.py", "next_request = auth_flow.send(response)", "import datetime"),
    ("python/shutil.py", "_fastcopy_fcopyfile(fsrc, fdst, posix._COPYFILE_DATA)", "import fnmatch"),
    (
        "javascript/express_response.js",
        "if (charset) value += '; charset=' + charset.toLowerCase();",
        "var vary = require('vary');",
    ),
    ("typescript/node_pty_unixTerminal.ts", "clearTimeout(timeout);", "import * as net from 'net';"),
    ("tsx/Card.tsx", "pendingOnCloseCallbackRef.current = setTimeout(() => {", "import Color from 'color';"),
    ("go/exec.go", 'env = append(env, "PWD="+pwd)', "package exec"),
    ("rust/crossbeam_array.rs", "let new_tail = if index + 1 < self.cap {", "use std::time::Instant;"),
    (
        "java/NetworkingModule.java",
        'if (response.request().method().equalsIgnoreCase("HEAD")) {',
        "import okhttp3.Callback;",
    ),
    ("c/Xtranssock.c", "if (memcmp(A,B,sizeof(struct in6_addr)) == 0) {", "#include <ctype.h>"),
    ("cpp/gtest-death-test.cc", "captured_stderr_.resize(old_length + kBufferSize);", "#include <functional>"),
    ("ruby/request.rb", "split_authority(wrap_ipv6(authority))[1]", "module Rack"),
    ("lua/path.lua", "cp = path.dirname(cp)", "local currentdir = lfs.currentdir"),
]


@pytest.mark.parametrize("name, deep, shallow", DEEP_AND_SHALLOW, ids=[d[0] for d in DEEP_AND_SHALLOW])
def test_deep_nested_code_is_measured_deeper_than_top_level(name: str, deep: str, shallow: str) -> None:
    """Nesting is read in every language (what it weighs is learned: tests/unit/routing/test_routing_corpus.py)."""
    source, _, _ = load(name)
    deep_features = features_at(name, end_of(source, deep))
    top_features = features_at(name, end_of(source, shallow))
    assert top_features.nesting_depth == 0
    assert deep_features.nesting_depth >= 3


def test_each_level_of_nesting_is_counted_in_python() -> None:
    source = (
        b"class Box:\n"
        b"    def items(self, rows):\n"
        b"        for row in rows:\n"
        b"            if row:\n"
        b"                with open(row) as fh:\n"
        b"                    yield fh.read()\n"
    )
    tree = parser_for("python").parse(source)
    depths = [
        nesting_depth(source, tree, end_of(source, text), "python")
        for text in ("class Box:", "def items(self, rows):", "for row in rows:", "if row:", "as fh:", "fh.read()")
    ]
    # The cursor after a header ("if row:") is inside the construct it is about to fill.
    assert depths == [1, 2, 3, 4, 5, 5]


def test_else_if_chains_are_flat_and_closures_count() -> None:
    source = b"function f(a) {\n  if (a) {\n    x();\n  } else if (b) {\n    y();\n  } else {\n    list.map((v) => {\n      return v;\n    });\n  }\n}\n"
    tree = parser_for("javascript").parse(source)
    assert nesting_depth(source, tree, end_of(source, "x();"), "javascript") == 2
    assert nesting_depth(source, tree, end_of(source, "y();"), "javascript") == 2
    assert nesting_depth(source, tree, end_of(source, "return v;"), "javascript") == 3


def test_blank_indented_line_at_end_of_python_function_counts_as_inside() -> None:
    # tree-sitter ends the function at "pass": the blank lines after it belong to no node.
    source = b"import os\n\ndef f(xs):\n    for x in xs:\n        pass\n    \n        \n\nvalue = 1\n"
    tree = parser_for("python").parse(source)
    line_start = source.index(b"    \n")
    assert nesting_depth(source, tree, line_start + 4, "python") == 1  # in f, after the loop
    deeper = source.index(b"        \n")
    assert nesting_depth(source, tree, deeper + 8, "python") == 2  # still in the loop body
    assert nesting_depth(source, tree, source.index(b"\nvalue"), "python") == 0  # blank, column 0


def test_half_typed_code_with_unclosed_braces_keeps_its_depth() -> None:
    source = b"function f(xs) {\n  for (const x of xs) {\n    if (x) {\n      foo(\n"
    tree = parser_for("javascript").parse(source)
    assert tree.root_node.has_error
    assert nesting_depth(source, tree, len(source) - 1, "javascript") == 3


def test_multibyte_text_before_the_cursor_does_not_shift_the_node() -> None:
    # 20 two-byte characters: a character offset would land 20 bytes early, inside the if.
    source = 'def f():\n    if a:\n        s = "éééééééééééééééééééé"\nx = 1\n'.encode()
    tree = parser_for("python").parse(source)
    end = end_of(source, "x = 1")
    assert nesting_depth(source, tree, end, "python") == 0
    assert nesting_depth(source, tree, end_of(source, 's = "é'), "python") == 2
    emoji = "// 🙂🙂🙂🙂\nfunction g() {\n  return 1;\n}\n".encode()
    js_tree = parser_for("javascript").parse(emoji)
    assert nesting_depth(emoji, js_tree, end_of(emoji, "return 1;"), "javascript") == 1


@pytest.mark.parametrize("language", ALL_LANGUAGES)
@pytest.mark.parametrize("offset", [-5, 0, 10**9])
def test_out_of_range_offsets_and_empty_documents_do_not_crash(language: str, offset: int) -> None:
    parser = parser_for(language)
    for source in (b"", b"x", "é\n  \n".encode(), b"\n\n\n", b"{{{{", b"\xff\xfe not utf-8 \x80"):
        tree = parser.parse(source) if parser is not None else None
        imports = summarize_imports(source, tree, language)
        features = extract_features(CodeAtCursor(source, tree, offset, language), imports, 0)
        assert features.nesting_depth >= 0
        assert 0.0 <= score(features) <= 1.0


def test_cursor_after_the_last_byte_of_a_fixture() -> None:
    source, _, _ = load("go/exec.go")
    at_end = features_at("go/exec.go", len(source))
    past_end = features_at("go/exec.go", len(source) + 100)
    assert at_end == past_end


@pytest.mark.parametrize("name", ["ruby/utils.rb", "lua/utils.lua"])
def test_fallback_languages_get_a_score(name: str) -> None:
    source, tree, language = load(name)
    assert tree is None and parser_for(language) is None
    imports = summarize_imports(source, tree, language)
    assert imports.imports >= 3
    inside = features_at(name, source.index(b"\n    ") + 5)  # somewhere inside a block
    assert inside.nesting_depth >= 1
    assert 0.0 < score(inside) < 1.0


# --- imports: counts on chosen fixtures


@pytest.mark.parametrize(
    "name, imports, stdlib, external, system, must_include",
    [
        # errno io itertools os selectors signal socket stat subprocess sys threading warnings + . .log
        ("python/unix_events.py", 14, 12, 0, 6, {"subprocess", "signal", "."}),
        ("python/pygls_json_rpc.py", 22, 14, 8, 1, {"lsprotocol.types", "concurrent.futures"}),
        ("javascript/ws_websocket.js", 17, 9, 0, 2, {"net", "tls", "./receiver"}),
        ("javascript/express_response.js", 16, 2, 13, 0, {"send", "./utils"}),
        ("typescript/node_pty_unixTerminal.ts", 8, 4, 0, 3, {"tty", "./terminal"}),
        ("tsx/useLinking.tsx", 6, 0, 3, 0, {"fast-deep-equal", "./types"}),
        ("go/exec.go", 12, 12, 0, 2, {"syscall", "os"}),
        ("rust/memchr_avx.rs", 2, 1, 0, 2, {"unsafe", "super::sse2"}),  # core::arch and unsafe code
        ("rust/os_pipe_lib.rs", 3, 3, 0, 1, {"std::process::Stdio"}),
        ("java/WebSocketModule.java", 13, 4, 5, 2, {"java.net", "okhttp3"}),  # counted per package
        ("c/gzlog.c", 13, 11, 0, 5, {"unistd.h", "zlib.h"}),
        ("cpp/node_pty_pty.cc", 25, 19, 6, 12, {"thread", "napi.h", "sys/ioctl.h"}),
    ],
)
def test_import_counts(
    name: str, imports: int, stdlib: int, external: int, system: int, must_include: set[str]
) -> None:
    source, tree, language = load(name)
    summary = summarize_imports(source, tree, language)
    assert (summary.imports, summary.stdlib_imports, summary.external_imports, summary.system_imports) == (
        imports,
        stdlib,
        external,
        system,
    ), summary.names
    assert must_include <= set(summary.names)


@pytest.mark.parametrize(
    "language, source, expected",
    [
        ("python", b"from . import a\nfrom ..b import c\nimport os.path\nimport requests\n", (4, 1, 1, 1)),
        ("python", b"try:\n    import ujson as json\nexcept ImportError:\n    import json\n", (2, 1, 1, 0)),
        (
            "javascript",
            b"import fs from 'node:fs';\nconst cp = require('child_process');\nimport x from './x.js';\nimport _ from 'lodash';\n",
            (4, 2, 1, 2),
        ),
        (
            "typescript",
            b"import type { A } from '@scope/pkg/sub';\nimport os = require('os');\nexport * from './y';\n",
            (3, 1, 1, 1),
        ),
        ("go", b'package m\nimport (\n\t"fmt"\n\t"os/exec"\n\t"github.com/x/y"\n\t"C"\n)\n', (4, 2, 2, 2)),
        (
            "rust",
            b"use std::{ptr, io::Read};\nuse crate::x;\nuse serde::Serialize;\nextern crate libc;\n",
            (4, 1, 2, 2),
        ),
        (
            "java",
            b"package com.acme.app;\nimport java.util.List;\nimport com.acme.app.model.User;\nimport sun.misc.Unsafe;\nimport org.x.Y;\nclass A { native void f(); }\n",
            (4, 2, 1, 2),
        ),
        (
            "c",
            b'#include <stdio.h>\n#include "local.h"\n#ifdef X\n#include <pthread.h>\n#endif\n#include <zlib.h>\n',
            (4, 2, 1, 1),
        ),
        (
            "cpp",
            b"#include <vector>\n#include <thread>\n#include <sys/socket.h>\n#include <boost/asio.hpp>\n",
            (4, 3, 1, 2),
        ),
        ("ruby", b"require 'socket'\nrequire_relative './helper'\n", (2, 0, 1, 1)),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 12 else None,
)
def test_import_classification(language: str, source: bytes, expected: tuple[int, int, int, int]) -> None:
    parser = parser_for(language)
    summary = summarize_imports(source, parser.parse(source) if parser else None, language)
    assert (summary.imports, summary.stdlib_imports, summary.external_imports, summary.system_imports) == expected, (
        summary
    )


def test_python_stdlib_is_the_running_interpreters() -> None:
    source = b"import tomllib\nimport asyncio\n"
    summary = summarize_imports(source, parser_for("python").parse(source), "python")
    assert summary.stdlib_imports == sum(1 for m in ("tomllib", "asyncio") if m in sys.stdlib_module_names)


# --- score, contributions, tiers

KINDS = {
    "in_comment",
    "in_string",
    "in_imports",
    "in_test",
    "signature_line",
    "after_block",
    "end_of_statement",
    "system_ops",
}


SIGNALS = {field.name for field in dataclasses.fields(Signals)}


def test_contributions_add_up_to_the_score_and_stay_in_range() -> None:
    model = current_model()
    extreme = Features("python", 50, 500, 100, 300, 80, 10**6, empty_body=1, closes_after=1, window_atomics=50)
    nothing = Features("python", 0, 0, 0, 0, 0, 0, in_comment=1)
    assert 0.0 < score(extreme) < 1.0 and score(nothing) == 0.0
    typical = features_at("python/unix_events.py", end_of(load("python/unix_events.py")[0], "import signal"))
    parts = contributions(typical)
    # Every weighted feature of the shipped model has its part, and so do the language and the base.
    assert set(parts) == set(model.weights) | {"language", "base"}
    assert max(0.0, min(1.0, sum(parts.values()))) == pytest.approx(score(typical))
    # Each part is the feature's weight times its capped value, on the score's scale.
    capped = min(typical.context_tokens, model.caps["context_tokens"]) / model.caps["context_tokens"]
    assert parts["context_tokens"] == pytest.approx(model.slope * model.weights["context_tokens"] * capped)


def test_features_as_dict_has_the_contract_keys() -> None:
    features = Features("go", 2, 3, 2, 1, 1, 400)
    assert features.as_dict() == {
        "language": "go",
        "nesting_depth": 2,
        "imports": 3,
        "stdlib_imports": 2,
        "external_imports": 1,
        "system_imports": 1,
        "context_tokens": 400,
        **dict.fromkeys(KINDS, 0),
        # What is about to be written (analysis/signals.py): all 0 by default.
        **dict.fromkeys(SIGNALS, 0),
    }
    assert ImportSummary().imports == 0


@pytest.mark.parametrize("name", sorted(current_model().weights))
def test_each_signal_moves_the_score_the_way_its_weight_says(name: str) -> None:
    """A linear score: more of a signal never moves it against its weight's sign."""
    weight = current_model().weights[name]
    base = Features("rust", 2, 5, 3, 2, 0, 600, empty_body=1)
    more = dataclasses.replace(base, **{name: getattr(base, name) + 1})
    if weight > 0:
        assert score(more) >= score(base)
    elif weight < 0:
        assert score(more) <= score(base)


def test_tier_boundaries() -> None:
    default = Thresholds()
    assert choose_tier(0.0, default) == "cheap"
    assert choose_tier(0.3499, default) == "cheap"
    assert choose_tier(0.35, default) == "mid"
    assert choose_tier(0.6999, default) == "mid"
    assert choose_tier(0.70, default) == "premium"
    assert choose_tier(1.0, default) == "premium"
    same = Thresholds(mid=0.5, premium=0.5)
    assert choose_tier(0.49, same) == "cheap" and choose_tier(0.5, same) == "premium"
    assert choose_tier(0.0, Thresholds(mid=0.0, premium=1.0)) == "mid"


def test_comments_and_imports_stay_cheap_whatever_else_the_position_has() -> None:
    """The rubric's rules, fixed in the weights: prose and the import block are cheap everywhere."""
    hard = Features("rust", 6, 30, 5, 10, 4, 1200, empty_body=1, closes_after=1, window_atomics=20, atomics=6)
    assert choose_tier(score(hard), Thresholds()) != "cheap"
    for kind in ("in_comment", "in_imports"):
        assert choose_tier(score(dataclasses.replace(hard, **{kind: 1})), Thresholds()) == "cheap"


def test_default_weights_send_positions_in_finished_code_to_the_cheap_tier() -> None:
    sys.path.insert(0, str(TESTS / "benchmarks"))
    try:
        import calibrate_tiers
    finally:
        sys.path.pop(0)
    result = calibrate_tiers.run(600, seed=1)
    overall = result["overall"]
    assert overall["positions"] == 600
    # Positions in finished code are editing positions: the learned weights send nearly all cheap.
    assert overall["cheap_pct"] >= 90.0
    assert overall["premium_pct"] == 0.0
    assert set(result["by_language"]) == set(ALL_LANGUAGES)
