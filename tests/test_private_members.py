"""No module of the kit reaches into another object's private members, and the Sandbox stays a short facade.

``x._name`` is allowed on ``self`` and ``cls``, on a name the module itself
defines at its top level (its own class, say), for Python's and IPython's
protocol names (``__dict__``, ``_repr_html_``), and for the few other
libraries' members in ALLOWED below, each with the reason it is needed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from widgets.sandbox.paths import REPO_ROOT

WIDGETS = REPO_ROOT / "widgets"
FACADE = WIDGETS / "sandbox" / "facade.py"
FACADE_LIMIT = 350

# (module, the expression as written) -> why it is allowed.
ALLOWED = {
    # Django's documented Model _meta API (docs: "Model _meta API"), read by the probe inside Django.
    ("run/_probe.py", "MigrationRecorder.Migration._meta"): "Django's public Model _meta API",
    ("run/_probe.py", "model._meta"): "Django's public Model _meta API",
    ("run/_probe.py", "each._meta"): "Django's public Model _meta API",
    ("run/_probe.py", "through._meta"): "Django's public Model _meta API",
    ("run/_probe.py", "field.remote_field.model._meta"): "Django's public Model _meta API",
    # os._exit is public (documented); a forked child must leave without running the parent's cleanup.
    ("run/_zygote.py", "os._exit"): "documented os function for a forked child",
    # A forked child's own interpreter shutdown, done by hand because it leaves with os._exit.
    ("run/_zygote.py", "threading._shutdown"): "interpreter shutdown in a forked child",
    ("run/_zygote.py", "atexit._run_exitfuncs"): "interpreter shutdown in a forked child",
    # Resetting Django inside one interpreter: Django offers no public way to forget these between projects.
    ("run/inprocess.py", "apps._pending_operations"): "Django's app registry, reset between projects",
    ("run/inprocess.py", "settings._wrapped"): "Django's lazy settings, reset between projects",
    ("run/inprocess.py", "connections._connections"): "Django's connection handler, reset between projects",
    ("run/inprocess.py", "connections._settings"): "the DATABASES Django's connection handler configured",
    ("run/inprocess.py", "site._registry"): "the admin's registrations of a project's purged models",
    # pgserver keeps one handle per data folder and a lock for its kernel count, with no public way to reach them.
    ("sandbox/postgres.py", "server_class._instances"): "pgserver's handle per data folder",
    ("sandbox/postgres.py", "server_class._lock"): "pgserver's lock for its kernel count",
    ("sandbox/postgres.py", "PostgresServer._instances"): "pgserver's handle per data folder",
}


def top_level_names(tree: ast.Module) -> set[str]:
    """Return the names a module defines itself at its top level: classes, functions and assignments."""
    names = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {target.id for target in targets if isinstance(target, ast.Name)}
    return names


def own_members(tree: ast.Module) -> set[str]:
    """Return the private members a module's own classes define: methods and ``self._x`` attributes."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("_"):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and ast.unparse(node.value) == "self":
            names.add(node.attr)
    return names


def is_protocol(name: str) -> bool:
    """Return True for Python's dunder names and IPython's display protocol (``_repr_html_``)."""
    return name.startswith("__") or (name.endswith("_") and not name.endswith("__"))


def private_accesses(path: Path) -> list[tuple[int, str]]:
    """Return (line, expression) for each ``x._name`` in a module where x is not its own."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = top_level_names(tree) | {"self", "cls"}
    members = own_members(tree)  # a module may use its own classes' private members on any instance of them
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_") or is_protocol(node.attr):
            continue
        if (isinstance(node.value, ast.Name) and node.value.id in own) or node.attr in members:
            continue
        found.append((node.lineno, ast.unparse(node)))
    for node in ast.walk(tree):
        # ``from widgets.x import _helper`` is the same reach as ``x._helper``; a private submodule is not.
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("widgets"):
            for alias in node.names:
                if alias.name.startswith("_") and not is_module(f"{node.module}.{alias.name}"):
                    found.append((node.lineno, f"{node.module}.{alias.name}"))
    return found


def is_module(dotted: str) -> bool:
    """Tell whether a dotted name under widgets is a module or package of the kit."""
    path = WIDGETS.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def offences() -> list[str]:
    """Return every private access in widgets/ that the allow-list does not explain."""
    lines = []
    for path in sorted(WIDGETS.rglob("*.py")):
        module = path.relative_to(WIDGETS).as_posix()
        for line, expression in private_accesses(path):
            if (module, expression) not in ALLOWED:
                lines.append(f"widgets/{module}:{line}: {expression}")
    return lines


def test_no_module_reaches_into_another_objects_private_members() -> None:
    assert offences() == [], "Fix: give the object a public, documented method and call that instead."


def test_every_allowed_access_is_still_there() -> None:
    """An allow-list entry nothing needs any more is removed, so the list stays the truth."""
    seen = {
        (path.relative_to(WIDGETS).as_posix(), expression)
        for path in WIDGETS.rglob("*.py")
        for _, expression in private_accesses(path)
    }
    assert sorted(set(ALLOWED) - seen) == []


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("sandbox._meta()", ["sandbox._meta"]),
        ("self._place.lock()", []),
        ("cls._instances", []),
        ("class Mine:\n    _count = 0\n\nMine._count", []),
        ("import other\nother._secret", ["other._secret"]),
        ("obj._repr_html_()", []),
        ("obj.__dict__", []),
        ("box.kit._lock", ["box.kit._lock"]),
        ("from widgets.read.state import Plan, _read_only", ["widgets.read.state._read_only"]),
        ("from widgets.run import _guard", []),
    ],
)
def test_the_scan_tells_private_from_allowed(tmp_path: Path, code: str, expected: list[str]) -> None:
    module = tmp_path / "module.py"
    module.write_text(code + "\n", encoding="utf-8")
    assert [expression for _, expression in private_accesses(module)] == expected


def test_the_sandbox_facade_stays_short() -> None:
    lines = len(FACADE.read_text(encoding="utf-8").splitlines())
    assert lines < FACADE_LIMIT, (
        f"widgets/sandbox/facade.py has {lines} lines. Fix: move the work into the module of its role "
        "(workspace, lifecycle, project_copy, snapshots, files, backends, templates, readings) and delegate."
    )
