"""Figures of the house: modules by size, and import circles among the package's modules.

    python benchmarks/architecture.py [ROOT]

Counts lines of every module of ``mmconform`` (data tables named as such are listed apart),
and finds circles in the import graph, leaving out imports made only for type checking
(``if TYPE_CHECKING:``). ROOT defaults to this checkout; give another checkout to compare.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

#: Modules that are data tables (defaults, catalogues of values), not logic.
DATA_TABLES = {
    "mmconform/stub/_config_defaults.py",
    "mmconform/stub/_clientconfig.py",
    "mmconform/stub/faults.py",
    "mmconform/proxy/_catalogue.py",
}
LIMIT = 500


def modules(root: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted((root / "mmconform").rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _type_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if _type_only(node, parents):
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def main(argv: list[str]) -> int:
    root = Path(argv[0]).resolve() if argv else Path(__file__).resolve().parents[1]
    known = modules(root)
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in known.items()
    }
    graph = {name: set(imports(name, path, known)) for name, path in known.items()}
    # A package's __init__ importing its own modules is not a circle of logic.
    for name in graph:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".") or t == name}
    found = circles(graph)
    print(f"checkout: {root}")
    print(f"modules: {len(known)}, lines: {sum(sizes.values())}")
    big = [
        (size, name)
        for name, size in sizes.items()
        if size > LIMIT and str(known[name].relative_to(root)) not in DATA_TABLES
    ]
    print(f"modules over {LIMIT} lines (data tables aside): {len(big)}")
    for size, name in sorted(big, reverse=True):
        print(f"  {size:5d}  {name}")
    print(f"import circles (type-only imports aside): {len(found)}")
    for component in found:
        print(f"  {len(component)} modules: {', '.join(component)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
