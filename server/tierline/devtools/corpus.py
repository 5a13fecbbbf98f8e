"""Plausible completions for the simulator: a small corpus of real-looking snippets per language.

The default simulator answer (``result = tl_<model>_<hash>(value)``) names the model that gave it,
which is what tests need. The demo needs the opposite: code a developer would recognise, in the
document's language, fitting the position. ``corpus_completion`` picks a snippet by:

- the language (from the chat prompt's ``Language:`` line, else guessed from the code);
- the situation at the cursor (a function body, a loop, error handling, a test, the rest of a line
  already started) read from the line that opens the current block;
- names found in the context (the enclosing function, a held lock, the loop variable, the list being
  filled, the module imported) filled into the snippet;
- the model's tier on hard positions (deep nesting or system code): premium and mid models answer
  the careful version (release the lock, check the status, keep the result), cheap models the naive
  one. On easy positions every model answers the same, as real models mostly do.

Deterministic: the same model and context always give the same answer.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from string import Template
from typing import TypeVar

from tierline import config as tl_config

T = TypeVar("T")

# A snippet is code with $placeholders; lines after the first are indented relative to the cursor.


@dataclass(frozen=True)
class Snippet:
    code: str
    naive: str | None = None  # what a cheap model answers on a hard position; None: same as code
    needs: tuple[str, ...] = ()  # words that must occur before the cursor for this snippet to fit


@dataclass(frozen=True)
class Language:
    indent: str
    situations: dict[str, tuple[Snippet, ...]] = field(default_factory=dict)


S = Snippet

PYTHON = Language(
    "    ",
    {
        "function": (
            S("return $first + $second", needs=("def add(",)),
            S('return f"Hello, {$first}!"', needs=("def greet(",)),
            S('with open($first, encoding="utf-8") as f:\n    return json.load(f)', needs=("def load", "json")),
            S('if not $first:\n    raise ValueError(f"$name needs a value, got {$first!r}")\nreturn $first'),
            S("result = []\nfor item in $first:\n    result.append(item)\nreturn result"),
            S('logger.debug("$name(%r)", $first)\nreturn $first', needs=("logger",)),
        ),
        "test": (
            S("assert $tested(-2, -3) == -5", needs=("def test_add_negative(",)),
            S("assert $tested(2, 3) == 5\nassert $tested(0, 0) == 0", needs=("def test_add(",)),
            S('assert $tested("Ada") == "Hello, Ada!"', needs=("def test_greet(",)),
            S("with pytest.raises(ValueError):\n    $tested(None)", needs=("pytest",)),
            S("result = $tested()\nassert result is not None"),
        ),
        "try": (
            S(
                "response = httpx.get($var, timeout=10)\nresponse.raise_for_status()\n"
                "$list.append(pd.DataFrame(response.json()))",
                naive="data = httpx.get($var).json()",
                needs=("httpx", "pd"),
            ),
            S(
                'with open($var, encoding="utf-8") as f:\n    $list.append(f.read())',
                naive="data = open($var).read()",
            ),
        ),
        "loop": (
            S(
                "if $var is None:\n    continue\n$list.append($var)",
                naive="$list.append($var)",
            ),
            S("total += $var", needs=("total",)),
            S("print($var)"),
        ),
        "error": (
            S(
                'logger.exception("$call failed")\nraise',
                naive="pass",
            ),
            S("return None", naive="pass"),
        ),
        "statement": (
            S("self.$first = $first", needs=("self",)),
            S("if not os.path.exists(path):\n    os.makedirs(path, exist_ok=True)", needs=("os",)),
            S("data = json.loads(text)", needs=("json",)),
            S("return result", needs=("result",)),
            S("value = value.strip()"),
        ),
    },
)

C = Language(
    "    ",
    {
        "function": (
            S("if ($first == NULL)\n    return -1;"),
            S("memset($first, 0, sizeof(*$first));"),
        ),
        "error": (
            S(
                'perror("$call");\npthread_mutex_unlock($lock);\nreturn $fail;',
                naive="return $fail;",
                needs=("pthread_mutex_lock",),
            ),
            S('perror("$call");\nclose(fd);\nreturn $fail;', naive="return $fail;", needs=("fd",)),
            S('fprintf(stderr, "$call failed\\n");\nreturn $fail;', naive="exit(1);"),
        ),
        "loop": (
            S("if ($var == NULL)\n    break;", naive="$var++;"),
            S("count++;"),
        ),
        "statement": (
            S("free(buf);\nbuf = NULL;", needs=("buf",)),
            S("len = strlen(s);", needs=("strlen",)),
            S("return 0;"),
        ),
    },
)

GO = Language(
    "\t",
    {
        "error": (
            S('return nil, fmt.Errorf("$call: %w", err)', naive="panic(err)", needs=(", error) {",)),
            S('return fmt.Errorf("$call: %w", err)', naive="panic(err)"),
        ),
        "loop": (S("if $var == nil {\n\tcontinue\n}\nout = append(out, $var)", naive="out = append(out, $var)"),),
        "function": (
            S("if $first == nil {\n\treturn nil\n}"),
            S("$mu.Lock()\ndefer $mu.Unlock()", needs=(".Lock()",)),
        ),
        "statement": (
            S("defer f.Close()", needs=("os.Open",)),
            S("if err != nil {\n\treturn err\n}", needs=("err",)),
            S("return nil"),
        ),
    },
)

RUST = Language(
    "    ",
    {
        "error": (
            S("return Err(io::Error::last_os_error());", naive='panic!("$call failed");', needs=("io",)),
            S("return Err(e.into());", naive="unreachable!();"),
        ),
        "loop": (S("if $var.is_empty() {\n    continue;\n}\nout.push($var);", naive="out.push($var);"),),
        "function": (
            S("let mut out = Vec::new();\nOk(out)", needs=("Result",)),
            S("self.$first = $first;", needs=("self",)),
        ),
        "statement": (
            S("let len = buf.len();", needs=("buf",)),
            S("Ok(())", needs=("Result",)),
            S("None"),
        ),
    },
)

JAVA = Language(
    "    ",
    {
        "error": (
            S('throw new IllegalStateException("$call failed", e);', naive="e.printStackTrace();"),
            S('FLog.e(TAG, "$call failed", e);\nreturn;', naive="e.printStackTrace();", needs=("FLog",)),
        ),
        "loop": (S("if ($var == null) {\n    continue;\n}\nresult.add($var);", naive="result.add($var);"),),
        "function": (
            S("this.$first = $first;", needs=("this",)),
            S("Assertions.assertNotNull($first);", needs=("Assertions",)),
        ),
        "statement": (S("return null;"), S("mCallback = null;", needs=("mCallback",))),
    },
)

JAVASCRIPT = Language(
    "  ",
    {
        "error": (
            S("this.emit('error', err);\nreturn;", naive="console.log(err);", needs=("emit",)),
            S("callback(err);\nreturn;", naive="throw err;", needs=("callback",)),
            S("throw new Error(`$call failed: ${err.message}`);", naive="console.log(err);"),
        ),
        "loop": (S("if ($var === undefined) continue;\nresult.push($var);", naive="result.push($var);"),),
        "function": (
            S("if (typeof $first !== 'string') {\n  throw new TypeError('$first must be a string');\n}"),
            S("return this;", needs=("this",)),
        ),
        "test": (S("expect($tested()).toBe(true);", needs=("expect",)),),
        "statement": (
            S("const { headers } = options;", needs=("options",)),
            S("res.setHeader('Content-Type', 'application/json');", needs=("res",)),
            S("return null;"),
        ),
    },
)

TYPESCRIPT = Language(
    "  ",
    {
        **JAVASCRIPT.situations,
        "function": (
            S("if ($first === undefined) {\n  return undefined;\n}"),
            S("const result: string[] = [];\nreturn result;"),
        ),
    },
)

CPP = Language(
    "  ",
    {
        "error": (
            S(
                'GTEST_LOG_(FATAL) << "$call failed: " << errno;\nreturn false;',
                naive="return false;",
                needs=("GTEST_LOG_",),
            ),
            S('throw std::runtime_error("$call failed");', naive="return -1;"),
        ),
        "loop": (S("if ($var.empty()) continue;\nresult.push_back($var);", naive="result.push_back($var);"),),
        "function": (S("std::lock_guard<std::mutex> lock(mutex_);", needs=("mutex",)), S("return {};")),
        "statement": (S("return result;", needs=("result",)), S("return 0;")),
    },
)

LUA = Language(
    "  ",
    {
        "error": (S("return nil, err", naive="error(err)"),),
        "loop": (S("if $var ~= nil then\n  table.insert(result, $var)\nend", naive="table.insert(result, $var)"),),
        "function": (S("local result = {}\nreturn result"), S("if not $first then\n  return nil\nend")),
        "statement": (S("return result", needs=("result",)), S("return nil")),
    },
)

RUBY = Language(
    "  ",
    {
        "error": (S('raise ArgumentError, "$call failed: #{e.message}"', naive="puts e"),),
        "loop": (S("next if $var.nil?\nresult << $var", naive="result << $var"),),
        "function": (S("@$first = $first"), S("return nil if $first.nil?")),
        "statement": (S("result", needs=("result",)), S("nil")),
    },
)

LANGUAGES: dict[str, Language] = {
    "lua": LUA,
    "ruby": RUBY,
    "python": PYTHON,
    "c": C,
    "cpp": CPP,
    "go": GO,
    "rust": RUST,
    "java": JAVA,
    "javascript": JAVASCRIPT,
    "typescript": TYPESCRIPT,
    "tsx": TYPESCRIPT,
}
_ALIASES = {
    "c++": "cpp",
    "js": "javascript",
    "ts": "typescript",
    "typescriptreact": "tsx",
    "javascriptreact": "javascript",
}

# Signs of code that is hard to get right: deep nesting is measured separately.
_SYSTEM_WORDS = re.compile(
    r"\b(pthread_\w+|mmap|munmap|dlopen|socket|fork|syscall|unsafe|subprocess|ctypes|threading|"
    r"signal|epoll|asyncio|Mutex|atomic)\b"
)
HARD_DEPTH = 3  # indentation levels at the cursor from which a position counts as hard


def tier_of(model: str) -> str:
    """The built-in registry's tier for a model id or name; an unknown model counts as mid."""
    for entry in tl_config.DEFAULT_MODELS:
        if model in (entry["model"], entry["name"]):
            return str(entry["tier"])
    lowered = model.lower()
    if "opus" in lowered or "premium" in lowered:
        return "premium"
    if any(word in lowered for word in ("flash", "mini", "coder", "cheap", "small")):
        return "cheap"
    return "mid"


