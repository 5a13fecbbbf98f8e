"""Signals for what is about to be written at the cursor, not only what is on screen.

Depth and imports say little at an empty body: the words that make code hard are not typed yet.
What is there already is the enclosing function's name, signature and doc comment, the fields and
types around it, its siblings, and the file's vocabulary. These functions read them:

* **difficulty families** — words and operators of code that small models get subtly wrong, counted
  in the *focus* (the enclosing function from its doc comment to a few lines past the cursor, or
  the lines around the cursor without one) and, more weakly, in the whole window sent:
  memory ordering and atomics, locks and threads, async and cancellation, unsafe and raw memory,
  system calls, dense numeric and bit arithmetic, parsers and escapes, security primitives;
* **third-party APIs** — uses, near the cursor, of names the file imports from outside its
  language's standard library;
* **repetition** — how closely the lines before the cursor, or the function around it, copy
  something visible: one more test case or mirrored branch is cheap at any depth;
* **what kind of writing** — an empty body about to be written, the rest of a line, a new line.

The word lists were written from ``../shared/ROUTING-RUBRIC.md``'s tier descriptions and general
knowledge of each family, before any labelled case was looked at; the weight each signal gets is
learned (``analysis/router_model.py``). Pure functions over bounded byte ranges: the focus and the
window are capped, so the cost per request does not grow with the file.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass

from tierline.analysis.lines import lines_around

MAX_FOCUS_BYTES = 6144
MAX_WINDOW_BYTES = 8192
FOCUS_LINES_ABOVE = 40  # without an enclosing function
FOCUS_LINES_BELOW = 8
DOC_LINES_ABOVE = 12  # a function's doc comment and attributes, above its first line

_WORD = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")

# Each family: whole words, and word prefixes (a word that starts with one counts).
# fmt: off
FAMILIES: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "atomics": (
        frozenset({
            "AcqRel", "Acquire", "acquire", "atomic", "atomics", "barrier", "CAS", "cas", "compare_exchange",
            "compare_exchange_weak", "compareAndSet", "compareAndSwap", "compiler_fence", "epoch", "fence",
            "fetch_add", "fetch_and", "fetch_or", "fetch_sub", "fetch_update", "fetch_xor", "getAndAdd",
            "getAndIncrement", "getAndSet", "hazard", "incrementAndGet", "lazySet", "ManagedAtomic", "memory_order",
            "Ordering", "Relaxed", "release", "Release", "SeqCst", "seqlock", "Unsafe", "UNSAFE", "VarHandle",
            "volatile",
        }),
        (
            "Atomic", "atomic_", "CompareAndSwap", "__atomic", "__sync_", "memory_order_", "putOrdered",
            "soElement", "lvElement", "spElement", "lpElement", "soProducer", "lvProducer", "soConsumer",
            "lvConsumer", "casProducer", "casConsumer", "Interlocked",
        ),
    ),
    "locks": (
        frozenset({
            "Arc", "chan", "cond", "condvar", "Condvar", "contention", "CountDownLatch", "deadlock", "goroutine",
            "latch", "lock", "Lock", "Mutex", "mutex", "notify", "notify_all", "notify_one", "notifyAll", "park",
            "parking_lot", "ReentrantLock", "RLock", "RUnlock", "rwlock", "RwLock", "select", "Semaphore",
            "semaphore", "Send", "spawn", "Sync", "synchronized", "Thread", "thread", "threads", "unlock", "Unlock",
            "unpark", "WaitGroup", "Waker", "waker", "wakeup",
        }),
        (
            "pthread_", "uv_mutex", "uv_cond", "uv_rwlock", "uv_sem", "sync_", "Lock", "Mutex",
        ),
    ),
    "async": (
        frozenset({
            "abort", "AbortController", "AbortSignal", "async", "asyncio", "await", "callback", "cancel",
            "canceled", "Cancellation", "cancellation", "CancellationException", "cancelled", "channel", "Channel",
            "clearTimeout", "coroutine", "coroutines", "CoroutineScope", "ctx", "deadline", "Deferred", "dispatch",
            "Dispatcher", "Done", "emit", "EventLoop", "eventLoop", "EventLoopFuture", "Flow", "future", "Future",
            "futures", "Job", "launch", "Pending", "Poll", "poll", "Promise", "promise", "Ready", "reject",
            "resolve", "scheduler", "setInterval", "setTimeout", "suspend", "Task", "Timeout", "timeout",
            "withContext", "yield",
        }),
        (
            "async_", "Async", "cancel", "Cancel", "timeout",
        ),
    ),
    "unsafe": (
        frozenset({
            "addr", "alignof", "alloc", "allocate", "as_mut_ptr", "as_ptr", "assume_init", "assumingMemoryBound",
            "bindMemory", "calloc", "const_cast", "dealloc", "deallocate", "deinitialize", "drop_in_place", "free",
            "from_raw", "from_raw_parts", "get_unchecked", "initialize", "into_raw", "Layout", "malloc",
            "ManuallyDrop", "MaybeUninit", "memcmp", "memcpy", "memmove", "memset", "mut", "NonNull", "offset",
            "offsetof", "Pointer", "pointer", "ptr", "ptr_eq", "raw", "realloc", "reinterpret_cast", "set_len",
            "sizeof", "transmute", "uintptr", "uintptr_t", "Unmanaged", "unsafe", "unsafeBitCast", "void",
            "withMemoryRebound",
        }),
        (
            "Unsafe", "unsafe", "withUnsafe", "ptr_", "_ptr", "mem_", "__builtin",
        ),
    ),
    "system": (
        frozenset({
            "accept", "bind", "cffi", "ctypes", "dlopen", "dlsym", "dup", "dup2", "EAGAIN", "EINTR", "epoll",
            "errno", "EWOULDBLOCK", "execve", "execvp", "extern", "fcntl", "fd", "fdatasync", "fds", "flock",
            "fork", "fsync", "ftruncate", "futex", "getsockopt", "ioctl", "IPPROTO_TCP", "JNIEnv", "kernel",
            "kevent", "kqueue", "libc", "listen", "madvise", "mmap", "mprotect", "msync", "munmap", "native",
            "O_CLOEXEC", "O_CREAT", "O_EXCL", "O_NONBLOCK", "pid", "pipe", "pipe2", "pread", "pwrite", "readv",
            "sendfile", "setgid", "setsid", "setsockopt", "setuid", "sigaction", "SIGCHLD", "SIGINT", "signal",
            "SIGPIPE", "sigprocmask", "SIGTERM", "socket", "socketpair", "SOL_SOCKET", "splice", "syscall",
            "Syscall", "unlink", "vfork", "waitpid", "writev",
        }),
        (
            "uv__", "epoll_", "SIG", "O_", "sys_", "Sys",
        ),
    ),
    "numeric": (
        frozenset({
            "atan", "atan2", "bernoulli", "BigDigit", "BigInt", "bigint", "BigUint", "bitcount", "bitmap", "bits",
            "borrow", "carry", "ceil", "clz", "coeffs", "convergence", "cos", "ctz", "Decimal", "determinant",
            "digit", "digits", "double", "DoubleDigit", "eps", "epsilon", "exp", "exponent", "f32", "f64",
            "factorial", "floor", "fma", "gamma", "gcd", "i128", "i32", "i64", "inf", "Infinity", "int64_t",
            "inverse", "lcm", "leading_zeros", "limb", "limbs", "ln", "log", "log10", "log2", "mantissa", "mask",
            "matrix", "mod", "modulus", "mpc", "mpf", "mpz", "nan", "NaN", "overflow", "pi", "polynomial",
            "popcount", "pow", "prec", "precision", "radix", "rounding", "series", "shift", "sin", "sqrt", "tan",
            "trailing_zeros", "trunc", "u128", "u32", "u64", "uint32_t", "uint64_t", "uint8_t", "underflow", "wp",
            "zeta",
        }),
        (
            "wrapping_", "checked_", "overflowing_", "saturating_", "mpf_", "mpc_", "mpz_", "Long.numberOf",
            "Integer.numberOf", "highestOneBit", "lowestOneBit", "bitCount",
        ),
    ),
    "parsing": (
        frozenset({
            "advance", "ast", "AST", "backtrack", "charCode", "charCodeAt", "chr", "codepoint", "codePoint",
            "consume", "decode", "delimiter", "encode", "eof", "EOF", "escape", "expect", "grammar", "isalpha",
            "isdigit", "isspace", "lex", "lexer", "lookahead", "ord", "parse", "Parser", "parser", "pattern",
            "peek", "quote", "regex", "Regex", "rune", "scan", "Scanner", "scanner", "state", "State", "surrogate",
            "token", "Token", "tokenize", "tokenizer", "tokens", "transition", "unescape", "unicode", "unquote",
            "UTF8", "utf8", "whitespace",
        }),
        (
            "parse", "Parse", "lex", "Lex", "token", "Token", "escape", "Escape", "utf", "Utf", "UTF",
        ),
    ),
    "security": (
        frozenset({
            "AES", "aes", "argon2", "auth", "authenticate", "authorization", "bcrypt", "cert", "certificate",
            "chacha20", "Cipher", "cipher", "ciphertext", "constant_time", "ConstantTimeCompare", "crypto", "csrf",
            "curve25519", "decrypt", "digest", "ed25519", "encrypt", "entropy", "HMAC", "hmac", "jwt", "kdf",
            "keystream", "mac", "md5", "nonce", "oauth", "password", "pbkdf2", "permissions", "plaintext",
            "poly1305", "privateKey", "privilege", "publicKey", "rounds", "salt", "sanitize", "sbox", "scrypt",
            "secret", "sha1", "sha256", "sha512", "signature", "SSL", "ssl", "subtle", "tls", "TLS", "verify",
            "x509", "xss",
        }),
        (
            "crypt", "Crypt", "cipher", "Cipher", "sha", "SHA", "hmac", "HMAC", "aes", "AES", "blake", "chacha",
            "poly1305", "ed25519", "x25519", "curve", "secp",
        ),
    ),
}
# fmt: on
FAMILY_NAMES: tuple[str, ...] = tuple(FAMILIES)

# Bit operators (not && or ||), shifts, hex literals: dense arithmetic.
_BIT_OPS = re.compile(rb"<<|>>>?|(?<![&|])[&|^~](?![&|=])|\b0x[0-9A-Fa-f]+")

_IDENTIFIER_OR_LITERAL = re.compile(r"[A-Za-z_]\w*|\d[\w.]*|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|\S")
_SIGNATURE = re.compile(
    rb"^[ \t]*(?:(?:pub(?:\([^)\n]*\))?|public|private|protected|internal|static|final|override|open|async|"
    rb"export|default|inline|virtual|unsafe|extern|const|local|suspend|fileprivate|mutating)\s+)*"
    rb"(?:def|fn|func|fun|function|sub|proc)\b[^\n]*",
    re.MULTILINE,
)
_OPENER = re.compile(r"(\{|:|\bdo|\bthen|=>|->|\()\s*$")
_COMMENT_LINE = re.compile(r"^\s*(#(?!include|define|if|endif|\[)|//|/\*|\*|--|\"\"\"|''')")
_SIMPLE_LINE_START = re.compile(
    r"^\s*(return\b|raise\b|throw\b|log\w*\b|print\w*\b|console\.|assert\w*\b|expect\b|self\.\w+\s*=|this\.\w+\s*=|"
    r"@\w+\s*=|\$this->\w+\s*=|fmt\.Print|import\b|#include|use\b|require\b|echo\b|local\s+\w+\s*=\s*require)"
)


@dataclass(frozen=True)
class Signals:
    """What the code around the cursor says about the code about to be written."""

    # Difficulty families in the focus (counts, capped by the model), and all of them in the window.
    atomics: int = 0
    locks: int = 0
    async_: int = 0
    unsafe: int = 0
    system: int = 0
    numeric: int = 0
    parsing: int = 0
    security: int = 0
    bit_ops: int = 0
    window_difficulty: int = 0  # family words per 1,000 bytes of the window
    # Each family's words per 2,000 bytes of the window: at an empty body the function has no
    # words yet, but the file around it says what kind of code this is.
    window_atomics: int = 0
    window_locks: int = 0
    window_async: int = 0
    window_unsafe: int = 0
    window_system: int = 0
    window_numeric: int = 0
    window_parsing: int = 0
    window_security: int = 0
    external_calls: int = 0  # uses of third-party imports in the focus
    member_calls: int = 0  # distinct `.name(` calls in the focus: API-heavy code
    repetition: int = 0  # 0-100: the lines before the cursor repeat shapes seen in the window
    sibling_similarity: int = 0  # 0-100: the enclosing signature against the window's other ones
    empty_body: int = 0  # a body about to be written just after its opener
    mid_line: int = 0  # code before the cursor on its line: the rest of a line
    simple_line: int = 0  # the line starts as a return, log, assignment to a field, an assert...
    comment_above: int = 0  # the line above is a comment announcing the code
    body_lines: int = 0  # lines of the enclosing function (or block) before the cursor
    signature_words: int = 0  # identifiers in the enclosing signature: parameters and types
    code_follows: int = 0  # a new line with code of the same block right after it: one line inserted
    closes_after: int = 0  # a new line whose block closes right after: the rest of the block to write
    sibling_body_lines: int = 0  # median length of the other functions in the window: short siblings, short body
    doc_lines: int = 0  # comment lines above the enclosing function: what it does, spelled out
    routine_name: int = 0  # the function is a getter, setter, predicate, constructor, conversion or formatter


@functools.lru_cache(maxsize=65536)
def _families_of(word: bytes) -> tuple[int, ...]:
    """Indices into FAMILY_NAMES of the families a word belongs to (memoised: a file's words repeat)."""
    text = word.decode("ascii")
    return tuple(
        i for i, (words, prefixes) in enumerate(FAMILIES.values()) if text in words or text.startswith(prefixes)
    )


def family_counts(code: bytes) -> dict[str, int]:
    """How many words of each family a stretch of code holds (each distinct word looked up once)."""
    totals = [0] * len(FAMILY_NAMES)
    for word, count in Counter(_WORD.findall(code)).items():
        for index in _families_of(word):
            totals[index] += count
    return dict(zip(FAMILY_NAMES, totals, strict=True))


@functools.lru_cache(maxsize=8192)
def _shape(line: str) -> str:
    """A line's shape: identifiers, numbers and strings stand for any of their kind (memoised: the
    window's lines are the same from one keystroke to the next)."""
    out = []
    for token in _IDENTIFIER_OR_LITERAL.findall(line.strip()):
        if token[0].isalpha() or token[0] == "_":
            out.append("a")
        elif token[0].isdigit():
            out.append("0")
        elif token[0] in "\"'":
            out.append("s")
        else:
            out.append(token)
    return "".join(out)


def repetition(before_lines: list[str], rest_lines: list[str]) -> int:
    """0-100: how many of the last few code lines before the cursor have a shape seen elsewhere in
    the window (above them or after the cursor), weighting longer lines more."""
    code = [line for line in before_lines if line.strip() and not _COMMENT_LINE.match(line)]
    recent, earlier = code[-4:], code[:-4]
    if not recent:
        return 0
    seen = {_shape(line) for line in earlier} | {_shape(line) for line in rest_lines if line.strip()}
    total = repeated = 0
    for line in recent:
        shape = _shape(line)
        weight = max(1, len(shape))
        total += weight
        if len(shape) >= 3 and shape in seen:
            repeated += weight
    return round(100 * repeated / total) if total else 0


@functools.lru_cache(maxsize=64)
def _calls_of(names: tuple[str, ...]) -> re.Pattern[bytes] | None:
    """One pattern for uses of any of a file's third-party names (as a module, or called)."""
    if not names:
        return None
    alternatives = b"|".join(re.escape(name.encode()) for name in names)
    return re.compile(rb"\b(?:%s)\s*(?:\.|::|->|\()" % alternatives)


def _identifiers(text: bytes) -> set[bytes]:
    return set(_WORD.findall(text))


_SIGNATURE_KEYWORD = re.compile(rb"\b(?:def|fn|func|fun|function|sub|proc)\b")


def signature_lines(window: bytes) -> list[bytes]:
    """The lines of the window that open a function (found by keyword first: few lines have one)."""
    out = []
    seen = -1
    for match in _SIGNATURE_KEYWORD.finditer(window):
        start = window.rfind(b"\n", 0, match.start()) + 1
        if start == seen:
            continue
        seen = start
        end = window.find(b"\n", match.end())
        line = window[start : end if end >= 0 else len(window)]
        if _SIGNATURE.match(line):
            out.append(line)
    return out


def sibling_similarity(signature: bytes, window: bytes) -> int:
    """0-100: the largest identifier overlap (Jaccard) between the enclosing signature and another
    signature in the window: the next visitor method, a getter beside its setter."""
    mine = _identifiers(signature)
    if not mine:
        return 0
    best = 0.0
    own = signature.strip()
    for other in signature_lines(window):
        if other.strip() == own:
            continue
        theirs = _identifiers(other)
        union = mine | theirs
        if union:
            best = max(best, len(mine & theirs) / len(union))
    return round(100 * best)


@dataclass(frozen=True)
class Surroundings:
    """Where to read: byte ranges of the source and what is known of the enclosing function."""

    focus: tuple[int, int]  # the enclosing function from its doc comment, or the lines around the cursor
    window: tuple[int, int]  # the text a model is sent
    signature: bytes = b""  # the enclosing function's first line; empty without one
    function_start: int = -1  # where that line starts (-1: no enclosing function)
    external_names: tuple[str, ...] = ()  # names the file imports from third parties


def read_signals(source: bytes, offset: int, around: Surroundings) -> Signals:
    """Signals at a utf-8 byte offset."""
    focus, window, signature, external_names = around.focus, around.window, around.signature, around.external_names
    offset = max(0, min(offset, len(source)))
    focus_start, focus_end = max(0, focus[0]), min(len(source), focus[1])
    if focus_end - focus_start > MAX_FOCUS_BYTES:  # a long function: the part nearest the cursor
        focus_start = max(focus_start, offset - MAX_FOCUS_BYTES + 1024)
        focus_end = min(focus_end, focus_start + MAX_FOCUS_BYTES)
    focus_code = source[focus_start:focus_end]
    window_start, window_end = max(0, window[0]), min(len(source), window[1])
    window_code = source[max(window_start, window_end - MAX_WINDOW_BYTES) : window_end]

    counts = family_counts(focus_code)
    window_counts = family_counts(window_code)
    window_difficulty = round(1000 * sum(window_counts.values()) / max(1000, len(window_code)))

    called = _calls_of(tuple(sorted({name for name in external_names if len(name) >= 2})))
    external_calls = len(called.findall(focus_code)) if called is not None else 0
    member_calls = len(set(re.findall(rb"[.:>]([A-Za-z_]\w*)\s*\(", focus_code)))

    line_start = source.rfind(b"\n", 0, offset) + 1
    line_before = source[line_start:offset].decode("utf-8", "replace")
    before_text = source[window_start:line_start].decode("utf-8", "replace")
    after_text = source[offset:window_end].decode("utf-8", "replace")
    before_lines = before_text.split("\n")
    rest_lines = after_text.split("\n")[1:12]
    previous = next((line for line in reversed(before_lines) if line.strip()), "")
    rest_of_line = after_text.split("\n", 1)[0]
    empty_body = 1 if not line_before.strip() and _OPENER.search(previous) and not _COMMENT_LINE.match(previous) else 0
    if empty_body and rest_of_line.strip() not in ("", "}", "end", ")", "];", "});", "};"):
        empty_body = 0
    current = line_before + rest_of_line
    at_new_line = not line_before.strip() and not rest_of_line.strip()
    cursor_indent = _indent(line_before)
    following = next((line for line in rest_lines if line.strip()), "")
    closer = following.strip().startswith(("}", "end", ")", "]", "fi", "done", "esac"))
    window_density = {name: round(2000 * count / max(2000, len(window_code))) for name, count in window_counts.items()}
    function_start = around.function_start
    return Signals(
        atomics=counts["atomics"],
        locks=counts["locks"],
        async_=counts["async"],
        unsafe=counts["unsafe"],
        system=counts["system"],
        numeric=counts["numeric"],
        parsing=counts["parsing"],
        security=counts["security"],
        bit_ops=len(_BIT_OPS.findall(focus_code)),
        window_difficulty=window_difficulty,
        window_atomics=window_density["atomics"],
        window_locks=window_density["locks"],
        window_async=window_density["async"],
        window_unsafe=window_density["unsafe"],
        window_system=window_density["system"],
        window_numeric=window_density["numeric"],
        window_parsing=window_density["parsing"],
        window_security=window_density["security"],
        external_calls=external_calls,
        member_calls=member_calls,
        repetition=repetition(before_lines, rest_lines),
        sibling_similarity=sibling_similarity(signature, window_code) if signature else 0,
        empty_body=empty_body,
        mid_line=1 if line_before.strip() else 0,
        simple_line=1 if line_before.strip() and _SIMPLE_LINE_START.match(current) else 0,
        comment_above=1 if _COMMENT_LINE.match(previous) else 0,
        body_lines=source.count(b"\n", focus_start, line_start) if signature else 0,
        signature_words=len(_identifiers(signature)),
        code_follows=1 if at_new_line and following and not closer and _indent(following) >= cursor_indent else 0,
        closes_after=1 if at_new_line and following and (closer or _indent(following) < cursor_indent) else 0,
        sibling_body_lines=sibling_body_lines(window_code, signature),
        doc_lines=source.count(b"\n", focus_start, function_start) if function_start > focus_start else 0,
        routine_name=1 if signature and _ROUTINE_NAME.search(signature) else 0,
    )


# Names of functions whose bodies are routine: accessors, predicates, constructors, conversions,
# formatting, equality and hashing, builders, cleanup.
_ROUTINE_NAME = re.compile(
    rb"(?:fn|def|func|fun|function|sub)\s+(?:\([^)]*\)\s*)?(?:get|set|is|has|can|should|new|len|size|count|"
    rb"empty|is_empty|to|as|into|from|with|clone|copy|default|fmt|format|display|describe|repr|str|string|"
    rb"eq|equals|hash|hashCode|compare|cmp|drop|close|reset|clear|dispose|deinit|init|builder|build|"
    rb"__\w+__|toString|valueOf|name|value|id|key)(?:[A-Z_]\w*)?\s*[(<]"
    rb"|\b(?:get|set|is|has)[A-Z_]\w*\s*\(|\b(?:toString|hashCode|equals|__repr__|__str__|__eq__|__hash__|__len__|__init__)\s*\(",
)


def _indent(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip())


# Only lines this long are tried as openers: `.*` before the alternatives makes the pattern quadratic
# in the length of a line, and no opener is longer in practice.
MAX_OPENER_LINE = 400
_ANY_OPENER = re.compile(rb"^[ \t]*\S.*(\)\s*(->\s*[^{]+)?\{|\):|\bdo|\bthen|function\s*\([^)]*\))\s*$")


def _indent_of(line: bytes) -> int:
    if not line.strip():
        return -1  # blank
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip())


