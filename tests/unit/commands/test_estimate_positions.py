"""`tierline estimate`'s writing positions (a block's body hidden) are parsed incrementally from the
file's tree: the tree must be the one a whole parse of the edited text gives, node for node."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.helpers.common import FIXTURES
from tierline.analysis.languages import parser_for
from tierline.commands.estimate import _parse, _writing_position, code_files, tree_without_body

FILES = sorted(code_files(FIXTURES), key=lambda f: str(f.path))


def nodes(tree: Any) -> list[tuple[str, int, int, tuple[int, int], tuple[int, int], bool]]:
    """Every node, named or not, with its place: two trees equal here are the same parse."""
    out, stack = [], [tree.root_node]
    while stack:
        node = stack.pop()
        out.append((node.type, node.start_byte, node.end_byte, node.start_point, node.end_point, node.has_error))
        stack.extend(reversed(node.children))
    return out


@pytest.mark.parametrize("code", FILES, ids=lambda f: f"{f.path.parent.name}/{f.path.name}")
def test_a_hidden_body_parses_as_the_whole_text_would(code):
    doc = _parse(code)
    parser = parser_for(code.language)
    assert doc is not None and doc.tree is not None and parser is not None
    rng = random.Random(7)
    checked = 0
    for _ in range(3):
        hidden = _writing_position(doc, rng)
        if hidden is None:
            continue
        source = (hidden.before + hidden.after).encode("utf-8")
        assert nodes(tree_without_body(doc, hidden, source, parser)) == nodes(parser.parse(source))
        checked += 1
    assert checked > 0  # every fixture has blocks to hide


def test_the_check_sees_a_wrong_edit():
    code = next(f for f in FILES if f.path.suffix == ".py")
    doc, parser = _parse(code), parser_for(code.language)
    hidden = _writing_position(doc, random.Random(7))
    source = (hidden.before + hidden.after).encode("utf-8")
    stale = parser.parse(source, doc.tree.copy())  # the old tree, not told of the edit
    assert nodes(stale) != nodes(parser.parse(source))
