"""The layers keep their rules: no import cycle, and importing the kit is cheap (no process, no Django, no pandas)."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from widgets.sandbox.paths import REPO_ROOT

WIDGETS = REPO_ROOT / "widgets"


def _module_name(path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(path) -> set[str]:
    """Return the kit modules a file imports when it is imported (not inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("widgets"):
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("widgets")}
    return found


def import_graph() -> dict[str, set[str]]:
    """Return each kit module and the kit modules it imports at its top level."""
    modules = {_module_name(path): path for path in WIDGETS.rglob("*.py")}
    return {name: {m for m in _top_level_imports(path) if m in modules and m != name} for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the import cycles of a graph (each as a path that ends where it starts)."""
    found, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                found.append(path[path.index(target) :] + [target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_kit_modules_form_no_import_cycle():
    assert cycles(import_graph()) == []


def test_no_module_sits_in_the_old_flat_layout():
    flat = sorted(p.name for p in WIDGETS.glob("*.py"))
    # The package, its deprecation table, the errors every layer raises, and `python -m widgets.course`.
    assert flat == ["__init__.py", "_moved.py", "course.py", "errors.py"], "modules belong in a subpackage by role"


def _fresh(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120
    ).stdout


@pytest.mark.processes("imports the kit in a fresh interpreter")
def test_import_widgets_loads_neither_django_nor_pandas_and_starts_no_process():
    code = (
        "import os, sys, widgets\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'pandas', 'ipywidgets', 'subprocess'))\n"
        "children = [p for p in os.listdir('/proc') if p.isdigit()"
        " and open(f'/proc/{p}/stat').read().split(') ')[1].split()[1] == str(os.getpid())]\n"
        "print(heavy, children)\n"
    )
    assert _fresh(code).strip() == "[] []"


@pytest.mark.processes("imports the kit in a fresh interpreter")
def test_a_public_name_is_loaded_on_first_use():
    code = "import sys, widgets\nwidgets.KitError\nprint('widgets.errors' in sys.modules, 'pandas' in sys.modules)\n"
    assert _fresh(code).strip() == "True False"


def test_no_module_of_the_kit_imports_pandas_or_numpy():
    """Pandas is optional (the browser has none): only widgets/read/table.py may load it, on first use."""
    found = []
    for path in sorted(WIDGETS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            found += [f"{path.relative_to(REPO_ROOT)}: {n}" for n in names if n.split(".")[0] in ("pandas", "numpy")]
    assert found == []
