"""The package's import rules, read from its source (see docs/architecture.md):

- no module imports an underscored name from another module of the package, and no module reaches
  into another object's underscored attribute through a name that is not ``self``/``cls``: what one
  module uses of another is public by name;
- no import cycle among the modules of ``airflow_provider_esign.hooks``, counting every import:
  module level, inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "airflow_provider_esign"
ROOT = "airflow_provider_esign"
#: The emulator is its own distribution with its own rules.
SKIPPED = {"sandbox"}
#: Underscored by their owners' convention yet public: namedtuple's API.
PUBLIC_UNDERSCORED = {"_replace", "_asdict", "_fields", "_make"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[0] in SKIPPED:
            continue
        name = ".".join((ROOT, *parts))
        found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, str, int]]:
    """``(module, imported name or "", line)`` of every import of a package module in ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, "", node.lineno) for alias in node.names if alias.name.startswith(ROOT)]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            if module.startswith(ROOT):
                out += [(module, alias.name, node.lineno) for alias in node.names]
    return out


def test_the_rules_see_the_package():
    assert f"{ROOT}.hooks.pipeline" in MODULES
    assert len(MODULES) > 50


def test_no_module_imports_an_underscored_name_from_another_module():
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {imported} from {module}"
        for name, path in MODULES.items()
        for module, imported, line in _imports(name, path)
        if imported.startswith("_") and not (imported.startswith("__") and imported.endswith("__"))
    ]
    assert not offenders, "\n".join(offenders)


def test_no_module_uses_an_underscored_attribute_of_another_object():
    offenders = []
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
                continue
            if node.attr in PUBLIC_UNDERSCORED or (node.attr.startswith("__") and node.attr.endswith("__")):
                continue
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in {"self", "cls"}:
                continue
            if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super":
                continue
            offenders.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} uses .{node.attr}")
    assert not offenders, "\n".join(offenders)


def _graph(prefix: str) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES if name.startswith(prefix)}
    for name in graph:
        for module, imported, _ in _imports(name, MODULES[name]):
            # `from package import module` is an import of that module.
            target = f"{module}.{imported}" if f"{module}.{imported}" in MODULES else module
            if target in graph and target != name:
                graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

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
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("prefix", [f"{ROOT}.hooks"])
def test_no_import_cycle(prefix):
    cycles = _cycles(_graph(prefix))
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)
