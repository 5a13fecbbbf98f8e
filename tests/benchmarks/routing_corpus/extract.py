"""Build the routing corpus: cursor positions in real open-source code, trimmed as a model sees them.

Run once by hand (it reads local git mirrors of the repositories below; CI never runs it):

    python tests/benchmarks/routing_corpus/extract.py --mirrors /path/to/mirrors \
        --out tests/data/routing_corpus/cases.jsonl

Each repository is read at the commit recorded in ``REPOSITORIES`` (``git show COMMIT:PATH``), so
the cases are reproducible from the repository's public history. Per repository, seeded by its
name, the script picks files and then positions of four kinds (``../shared/ROUTING-RUBRIC.md``,
"Where the cursor goes"):

writing (two thirds)
  ``body``        the start of an empty body just after a function's signature; the body is hidden
                  (what is about to be written), the code after it stays visible.
  ``block_line``  a new line inside a function; the rest of its block is hidden.
editing (one third)
  ``rest_of_line`` the middle of an existing line; the rest of the line is hidden.
  ``missing_line`` a line removed from existing code; the code after it stays visible.

What a case holds: ``prefix`` and ``suffix`` (the text before and after the cursor, cut at line
starts to at most ``PREFIX_CHARS`` / ``SUFFIX_CHARS``, the file's import head kept), ``hidden``
(the code that was really written there, shown to labellers, never to the router), and where it
came from (repository, commit, path, line, licence). The split is by repository (``split``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

PREFIX_CHARS = 2000
SUFFIX_CHARS = 600
HIDDEN_MAX_LINES = 30
ROUND_TWO_KINDS = ("body",) * 5 + ("block_line",) * 3 + ("rest_of_line", "missing_line")
KINDS = (
    "body",
    "body",
    "body",
    "block_line",
    "block_line",
    "block_line",
    "rest_of_line",
    "rest_of_line",
    "missing_line",
)


@dataclass(frozen=True)
class Repository:
    name: str  # owner/name on GitHub
    commit: str
    licence: str
    split: str  # "train" | "test": no repository gives cases to both
    roots: tuple[str, ...] = ()  # folders to sample from (empty: the whole tree)
    kinds: tuple[str, ...] = KINDS  # the positions to make, in order


# The test split was fixed here, by repository, before any case was labelled or scored: one or
# two repositories per language, chosen to mix easy and hard code.
REPOSITORIES: tuple[Repository, ...] = (
    # python
    Repository("psf/requests", "1f6589ec3a1ee910f9a65cc3ceac60b26677bc0e", "Apache-2.0", "train", ("src/",)),
    Repository(
        "encode/starlette", "cb8f84f5284dc301ca7a31eb732b9e140769dd48", "BSD-3-Clause", "train", ("starlette/",)
    ),
    Repository("more-itertools/more-itertools", "2fe1b2eeb9d75f994113fe3ac76d14b6bcd6fb10", "MIT", "train"),
    Repository("pallets/click", "2c8cd3ac958a7eb316d67f2d316c27086c4c0369", "BSD-3-Clause", "test", ("src/",)),
    Repository("mpmath/mpmath", "28e36ca652bf16de7bd5a2cbd07b32b2c8f24e85", "BSD-3-Clause", "test", ("mpmath/",)),
    # javascript
    Repository("axios/axios", "23a25af0688d1db2c396deb09229d2271cc24f6c", "MIT", "train", ("lib/",)),
    Repository("websockets/ws", "a2f4e7c046c2112bbce6fef39a083dac77d6f0d2", "MIT", "train", ("lib/",)),
    Repository("expressjs/express", "a3714473feb3d2908add734d340e7755fd85e0a3", "MIT", "test", ("lib/",)),
    Repository("MikeMcl/decimal.js", "1a6e845004b29a3b7dcef78fe92b8d786634f4e2", "MIT", "test", ("decimal.mjs",)),
    # typescript
    Repository(
        "colinhacks/zod", "e516c3baf22615e20934116abebfed6c000222c2", "MIT", "train", ("packages/zod/src/v4/core/",)
    ),
    Repository("sindresorhus/p-queue", "180ab9e25cd10b6f548767d7176076b50d25e188", "MIT", "train", ("source/",)),
    Repository("sindresorhus/ky", "3419113b48e034fdcf8fa6bd3be3da7b3d0d758f", "MIT", "test", ("source/",)),
    # go
    Repository("golang/groupcache", "2c02b8208cf8c02a3e358cb1d9b60950647543fc", "Apache-2.0", "train"),
    Repository("uber-go/zap", "5b81b37b81b8e2ed447a6f57991e372ee4fa5c8f", "MIT", "train"),
    Repository("golang/crypto", "82adefa711cb8d9a1f12c7ea91b491007d21819f", "BSD-3-Clause", "train"),
    Repository("etcd-io/bbolt", "4e65d8fd8c1f47f9da9baec7f8728f93a3b84a70", "MIT", "test"),
    Repository("spf13/cobra", "adbc8813901bba65827259daa8e22ff94ec1f30e", "Apache-2.0", "test"),
    # rust
    Repository("BurntSushi/memchr", "bce7df7140acff420478a358cde5587904000cb1", "MIT OR Unlicense", "train", ("src/",)),
    Repository(
        "rust-num/num-bigint", "41f0b035d12971c5c7f7501917e31f0f6439c26c", "MIT OR Apache-2.0", "train", ("src/",)
    ),
    Repository("crossbeam-rs/crossbeam", "7de845aa13ce5d80084ce0889e014ae0aa0d19ce", "MIT OR Apache-2.0", "test"),
    Repository("tokio-rs/bytes", "d5c8ad3227afe459c09f1d0d85455abf00f0381a", "MIT", "test", ("src/",)),
    # java
    Repository("jhy/jsoup", "46b620860af930eedc193a705eaf7cea5aec89a6", "MIT", "train", ("src/main/",)),
    Repository(
        "RoaringBitmap/RoaringBitmap",
        "c105fce50c847d89bfde8298852d3614a5def6ac",
        "Apache-2.0",
        "train",
        ("roaringbitmap/src/main/",),
    ),
    Repository(
        "JCTools/JCTools", "c3312218f8871dc7b541f2422dc7d33d0c445c89", "Apache-2.0", "test", ("jctools-core/src/main/",)
    ),
    Repository("google/gson", "9835b6f90192f79cdf5300c528fc6212455fb6c1", "Apache-2.0", "test", ("gson/src/main/",)),
    # c
    Repository("libuv/libuv", "6179e7af87413396d5853a1c3722c8b5749336c8", "MIT", "train", ("src/",)),
    Repository(
        "DaveGamble/cJSON", "a29814f285cc531c00223743ad3c55cd38c0dc56", "MIT", "train", ("cJSON.c", "cJSON_Utils.c")
    ),
    Repository("redis/hiredis", "29ea2791c102fdffff350f1ea6e04d1f71903d0d", "BSD-3-Clause", "test"),
    Repository("B-Con/crypto-algorithms", "cfbde48414baacf51fc7c74f275190881f037d32", "public domain", "test"),
    # cpp
    Repository("fmtlib/fmt", "60ccad511fd680cb91d8b60a315759f71c67bef9", "MIT", "train", ("include/", "src/")),
    Repository("nlohmann/json", "199dea11b17c533721b26249e2dcaee6ca1d51d3", "MIT", "train", ("include/",)),
    Repository("google/leveldb", "78a352f47ed6c1e9d750545e9b242289185b87e1", "BSD-3-Clause", "test"),
    # ruby
    Repository("sinatra/sinatra", "cb22afd7902b566b6eaba6c4ea89739494a65d12", "MIT", "train"),
    Repository("rack/rack", "8bf4eb078498edc9105fb04add80d89c5340e60b", "MIT", "test", ("lib/",)),
    # php
    Repository("guzzle/guzzle", "2779e868a00289e1b1fd854af030c43a06f4bcb4", "MIT", "train", ("src/",)),
    Repository("composer/composer", "eba7baa59eb1b59246cf9800b0120fe78915b6ac", "MIT", "train", ("src/",)),
    Repository("slimphp/Slim", "038fd5713d5a41636fdff0e8dcceedecdd17fc17", "MIT", "test", ("Slim/",)),
    # kotlin
    Repository("square/okio", "4164f2976ac7174f3d35d52150e8ffbdbe0acbec", "Apache-2.0", "train"),
    Repository("square/moshi", "889013ec2edb8d8034902662a1dc8c4f3b3f8111", "Apache-2.0", "train"),
    Repository(
        "Kotlin/kotlinx.coroutines",
        "792ac67bdcd5592e5764753e623a9e8c6e4bcb29",
        "Apache-2.0",
        "test",
        ("kotlinx-coroutines-core/",),
    ),
    # swift
    Repository("Alamofire/Alamofire", "7595cbcf59809f9977c5f6378500de2ad73b7ddb", "MIT", "train", ("Source/",)),
    Repository(
        "apple/swift-collections", "f425dffd5bf70fe2a880c5eb6568bbdcade9f4f5", "Apache-2.0", "train", ("Sources/",)
    ),
    Repository("apple/swift-nio", "63018571c88ab6807d5d80ea0f1ef7d9197c0489", "Apache-2.0", "test", ("Sources/",)),
    # lua
    Repository("rxi/json.lua", "dbf4b2dd2eb7c23be2773c89eb059dadd6436f94", "MIT", "train"),
    Repository("folke/lazy.nvim", "306a05526ada86a7b30af95c5cc81ffba93fef97", "Apache-2.0", "train", ("lua/",)),
    Repository("kikito/inspect.lua", "a8ca3120dfec48801036eaeff9335ab7a096dd24", "MIT", "test", ("inspect.lua",)),
    # shell
    Repository("nvm-sh/nvm", "b17550a0b9ab691439815dfccc8b73e3a59fa103", "MIT", "train", ("nvm.sh", "install.sh")),
    Repository("bats-core/bats-core", "d22e41faad59f5fd942a88c992b4913a27a460c4", "MIT", "train", ("libexec/", "lib/")),
    Repository("asdf-vm/asdf", "25b3911c7239a0f7cb7ee86acb4d81aed4d7d930", "MIT", "test"),
    # Second round, training only (the test split above was already frozen): the first round's
    # training split had 8 premium positions in 260, too few to learn from. Repositories of
    # concurrency, unsafe, numeric, parser and security code, with more empty bodies.
    *(
        Repository(name, commit, licence, "train", roots, ROUND_TWO_KINDS)
        for name, commit, licence, roots in (
            (
                "Amanieu/parking_lot",
                "d20d71e5a8955ec1d2a53e3659142a505476bb3d",
                "MIT OR Apache-2.0",
                ("core/src/", "src/", "lock_api/src/"),
            ),
            ("rust-lang/hashbrown", "33adaf60bc14bf6a9060909bb4900289380b050e", "MIT OR Apache-2.0", ("src/",)),
            ("concurrencykit/ck", "11baddcdb8b63ffbf4a545d33585672a4de441c8", "BSD-2-Clause", ("include/", "src/")),
            (
                "cameron314/concurrentqueue",
                "1e2def448e43fb3362123ab5ff039c39e1ba5cfd",
                "BSD-2-Clause OR BSL-1.0",
                ("concurrentqueue.h", "blockingconcurrentqueue.h", "lightweightsemaphore.h"),
            ),
            ("golang/sync", "ec11c4a93de22cde2abe2bf74d70791033c2464c", "BSD-3-Clause", ()),
            ("dgraph-io/ristretto", "67cb59139a2f93fab17e7f199a5c5b3dbc7850db", "Apache-2.0", ()),
            ("LMAX-Exchange/disruptor", "003ac1326be415c2387854f0c4dc4654e66cd986", "Apache-2.0", ("src/main/",)),
            ("python-trio/trio", "60d0c2f84854ec6ef74995663dcdce3296840485", "MIT OR Apache-2.0", ("src/trio/",)),
            ("pallets/itsdangerous", "672971d66a2ef9f85151e53283113f33d642dabd", "BSD-3-Clause", ("src/",)),
            ("nodejs/undici", "7eb7c8ec8f23acd9c3da93a286162f8c1dc68326", "MIT", ("lib/",)),
            ("dcodeIO/long.js", "e1bcb4f65096465b69f0fd67e68fc2a79a67ade9", "Apache-2.0", ("index.js",)),
            ("apple/swift-atomics", "bc30c67cf0c4479633621ad7950d71494a07390f", "Apache-2.0", ("Sources/",)),
            ("antirez/linenoise", "e26268de5e56bfaad773786471844578fe9f7f4b", "BSD-2-Clause", ("linenoise.c",)),
            ("Kotlin/kotlinx-atomicfu", "4e607600049d32d7239fa38c8a0ad663ef64e052", "Apache-2.0", ("atomicfu/src/",)),
        )
    ),
)

EXTENSIONS = {
    ".py": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".ts": "typescript",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".hpp": "cpp",
    ".rb": "ruby",
    ".php": "php",
    ".kt": "kotlin",
    ".swift": "swift",
    ".lua": "lua",
    ".sh": "shell",
    ".bash": "shell",
}
SKIP_PATH = re.compile(
    r"(^|/)(vendor|third_party|node_modules|dist|build|testdata|examples?|docs?|benches?|fuzz)/|\.min\.|_test\.go$|/test/|/tests/|\.d\.ts$"
)

# A line that opens a function, per family of languages (the body is the indented block under it).
SIGNATURE = {
    "python": re.compile(r"^\s*(async\s+)?def\s+\w+"),
    "ruby": re.compile(r"^\s*def\s+[\w.?!=]+"),
    "lua": re.compile(r"^\s*(local\s+)?function\b|=\s*function\s*\("),
    "shell": re.compile(r"^\s*(function\s+)?[\w:.-]+\s*\(\)\s*\{?\s*$"),
    "go": re.compile(r"^\s*func\b.*\{\s*$"),
    "rust": re.compile(
        r"^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(unsafe\s+)?(async\s+)?(extern\s+\"C\"\s+)?fn\s+\w+.*\{\s*$"
    ),
    "kotlin": re.compile(r"^\s*(\w+\s+)*fun\b.*\{\s*$"),
    "swift": re.compile(r"^\s*(@\w+\s+)*(\w+\s+)*(func|init|deinit)\b.*\{\s*$"),
    "php": re.compile(r"^\s*(\w+\s+)*function\b.*\{?\s*$"),
    "javascript": re.compile(
        r"^\s*((export\s+)?(async\s+)?function\b|(static\s+|async\s+|get\s+|set\s+)*[A-Za-z_$][\w$]*\s*\([^;]*\)\s*\{\s*$|.*=>\s*\{\s*$)"
    ),
    "c_family": re.compile(
        r"^\s*[\w:<>,*&\s~]+\b[\w:~]+\s*\([^;]*\)\s*(const\s*)?(noexcept\s*)?(override\s*)?(throws [\w, .]+)?\{?\s*$"
    ),
}
CONTROL = re.compile(
    r"^\s*(\}\s*)?(if|else|for|while|switch|catch|do|try|return|case|match|loop|unless|elsif|when|foreach)\b"
)
COMMENT = re.compile(r"^\s*(#|//|/\*|\*|--|\"\"\"|''')")


@dataclass(frozen=True)
class Case:
    id: str
    repository: str
    commit: str
    path: str
    licence: str
    language: str
    split: str
    kind: str  # "writing" | "editing"
    position: str  # body | block_line | rest_of_line | missing_line
    line: int  # 1-based line of the cursor in the original file
    prefix: str
    suffix: str
    hidden: str


def git(mirror: Path, *args: str) -> str:
    git_dir = mirror / ".git" if (mirror / ".git").is_dir() else mirror
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", *args], check=True, capture_output=True, text=True, errors="replace"
    ).stdout


def source_files(mirror: Path, repo: Repository) -> list[tuple[str, str]]:
    names = git(mirror, "ls-tree", "-r", "--name-only", repo.commit).splitlines()
    out = []
    for name in names:
        suffix = Path(name).suffix.lower()
        if suffix not in EXTENSIONS or SKIP_PATH.search(name):
            continue
        if repo.roots and not any(name == root or name.startswith(root) for root in repo.roots):
            continue
        out.append((name, EXTENSIONS[suffix]))
    return out


def indent_of(line: str) -> int:
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())


def block_end(lines: list[str], start: int, indent: int) -> int:
    """Index of the first non-blank line at or after ``start`` indented no deeper than ``indent``."""
    for index in range(start, len(lines)):
        if lines[index].strip() and indent_of(lines[index]) <= indent:
            return index
    return len(lines)


def signature_end(lines: list[str], at: int, language: str) -> int | None:
    """The line that ends a signature starting at ``at`` (a multi-line signature ends with ':' or '{')."""
    for index in range(at, min(at + 6, len(lines))):
        text = lines[index].rstrip()
        if language == "python" and text.endswith(":"):
            return index
        if language in ("ruby", "lua", "shell") and index == at:
            return index
        if text.endswith("{") or (language == "php" and lines[min(index + 1, len(lines) - 1)].strip() == "{"):
            return index + 1 if language == "php" and not text.endswith("{") else index
        if text.endswith(";"):
            return None
    return None


def signature_pattern(language: str) -> re.Pattern[str]:
    if language in ("c", "cpp", "java"):
        return SIGNATURE["c_family"]
    if language == "typescript":
        return SIGNATURE["javascript"]
    return SIGNATURE[language]


def body_positions(lines: list[str], language: str) -> list[tuple[int, int, int]]:
    """(signature end, body start, body end) for each function body of 2..HIDDEN_MAX_LINES lines."""
    pattern = signature_pattern(language)
    out = []
    for index, line in enumerate(lines):
        if not pattern.match(line) or CONTROL.match(line) or COMMENT.match(line):
            continue
        end = signature_end(lines, index, language)
        if end is None or end + 1 >= len(lines):
            continue
        indent = indent_of(lines[index])
        start = end + 1
        while start < len(lines) and not lines[start].strip():
            start += 1
        if start >= len(lines) or indent_of(lines[start]) <= indent:
            continue
        stop = block_end(lines, start, indent)
        if 2 <= stop - start <= HIDDEN_MAX_LINES:
            out.append((end, start, stop))
    return out


def trimmed(before: str, after: str, head: str) -> tuple[str, str]:
    """What a model sees: the text before the cursor (whole lines, the import head kept) and after."""
    prefix = before
    if len(prefix) > PREFIX_CHARS:
        cut = prefix[-PREFIX_CHARS:]
        newline = cut.find("\n")
        cut = cut[newline + 1 :] if newline >= 0 else cut
        prefix = (head + cut) if head and not cut.startswith(head) else cut
    suffix = after
    if len(suffix) > SUFFIX_CHARS:
        suffix = suffix[:SUFFIX_CHARS]
        newline = suffix.rfind("\n")
        suffix = suffix[: newline + 1] if newline > 0 else suffix
    return prefix, suffix


IMPORT_LINE = re.compile(
    r"^\s*(import\b|from\s+\S+\s+import\b|use\s|#include\b|package\s|require\b|local\s+\w+\s*=\s*require|const\s+\w+\s*=\s*require\(|namespace\s)"
)


def import_head(lines: list[str]) -> str:
    """The file's import lines among its first 60 lines (kept at the top of a trimmed prefix)."""
    kept = [line for line in lines[:60] if IMPORT_LINE.match(line)]
    return "".join(line + "\n" for line in kept[:20])


