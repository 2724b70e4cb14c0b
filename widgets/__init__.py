"""See what Django's makemigrations and migrate do to a database, in a disposable sandbox.

Importing the kit is cheap: it starts no process and imports neither Django nor
pandas. Each public name is loaded from its module the first time it is used.
``__all__`` is the stable surface (tests/test_public_api.py pins it); a name
taken out keeps working for one release with a DeprecationWarning that names
its replacement (``widgets._moved``), and CHANGELOG.md says what changed.
"""

from __future__ import annotations

import importlib

from . import _moved

# Public name -> the module that defines it. One table: __all__ and the lazy loader both read it.
_PUBLIC = {
    "CommandResult": "widgets.run.result",
    "Diagnosis": "widgets.run.diagnose",
    "Prompt": "widgets.run.prompts",
    "Runner": "widgets.run.runner",
    "runner": "widgets.run.runner",
    "StateDiff": "widgets.read.diff",
    "diff": "widgets.read.diff",
    "RollbackPreview": "widgets.read.rollback",
    "rollback_preview": "widgets.read.rollback",
    "MigrationGraph": "widgets.read.state",
    "Plan": "widgets.read.state",
    "PlanStep": "widgets.read.state",
    "State": "widgets.read.state",
    "DatabaseFileError": "widgets.errors",
    "EditError": "widgets.errors",
    "KitError": "widgets.errors",
    "SandboxBusyError": "widgets.errors",
    "SandboxNameError": "widgets.errors",
    "SandboxPathError": "widgets.errors",
    "StateError": "widgets.errors",
    "WorkspaceError": "widgets.errors",
    "draw_migration_graph": "widgets.draw.graphs",
    "draw_schema": "widgets.draw.graphs",
    "KitDigraph": "widgets.draw.render",
    "renderer": "widgets.draw.render",
    "save": "widgets.draw.render",
    "migrations_frame": "widgets.draw.tables",
    "migrations_table": "widgets.draw.tables",
    "row_counts_frame": "widgets.draw.tables",
    "row_counts_table": "widgets.draw.tables",
    "schema_frame": "widgets.draw.tables",
    "schema_table": "widgets.draw.tables",
    "MigrationLab": "widgets.lab.panels",
    "ProgressFrame": "widgets.lessons.progress_record",
    "progress": "widgets.lessons.progress_record",
    "PageResult": "widgets.sandbox.facade",
    "Sandbox": "widgets.sandbox.facade",
}

# Modules a lesson imports by their short name (``from widgets import exercises as check``).
_MODULES = {
    "authoring": "widgets.lessons.authoring",
    "exercises": "widgets.lessons.exercises",
    "scenarios": "widgets.lessons.scenarios",
}

__all__ = sorted([*_PUBLIC, *_MODULES])


def __getattr__(name: str):
    """Load a public name, a lesson module, or a moved module (with a DeprecationWarning) on first use."""
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
    elif name in _MODULES:
        value = importlib.import_module(_MODULES[name])
    elif name in _moved.MODULES:
        return _moved.load(f"widgets.{name}")  # warns each time: not cached on the package
    else:
        raise AttributeError(f"module 'widgets' has no attribute '{name}'")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


_moved.install()
