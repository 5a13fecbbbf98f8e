"""Golden tests: realistic raw answers from chat models, and exactly what tierline inserts.

The corpus (tests/data/postprocess_golden.toml) covers fences, restated prefixes and definitions,
explanations after the code with and without a blank line, overlap with the code after the cursor,
wrong indentation and CRLF, across languages."""

from __future__ import annotations

from typing import Any

import pytest
import tomllib

from tests.helpers.common import DATA
from tierline.completion.postprocess import clean
from tierline.prompt.window import PromptWindow

CORPUS = tomllib.loads((DATA / "postprocess_golden.toml").read_text())["case"]


def test_corpus_is_large_and_varied() -> None:
    assert len(CORPUS) >= 40
    assert len({case["language"] for case in CORPUS}) >= 8
    assert sum("\r\n" in case["raw"] for case in CORPUS) >= 3


@pytest.mark.parametrize("case", CORPUS, ids=[case["name"] for case in CORPUS])
def test_golden_answer(case: dict[str, Any]) -> None:
    window = PromptWindow(case["language"], "file", case["prefix"], case["suffix"])
    assert clean(case["raw"], window, window.mid_line) == case["expected"]