def make_case(lines: list[str], language: str, kind: str, rng: random.Random) -> tuple[int, str, str, str] | None:
    """(cursor line index, text before, text after, hidden) for one position of ``kind``, or None."""
    if kind == "body":
        bodies = body_positions(lines, language)
        if not bodies:
            return None
        _, start, stop = rng.choice(bodies)
        indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
        before = "\n".join(lines[:start]) + "\n" + indent
        hidden = "\n".join(lines[start:stop]).rstrip()
        after = "\n" + "\n".join(lines[stop:])
        return start, before, after, hidden
    if kind == "block_line":
        bodies = [b for b in body_positions(lines, language) if b[2] - b[1] >= 3]
        if not bodies:
            return None
        _, start, stop = rng.choice(bodies)
        candidates = [
            i
            for i in range(start + 1, stop)
            if lines[i].strip()
            and not COMMENT.match(lines[i])
            and not lines[i].strip().startswith(("}", "end", ")", "]"))
        ]
        if not candidates:
            return None
        at = rng.choice(candidates)
        indent_text = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
        end = block_end(lines, at, indent_of(lines[at]) - 1)
        end = min(end, at + HIDDEN_MAX_LINES)
        before = "\n".join(lines[:at]) + "\n" + indent_text
        hidden = "\n".join(lines[at:end]).strip()
        after = "\n" + "\n".join(lines[end:])
        return at, before, after, hidden
    code_lines = [
        i
        for i, text in enumerate(lines)
        if len(text.strip()) >= 16 and not COMMENT.match(text) and not IMPORT_LINE.match(text) and i > 5
    ]
    if not code_lines:
        return None
    at = rng.choice(code_lines)
    text = lines[at]
    stripped_start = len(text) - len(text.lstrip())
    if kind == "missing_line":
        before = "\n".join(lines[:at]) + "\n" + text[:stripped_start]
        return at, before, "\n" + "\n".join(lines[at + 1 :]), text.strip()
    # rest_of_line: cut at a token boundary between 30 % and 70 % of the line's code.
    body = text[stripped_start:]
    boundaries = [
        m.start() for m in re.finditer(r"(?<=[\s(,=.:\[{])\S", body) if 0.3 * len(body) <= m.start() <= 0.7 * len(body)
    ]
    if not boundaries:
        return None
    cut = stripped_start + rng.choice(boundaries)
    before = "\n".join(lines[:at]) + "\n" + text[:cut]
    return at, before, "\n" + "\n".join(lines[at + 1 :]), text[cut:].rstrip()