def sibling_body_lines(window: bytes, signature: bytes) -> int:
    """The median number of lines in the bodies of the other functions visible in the window."""
    lines = window.split(b"\n")
    own = signature.strip()
    sizes = []
    for index, line in enumerate(lines[:-1]):
        if len(line) > MAX_OPENER_LINE:
            continue
        # Cheap tests first: a signature has a keyword, another opener ends with {, :, ), do or then.
        signature_like = _SIGNATURE_KEYWORD.search(line) is not None and _SIGNATURE.match(line) is not None
        if not signature_like and (
            line.rstrip()[-1:] not in (b"{", b":", b")", b"o", b"n") or not _ANY_OPENER.match(line)
        ):
            continue
        if own and line.strip() == own:
            continue
        indent = _indent_of(line)
        size = 0
        for body in lines[index + 1 : index + 61]:
            body_indent = _indent_of(body)
            if body_indent != -1 and body_indent <= indent:
                break
            size += 1
        else:
            continue  # the body runs out of the window: its size is unknown
        if size:
            sizes.append(size)
    if not sizes:
        return 0
    sizes.sort()
    return sizes[len(sizes) // 2]


def focus_without_function(source: bytes, offset: int) -> tuple[int, int]:
    """The lines around the cursor, when no enclosing function is known."""
    return lines_around(source, offset, FOCUS_LINES_ABOVE, FOCUS_LINES_BELOW)


FALLBACK_SCAN_LINES = 300
FALLBACK_SCAN_BYTES = 65536


def fallback_function_span(source: bytes, offset: int) -> tuple[int, int] | None:
    """Without a tree: the nearest line above the cursor that opens a function (def, fn, func, fun,
    function) and is indented less than the cursor's line; its end is unknown, so the span stops a
    few hundred bytes past the cursor."""
    line_start = source.rfind(b"\n", 0, offset) + 1
    line = source[line_start:offset]
    indent = len(line) - len(line.lstrip()) if line.strip() else len(line)
    low = max(0, line_start - FALLBACK_SCAN_BYTES)
    above = source[low : max(low, line_start - 1)].split(b"\n")  # split once, walk upwards
    if low > 0:
        above = above[1:]  # a partial first line
    position = line_start - 1
    for text in reversed(above[-FALLBACK_SCAN_LINES:]):
        position -= len(text) + 1
        if not text.strip():
            continue
        text_indent = len(text) - len(text.lstrip())
        if text_indent < indent and _SIGNATURE_KEYWORD.search(text) and _SIGNATURE.match(text):
            return position + 1, min(len(source), offset + 600)
        if text_indent == 0 and indent > 0 and not text.lstrip().startswith((b"#", b"//", b"/*", b"*", b"--")):
            # Left the top-level statement around the cursor without meeting a function.
            indent = 0
    return None


def with_doc_comment(source: bytes, function_start: int) -> int:
    """The start of a function's doc comment and attributes: up to DOC_LINES_ABOVE lines above it
    that are comments, attributes or decorators."""
    start = source.rfind(b"\n", 0, function_start) + 1
    for _ in range(DOC_LINES_ABOVE):
        if start == 0:
            break
        previous = source.rfind(b"\n", 0, start - 1) + 1
        line = source[previous : start - 1].strip()
        if not line or not (line.startswith((b"#", b"//", b"/*", b"*", b"--", b"@", b"///")) or line.endswith(b"*/")):
            break
        start = previous
    return start


__all__ = [
    "FAMILY_NAMES",
    "Signals",
    "Surroundings",
    "family_counts",
    "focus_without_function",
    "read_signals",
    "with_doc_comment",
]
