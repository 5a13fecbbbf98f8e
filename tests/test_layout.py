"""The layout keeps its promises: the core never imports the dev tools, and handlers stay thin."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "server" / "tierline"
# Shipped for the demo and the tests; only the CLI's commands may reach them.
MAY_IMPORT_DEVTOOLS = ("devtools", "commands")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_core_never_imports_devtools() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in MAY_IMPORT_DEVTOOLS:
            continue
        if any(name == "tierline.devtools" or name.startswith("tierline.devtools.") for name in imported_modules(path)):
            offenders.append(str(relative))
    assert offenders == []


def test_the_check_sees_a_devtools_import(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text("def f():\n    from tierline.devtools import simulator\n")
    assert "tierline.devtools.simulator" in imported_modules(planted)


def test_the_wire_contract_is_spelled_once() -> None:
    """Outcome and method names live in wire.py; other modules use the names, not the strings."""
    literals = ('"tierline/didRoute"', '"skipped_budget"', '"rate_limited"', '"server_error"')
    offenders = [
        f"{path.relative_to(PACKAGE)}: {literal}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "wire.py" and path.relative_to(PACKAGE).parts[0] != "devtools"
        for literal in literals
        if literal in path.read_text()
    ]
    assert offenders == []
