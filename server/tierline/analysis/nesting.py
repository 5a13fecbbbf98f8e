"""Nesting depth at the cursor: enclosing functions, classes, loops, conditionals, closures, blocks.

From the tree-sitter tree when the language is parsed (only the ancestors of the node at the cursor
are walked), else from indentation and braces.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from tree_sitter import Node, Tree

# ---------------------------------------------------------------------------------------------
# Nesting: per-language node types that open a level.

_JS_NESTING = frozenset(
    {
        "function_declaration",
        "function_expression",
        "arrow_function",
        "method_definition",
        "generator_function_declaration",
        "generator_function",
        "class_declaration",
        "class",
        "abstract_class_declaration",
        "for_statement",
        "for_in_statement",
        "while_statement",
        "do_statement",
        "if_statement",
        "switch_statement",
        "try_statement",
        "with_statement",
    }
)

_C_NESTING = frozenset(
    {
        "function_definition",
        "for_statement",
        "while_statement",
        "do_statement",
        "if_statement",
        "switch_statement",
    }
)

NESTING: dict[str, frozenset[str]] = {
    "python": frozenset(
        {
            "function_definition",
            "class_definition",
            "for_statement",
            "while_statement",
            "if_statement",
            "try_statement",
            "with_statement",
            "match_statement",
            "lambda",
            "list_comprehension",
            "dictionary_comprehension",
            "set_comprehension",
            "generator_expression",
        }
    ),
    "javascript": _JS_NESTING,
    "typescript": _JS_NESTING,
    "tsx": _JS_NESTING,
    "go": frozenset(
        {
            "function_declaration",
            "method_declaration",
            "func_literal",
            "for_statement",
            "if_statement",
            "expression_switch_statement",
            "type_switch_statement",
            "select_statement",
        }
    ),
    "rust": frozenset(
        {
            "function_item",
            "closure_expression",
            "impl_item",
            "trait_item",
            "for_expression",
            "while_expression",
            "loop_expression",
            "if_expression",
            "match_expression",
            "unsafe_block",
            "async_block",
        }
    ),
    "java": frozenset(
        {
            "class_declaration",
            "interface_declaration",
            "enum_declaration",
            "record_declaration",
            "method_declaration",
            "constructor_declaration",
            "lambda_expression",
            "for_statement",
            "enhanced_for_statement",
            "while_statement",
            "do_statement",
            "if_statement",
            "switch_expression",
            "try_statement",
            "try_with_resources_statement",
            "synchronized_statement",
            "static_initializer",
        }
    ),
    "c": _C_NESTING,
    "cpp": _C_NESTING | {"for_range_loop", "lambda_expression", "try_statement"},
}

# A brace block counts on its own only when it is bare: directly inside another block.
_BLOCKS: dict[str, frozenset[str]] = {
    "javascript": frozenset({"statement_block"}),
    "typescript": frozenset({"statement_block"}),
    "tsx": frozenset({"statement_block"}),
    "go": frozenset({"block"}),
    "java": frozenset({"block"}),
    "c": frozenset({"compound_statement"}),
    "cpp": frozenset({"compound_statement"}),
}

# Anonymous Java classes and C++ classes/structs with a body are counted in _opens_level.
_IF_TYPES = frozenset({"if_statement", "if_expression"})

# Languages whose blocks end where the indentation does (trailing blank lines are outside nodes).
_INDENTED = frozenset({"python"})


def _opens_level(node: Node, language: str) -> bool:
    kind = node.type
    if kind in NESTING.get(language, ()):
        if kind in _IF_TYPES:
            # `else if` chains are flat to a reader: don't count the inner if.
            parent = node.parent
            return parent is None or (parent.type != "else_clause" and parent.type != kind)
        return True
    if kind in _BLOCKS.get(language, ()):
        parent = node.parent
        return parent is not None and parent.type == kind
    if language == "java" and kind == "class_body":
        parent = node.parent  # anonymous class: new Foo() { ... }
        return parent is not None and parent.type == "object_creation_expression"
    if language == "cpp" and kind in ("class_specifier", "struct_specifier"):
        return node.child_by_field_name("body") is not None
    return False


def _line_start(source: bytes, offset: int) -> int:
    return source.rfind(b"\n", 0, offset) + 1


def _line_end(source: bytes, offset: int) -> int:
    end = source.find(b"\n", offset)
    return len(source) if end < 0 else end


def _indent_width(line: bytes) -> int:
    """Columns of leading whitespace; a tab counts as 8 (Python's rule)."""
    width = 0
    for ch in line:
        if ch == 0x20:
            width += 1
        elif ch == 0x09:
            width = (width // 8 + 1) * 8
        else:
            break
    return width


def _previous_code_line(source: bytes, line_start: int, limit: int = 200) -> tuple[int, int] | None:
    """(start, end) of the nearest non-blank line above the one starting at line_start."""
    end = line_start - 1
    for _ in range(limit):
        if end < 0:
            return None
        start = _line_start(source, end)
        if source[start:end].strip():
            return start, end
        end = start - 1
    return None


def _tree_depth(source: bytes, tree: Tree, offset: int, language: str) -> int:
    line_start = _line_start(source, offset)
    line_end = _line_end(source, offset)
    before = source[line_start:offset]
    after = source[offset:line_end]
    min_indent: int | None = None  # constructs must start left of this column to contain the cursor
    if before.strip():
        # The code just typed: the last non-blank byte before the cursor.
        anchor = line_start + len(before.rstrip()) - 1
    elif after.strip():
        anchor = offset + (len(after) - len(after.lstrip()))
    elif language in _INDENTED:
        # A blank line: tree-sitter leaves trailing blank lines outside the block they belong to,
        # so start from the last code above and keep the constructs indented less than the cursor.
        previous = _previous_code_line(source, line_start)
        if previous is None:
            return 0
        anchor = previous[1] - 1
        min_indent = _indent_width(before)
    else:
        anchor = offset
    anchor = max(0, min(anchor, len(source) - 1))
    node: Node | None = tree.root_node.descendant_for_byte_range(anchor, anchor + 1)
    depth = 0
    in_error = False
    while node is not None:
        in_error = in_error or node.is_error or node.is_missing
        if _opens_level(node, language):
            if min_indent is None:
                depth += 1
            else:
                start = _line_start(source, node.start_byte)
                if _indent_width(source[start : node.start_byte + 1]) < min_indent:
                    depth += 1
        node = node.parent
    if in_error:
        # Half-typed code: error recovery can swallow the enclosing constructs (an unclosed
        # brace at the end of the file leaves one ERROR node under the root). The indentation
        # still shows how deep the cursor is.
        depth = max(depth, _indentation_depth(source, offset))
    return depth


# How far back the fallback looks for enclosing lines (bytes): bounds the cost on huge files.
_FALLBACK_WINDOW = 65536
_MAX_LEVELS = 32


def _leading_ws(line: bytes) -> int:
    return len(line) - len(line.lstrip(b" \t"))


@functools.lru_cache(maxsize=64)
def _indented_at_most(width: int) -> re.Pattern[bytes]:
    """A code line indented by at most ``width`` whitespace characters (matches its indent)."""
    # Starts with a literal newline so the regex engine can jump from line to line.
    return re.compile(rb"\n[ \t]{0,%d}(?=[^ \t\r\n])" % width)


def _enclosing_line(source: bytes, end: int, limit: int, indent: int) -> tuple[int, int] | None:
    """(indentation, start) of the nearest code line before ``end`` indented less than ``indent``.

    Searches chunks growing backwards from ``end`` so that the cost follows the distance to that
    line, with the per-character work done by the regex engine.
    """
    size = 4096
    pattern = _indented_at_most(indent - 1)
    while end > limit:
        low = max(limit, end - size)
        last = None
        for match in pattern.finditer(source, low, end):
            last = match
        if last is not None:
            return last.end() - last.start() - 1, last.start() + 1
        if low == limit or low + indent + 1 >= end:
            return None
        end = low + indent + 1  # the next chunk overlaps by one line prefix
        size *= 4
    return None


def _indentation_depth(source: bytes, offset: int) -> int:
    """Fallback: how many less-indented lines enclose the cursor (one per enclosing block).

    Indentation is counted in whitespace characters. On a blank line the cursor's own column is
    its indentation. When that finds nothing (code written without indentation), the unclosed
    braces before the cursor are counted instead.
    """
    line_start = _line_start(source, offset)
    line = source[line_start : _line_end(source, offset)]
    current = _leading_ws(line) if line.strip() else _leading_ws(source[line_start:offset])
    limit = max(0, line_start - _FALLBACK_WINDOW)
    depth = 0
    end = line_start
    while current > 0 and depth < _MAX_LEVELS:
        found = _enclosing_line(source, end, limit, current)
        if found is None and limit == 0:
            # The first line has no newline before it for the pattern to start from.
            first = source[: _line_end(source, 0)]
            if first.strip() and _leading_ws(first) < current:
                found = (_leading_ws(first), 0)
        if found is None:
            break
        depth += 1
        current, end = found
    if depth == 0:
        before = source[max(0, offset - _FALLBACK_WINDOW) : offset]
        depth = max(0, before.count(b"{") - before.count(b"}"))
    return depth


def nesting_depth(source: bytes, tree: Tree | None, byte_offset: int, language: str) -> int:
    """Enclosing functions, classes, loops, conditionals, try/with/match, closures, bare blocks."""
    offset = max(0, min(byte_offset, len(source)))
    if not source:
        return 0
    if tree is not None and language in NESTING:
        return _tree_depth(source, tree, offset, language)
    return _indentation_depth(source, offset)