# Signs of each language in code, for FIM requests (which carry no language): the most signs win.
_SIGNS: dict[str, re.Pattern[str]] = {
    "python": re.compile(r"^\s*(def|class|elif|except|with)\b.*:\s*$|\bself\.|^\s*(import|from) [\w.]+|\bNone\b", re.M),
    "go": re.compile(r":=|\berr != nil\b|^func\b|^package \w+|\bnil\b", re.M),
    "rust": re.compile(r"\bfn \w+|\blet (mut )?\w+|\bimpl\b|&self\b|\bSome\(|\bOk\(|::new\("),
    "java": re.compile(r"\b(public|private|protected) (static |final )*[\w<>\[\]]+ \w+\(|@Override|\bnew \w+\("),
    "c": re.compile(r"^#include\b|->\w|\bNULL\b|\b(int|char|void|size_t|unsigned) \*?\w+", re.M),
    "cpp": re.compile(r"\bstd::|\bnullptr\b|\bnamespace\b|\btemplate\s*<|::\w+\("),
    "javascript": re.compile(r"\b(const|let|var) \w+ =|=>|===|\bfunction\b|\bthis\.\w+"),
    "typescript": re.compile(r"\w: (string|number|boolean|void)\b|\binterface \w+|\breadonly\b|<\w+>\("),
    "lua": re.compile(r"^\s*local \w+|\bthen\s*$|^\s*end\s*$|\belseif\b|\bnil\b|~=", re.M),
    "ruby": re.compile(
        r"^\s*(def \w+[?!]?(\(|\s*$)|end\s*$|module \w+|require ['\"])|\battr_\w+|\bunless\b|@[a-z_]\w*", re.M
    ),
}


