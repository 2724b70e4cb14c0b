"""The public surface is pinned: a name leaves it only through a deprecation that names its replacement."""

from __future__ import annotations

import importlib
import warnings

import pytest

import widgets
from widgets import _moved

# The stable surface of 0.2. Changing it is a decision: update CHANGELOG.md and this list together.
PUBLIC = [
    "CommandResult", "DatabaseFileError", "Diagnosis", "EditError", "KitDigraph", "KitError", "MigrationGraph",
    "MigrationLab", "PageResult", "Plan", "PlanStep", "ProgressFrame", "Prompt", "RollbackPreview", "Runner",
    "Sandbox", "SandboxBusyError", "SandboxNameError", "SandboxPathError", "State", "StateDiff", "StateError",
    "WorkspaceError", "authoring", "diff", "draw_migration_graph", "draw_schema", "exercises", "migrations_frame",
    "migrations_table", "progress", "renderer", "rollback_preview", "row_counts_frame", "row_counts_table",
    "runner", "save", "scenarios", "schema_frame", "schema_table",
]  # fmt: skip


def test_the_public_surface_is_pinned():
    assert sorted(widgets.__all__) == sorted(PUBLIC)


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_loads(name):
    assert getattr(widgets, name) is not None


@pytest.mark.parametrize("old", sorted(_moved.MOVED))
def test_an_old_module_path_warns_and_names_its_replacement(old):
    new = _moved.MOVED[old]
    with pytest.warns(DeprecationWarning, match=rf"{old} moved to {new}.*Fix: import {new}"):
        module = _moved.load(old)
    assert module is importlib.import_module(new)


def test_an_old_dotted_import_still_gives_the_module(monkeypatch):
    import sys

    monkeypatch.delitem(sys.modules, "widgets.state", raising=False)
    if "state" in vars(widgets):  # set by an earlier import of the old path
        monkeypatch.delattr(widgets, "state")
    with pytest.warns(DeprecationWarning, match="widgets.state moved to widgets.read.state"):
        module = importlib.import_module("widgets.state")
    assert module.State is importlib.import_module("widgets.read.state").State


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        widgets.no_such_name  # noqa: B018


def test_the_new_paths_warn_about_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from widgets.lessons import scenarios  # noqa: F401
        from widgets.read.state import State  # noqa: F401
