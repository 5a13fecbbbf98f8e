"""What kind of position the cursor is at, and what the function around it does: features for the score.

Kinds (each 0 or 1): inside a comment or docstring, inside a string, in the import block, in test
code (by path, by framework markers, by the test function around the cursor), on a signature
line, on a blank line after a block, at the end of a statement. And ``system_ops``: how many
system-level operations the enclosing function performs (atomics, locks, syscalls, ``unsafe``,
raw pointers, FFI): a compare-and-swap loop in a short, shallow function is as hard as deep code.

From the tree-sitter tree where there is one (the ancestors of the node at the cursor), from the
line and the code around it otherwise. Pure functions; bounded work per request (the function
body scanned is capped at ``MAX_FUNCTION_BYTES``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from tierline.analysis.lines import lines_around

if TYPE_CHECKING:  # pragma: no cover
    from tree_sitter import Node, Tree

MAX_FUNCTION_BYTES = 4096
# Without a tree: the lines around the cursor stand in for the function.
FALLBACK_LINES = 30
MAX_SYSTEM_OPS = 8


@dataclass(frozen=True)
class PositionKind:
    in_comment: int = 0  # a comment or a docstring
    in_string: int = 0
    in_imports: int = 0
    in_test: int = 0
    signature_line: int = 0
    after_block: int = 0  # a blank line just after a block closed
    end_of_statement: int = 0
    system_ops: int = 0  # atomics, locks, syscalls, unsafe, FFI in the enclosing function


# ---------------------------------------------------------------------------------------------
# Node types

FUNCTION_TYPES = frozenset(
    {
        "function_definition",  # python, c, cpp
        "function_declaration",  # js, ts, go
        "generator_function_declaration",
        "method_definition",  # js, ts
        "method_declaration",  # go, java
        "constructor_declaration",
        "function_item",  # rust
        "func_literal",  # go
        "function_expression",
        "arrow_function",
        "closure_expression",
        "lambda_expression",
        "method",  # ruby
        "singleton_method",
        "function_definition_statement",  # lua
        "local_function_definition_statement",
        "function_declaration_statement",
    }
)
IMPORT_TYPES = frozenset(
    {
        "import_statement",
        "import_from_statement",
        "future_import_statement",
        "import_declaration",
        "import_spec",
        "import_spec_list",
        "use_declaration",
        "extern_crate_declaration",
        "preproc_include",
    }
)
STRING_TYPES = frozenset(
    {
        "string",
        "string_literal",
        "raw_string_literal",
        "interpreted_string_literal",
        "template_string",
        "string_content",
        "char_literal",
        "heredoc_body",
        "string_fragment",
        "text_block",
    }
)

# ---------------------------------------------------------------------------------------------
# Markers

# Test code by path: test_x.py, x_test.go, x.test.ts, x.spec.js, XTest.java, x_spec.rb, tests/, __tests__/.
_TEST_PATH = re.compile(
    r"(^|/)(tests?|__tests__|spec|specs|testing)/|(^|/)test_[^/]*$|_test\.[a-z]+$|\.(test|spec)\.[a-z]+$|"
    r"Tests?\.java$|_spec\.rb$|_spec\.lua$"
)
# ... by what the file imports or declares (the file is about testing).
_TEST_FILE_MARKERS = re.compile(
    rb"^[ \t]*(import pytest|import unittest|from unittest|from pytest|import org\.junit|import static org\.junit|"
    rb"require ['\"](minitest|rspec|test/unit|busted)|#include <gtest/|#include <catch2/|"
    rb"import \{[^}]*\b(describe|it|test|expect)\b[^}]*\} from ['\"](vitest|@jest/globals|mocha)['\"])"
    rb"|^[ \t]*(describe|RSpec\.describe)[ \t]*[\( ]['\"]",
    re.MULTILINE,
)
# ... by the function around the cursor.
_TEST_FUNCTION = re.compile(
    rb"^[ \t]*(#\[(tokio::)?test\]|@Test\b|@pytest\.|(async\s+)?def test_?\w*|func Test\w*\(|it\(|test\()", re.MULTILINE
)

_COMMENT_LINE = re.compile(r"^\s*(#(?!include|define|if|endif|else|pragma|\[)|//|/\*|\*|--|<!--|\"\"\"|''')")

# System-level operations: atomics, locks, syscalls, unsafe and raw pointers, FFI: whole words,
# word prefixes and a few punctuated forms. (One long alternation is ten times slower.)
_SYSTEM_WORDS = frozenset(
    {
        # atomics and memory ordering
        "atomic",
        "atomics",
        "compare_exchange",
        "compare_exchange_weak",
        "fetch_add",
        "fetch_sub",
        "fetch_or",
        "fetch_and",
        "SeqCst",
        "AcqRel",
        "Acquire",
        "Release",
        "Relaxed",
        "volatile",
        # locks
        "Mutex",
        "RwLock",
        "synchronized",
        "Condvar",
        # syscalls
        "syscall",
        "Syscall",
        "RawSyscall",
        "ioctl",
        "mmap",
        "munmap",
        "mprotect",
        "futex",
        "fork",
        "vfork",
        "execve",
        "execvp",
        "dup2",
        "fcntl",
        "setsockopt",
        "sigaction",
        "sigprocmask",
        "waitpid",
        "errno",
        "unlink",
        "flock",
        "lockf",
        "fsync",
        "sendfile",
        "splice",
        "setuid",
        "setgid",
        "setsid",
        "pidfd_open",
        "set_wakeup_fd",
        "socketpair",
        "getsockopt",
        "O_EXCL",
        "O_CREAT",
        "O_NONBLOCK",
        "O_CLOEXEC",
        "SOL_SOCKET",
        "IPPROTO_TCP",
        "IPPROTO_IPV6",
        # unsafe, raw memory, FFI
        "unsafe",
        "uintptr",
        "memcpy",
        "memmove",
        "ctypes",
        "cffi",
        "dlopen",
        "dlsym",
        "JNIEnv",
        "native",
    }
)
_SYSTEM_PREFIXES = ("Atomic", "CompareAndSwap", "pthread_", "__sync_", "__atomic_", "epoll_", "memory_order_")
_SYSTEM_LITERALS = (b".lock()", b".Lock()", b".RLock()", b"*mut ", b"*const ", b'extern "C"', b"ptr::", b"unix.")
# (what a quick substring test looks for, the exact pattern counted when it is there)
_SYSTEM_PATTERNS: tuple[tuple[bytes, re.Pattern[bytes]], ...] = tuple(
    [(word.encode(), re.compile(rb"\b%s\b" % word.encode())) for word in sorted(_SYSTEM_WORDS)]
    + [(prefix.encode(), re.compile(rb"\b%s\w*" % prefix.encode())) for prefix in _SYSTEM_PREFIXES]
)


@functools.lru_cache(maxsize=256)
def system_ops_in(code: bytes) -> int:
    """How many system-level operations a stretch of code performs (capped at MAX_SYSTEM_OPS)."""
    # Substring tests first (fast, mostly absent), the word-bounded count only for what is there.
    count = sum(code.count(literal) for literal in _SYSTEM_LITERALS)
    for needle, pattern in _SYSTEM_PATTERNS:
        if count >= MAX_SYSTEM_OPS:
            break
        if needle in code:
            count += len(pattern.findall(code))
    return min(count, MAX_SYSTEM_OPS)


_IMPORT_LINE = re.compile(
    r"^\s*(import\b|from\s+\S+\s+import\b|use\s+[\w:{]|#include\b|package\s+\w+\s*$|require\b|"
    r"(local\s+\w+\s*=\s*)?require\s*[\(\"']|const\s+\w+\s*=\s*require\()"
)
_BLOCK_CLOSER = re.compile(r"^\s*(\}|end\b|\)|\]|fi\b|done\b)")
_STATEMENT_END = re.compile(r"(;|\)|\}|\]|\bend|\"|'|\w)\s*$")
_SIGNATURE_LINE = re.compile(
    r"^\s*((async\s+)?def\s+\w|func\s|fn\s|pub(\([^)]*\))?\s+(async\s+)?fn\s|function\b|local\s+function\b|"
    r"((public|private|protected|static|final|abstract|synchronized)\s+)+[\w<>\[\], ]+\s+\w+\s*\(|"
    r"(export\s+)?(async\s+)?function\b)"
)


# ---------------------------------------------------------------------------------------------
# Helpers


def _line_bounds(source: bytes, offset: int) -> tuple[int, int]:
    start = source.rfind(b"\n", 0, offset) + 1
    end = source.find(b"\n", offset)
    return start, len(source) if end < 0 else end


def _anchor(source: bytes, offset: int) -> int:
    """The last non-blank byte before the cursor (within 4 KB), else the cursor."""
    low = max(0, offset - 4096)
    chunk = source[low:offset].rstrip()
    return low + len(chunk) - 1 if chunk else offset


def _ancestors(tree: Tree, at: int) -> list[Node]:
    at = max(0, min(at, max(0, tree.root_node.end_byte - 1)))
    node: Node | None = tree.root_node.descendant_for_byte_range(at, at + 1)
    out = []
    while node is not None:
        out.append(node)
        node = node.parent
    return out


def _is_docstring(node: Node) -> bool:
    """A Python string that is the first statement of a module, class or function body (newer
    grammars put it straight in the block, older ones in an expression_statement)."""
    statement, body = node, node.parent
    if body is not None and body.type == "expression_statement":
        statement, body = body, body.parent
    if body is None or body.type not in ("block", "module"):
        return False
    first = next((child for child in body.named_children if child.type != "comment"), None)
    return first is not None and first.id == statement.id


def _enclosing_function(ancestors: list[Node]) -> Node | None:
    functions = [node for node in ancestors if node.type in FUNCTION_TYPES]
    if not functions:
        return None
    named = [node for node in functions if node.child_by_field_name("name") is not None]
    return named[0] if named else functions[0]


def enclosing_function_span(source: bytes, tree: Tree | None, offset: int) -> tuple[int, int] | None:
    """Byte range of the function around a utf-8 offset (found from the last code before the
    cursor, so an empty body counts as inside its function); None without a tree or a function."""
    if tree is None or not source:
        return None
    function = _enclosing_function(_ancestors(tree, _anchor(source, max(0, min(offset, len(source))))))
    return None if function is None else (function.start_byte, function.end_byte)


# ---------------------------------------------------------------------------------------------
# The kinds


def _comment_or_string(source: bytes, ancestors: list[Node], offset: int, line_before: str) -> tuple[int, int]:
    for node in ancestors[:6]:
        inside = node.start_byte < offset < node.end_byte or (
            "comment" in node.type and node.start_byte < offset <= node.end_byte
        )
        if not inside:
            continue
        if "comment" in node.type:
            return 1, 0
        if node.type in STRING_TYPES:
            if _is_docstring(node) or (node.parent is not None and _is_docstring(node.parent)):
                return 1, 0
            return 0, 1
    return (1 if _COMMENT_LINE.match(line_before) else 0), 0


def _in_imports(source: bytes, ancestors: list[Node], line_start: int, line_text: str) -> int:
    if any(node.type in IMPORT_TYPES for node in ancestors):
        return 1
    if _IMPORT_LINE.match(line_text):
        return 1
    if line_text.strip():
        return 0
    # A blank line between imports (or right after the last one, before any code).
    above = source[max(0, line_start - 2048) : line_start].decode("utf-8", "replace").rstrip("\n").split("\n")
    previous = next((line for line in reversed(above) if line.strip()), "")
    return 1 if _IMPORT_LINE.match(previous) else 0


def project_path(uri: str, root: Path | None) -> str:
    """The document's path as the project names it, for telling test files by their folders: the
    part under the workspace root, else the file name alone (the folders above a project, such as
    a checkout under `~/tests/`, say nothing of its files)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return ""
    path = unquote(parts.path) if parts.scheme in ("file", "") else ""
    if not path:
        return ""
    posix = PurePosixPath(path.replace("\\", "/"))
    if root is not None:
        base = PurePosixPath(root.as_posix())
        if posix.is_relative_to(base):
            return posix.relative_to(base).as_posix()
    return posix.name


