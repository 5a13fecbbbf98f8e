"""Test files are told by the folders inside the project, never by those above it: a checkout
under `~/tests/` is not all test code (`in_test` lowers the score)."""

from __future__ import annotations

from pathlib import Path

from tierline.analysis.documents import Document
from tierline.analysis.languages import parser_for
from tierline.analysis.position_kind import project_path
from tierline.completion.pipeline import CompletionEngine
from tierline.config import parse_config

CODE = b"import os\n\n\ndef size_of(path):\n    return os.stat(path).st_size\n"


def test_the_path_inside_the_workspace_else_the_file_name():
    root = Path("/home/ana/tests/shop")
    assert project_path("file:///home/ana/tests/shop/src/cart.py", root) == "src/cart.py"
    assert project_path("file:///home/ana/tests/shop/tests/test_cart.py", root) == "tests/test_cart.py"
    assert project_path("file:///home/ana/tests/other/cart.py", root) == "cart.py"
    assert project_path("file:///home/ana/tests/shop/src/my%20cart.py", None) == "my cart.py"
    assert project_path("untitled:Untitled-1", root) == ""


def in_test(tmp_path: Path, relative: str) -> float:
    root = tmp_path / "tests" / "shop"  # a checkout inside a folder named `tests`
    engine = CompletionEngine(parse_config({}), env={}, workspace_root=root)
    uri = (root / relative).as_uri()
    document = Document(uri, "python", 1, CODE, parser=parser_for("python"))
    return float(engine.explain(document, len(CODE) - len(b"\n"))["features"]["in_test"])


def test_a_checkout_under_a_tests_folder_is_not_test_code(tmp_path):
    assert in_test(tmp_path, "src/files.py") == 0
    assert in_test(tmp_path, "tests/files.py") == 1