def guess_language(prefix: str) -> str:
    """A FIM request carries no language: guess it from the code before the cursor."""
    head = prefix[-3000:]
    counts = {name: len(sign.findall(head)) for name, sign in _SIGNS.items()}
    if counts["cpp"]:
        counts["cpp"] += counts["c"]  # C++ code shows C's signs too
    if counts["typescript"]:
        counts["typescript"] += counts["javascript"]
    best = max(counts, key=lambda name: counts[name])
    return best if counts[best] else "python"


@dataclass(frozen=True)
class Context:
    """What the snippet choice reads from the code around the cursor."""

    prefix: str
    line_prefix: str  # the cursor's line up to the cursor
    opener: str  # the last non-blank line before the cursor's line
    depth: int


def _context(prefix: str, indent_unit: str) -> Context:
    lines = prefix.split("\n")
    line_prefix = lines[-1]
    opener = next((line for line in reversed(lines[:-1]) if line.strip()), "")
    indent = line_prefix[: len(line_prefix) - len(line_prefix.lstrip())]
    if not line_prefix.strip() and not indent:
        indent = opener[: len(opener) - len(opener.lstrip())]
    width = len(indent.expandtabs(len(indent_unit.expandtabs(4)) or 4))
    return Context(prefix, line_prefix, opener, width // max(1, len(indent_unit.expandtabs(4))))


def situation(ctx: Context, tested: str | None) -> str:
    opener = ctx.opener.strip()
    if re.search(r"^(if|elif|while)\b.*(!= 0|< 0|== -1|== NULL|!= nil|\bis None|\.is_err\(\))", opener):
        return "error"
    if re.search(r"^(except\b|catch\b|\}\s*catch\b|Err\()", opener) or opener.startswith("} catch"):
        return "error"
    if opener == "try:":
        return "try"
    if re.search(r"^(for|while)\b|\.forEach\(", opener):
        return "loop"
    if tested is not None:
        return "test"
    if re.search(r"^(async\s+)?def |^func |^(pub\s+)?fn |^function |\)\s*(->.*)?[:{]$", opener):
        return "function"
    return "statement"


def _hardness(ctx: Context) -> bool:
    return ctx.depth >= HARD_DEPTH or bool(_SYSTEM_WORDS.search(ctx.prefix[-3000:]))


_FUNCTION = re.compile(
    r"(?:\bdef|\bfunc(?:\s*\([^)]*\))?|\bfn|\bfunction)\s+(\w+)\s*\(([^)]*)\)"
    r"|^[\w* \t]+?[ \t*](\w+)[ \t]*\(([^;)]*)\)[ \t]*\{?[ \t]*$",  # one line: no backtracking across lines
    re.MULTILINE,
)


_KEYWORDS = frozenset({"if", "while", "for", "switch", "catch", "return", "sizeof", "else"})


def _names(ctx: Context) -> dict[str, str]:
    """Names from the context to fill into a snippet; each has a fallback."""
    prefix = ctx.prefix[-3000:]
    names = {"name": "value", "first": "value", "second": "other", "var": "item", "list": "results"}
    functions = [m for m in _FUNCTION.finditer(prefix) if (m.group(1) or m.group(3)) not in _KEYWORDS]
    if functions:
        match = functions[-1]
        names["name"] = match.group(1) or match.group(3) or "value"
        params = [
            re.sub(r"[:=].*", "", p).strip().split()[-1].lstrip("*&") if p.strip() else ""
            for p in (match.group(2) if match.group(1) else match.group(4) or "").split(",")
        ]
        params = [p for p in params if re.fullmatch(r"[A-Za-z_]\w*", p) and p not in ("self", "cls", "void")]
        if params:
            names["first"] = params[0]
            names["second"] = params[1] if len(params) > 1 else params[0]
        signature = match.group(0)
        names["fail"] = "NULL" if re.search(r"\*\s*\w+\s*\(", signature) else ("" if "void " in signature else "-1")
    names["fail"] = names.get("fail", "-1")
    if loop := re.findall(
        r"\bfor\s*\(?\s*(?:\w+\s+)?(?:const\s+|let\s+|var\s+|auto\s*&?\s*)?(\w+)\s*(?:in|:|=|,)", prefix
    ):
        names["var"] = loop[-1]
    if lists := re.findall(r"(\w+)\s*=\s*\[\]", prefix):
        names["list"] = lists[-1]
    # The call whose failure is being handled: in the opener (`if (munmap(...) != 0) {`), else in
    # the lines just above it (`data, err := os.ReadFile(path)` before `if err != nil {`).
    recent = [line for line in ctx.prefix.split("\n")[:-1] if line.strip()][-3:]
    calls = [
        c
        for line in [ctx.opener, *reversed(recent)]
        for c in re.findall(r"(\w+)\s*\(", line)
        if c not in _KEYWORDS and c != names["name"]
    ]
    names["call"] = calls[0] if calls else names["name"]
    locks = re.findall(r"pthread_mutex_lock\(([^)]+)\)", prefix)
    names["lock"] = locks[-1] if locks else "&lock"
    mutexes = re.findall(r"(\w+(?:\.\w+)?)\.Lock\(\)", prefix)
    names["mu"] = mutexes[-1] if mutexes else "mu"
    return names


def _tested(prefix: str) -> str | None:
    """In a test function: the name under test (``test_add_negative`` -> ``add``)."""
    tests = re.findall(r"(?:def|func|fn|function)\s+[Tt]est_?(\w+)\s*\(", prefix[-1500:])
    if not tests:
        return None
    last: str = tests[-1]
    return last.split("_")[0] or last


def _fitting(snippets: tuple[Snippet, ...], ctx: Context) -> list[Snippet]:
    """Snippets whose words occur before the cursor; the ones that name something specific first,
    the most recently named first (in ``test_add_negative``, its own snippet beats ``test_add``'s)."""
    fitting = [s for s in snippets if all(word in ctx.prefix for word in s.needs)]
    specific = [s for s in fitting if s.needs]
    if not specific:
        return fitting
    recency = {s: min(ctx.prefix.rfind(word) for word in s.needs) for s in specific}
    latest = max(recency.values())
    return [s for s in specific if recency[s] == latest]


def _choose(pool: list[T], key: str) -> T | None:
    if not pool:
        return None
    digest = int(hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:8], 16)
    return pool[digest % len(pool)]


