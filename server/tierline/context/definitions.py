"""A file's definitions (functions, methods, classes, types) read with tree-sitter queries.

Each definition keeps what a model needs to call it, compactly (more of them fit a budget): its
signature, its doc comment or the first line of its docstring, `...` for the body, at most
`MAX_CHARS` characters. A class keeps its header, its docstring's first line and the signatures of
its first `CLASS_MEMBERS` members. Parsing is bounded by the file size limit
(`workspace.MAX_FILE_BYTES`); a parser is made per thread (tree-sitter parsers are not shared).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # pragma: no cover
    from tree_sitter import Node

MAX_CHARS = 600
CLASS_MEMBERS = 8

_FUNCTION = "@function"
_CLASS = "@class"

# Per language: (query, {capture: kind}). Captures: `name` and `def` (function) or `cls` (class).
QUERIES: dict[str, str] = {
    "python": """
        (function_definition name: (identifier) @name) @def
        (class_definition name: (identifier) @name) @cls
    """,
    "javascript": """
        (function_declaration name: (identifier) @name) @def
        (method_definition name: (property_identifier) @name) @def
        (class_declaration name: (identifier) @name) @cls
        (variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression)]) @def
    """,
    "typescript": """
        (function_declaration name: (identifier) @name) @def
        (method_definition name: (property_identifier) @name) @def
        (class_declaration name: (type_identifier) @name) @cls
        (interface_declaration name: (type_identifier) @name) @cls
        (type_alias_declaration name: (type_identifier) @name) @def
        (variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression)]) @def
    """,
    "go": """
        (function_declaration name: (identifier) @name) @def
        (method_declaration name: (field_identifier) @name) @def
        (type_spec name: (type_identifier) @name) @cls
    """,
    "rust": """
        (function_item name: (identifier) @name) @def
        (struct_item name: (type_identifier) @name) @cls
        (enum_item name: (type_identifier) @name) @cls
        (trait_item name: (type_identifier) @name) @cls
    """,
    "java": """
        (method_declaration name: (identifier) @name) @def
        (class_declaration name: (identifier) @name) @cls
        (interface_declaration name: (identifier) @name) @cls
    """,
    "c": """
        (function_definition declarator: (function_declarator declarator: (identifier) @name)) @def
        (function_definition declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))) @def
        (struct_specifier name: (type_identifier) @name body: (field_declaration_list)) @cls
    """,
}
QUERIES["tsx"] = QUERIES["typescript"]
QUERIES["cpp"] = QUERIES["c"].replace(
    "(identifier) @name)) @def", "[(identifier) (field_identifier) (qualified_identifier)] @name)) @def"
)


class Definition(NamedTuple):
    """A tuple of strings and an int: the garbage collector stops tracking it, so 100,000 of them
    in the index add nothing to the collections a keystroke may trigger."""

    name: str
    path: str  # workspace-relative
    line: int  # 1-based
    text: str
    kind: str  # "function" or "class"


_local = threading.local()


def _tools(language: str) -> tuple[Any, Any] | None:
    """This thread's parser and compiled query for a language; None when it has no grammar."""
    cache: dict[str, tuple[Any, Any] | None] = getattr(_local, "tools", None) or {}
    _local.tools = cache
    if language not in cache:
        try:
            import tree_sitter
            import tree_sitter_language_pack

            parser = tree_sitter_language_pack.get_parser(language)  # type: ignore[arg-type]
            grammar = tree_sitter_language_pack.get_language(language)  # type: ignore[arg-type]
            query = tree_sitter.Query(grammar, QUERIES[language])
            cache[language] = (parser, tree_sitter.QueryCursor(query))
        except Exception:  # no grammar, or a query this grammar version refuses
            cache[language] = None
    return cache[language]


def _shown(node: Node, source: bytes, kind: str) -> str:
    """What a model needs to use a definition, compactly: its doc comment (2 lines), its signature,
    the first line of its docstring, then `...` for the body; a class: its header, docstring line
    and its members' signatures."""
    start = node.start_byte
    # A doc comment just above (JSDoc, Go, Rust ///, Java): its last lines.
    above: list[str] = []
    comment = node.prev_named_sibling
    if comment is not None and "comment" in comment.type and node.start_point[0] - comment.end_point[0] <= 1:
        above = source[comment.start_byte : comment.end_byte].decode("utf-8", errors="replace").splitlines()[-2:]
    line_start = source.rfind(b"\n", 0, start) + 1
    lines = source[line_start : node.end_byte].decode("utf-8", errors="replace").splitlines()
    signature_end = next((i for i, line in enumerate(lines[:8]) if _ends_signature(line)), min(len(lines), 8) - 1)
    shown = [line.rstrip() for line in lines[: signature_end + 1]]
    rest = lines[signature_end + 1 :]
    first = rest[0].strip() if rest else ""
    if first.startswith(('"""', "'''", 'r"""')):
        shown.append(rest[0].rstrip())
        rest = rest[1:]
    if kind == "class":
        shown += _member_signatures(rest)
    elif rest:
        indent = rest[0][: len(rest[0]) - len(rest[0].lstrip())] or "    "
        shown.append(f"{indent}...")
    text = "\n".join(above + shown)
    return text[:MAX_CHARS] + "\n"


def _ends_signature(line: str) -> bool:
    code = line.split("#", 1)[0].rstrip() if "#" in line and '"' not in line else line.rstrip()
    return code.endswith((":", "{", ";", "=>")) or code.endswith("=> {")


_MEMBER_STARTS = ("def ", "async def ", "fn ", "pub fn ", "func ", "public ", "static ", "function ")


def _member_signatures(lines: list[str]) -> list[str]:
    """The signatures of a class's members (joined when they span lines), each followed by `...`."""
    members: list[str] = []
    i = 0
    while i < len(lines) and len(members) < CLASS_MEMBERS:
        stripped = lines[i].lstrip()
        if not stripped.startswith(_MEMBER_STARTS):
            i += 1
            continue
        indent = lines[i][: len(lines[i]) - len(stripped)]
        parts = [stripped.rstrip()]
        while not parts[-1].endswith((":", "{", ";")) and i + 1 < len(lines) and len(parts) < 6:
            i += 1
            parts.append(lines[i].strip())
        signature = " ".join(parts).replace("( ", "(").replace(", )", ")").rstrip("{").rstrip()
        members.append(f"{indent}{signature} ...")
        i += 1
    return members


def extract(source: bytes, language: str, path: str) -> list[Definition]:
    """The definitions of one file; [] for a language without a grammar or a file that fails."""
    tools = _tools(language)
    if tools is None:
        return []
    parser, cursor = tools
    try:
        tree = parser.parse(source)
        matches = cursor.matches(tree.root_node)
    except Exception:
        return []
    out: list[Definition] = []
    for _, captures in matches:
        names = captures.get("name") or []
        nodes = captures.get("def") or captures.get("cls") or []
        if not names or not nodes:
            continue
        kind = "function" if "def" in captures else "class"
        node, name_node = nodes[0], names[0]
        name = source[name_node.start_byte : name_node.end_byte].decode("utf-8", errors="replace")
        name = name.rsplit("::", 1)[-1]
        out.append(Definition(name, path, node.start_point[0] + 1, _shown(node, source, kind), kind))
    return out
