"""The README as a newcomer reads it: each example's output is what the command really prints (run
from the checkout with no key set), and no install instruction points at PyPI, where tierline is
not (whoever registers the name there would be installed)."""

from __future__ import annotations

import doctest
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.common import ROOT
from tests.helpers.demo import DEMO_GROUP, newcomer_env
from tierline.commands.demo import demo_text

README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(text)]


def command_examples() -> list[tuple[str, str]]:
    """(command, expected output) for each ```text block that starts with `$ tierline ...`."""
    examples = []
    for language, body in fenced_blocks(README.read_text(encoding="utf-8")):
        first, _, rest = body.partition("\n")
        if language == "text" and first.startswith("$ tierline "):
            examples.append((first[2:], rest))
    return examples


def matches(expected: str, actual: str) -> bool:
    """Line ends trimmed (tables pad their last column); `...` stands for any text, as in doctest."""

    def trim(text: str) -> str:
        return "\n".join(line.rstrip() for line in text.strip("\n").split("\n")) + "\n"

    return doctest.OutputChecker().check_output(trim(expected), trim(actual), doctest.ELLIPSIS)


def test_the_readme_has_the_examples_this_file_checks():
    commands = [command.split()[1] for command, _ in command_examples()]
    assert "score" in commands and "demo" in commands, commands


DEMO = "tierline demo"


def check_example(command: str, expected: str, actual: str) -> None:
    assert matches(expected, actual), (
        f"README.md shows for `{command}`:\n{expected}\nbut it prints:\n{actual}\n"
        "Update the README with the real output (keep `...` where the output varies)."
    )


@pytest.mark.parametrize(
    "command,expected", [e for e in command_examples() if e[0] != DEMO], ids=lambda v: v.split("\n")[0][:40]
)
def test_readme_example_is_real_output(command: str, expected: str, tmp_path: Path):
    args = shlex.split(command)[1:]
    result = subprocess.run(
        [sys.executable, "-m", "tierline", *args],
        cwd=ROOT,
        env=newcomer_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,  # a bound, not a speed check
    )
    assert result.returncode == 0, result.stderr
    check_example(command, expected, result.stdout)


@DEMO_GROUP
def test_readme_demo_is_real_output(demo_run: dict[str, Any]):
    """The demo, the suite's longest command, runs once for every test that reads it: its text is
    `demo_text` of the figures `--json` printed (commands/demo.py prints exactly that)."""
    expected = dict(command_examples())[DEMO]
    check_example(DEMO, expected, demo_text(demo_run) + "\n")


def test_the_checker_catches_a_changed_figure():
    assert matches("spent $0.10\n...\ndone", "spent $0.10\nanything\nhere\ndone")
    assert not matches("spent $0.10\n", "spent $0.11\n")


def test_the_quick_start_has_exactly_two_commands_and_both_exist():
    text = README.read_text(encoding="utf-8")
    quick_start = text[text.index("## Quick start") : text.index("\n## ", text.index("## Quick start") + 1)]
    first_block = fenced_blocks(quick_start)[0][1]
    commands = [line for line in first_block.split("\n") if line.strip() and not line.startswith("#")]
    assert len(commands) == 2, commands
    assert commands[0].endswith("tierline demo") and "pip install -q ." in commands[0]
    assert commands[1] == "bash tests/run-all.sh"
    for block_language, body in fenced_blocks(text):
        for script in re.findall(r"\bbash ([\w./-]+\.sh)", body) if block_language == "sh" else []:
            assert (ROOT / script).is_file(), f"README runs {script}, which does not exist"


def test_no_install_instruction_points_at_pypi():
    offenders = []
    for path in [README, *sorted((ROOT / "editors").rglob("*"))]:
        if "node_modules" in path.parts or "dist" in path.parts or path.suffix not in (".md", ".ts", ".lua", ".txt"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
            # The README says once why that command is wrong; every other mention is an instruction.
            if re.search(r"pip install tierline\b", line) and "would install whatever" not in line:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
