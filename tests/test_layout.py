"""The package's layout rules (docs/developer/layout.md), read off the source with ``ast``."""

import ast
from pathlib import Path

import simsearch

PACKAGE = Path(simsearch.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = ["simsearch", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Modules of the package that ``path`` imports, at module level or inside a function (a
    deferred import is still a dependency: a circle through one is a knot in the design)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            candidates = [target] + [f"{target}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        found.update(c for c in candidates if c.startswith("simsearch") and c in MODULES)
    found.discard(name)
    return found


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {name: _imports(path) for name, path in MODULES.items()}


def _parents(name: str) -> set[str]:
    """Importing a.b.c first imports a and a.b."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def test_there_is_no_import_circle():
    edges = {name: {t for target in targets for t in (target, *_parents(target))} - {name}
             for name, targets in GRAPH.items()}
    # A package importing its own submodules is how packages work, not a circle.
    edges = {name: {t for t in targets if not t.startswith(name + ".")}
             for name, targets in edges.items()}
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                raise AssertionError("import circle: " + " -> ".join(
                    stack[stack.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node)


def test_kernels_import_nothing_from_above():
    for name, targets in GRAPH.items():
        if name.startswith("simsearch.kernels"):
            above = {t for t in targets if not t.startswith("simsearch.kernels")}
            assert not above, f"{name} imports {sorted(above)}"


def test_at_most_three_loose_modules_at_the_top():
    loose = sorted(p.name for p in PACKAGE.glob("*.py")
                   if p.name not in ("__init__.py", "__main__.py"))
    assert len(loose) <= 3, loose
