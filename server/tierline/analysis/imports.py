"""What a document imports, per language: stdlib, internal, external, and system-level.

Import classification (one bucket each, plus an orthogonal "system" flag):

* stdlib: ships with the language or platform (Python ``sys.stdlib_module_names``, Node builtins,
  Go paths without a dot, Rust ``std``/``core``/``alloc``, Java ``java.``/``javax.``, C/C++ standard
  and POSIX headers).
* internal: this project's own code. Relative imports (Python ``from . import``, JS ``./x``),
  Rust ``crate``/``self``/``super``, C/C++ ``#include "..."``, Java imports under the file's own
  package root (first three components of its ``package``). Without a workspace view an absolute
  Python or Go import of the project's own package cannot be told apart and counts as external.
* external: everything else (third-party packages: APIs a small model is less likely to know).
* system: process/OS/threads/sockets/FFI/unsafe. Counted on top of the bucket above, and Rust
  ``unsafe`` code or Java ``native`` methods count as one system "import" each (named ``unsafe`` /
  ``native``) without being an import.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tierline.analysis.nesting import NESTING

if TYPE_CHECKING:  # pragma: no cover
    from tree_sitter import Node, Tree


@dataclass(frozen=True)
class ImportSummary:
    """What a document imports; computed once per document version."""

    imports: int = 0
    stdlib_imports: int = 0
    external_imports: int = 0
    system_imports: int = 0
    names: tuple[str, ...] = ()
    # What code calls third-party imports by: the last part of each external module's name.
    external_names: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------
# Imports: (module, bucket, is_system) per import, then a summary.

STDLIB, EXTERNAL, INTERNAL = "stdlib", "external", "internal"

_PY_STDLIB = frozenset(sys.stdlib_module_names)
_PY_SYSTEM = frozenset(
    {
        "os",
        "subprocess",
        "ctypes",
        "threading",
        "multiprocessing",
        "socket",
        "signal",
        "mmap",
        "fcntl",
        "_thread",
        "select",
        "selectors",
        "pty",
        "tty",
        "termios",
        "resource",
        "posix",
        "nt",
        "msvcrt",
        "winreg",
        "_winapi",
        "socketserver",
        "concurrent",
        "cffi",
        "psutil",
        "pywintypes",
        "win32api",
    }
)

_NODE_BUILTINS = frozenset(
    {
        "assert",
        "async_hooks",
        "buffer",
        "child_process",
        "cluster",
        "console",
        "constants",
        "crypto",
        "dgram",
        "diagnostics_channel",
        "dns",
        "domain",
        "events",
        "fs",
        "http",
        "http2",
        "https",
        "inspector",
        "module",
        "net",
        "os",
        "path",
        "perf_hooks",
        "process",
        "punycode",
        "querystring",
        "readline",
        "repl",
        "stream",
        "string_decoder",
        "sys",
        "test",
        "timers",
        "tls",
        "trace_events",
        "tty",
        "url",
        "util",
        "v8",
        "vm",
        "wasi",
        "worker_threads",
        "zlib",
    }
)
_JS_SYSTEM = frozenset(
    {
        "child_process",
        "fs",
        "net",
        "tls",
        "dgram",
        "worker_threads",
        "cluster",
        "os",
        "tty",
        "process",
        "ffi-napi",
        "koffi",
        "bindings",
        "node-gyp-build",
        "node-pty",
    }
)

_GO_SYSTEM = frozenset({"syscall", "unsafe", "os", "os/exec", "os/signal", "os/user", "net", "C", "runtime/cgo"})
_GO_SYSTEM_PREFIXES = ("syscall/", "golang.org/x/sys/")

_RUST_STDLIB = frozenset({"std", "core", "alloc", "proc_macro", "test"})
_RUST_INTERNAL = frozenset({"crate", "self", "super"})
_RUST_SYSTEM_PREFIXES = (
    "std::ptr",
    "core::ptr",
    "std::process",
    "std::thread",
    "std::net",
    "std::os",
    "core::arch",
    "std::arch",
    "std::ffi",
    "core::ffi",
    "std::sync::atomic",
    "core::sync::atomic",
    "libc",
    "nix",
    "winapi",
    "windows_sys",
)

_JAVA_SYSTEM_PREFIXES = (
    "java.lang.reflect",
    "java.net",
    "javax.net",
    "sun.misc",
    "java.util.concurrent",
    "java.nio.channels",
    "java.lang.invoke",
    "jdk.internal",
)

# C and C++ standard headers plus the common POSIX ones: they come with the platform.
_C_STD_HEADERS = frozenset(
    "assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h locale.h math.h "
    "setjmp.h signal.h stdalign.h stdarg.h stdatomic.h stdbool.h stddef.h stdint.h stdio.h stdlib.h "
    "stdnoreturn.h string.h tgmath.h threads.h time.h uchar.h wchar.h wctype.h "
    # POSIX
    "aio.h arpa/inet.h dirent.h dlfcn.h fcntl.h fnmatch.h glob.h grp.h iconv.h langinfo.h libgen.h "
    "netdb.h netinet/in.h netinet/tcp.h nl_types.h poll.h pthread.h pwd.h regex.h sched.h "
    "semaphore.h spawn.h strings.h syslog.h termios.h unistd.h utime.h wordexp.h malloc.h alloca.h "
    "execinfo.h err.h getopt.h paths.h".split()
)
_CPP_STD_HEADERS = frozenset(
    "algorithm any array atomic barrier bit bitset cassert cctype cerrno cfenv cfloat charconv "
    "chrono cinttypes climits clocale cmath codecvt compare complex concepts condition_variable "
    "coroutine csetjmp csignal cstdarg cstddef cstdint cstdio cstdlib cstring ctime cuchar cwchar "
    "cwctype deque exception execution expected filesystem format forward_list fstream functional "
    "future initializer_list iomanip ios iosfwd iostream istream iterator latch limits list locale "
    "map memory memory_resource mutex new numbers numeric optional ostream print queue random "
    "ranges ratio regex scoped_allocator semaphore set shared_mutex source_location span sstream "
    "stack stacktrace stdexcept stop_token streambuf string string_view syncstream system_error "
    "thread tuple type_traits typeindex typeinfo unordered_map unordered_set utility valarray "
    "variant vector version".split()
)
_C_SYSTEM_HEADERS = frozenset(
    "pthread.h unistd.h signal.h csignal dlfcn.h fcntl.h termios.h poll.h sched.h spawn.h "
    "semaphore.h netdb.h threads.h stdatomic.h thread mutex atomic future condition_variable "
    "shared_mutex semaphore latch barrier stop_token windows.h winsock2.h ws2tcpip.h io.h process.h".split()
)
_C_SYSTEM_PREFIXES = ("sys/", "netinet/", "arpa/", "linux/", "mach/", "mach-o/", "net/")

# Imports below these (module-level) nodes are still counted: `try: import x`, `#ifdef` guards.
_IMPORT_CONTAINERS: dict[str, frozenset[str]] = {
    "python": frozenset(
        {
            "if_statement",
            "try_statement",
            "block",
            "else_clause",
            "elif_clause",
            "except_clause",
            "finally_clause",
            "with_statement",
        }
    ),
    "c": frozenset(
        {
            "preproc_if",
            "preproc_ifdef",
            "preproc_elif",
            "preproc_else",
            "preproc_elifdef",
            "linkage_specification",
            "declaration_list",
        }
    ),
    "rust": frozenset({"attribute_item"}),
}
_IMPORT_CONTAINERS["cpp"] = _IMPORT_CONTAINERS["c"] | {"namespace_definition"}

_MAX_CONTAINER_DEPTH = 6


def _top_level(root: Node, language: str) -> Iterator[Node]:
    """Module-level nodes, looking inside conditional/guard wrappers but not into code bodies."""
    containers = _IMPORT_CONTAINERS.get(language, frozenset())
    stack: list[tuple[Node, int]] = [(child, 0) for child in reversed(root.children)]
    while stack:
        node, level = stack.pop()
        yield node
        if node.type in containers and level < _MAX_CONTAINER_DEPTH:
            stack.extend((child, level + 1) for child in reversed(node.children))


def _text(source: bytes, node: Node | None) -> str:
    if node is None:
        return ""
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _unquote(text: str) -> str:
    return text.strip().strip("\"'`<>")


# --- Python


def _python_bucket(module: str) -> tuple[str, bool]:
    if module.startswith("."):
        return INTERNAL, False
    top = module.split(".", 1)[0]
    bucket = STDLIB if top in _PY_STDLIB else EXTERNAL
    return bucket, top in _PY_SYSTEM


def _python_imports(source: bytes, root: Node) -> Iterator[tuple[str, str, bool]]:
    for node in _top_level(root, "python"):
        modules: list[str] = []
        if node.type == "import_statement":
            for name in node.children_by_field_name("name"):
                target = name.child_by_field_name("name") if name.type == "aliased_import" else name
                modules.append(_text(source, target))
        elif node.type == "import_from_statement":
            modules.append(_text(source, node.child_by_field_name("module_name")))
        elif node.type == "future_import_statement":
            modules.append("__future__")
        for module in modules:
            module = "".join(module.split())
            if module:
                yield (module, *_python_bucket(module))


# --- JavaScript / TypeScript

_SKIP_JS = ("function", "arrow_function", "class", "statement_block", "method_definition", "class_body")


def _js_bucket(module: str) -> tuple[str, bool]:
    if module.startswith((".", "/", "~/", "@/", "#")):
        return INTERNAL, False
    bare = module[5:] if module.startswith("node:") else module
    top = bare.split("/", 1)[0] if not bare.startswith("@") else "/".join(bare.split("/", 2)[:2])
    if module.startswith("node:") or top in _NODE_BUILTINS:
        return STDLIB, top in _JS_SYSTEM
    return EXTERNAL, top in _JS_SYSTEM


def _js_requires(source: bytes, node: Node, budget: list[int]) -> Iterator[str]:
    """`require("x")` calls inside one module-level statement, not inside functions or classes."""
    stack = [node]
    while stack and budget[0] > 0:
        current = stack.pop()
        budget[0] -= 1
        if current.type == "call_expression":
            function = current.child_by_field_name("function")
            arguments = current.child_by_field_name("arguments")
            if (
                function is not None
                and function.type == "identifier"
                and _text(source, function) == "require"
                and arguments is not None
                and arguments.named_child_count >= 1
                and arguments.named_children[0].type in ("string", "template_string")
            ):
                yield _unquote(_text(source, arguments.named_children[0]))
                continue
        if any(part in current.type for part in _SKIP_JS):
            continue
        stack.extend(reversed(current.named_children))


def _js_imports(source: bytes, root: Node, language: str) -> Iterator[tuple[str, str, bool]]:
    budget = [20000]  # nodes visited looking for require(): bounds pathological module objects
    for node in _top_level(root, language):
        modules: list[str] = []
        if node.type in ("import_statement", "export_statement"):
            source_node = node.child_by_field_name("source")
            if source_node is None:  # TS: import x = require("y")
                for child in node.named_children:
                    if child.type == "import_require_clause":
                        source_node = child.child_by_field_name("source")
            if source_node is not None:
                modules.append(_unquote(_text(source, source_node)))
            elif node.type == "export_statement":
                modules.extend(_js_requires(source, node, budget))
        elif node.type in ("lexical_declaration", "variable_declaration", "expression_statement"):
            modules.extend(_js_requires(source, node, budget))
        for module in modules:
            if module:
                yield (module, *_js_bucket(module))


# --- Go


def _go_bucket(path: str) -> tuple[str, bool]:
    system = path in _GO_SYSTEM or path.startswith(_GO_SYSTEM_PREFIXES)
    if path == "C":  # cgo
        return EXTERNAL, True
    if path.startswith("."):
        return INTERNAL, system
    return (STDLIB if "." not in path.split("/", 1)[0] else EXTERNAL), system


def _go_imports(source: bytes, root: Node) -> Iterator[tuple[str, str, bool]]:
    for node in root.children:
        if node.type != "import_declaration":
            continue
        specs = [c for c in node.named_children if c.type == "import_spec"]
        for spec_list in (c for c in node.named_children if c.type == "import_spec_list"):
            specs.extend(c for c in spec_list.named_children if c.type == "import_spec")
        for spec in specs:
            path = _unquote(_text(source, spec.child_by_field_name("path")))
            if path:
                yield (path, *_go_bucket(path))


# --- Rust


def _rust_paths(source: bytes, node: Node | None, prefix: str = "") -> list[str]:
    """Expand a use tree into full paths: std::{fs, io::Read} -> std::fs, std::io::Read."""
    if node is None:
        return [prefix] if prefix else []

    def join(tail: str) -> str:
        return f"{prefix}::{tail}" if prefix else tail

    if node.type == "use_as_clause":
        return _rust_paths(source, node.child_by_field_name("path"), prefix)
    if node.type == "scoped_use_list":
        base = node.child_by_field_name("path")
        new_prefix = join(_text(source, base)) if base is not None else prefix
        return _rust_paths(source, node.child_by_field_name("list"), new_prefix)
    if node.type == "use_list":
        paths: list[str] = []
        for child in node.named_children:
            paths.extend(_rust_paths(source, child, prefix))
        return paths
    if node.type == "use_wildcard":
        inner = node.named_children[0] if node.named_children else None
        return [join(_text(source, inner))] if inner is not None else [prefix]
    if node.type == "self":
        return [prefix] if prefix else ["self"]
    return [join("".join(_text(source, node).split()))]


def _rust_bucket(paths: list[str]) -> tuple[str, bool]:
    root = paths[0].split("::", 1)[0] if paths else ""
    root = root.lstrip(":")
    if root in _RUST_INTERNAL:
        bucket = INTERNAL
    elif root in _RUST_STDLIB:
        bucket = STDLIB
    else:
        bucket = EXTERNAL
    system = any(p == s or p.startswith(s + "::") for p in paths for s in _RUST_SYSTEM_PREFIXES)
    return bucket, system


def _rust_imports(source: bytes, root: Node) -> Iterator[tuple[str, str, bool]]:
    for node in root.children:
        if node.type == "use_declaration":
            argument = node.child_by_field_name("argument")
            paths = _rust_paths(source, argument)
            if paths:
                yield ("".join(_text(source, argument).split()), *_rust_bucket(paths))
        elif node.type == "extern_crate_declaration":
            name = _text(source, node.child_by_field_name("name"))
            if name:
                yield (name, *_rust_bucket([name]))


# --- Java


def _java_package(name: str) -> str:
    """okhttp3.Call -> okhttp3; a.b.C.D -> a.b. Java imports one class per line; counting
    packages keeps Java comparable with languages that import a module once."""
    parts = name.split(".")
    while len(parts) > 1 and (parts[-1] == "*" or parts[-1][:1].isupper()):
        parts.pop()
    return ".".join(parts)


def _java_imports(source: bytes, root: Node) -> Iterator[tuple[str, str, bool]]:
    package = ""
    for node in root.children:
        if node.type == "package_declaration":
            package = "".join(_text(source, node).removeprefix("package").rstrip(";").split())
        elif node.type == "import_declaration":
            name = "".join(_text(source, node).removeprefix("import").rstrip(";").split())
            name = _java_package(name.removeprefix("static"))
            if not name:
                continue
            own_root = ".".join(package.split(".")[:3])
            if name.startswith(("java.", "javax.", "jdk.", "sun.")):
                bucket = STDLIB
            elif own_root and (name == own_root or name.startswith(own_root + ".")):
                bucket = INTERNAL
            else:
                bucket = EXTERNAL
            system = name.startswith(_JAVA_SYSTEM_PREFIXES)
            yield (name, bucket, system)


# --- C / C++


def _c_bucket(header: str, quoted: bool, language: str) -> tuple[str, bool]:
    system = header in _C_SYSTEM_HEADERS or header.startswith(_C_SYSTEM_PREFIXES)
    if quoted:
        return INTERNAL, system
    standard = header in _C_STD_HEADERS or (language == "cpp" and header in _CPP_STD_HEADERS)
    return (STDLIB if standard or header.startswith(_C_SYSTEM_PREFIXES) else EXTERNAL), system


def _c_imports(source: bytes, root: Node, language: str) -> Iterator[tuple[str, str, bool]]:
    for node in _top_level(root, language):
        if node.type != "preproc_include":
            continue
        path = node.child_by_field_name("path")
        if path is None or path.type not in ("system_lib_string", "string_literal"):
            continue  # #include MACRO
        header = _unquote(_text(source, path))
        if header:
            yield (header, *_c_bucket(header, path.type == "string_literal", language))


# --- Unsafe code and native methods: anywhere in the tree, found by a (C-speed) query.

_KEYWORD_QUERIES: dict[str, tuple[str, str]] = {
    "rust": ('"unsafe" @keyword', "unsafe"),
    "java": ('(modifiers "native" @keyword)', "native"),
}
_queries: dict[str, object] = {}


def _has_keyword(tree: Tree, language: str) -> bool:
    spec = _KEYWORD_QUERIES.get(language)
    if spec is None:
        return False
    try:
        from tree_sitter import Query, QueryCursor

        query = _queries.get(language)
        if query is None:
            query = _queries[language] = Query(tree.language, spec[0])
        cursor = QueryCursor(query)  # type: ignore[arg-type]
        return bool(cursor.captures(tree.root_node))
    except Exception:  # a grammar without that node type: no signal, not an error
        return False


# --- Regex fallback for unparsed languages (and a missing tree).

_FALLBACK_PATTERNS = (
    re.compile(rb"^\s*#\s*include\s*([<\"][^>\"\n]+[>\"])", re.M),
    re.compile(rb"\brequire(?:_relative)?\s*\(?\s*['\"]([\w./@:+-]+)['\"]", re.M),
    re.compile(rb"^\s*(?:import|from|use|using|open|load)\s+['\"]?([A-Za-z_@.][\w.:/@-]*)", re.M),
)
_FALLBACK_SYSTEM = re.compile(
    r"(^|[./:])(os|sys|subprocess|socket|thread|threads|threading|process|ffi|ctypes|unsafe|posix|"
    r"signal|net|child_process|fs|io\.popen|libc|open3|etc|fiddle|pty)($|[./:])"
)


def _fallback_imports(source: bytes) -> Iterator[tuple[str, str, bool]]:
    for pattern in _FALLBACK_PATTERNS:
        for match in pattern.finditer(source[:200_000]):
            name = match.group(1).decode("utf-8", "replace")
            quoted = name.startswith('"') or name.startswith(".")
            name = name.strip('<>"')
            if not name:
                continue
            bucket = INTERNAL if quoted or name.startswith(("./", "../")) else EXTERNAL
            yield (name, bucket, bool(_FALLBACK_SYSTEM.search(name)))


def _summarize(entries: Iterable[tuple[str, str, bool]], extra_system: tuple[str, ...] = ()) -> ImportSummary:
    seen: dict[str, tuple[str, bool]] = {}
    for name, bucket, system in entries:
        seen.setdefault(name, (bucket, system))
    buckets = [b for b, _ in seen.values()]
    return ImportSummary(
        imports=len(seen),
        stdlib_imports=buckets.count(STDLIB),
        external_imports=buckets.count(EXTERNAL),
        system_imports=sum(1 for _, s in seen.values() if s) + len(extra_system),
        names=tuple(seen) + extra_system,
        external_names=tuple(
            sorted({_last_part(name) for name, (bucket, _) in seen.items() if bucket == EXTERNAL} - {""})
        ),
    )


def _last_part(module: str) -> str:
    """`github.com/pkg/errors` -> errors, `@scope/pkg` -> pkg, `a::b::C` -> C, `x.h` -> x."""
    name = module.strip("<>\"'").rsplit("/", 1)[-1].rsplit("::", 1)[-1]
    name = name.removesuffix(".h").removesuffix(".hpp").removesuffix(".js")
    return name.rsplit(".", 1)[-1] if "." in name else name


def summarize_imports(source: bytes, tree: Tree | None, language: str) -> ImportSummary:
    """Count a document's imports by kind. Never raises: a surprise yields the regex fallback."""
    try:
        if tree is None or language not in NESTING:
            return _summarize(_fallback_imports(source))
        root = tree.root_node
        if language == "python":
            entries: Iterable[tuple[str, str, bool]] = _python_imports(source, root)
        elif language in ("javascript", "typescript", "tsx"):
            entries = _js_imports(source, root, language)
        elif language == "go":
            entries = _go_imports(source, root)
        elif language == "rust":
            entries = _rust_imports(source, root)
        elif language == "java":
            entries = _java_imports(source, root)
        else:
            entries = _c_imports(source, root, language)
        entries = list(entries)
        extra = (_KEYWORD_QUERIES[language][1],) if _has_keyword(tree, language) else ()
        return _summarize(entries, extra)
    except Exception:
        try:
            return _summarize(_fallback_imports(source))
        except Exception:
            return ImportSummary()