def _indented(code: str, indent: str) -> str:
    lines = code.split("\n")
    return "\n".join([lines[0], *(indent + line if line else line for line in lines[1:])])


def _rest_of_line(language: Language, ctx: Context, names: dict[str, str], key: str) -> str:
    """The cursor is after code on its line: finish a corpus line that starts the same way."""
    started = ctx.line_prefix.strip()
    every = [s for snippets in language.situations.values() for s in snippets]
    specific = [s for s in _fitting(tuple(every), ctx) if s.needs]
    for pool in (specific, [s for s in every if not s.needs]):
        lines = {
            Template(line.strip()).safe_substitute(names)
            for snippet in pool
            for code in (snippet.code, snippet.naive or "")
            for line in code.split("\n")
        }
        matches = sorted(line for line in lines if line.startswith(started) and line != started)
        chosen = _choose(matches, key)
        if chosen is not None:
            return chosen[len(started) :]
    # Nothing in the corpus starts this way: an argument or a value, as a model would guess.
    if started.endswith("("):
        return names["first"] + ")"
    return ("" if ctx.line_prefix.endswith(" ") else " ") + names["first"]


# A Python definition carried in the prompt as a snippet of another file (tierline/context): a
# chat prompt's named block, a FIM prompt's file separator or comment block.
_SNIPPET_DEF = re.compile(
    r"(?:<snippet path=\"[^\"]+\"[^>]*>\n|<\|file_sep\|>[^\n]+\n|<file_sep>[^\n]+\n|# Path: [^\n]+\n# )"
    r"def (\w+)\(([^)]*)\)"
)
_ENCLOSING_DEF = re.compile(r"^[ \t]*def (\w+)\(([^)]*)\)", re.M)


