"""The package's import graph: no cycles between specflow modules, at any depth.

Every `import` and `from ... import` counts, including those inside functions (the lazy ones
at the heavy seams) and under TYPE_CHECKING: a cycle through a lazy import still ties two
modules together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import specflow

PACKAGE = Path(specflow.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The specflow module *name* refers to (a module, or the package a name comes from)."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(path: Path, module: str, known: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            target = _resolve(name, known)
            if target and target != module and target != "specflow":
                found.add(target)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of *graph* as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycles_between_specflow_modules() -> None:
    known = _modules()
    graph = {name: imports_of(path, name, known) for name, path in known.items()}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_function_level_cycle(tmp_path: Path) -> None:
    # The near miss and the break: a lazy import inside a function still closes a cycle.
    (tmp_path / "a.py").write_text("def f():\n    from specflow.b import g\n")
    (tmp_path / "b.py").write_text("import specflow.c\n")
    (tmp_path / "c.py").write_text("from typing import Any\n")
    known = {f"specflow.{n}": tmp_path / f"{n}.py" for n in "abc"}
    graph = {name: imports_of(path, name, known) for name, path in known.items()}
    assert graph == {
        "specflow.a": {"specflow.b"},
        "specflow.b": {"specflow.c"},
        "specflow.c": set(),
    }
    assert find_cycle(graph) is None
    (tmp_path / "c.py").write_text("def h():\n    import specflow.a\n")
    graph["specflow.c"] = imports_of(tmp_path / "c.py", "specflow.c", known)
    assert find_cycle(graph) == ["specflow.a", "specflow.b", "specflow.c", "specflow.a"]


def test_no_cli_function_is_over_forty_lines() -> None:
    # The CLI parses, calls one library function and prints; logic that grows lives below it.
    modules = sorted((PACKAGE / "cli").glob("*.py"))
    assert len(modules) > 3
    lengths = {
        f"{module.stem}.{node.name}": node.end_lineno - node.lineno + 1  # from `def`
        for module in modules
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef) and node.end_lineno is not None
    }
    assert len(lengths) > 20
    assert {name: n for name, n in lengths.items() if n > 40} == {}
