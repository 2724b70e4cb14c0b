"""Old module paths that moved in 0.2 (the split by role): they keep working for one release, with a warning.

``import widgets.state`` and ``from widgets import state`` still give the
module, and a DeprecationWarning names the new path. The kit's own code and
lessons use the new paths; CHANGELOG.md lists the moves.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

# Old path -> new path. Removed in 0.3.
MOVED = {
    "widgets._guard": "widgets.run._guard",
    "widgets._probe": "widgets.run._probe",
    "widgets._zygote": "widgets.run._zygote",
    "widgets.actions": "widgets.lab.actions",
    "widgets.authoring": "widgets.lessons.authoring",
    "widgets.bounded": "widgets.run.bounded",
    "widgets.catalogue": "widgets.lessons.catalogue",
    "widgets.checks": "widgets.lessons.checks",
    "widgets.commands": "widgets.run.commands",
    "widgets.compare": "widgets.run.compare",
    "widgets.copying": "widgets.sandbox.copying",
    "widgets.database_file": "widgets.sandbox.database_file",
    "widgets.diagnose": "widgets.run.diagnose",
    "widgets.diff": "widgets.read.diff",
    "widgets.disk": "widgets.sandbox.disk",
    "widgets.exercises": "widgets.lessons.exercises",
    "widgets.graph_widget": "widgets.lab.graph_widget",
    "widgets.graphs": "widgets.draw.graphs",
    "widgets.lab_widgets": "widgets.lab.lab_widgets",
    "widgets.lanes": "widgets.draw.lanes",
    "widgets.locks": "widgets.sandbox.locks",
    "widgets.palette": "widgets.draw.palette",
    "widgets.panel_views": "widgets.lab.panel_views",
    "widgets.panels": "widgets.lab.panels",
    "widgets.paths": "widgets.sandbox.paths",
    "widgets.pg_locks": "widgets.run.pg_locks",
    "widgets.postgres": "widgets.sandbox.postgres",
    "widgets.progress_record": "widgets.lessons.progress_record",
    "widgets.prompts": "widgets.run.prompts",
    "widgets.rehearsal": "widgets.run.rehearsal",
    "widgets.render": "widgets.draw.render",
    "widgets.risks": "widgets.run.risks",
    "widgets.rollback": "widgets.read.rollback",
    "widgets.rows": "widgets.draw.rows",
    "widgets.scenarios": "widgets.lessons.scenarios",
    "widgets.schema_diagram": "widgets.draw.schema_diagram",
    "widgets.screens": "widgets.lab.screens",
    "widgets.session": "widgets.lab.session",
    "widgets.stand_in": "widgets.sandbox.stand_in",
    "widgets.state": "widgets.read.state",
    "widgets.tables": "widgets.draw.tables",
    "widgets.timeline": "widgets.read.timeline",
    "widgets.worker": "widgets.run.worker",
    "widgets.written": "widgets.sandbox.written",
    "widgets.static": "widgets.lab.static",
}
MODULES = {old.removeprefix("widgets.") for old in MOVED}


def _warn(old: str, new: str) -> None:
    message = f"{old} moved to {new} in 0.2 and goes away in 0.3. Fix: import {new} instead."
    warnings.warn(
        message, DeprecationWarning, stacklevel=4
    )  # past load() and the finder or __getattr__, to the importing line


def load(old: str):
    """Return the module now at MOVED[old], with a DeprecationWarning naming it."""
    new = MOVED[old]
    _warn(old, new)
    return importlib.import_module(new)


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Find an old module path and hand out the module at its new path."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        return load(spec.name)

    def exec_module(self, module) -> None:
        """Do nothing: the module already ran at its new path."""


def install() -> None:
    """Put the alias finder on sys.meta_path once."""
    if not any(isinstance(finder, _Alias) for finder in sys.meta_path):
        sys.meta_path.append(_Alias())
