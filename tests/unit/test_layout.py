"""The layout keeps its promises: the core never imports the dev tools, and handlers stay thin."""

from __future__ import annotations

import ast
from pathlib import Path

import tierline

# The package as imported (a mutant copy on PYTHONPATH is the one checked).
PACKAGE = Path(tierline.__file__).resolve().parent
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


# -- the import graph -------------------------------------------------------------------------
# The layers, lowest first: a module may import its own package and packages of lower layers,
# never one of its own layer or above (TYPE_CHECKING imports and imports inside functions count:
# they are arrows all the same). `tierline` (the root, `__version__`) is below everything.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("wire", "text_table", "prompt", "analysis"),
    ("privacy",),
    ("config",),
    ("providers",),
    ("accounting",),
    ("routing", "context", "telemetry"),
    ("completion",),
    ("lsp", "bench"),
    ("devtools",),
    ("commands",),
    ("cli",),
    ("__main__",),
)
LAYER_OF = {package: level for level, packages in enumerate(LAYERS) for package in packages}
# The simulator and its provider formats import each other (types one way, serving the other);
# dev tooling, never imported by the core (test above).
CYCLE_EXEMPT = ("tierline.devtools",)


def module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the tierline modules it imports. `from package import submodule` is an arrow to
    the submodule, not to the package's `__init__`."""
    modules = {module_name(root, path): path for path in root.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                subs = [f"{node.module}.{alias.name}" for alias in node.names]
                found = [sub for sub in subs if sub in modules]
                targets = found if len(found) == len(subs) else [node.module, *found]
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    offenders = []
    for source, targets in graph.items():
        mine = package_of(source)
        for target in sorted(targets):
            theirs = package_of(target)
            if theirs == mine or theirs == "":
                continue
            if mine not in LAYER_OF or theirs not in LAYER_OF or LAYER_OF[theirs] >= LAYER_OF[mine]:
                offenders.append(f"{source} -> {target}")
    return offenders


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_every_import_points_down_the_layers_and_every_package_has_a_layer() -> None:
    packages = {package_of(module_name(PACKAGE, path)) for path in PACKAGE.rglob("*.py")} - {""}
    assert packages <= set(LAYER_OF), f"packages with no layer: {sorted(packages - set(LAYER_OF))}"
    assert upward_imports(import_graph(PACKAGE)) == []


def test_no_module_of_the_core_is_in_an_import_cycle() -> None:
    cycles = [c for c in import_cycles(import_graph(PACKAGE)) if not all(m.startswith(CYCLE_EXEMPT) for m in c)]
    assert cycles == []


def test_the_checks_see_a_planted_upward_import_and_a_planted_cycle(tmp_path: Path) -> None:
    root = tmp_path / "tierline"
    for package in ("wire", "completion", "config"):
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    (root / "wire" / "names.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from tierline.completion.engine import Engine\n"
    )
    (root / "completion" / "engine.py").write_text("class Engine: ...\n")
    (root / "config" / "a.py").write_text("from tierline.config import b\n")
    (root / "config" / "b.py").write_text("def f():\n    from tierline.config.a import x\n")

    graph = import_graph(root)

    assert upward_imports(graph) == ["tierline.wire.names -> tierline.completion.engine"]
    assert import_cycles(graph) == [["tierline.config.a", "tierline.config.b"]]