def cases_of(mirror: Path, repo: Repository) -> list[Case]:
    rng = random.Random(int(hashlib.sha256(repo.name.encode()).hexdigest()[:8], 16))
    files = source_files(mirror, repo)
    rng.shuffle(files)
    out: list[Case] = []
    used_files: dict[str, int] = {}
    kinds = list(repo.kinds)
    attempts = 0
    while kinds and attempts < 400 and files:
        attempts += 1
        path, language = files[attempts % len(files)]
        if used_files.get(path, 0) >= max(2, len(repo.kinds) // len(files) + 1):
            continue
        text = git(mirror, "show", f"{repo.commit}:{path}")
        if not 300 <= len(text) <= 400_000 or "\t" in text[:0]:
            continue
        lines = text.split("\n")
        made = make_case(lines, language, kinds[0], rng)
        if made is None:
            continue
        at, before, after, hidden = made
        if not hidden.strip() or len(before.strip()) < 80:
            continue
        hidden_lines = hidden.split("\n")
        if len(hidden_lines) > HIDDEN_MAX_LINES:
            hidden = "\n".join(hidden_lines[:HIDDEN_MAX_LINES])
        prefix, suffix = trimmed(before, after, import_head(lines))
        position = kinds.pop(0)
        used_files[path] = used_files.get(path, 0) + 1
        short = repo.name.split("/")[1].lower().replace(".", "-")
        out.append(
            Case(
                id=f"{short}-{len(out) + 1}",
                repository=repo.name,
                commit=repo.commit,
                path=path,
                licence=repo.licence,
                language=language,
                split=repo.split,
                kind="writing" if position in ("body", "block_line") else "editing",
                position=position,
                line=at + 1,
                prefix=prefix,
                suffix=suffix,
                hidden=hidden,
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mirrors", type=Path, required=True, help="folder with owner+name/repo git mirrors")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    cases: list[Case] = []
    for repo in REPOSITORIES:
        mirror = args.mirrors / repo.name.replace("/", "+") / "repo"
        made = cases_of(mirror, repo)
        print(f"{repo.name:<32} {repo.split:<5} {len(made)} cases")
        cases.extend(made)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as out:
        for case in cases:
            out.write(json.dumps(asdict(case), ensure_ascii=False) + "\n")
    print(
        f"{len(cases)} cases, {sum(c.kind == 'writing' for c in cases)} writing, {len({c.language for c in cases})} languages"
    )


if __name__ == "__main__":
    main()
