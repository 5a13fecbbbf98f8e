"""Identifiers, and the names the code at the cursor is likely to need.

Language-agnostic on purpose (regular expressions, no parse): it runs on every request. The names
wanted at a cursor are the identifiers near it (closer is stronger; calls and attribute accesses
count more), and the names the file imports, stronger when they share words with the enclosing
function's signature and docstring (the body being written often calls what its name says).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CALL = re.compile(r"(?:\.|\b)([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")

# Keywords and built-ins of the parsed languages: never looked up.
KEYWORDS = frozenset(
    """
    and as assert async await break case catch class const continue def default defer del do elif
    else enum except export extends false final finally fn for from func function go goto if impl
    import in instanceof interface is lambda let match mod mut new nil none not null or package pass
    private protected pub public raise return select self static struct super switch this throw
    throws trait true try type typedef typeof union unsafe use var void while with yield None True
    False int str float bool bytes list dict set tuple object len print range isinstance getattr
    setattr hasattr super char long short double unsigned signed sizeof string String Self usize
    u8 u16 u32 u64 i8 i16 i32 i64 f32 f64 Option Some Ok Err Result Vec Box println console log
    require module exports undefined async_ cls args kwargs value values key keys items get
    """.split()
)

# Import lines of the parsed languages (Python, JS/TS, Go, Rust, Java, C/C++): the names on them.
_IMPORT_LINE = re.compile(
    r"^\s*(?:from\s+(\S+)\s+import\s+(\([^)]*\)|.+)|import\s+(.+)|use\s+(.+);|#include\s+[<\"](.+)[>\"]"
    r"|(?:export\s+)?import\s*\{([^}]*)\}\s*from\s*['\"](.+)['\"])",
    re.MULTILINE,
)
_DEF_LINE = re.compile(r"^[ \t]*(?:async\s+)?(?:def|function|func|fn|class)\s+.*$", re.MULTILINE)
IMPORT_SCAN_CHARS = 20_000


@functools.lru_cache(maxsize=8192)
def name_words(name: str) -> frozenset[str]:
    """`words` of one identifier, remembered (the same imported names come back every request)."""
    return frozenset(words(name))


def words(text: str) -> set[str]:
    """Lower-case sub-words of identifiers: `get_auth_from_url` -> {get, auth, from, url}."""
    out: set[str] = set()
    for identifier in IDENTIFIER.findall(text):
        out.update(w.lower() for w in _WORD.findall(identifier) if len(w) > 2)
    return out


@dataclass(frozen=True)
class Imported:
    """A name the file imports and the module it comes from (its last dotted part, as a path hint)."""

    name: str
    module: str


def imported_names(head: str) -> list[Imported]:
    """The names imported in the text (the top of the file)."""
    found: list[Imported] = []
    for match in _IMPORT_LINE.finditer(head):
        from_module, from_names, plain, use, include, js_names, js_module = match.groups()
        if from_module is not None and from_names is not None:
            module = from_module.strip(".").rsplit(".", 1)[-1]
            listed = "\n".join(line.split("#", 1)[0] for line in from_names.splitlines())
            for name in IDENTIFIER.findall(listed):
                if name not in ("as", "import"):
                    found.append(Imported(name, module))
        elif js_names is not None and js_module is not None:
            module = js_module.rsplit("/", 1)[-1].split(".", 1)[0]
            found.extend(Imported(n, module) for n in IDENTIFIER.findall(js_names) if n != "as")
        elif plain is not None:
            for part in plain.split(","):
                dotted = part.strip().split(" ", 1)[0].strip("\"';")
                last = dotted.rsplit(".", 1)[-1].rsplit("/", 1)[-1]
                if IDENTIFIER.fullmatch(last):
                    found.append(Imported(last, last))
        elif use is not None:
            module = use.split("::")[-2] if "::" in use else ""
            found.extend(Imported(n, module) for n in IDENTIFIER.findall(use.rsplit("::", 1)[-1]))
        elif include is not None:
            stem = include.rsplit("/", 1)[-1].split(".", 1)[0]
            found.append(Imported(stem, stem))
    return found


def enclosing_signature(prefix: str) -> str:
    """The last definition line before the cursor and the lines after it (signature, docstring)."""
    starts = [match.start() for match in _DEF_LINE.finditer(prefix)]
    return prefix[starts[-1] :] if starts else ""


@dataclass(frozen=True)
class Wanted:
    name: str
    weight: float
    reason: str
    module: str = ""


def wanted_names(prefix: str, suffix: str, imports: Iterable[Imported], local: Iterable[str] = ()) -> list[Wanted]:
    """Names to look up, strongest first. `imports`: what the file imports (`imported_names`); `local`:
    names the file defines itself (never looked up elsewhere). An imported name is stronger for
    each word it shares with the enclosing function's signature and docstring and the lines just
    above the cursor."""
    skip = KEYWORDS | set(local)
    weights: dict[str, tuple[float, str]] = {}

    def want(name: str, weight: float, reason: str) -> None:
        if name in skip or len(name) < 3:
            return
        if weight > weights.get(name, (0.0, ""))[0]:
            weights[name] = (weight, reason)

    lines = prefix.splitlines()[-30:]
    for distance, line in enumerate(reversed(lines)):
        calls = set(_CALL.findall(line))
        for name in IDENTIFIER.findall(line):
            weight = 1.0 / (1 + distance / 4) * (1.5 if name in calls else 1.0)
            where = "at the cursor" if distance == 0 else f"{distance} lines above"
            want(name, weight, f"{'called' if name in calls else 'used'} {where}")
    for distance, line in enumerate(suffix.splitlines()[:10]):
        for name in IDENTIFIER.findall(line):
            want(name, 0.5 / (1 + distance / 2), f"used {distance + 1} lines below")

    modules: dict[str, str] = {}
    # The words of the enclosing function's signature and docstring, and of the lines just above.
    signature_words = words(enclosing_signature(prefix)[:2000]) | words("\n".join(lines[-8:]))
    for imported in imports:
        modules.setdefault(imported.name, imported.module)
        shared = name_words(imported.name) & signature_words
        weight = 0.3 + 0.4 * len(shared)
        why = f"imported, shares {', '.join(sorted(shared))} with the code here" if shared else "imported by the file"
        want(imported.name, weight, why)
    ranked = sorted(weights.items(), key=lambda item: -item[1][0])
    return [Wanted(name, weight, reason, modules.get(name, "")) for name, (weight, reason) in ranked]
