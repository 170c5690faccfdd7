"""The import graph flows one way: records and config at the bottom, the stages in the
middle, the drivers (units of work, daemon, server, cluster) and the CLI on top.

Read from the source with ``ast``: every ``import`` of a ``syndicate`` module, at module
level or inside a function (a lazy import is still a dependency), except those under
``if TYPE_CHECKING:`` (annotations only).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "syndicate"

#: Layer of each top-level part of the package: a module may import only from its own
#: layer or below.
LAYERS: dict[str, int] = {
    # records, errors, leaf helpers
    "errors": 0,
    "models": 0,
    "cron": 0,
    "filters": 0,
    "selectors": 0,
    "sanitize": 0,
    "progress": 0,
    "metrics": 0,
    # configuration: the ground floor every stage stands on
    "config": 1,
    # the stages
    "sources": 2,
    "extract": 2,
    "translate": 2,
    "store": 2,
    "publish": 2,
    # the drivers: the units of work, then what runs them, then the server that shows them
    "work": 3,
    "review": 3,
    "scheduler": 4,
    "cluster": 4,
    "serve": 5,
    # the only place that parses argv and exits
    "cli": 6,
    "__main__": 7,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path) -> set[str]:
    """The syndicate modules ``path`` imports (resolved against the package's files)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    own = module_name(path)
    is_package = path.name == "__init__.py"

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("syndicate"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = own.split(".") if is_package else own.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            if base.startswith("syndicate"):
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    found.add(candidate if _exists(candidate) else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    found.discard(own)
    return found


def _exists(module: str) -> bool:
    relative = Path(*module.split(".")[1:])
    return (PACKAGE / relative).with_suffix(".py").is_file() or (PACKAGE / relative / "__init__.py").is_file()


def part_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


GRAPH = {module_name(p): imports_of(p) for p in sorted(PACKAGE.rglob("*.py")) if "migrations" not in p.parts}


def test_every_part_of_the_package_has_a_layer() -> None:
    parts = {part_of(m) for m in GRAPH} - {"__init__"}
    assert parts <= LAYERS.keys(), f"give these a layer in LAYERS: {sorted(parts - LAYERS.keys())}"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_only_go_down(module: str) -> None:
    if part_of(module) == "__init__":
        return
    layer = LAYERS[part_of(module)]
    upward = []
    for target in sorted(GRAPH[module]):
        if target == "syndicate" or part_of(target) == part_of(module):
            continue
        # Stages may use one another (publishing reads the store); drivers stand apart.
        if LAYERS[part_of(target)] > layer or (LAYERS[part_of(target)] == layer and layer >= 3):
            upward.append(target)
    assert not upward, f"{module} (layer {layer}) imports {upward}"


def test_config_imports_no_stage() -> None:
    stages = {p for p, layer in LAYERS.items() if layer >= 2}
    config = [m for m in GRAPH if part_of(m) == "config"]
    assert len(config) > 1  # a package by concern
    reached = {t for m in config for t in GRAPH[m] if part_of(t) in stages}
    assert not reached


#: The config package's modules, bottom up: each may import only those before it.
CONFIG_ORDER = ("base", "engines", "sources", "sections", "problems", "settings")


def test_config_modules_stack_by_concern() -> None:
    modules = {m.split(".")[-1] for m in GRAPH if part_of(m) == "config" and m != "syndicate.config"}
    assert modules == set(CONFIG_ORDER), "give new config modules a place in CONFIG_ORDER"
    for position, name in enumerate(CONFIG_ORDER):
        imported = {t.split(".")[2] for t in GRAPH[f"syndicate.config.{name}"] if t.startswith("syndicate.config.")}
        assert imported <= set(CONFIG_ORDER[:position]), f"syndicate.config.{name} imports {sorted(imported)}"


def test_no_import_cycle_between_modules() -> None:
    """No cycle through module-level imports (what Python resolves at import time)."""
    top_level = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = module_name(path)
        body = [n for n in tree.body if not (isinstance(n, ast.If) and _type_checking(n))]
        names: set[str] = set()
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names |= {t for t in GRAPH[module] if _imported_by(node, t, module, path)}
        top_level[module] = names

    visiting: list[str] = []
    done: set[str] = set()

    def walk(module: str) -> None:
        if module in done:
            return
        if module in visiting:
            cycle = [*visiting[visiting.index(module) :], module]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        visiting.append(module)
        for target in sorted(top_level.get(module, ())):
            # A package's __init__ importing its own submodules is how packages work.
            if target.startswith(module + ".") and module in top_level:
                continue
            walk(target)
        visiting.pop()
        done.add(module)

    for module in sorted(top_level):
        walk(module)


def _imported_by(node: ast.Import | ast.ImportFrom, target: str, own: str, path: Path) -> bool:
    if isinstance(node, ast.Import):
        return any(a.name == target for a in node.names)
    base = node.module or ""
    if node.level:
        anchor = own.split(".") if path.name == "__init__.py" else own.split(".")[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    return target == base or any(target == f"{base}.{a.name}" for a in node.names)