def _cross_file_call(prefix: str, ctx: Context) -> str | None:
    """At the start of a Python function body, `return f(params)` when the prompt carries another
    file's definition of an `f` whose name shares a word with the enclosing function's (its
    parameters matched by name, else in order); None otherwise. Only the snippet tells the
    parameters: without it, the answer is the corpus's usual one."""
    enclosing = list(_ENCLOSING_DEF.finditer(prefix))
    if ctx.line_prefix.strip() or not enclosing or not ctx.opener.rstrip().endswith((":", '"""')):
        return None
    name, params = enclosing[-1].group(1), _params(enclosing[-1].group(2))
    words = set(name.lower().split("_"))
    for match in _SNIPPET_DEF.finditer(prefix):
        called, wanted = match.group(1), _params(match.group(2))
        if called != name and words & set(called.lower().split("_")) - {"get", "set", "to", "of"}:
            args = [p if p in params else (params[i] if i < len(params) else p) for i, p in enumerate(wanted)]
            return f"return {called}({', '.join(args)})"
    return None


def _params(text: str) -> list[str]:
    names = [p.split(":")[0].split("=")[0].strip() for p in text.split(",")]
    return [n for n in names if n and n not in ("self", "cls") and not n.startswith("*")]


def corpus_completion(model: str, prefix: str, suffix: str, language: str | None = None) -> str:
    """A plausible completion for this model at this position, in the document's language."""
    name = _ALIASES.get((language or "").lower(), (language or "").lower())
    lang = LANGUAGES.get(name) or LANGUAGES[guess_language(prefix)]
    ctx = _context(prefix, lang.indent)
    if lang is LANGUAGES["python"] and (call := _cross_file_call(prefix, ctx)) is not None:
        return call
    names = _names(ctx)
    key = f"{prefix[-200:]}\x00{suffix[:200]}"
    started = ctx.line_prefix.strip()
    tested = _tested(prefix)
    if tested is not None:
        names["tested"] = tested
    if started and not started.endswith((":", "{")):
        return _rest_of_line(lang, ctx, names, key)
    kind = situation(ctx, tested) if not started else "function"
    snippet = _choose(_fitting(lang.situations.get(kind, ()), ctx), key) or _choose(
        _fitting(lang.situations["statement"], ctx), key
    )
    if snippet is None:
        return ""
    careless = _hardness(ctx) and tier_of(model) == "cheap"
    code = Template(snippet.naive if careless and snippet.naive else snippet.code).safe_substitute(names)
    code = code.replace("return ;", "return;")
    indent = ctx.line_prefix if not started else ctx.line_prefix[: len(ctx.line_prefix) - len(ctx.line_prefix.lstrip())]
    if started:  # after an opener at the end of a line: the body goes on a new, deeper line
        indent += lang.indent
        return "\n" + indent + _indented(code, indent)
    return _indented(code, indent)