def _in_test(source: bytes, path: str, function_head: bytes) -> int:
    if path and _TEST_PATH.search(path.replace("\\", "/")):
        return 1
    if _test_file_markers(source[:16384]):
        return 1
    return 1 if function_head and _TEST_FUNCTION.search(function_head) else 0


@functools.lru_cache(maxsize=64)
def _test_file_markers(head: bytes) -> bool:
    return _TEST_FILE_MARKERS.search(head) is not None


def _after_block(source: bytes, line_start: int, line_text: str) -> int:
    if line_text.strip():
        return 0
    above = source[max(0, line_start - 4096) : line_start].decode("utf-8", "replace").rstrip("\n").split("\n")
    code = [line for line in above if line.strip()]
    if not code:
        return 0
    last = code[-1]
    indent = len(line_text) - len(line_text.lstrip())
    last_indent = len(last) - len(last.lstrip())
    if _BLOCK_CLOSER.match(last) and last_indent <= indent + 1:
        return 1
    # Indented languages: the block's last line is deeper than the cursor's line.
    return 1 if last_indent > indent else 0


def position_kind(source: bytes, tree: Tree | None, offset: int, path: str = "") -> PositionKind:
    """The kind of position at a utf-8 byte offset (clamped into the document)."""
    offset = max(0, min(offset, len(source)))
    line_start, line_end = _line_bounds(source, offset)
    line_text = source[line_start:line_end].decode("utf-8", "replace")
    line_before = source[line_start:offset].decode("utf-8", "replace")
    line_after = source[offset:line_end].decode("utf-8", "replace")
    ancestors = _ancestors(tree, _anchor(source, offset)) if tree is not None and source else []
    comment, string = _comment_or_string(source, ancestors, offset, line_before) if source else (0, 0)
    function = _enclosing_function(ancestors)
    if function is not None:
        # A long function: the stretch around the cursor stands for it.
        low = max(function.start_byte, min(offset - MAX_FUNCTION_BYTES // 2, function.end_byte - MAX_FUNCTION_BYTES))
        body = source[low : min(function.end_byte, low + MAX_FUNCTION_BYTES)]
        # From the line above the function's (attributes, decorators) to the start of its body.
        own_line = source.rfind(b"\n", 0, function.start_byte) + 1
        head_start = source.rfind(b"\n", 0, max(0, own_line - 1)) + 1
        head = source[head_start : function.start_byte + 200]
        body_node = function.child_by_field_name("body")
        signature = 1 if body_node is not None and offset <= body_node.start_byte else 0
    else:
        # Parsed and outside any function (imports, declarations): no function to speak of.
        body = _region(source, line_start) if tree is None else b""
        head = b""
        signature = 1 if _SIGNATURE_LINE.match(line_text) else 0
    ops = system_ops_in(body)
    code_line = not comment and not string
    return PositionKind(
        in_comment=comment,
        in_string=string,
        in_imports=1 if code_line and _in_imports(source, ancestors, line_start, line_text) else 0,
        in_test=_in_test(source, path, head),
        signature_line=signature if code_line else 0,
        after_block=_after_block(source, line_start, line_text) if code_line else 0,
        end_of_statement=1 if code_line and not line_after.strip() and _STATEMENT_END.search(line_before) else 0,
        system_ops=ops,
    )


def _region(source: bytes, line_start: int) -> bytes:
    """Without a tree: the lines around the cursor stand in for the enclosing function."""
    start, end = lines_around(source, line_start, FALLBACK_LINES, FALLBACK_LINES)
    return source[start : min(end, start + MAX_FUNCTION_BYTES)]


__all__ = ["PositionKind", "enclosing_function_span", "position_kind"]
