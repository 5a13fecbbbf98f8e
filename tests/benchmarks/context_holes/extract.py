"""Build the cross-file holes set (tests/data/context_holes/holes.jsonl) from public repositories
read at recorded commits (issue 20).

A hole is a line of a function body whose code calls a function or class defined in another file
of the same repository and not in the file itself, by a name the file imports from a module or
through a module of the repository the file imports (`utils.f(`), never as a method of an object (the name has at most `MAX_DEFINERS`
definitions in the repository, so "the needed definition" means something). The model sees the
file up to the line's indentation, and the file after the function (the rest of the body is
hidden too, so it cannot copy a later call); the expected completion is the line.

    python tests/benchmarks/context_holes/extract.py [--mirrors /work/.mirror]

Each repository is read with `git --git-dir=MIRROR show COMMIT:PATH` (fetched beforehand, e.g.
with `git clone --mirror`); nothing is downloaded here.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "server"))

from tierline.context.definitions import extract  # noqa: E402

OUT = ROOT / "tests" / "data" / "context_holes" / "holes.jsonl"

# (owner/name, commit, package folder, licence)
REPOSITORIES: tuple[tuple[str, str, str, str], ...] = (
    ("psf/requests", "1f6589ec3a1ee910f9a65cc3ceac60b26677bc0e", "src/requests", "Apache-2.0"),
    ("pallets/flask", "2ac89889f4cc330eabd50f295dcef02828522c69", "src/flask", "BSD-3-Clause"),
    ("pallets/click", "2c8cd3ac958a7eb316d67f2d316c27086c4c0369", "src/click", "BSD-3-Clause"),
    ("encode/httpx", "ae1b9f66238f75ced3ced5e4485408435de10768", "httpx", "BSD-3-Clause"),
    ("Textualize/rich", "42899d8a0a96b121a514516f4be9db44ff7aeaf3", "rich", "MIT"),
    ("pallets/werkzeug", "1b00618e787f40dfb21eba29caf8f8be7c8e1d93", "src/werkzeug", "BSD-3-Clause"),
)
PER_REPOSITORY = 30
MAX_DEFINERS = 3
# A call of a bare name, or of a name through a module the file imports (`utils.f(`), not a method
# of an object (`self.x.f(`): the symbol must be reachable by name from the file's imports.
_CALL = re.compile(r"(?<![\w.])(?:([A-Za-z_]\w*)\.)?([A-Za-z_]\w{3,})\(")
_FROM_IMPORT = re.compile(r"^[ \t]*from\s+(\S+)\s+import\s+(\([^)]*\)|[^\n]+)", re.M)
_IMPORT_AS = re.compile(r"^[ \t]*import\s+([\w.]+)(?:\s+as\s+(\w+))?", re.M)


def imports_of(text: str, files: dict[str, bytes]) -> tuple[set[str], set[str]]:
    """(names imported from modules, names bound to modules of the repository)."""
    stems = {path.rsplit("/", 1)[-1][:-3] for path in files} | {path.rsplit("/", 2)[-2] for path in files}
    names, modules = set(), set()
    for match in _FROM_IMPORT.finditer(text):
        listed = "\n".join(line.split("#", 1)[0] for line in match.group(2).strip("()").splitlines())
        for part in listed.split(","):
            words = part.split()
            if not words:
                continue
            bound = words[-1] if len(words) == 3 and words[1] == "as" else words[0]
            (modules if words[0] in stems else names).add(bound)
    for match in _IMPORT_AS.finditer(text):
        if match.group(1).rsplit(".", 1)[-1] in stems:  # a module of the repository, not `os`
            modules.add(match.group(2) or match.group(1).split(".")[0])
    return names, modules


_FUNCTION = re.compile(r"^([ \t]*)(?:async\s+)?def\s+\w+", re.M)


def git_dir(mirrors: Path, repository: str) -> str:
    return str(mirrors / repository.replace("/", "+") / "repo")


def files_at(git: str, commit: str, folder: str) -> dict[str, bytes]:
    names = subprocess.run(
        ["git", f"--git-dir={git}", "ls-tree", "-r", "--name-only", commit, folder],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    out = {}
    for name in names:
        if name.endswith(".py"):
            out[name] = subprocess.run(
                ["git", f"--git-dir={git}", "show", f"{commit}:{name}"], check=True, capture_output=True
            ).stdout
    return out


def function_spans(text: str) -> list[tuple[int, int, int]]:
    """(start, body start, end) character offsets of each function (by indentation)."""
    spans = []
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    for i, line in enumerate(lines):
        match = _FUNCTION.match(line)
        if not match:
            continue
        indent = len(match.group(1))
        j = i + 1
        while j < len(lines) and not lines[j - 1].rstrip().endswith(":"):
            j += 1  # a signature over several lines
        body = j
        k = body
        while k < len(lines) and (not lines[k].strip() or len(lines[k]) - len(lines[k].lstrip()) > indent):
            k += 1
        spans.append((starts[i], starts[body], starts[k]))
    return spans


def holes_in(repository: str, commit: str, licence: str, files: dict[str, bytes]) -> list[dict[str, object]]:
    definers: dict[str, set[str]] = {}
    defined: dict[str, set[str]] = {}
    for path, source in files.items():
        names = {d.name for d in extract(source, "python", path)}
        defined[path] = names
        for name in names:
            definers.setdefault(name, set()).add(path)
    found = []
    for path, source in sorted(files.items()):
        if path.endswith("__init__.py") or "/tests/" in path:
            continue
        text = source.decode("utf-8")
        imported, modules = imports_of(text, files)
        seen: set[int] = set()
        for _start, body, end in function_spans(text):
            for line_match in re.finditer(r"^[ \t]*(.+)$", text[body:end], re.M):
                line = line_match.group(1)
                if line.startswith(("#", '"', "'")):
                    continue
                names = [
                    n
                    for through, n in _CALL.findall(line)
                    if (through in modules if through else n in imported)
                    and n not in defined[path]
                    and 0 < len(definers.get(n, ())) <= MAX_DEFINERS
                ]
                if not names:
                    continue
                at = body + line_match.start(1)
                row = text.count("\n", 0, at)
                if row in seen:  # a nested function's line, already a hole of its outer function
                    break
                seen.add(row)
                found.append(
                    {
                        "id": f"{repository.split('/')[1]}-{path.rsplit('/', 1)[-1][:-3]}-{row + 1}",
                        "repository": repository,
                        "commit": commit,
                        "licence": licence,
                        "path": path,
                        "line": row + 1,
                        "column": at - text.rfind("\n", 0, at) - 1,
                        "function_end_line": text.count("\n", 0, end) + 1,
                        "expected": line.rstrip(),
                        "symbol": names[0],
                        "defined_in": sorted(definers[names[0]]),
                    }
                )
                break  # one hole per function: its first cross-file call
    # Spread over the files: every k-th hole, at most PER_REPOSITORY.
    step = max(1, len(found) // PER_REPOSITORY)
    return found[::step][:PER_REPOSITORY]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    args = parser.parse_args()
    holes = []
    for repository, commit, folder, licence in REPOSITORIES:
        files = files_at(git_dir(args.mirrors, repository), commit, folder)
        chosen = holes_in(repository, commit, licence, files)
        print(f"{repository}: {len(files)} files, {len(chosen)} holes", file=sys.stderr)
        holes.extend(chosen)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w") as f:
        for hole in holes:
            f.write(json.dumps(hole, sort_keys=True) + "\n")
    print(f"{len(holes)} holes -> {OUT.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
