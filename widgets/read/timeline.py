"""The schema time machine: the schema Django's migration state holds after each migration, in plan order.

One probe process (``_probe.py states``) replays the whole project's plan on
Django's own ``ProjectState``, as ``migrate`` would on an empty database, and
reports the tables each migration changed. ``Timeline`` replays those changes
into a full schema per step, so moving a slider costs no process and never
touches the database. The sandbox keeps the answer on disk per code
fingerprint (``widgets.sandbox.state_cache``), in the store plans and previews
share: a new kernel reads it at once. Everything but ``read_timeline`` is a
pure function of values.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from widgets.read.diff import StateDiff, diff
from widgets.read.state import APPLIED_COLUMNS, APPLIED_DTYPES, SCHEMA_COLUMNS, TABLE_COLUMNS, State
from widgets.read.table import as_kit_table, is_table, light_table, make_table
from widgets.run import timeouts
from widgets.sandbox.fingerprint import code_fingerprint

__all__ = ["Timeline", "code_fingerprint", "read_timeline"]

Key = tuple[str, str]


@dataclass(frozen=True)
class Timeline:
    """Every migration of the project's plan, in order, with the schema after it (from Django's state)."""

    steps: list[Key]
    #: After each step: table -> {"app_label", "contrib", "columns": [[name, type, null, pk, ref_table, ref_column]]}.
    snapshots: list[dict[str, dict]] = field(repr=False)

    @classmethod
    def from_answer(cls, answer: dict) -> Timeline:
        """Build a timeline from the probe's answer, replaying each step's changed tables."""
        steps, snapshots, schema = [], [], {}
        for step in answer["steps"]:
            schema = dict(schema)
            for table, value in step["changes"].items():
                if value is None:
                    schema.pop(table, None)
                else:
                    schema[table] = value
            steps.append((step["app_label"], step["name"]))
            snapshots.append(schema)
        return cls(steps, snapshots)

    def positions(self, app_label: str | None = None) -> list[int]:
        """Return the step indices of one app's migrations, or of every migration, in plan order."""
        return [i for i, (app, _name) in enumerate(self.steps) if app_label is None or app == app_label]

    def index(self, app_label: str, name: str) -> int:
        """Return the step index of a migration."""
        return self.steps.index((app_label, name))

    def tables_at(self, index: int, *, include_contrib: bool = False, apps: set[str] | None = None) -> dict[str, dict]:
        """Return the tables after step ``index`` (-1: before any), Django's own left out unless asked."""
        tables = self.snapshots[index] if index >= 0 else {}
        return {
            name: table
            for name, table in tables.items()
            if (include_contrib or not table["contrib"]) and (apps is None or table["app_label"] in apps)
        }

    def state_at(self, index: int, *, include_contrib: bool = False, apps: set[str] | None = None) -> State:
        """Return the schema after step ``index`` as a State (no rows, no django_migrations: none are read)."""
        return self._state(index, make_table, include_contrib=include_contrib, apps=apps)

    def compare(self, first: int, second: int, *, apps: set[str] | None = None) -> StateDiff:
        """Return what changed in the schema from step ``first`` to step ``second`` (either may be -1)."""
        # Compared as the kit's own tables, then handed out as usual: a slider step on a big project
        # spent most of its time building and reading DataFrames of every column of every table.
        changes = diff(self._state(first, light_table, apps=apps), self._state(second, light_table, apps=apps))
        tables = {
            f.name: as_kit_table(getattr(changes, f.name))
            for f in fields(changes)
            if is_table(getattr(changes, f.name))
        }
        return replace(changes, **tables)

    def _state(self, index: int, build, *, include_contrib: bool = False, apps: set[str] | None = None) -> State:
        """Return the schema after step ``index``, its tables built by ``build`` (make_table or light_table)."""
        tables = self.tables_at(index, include_contrib=include_contrib, apps=apps)
        rows = [
            (name, c[0], c[1], c[2], None, c[3], c[4], c[5])
            for name, table in sorted(tables.items())
            for c in table["columns"]
        ]
        return State(
            applied=build([], APPLIED_COLUMNS, dtypes=APPLIED_DTYPES),
            schema=build(rows, SCHEMA_COLUMNS),
            tables=build([(name, 0) for name in sorted(tables)], TABLE_COLUMNS, dtypes={"rows": "int"}),
        )

    def database_position(self, applied: set[Key], positions: list[int]) -> int:
        """Return the last of ``positions`` whose migration is applied (-1: none is).

        Across apps the database need not sit on one step (an app rolled back
        while a later one stays applied): each step's own state tells the rest.
        """
        done = [p for p in positions if self.steps[p] in applied]
        return done[-1] if done else -1


def read_timeline(sandbox, *, timeout: float | None = None) -> Timeline:
    """Read the schema after every migration from Django's own migration state, in one process; read-only.

    ``timeout`` (seconds) limits the read; by default the limit grows with the number of migrations.
    The sandbox keeps the answer on disk per code fingerprint (``sandbox.states()``): a new kernel reads it at once.
    """
    with timeouts.named("read_timeline(sandbox, timeout={timeout})"):
        return Timeline.from_answer(sandbox.states(timeout=timeout))
