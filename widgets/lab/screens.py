"""Gather the values each screen of the panel shows: one use-case function per screen.

The session holds the readings the executor brought back (state, graph,
timeline); these functions pick from it what a screen needs, as plain values,
so the views that draw them stay pure and the widgets only display.
"""

from __future__ import annotations

from dataclasses import dataclass

from widgets.lab.session import LabSession
from widgets.read.diff import StateDiff
from widgets.read.rollback import RollbackPreview
from widgets.read.state import MigrationGraph, Plan, State
from widgets.read.timeline import Timeline

__all__ = ["LabScreen", "TimeScreen", "lab_screen", "time_screen"]


@dataclass(frozen=True)
class LabScreen:
    """What the panel's views show after an action: the database, Django's graph, a pending rollback."""

    state: State | None
    previous: State | None
    graph: MigrationGraph | None
    graph_problem: str
    plan: Plan | None
    preview: RollbackPreview | None
    expanded: frozenset[str]
    app_label: str
    contrib_tables: frozenset[str]  # Django's own tables, as the probe reports them


def lab_screen(session: LabSession) -> LabScreen:
    """Return the values the panel's views show now."""
    pending = session.pending
    return LabScreen(
        state=session.state,
        previous=session.previous,
        graph=session.graph,
        graph_problem=session.graph_problem,
        plan=pending.plan if pending else None,
        preview=pending.preview if pending else None,
        expanded=frozenset(session.expanded),
        app_label=session.app_label,
        contrib_tables=frozenset(session.graph.contrib_tables() if session.graph is not None else ()),
    )


@dataclass(frozen=True)
class TimeScreen:
    """The time machine at one migration: the schema then, the schema it is compared with, the database's place."""

    timeline: Timeline
    scope: str | None  # an app_label, or None for every app of the project
    positions: list[int]  # the steps the slider offers
    index: int  # the step shown
    compare: int  # the step it is compared with (-1: before any migration)
    database: int  # the last step the database has applied (-1: none)
    applied: frozenset[tuple[str, str]]

    @property
    def apps(self) -> set[str] | None:
        return {self.scope} if self.scope else None

    @property
    def shown(self) -> State:
        return self.timeline.state_at(self.index, apps=self.apps)

    @property
    def before(self) -> State:
        return self.timeline.state_at(self.compare, apps=self.apps)

    @property
    def changes(self) -> StateDiff:
        return self.timeline.compare(self.compare, self.index, apps=self.apps)

    def label(self, index: int) -> str:
        """Return 'app.name' of a step, or 'nothing applied' before the first."""
        return "before any migration" if index < 0 else ".".join(self.timeline.steps[index])

    def where_database(self) -> str:
        """Say where the database is: one step when it has applied every step up to it and none after, else each app's."""
        done = [self.timeline.steps[p] in self.applied for p in self.positions]
        if done == sorted(done, reverse=True):
            return (
                "the database is before any migration"
                if self.database < 0
                else f"the database is at {self.label(self.database)}"
            )
        # An app rolled back while a later step of another stays applied: no single step is true, so say each app's.
        apps = dict.fromkeys(self.timeline.steps[p][0] for p in self.positions)
        return "the database has " + ", ".join(f"{app} at {self._app_at(app)}" for app in apps)

    def _app_at(self, app: str) -> str:
        """Return the name of an app's last applied step among the positions, or 'zero'."""
        names = [self.timeline.steps[p][1] for p in self.positions if self.timeline.steps[p][0] == app]
        applied = [name for name in names if (app, name) in self.applied]
        return applied[-1] if applied else "zero"


def time_screen(
    session: LabSession, scope: str | None, index: int | None = None, compare: int | None = None
) -> TimeScreen:
    """Return the time machine's values: the steps of ``scope`` (an app, or None: every app of the project)."""
    timeline = session.timeline()
    graph = session.graph
    contrib = graph.contrib_apps() if graph is not None else set()
    if scope is None:
        positions = [i for i in timeline.positions() if timeline.steps[i][0] not in contrib]
    else:
        positions = timeline.positions(scope)
    applied = frozenset(graph.applied_keys()) if graph is not None else frozenset()
    database = timeline.database_position(applied, positions)
    if index is None or index not in positions:
        index = database if database in positions else (positions[-1] if positions else -1)
    if compare is None or (compare not in positions and compare != -1):
        earlier = [p for p in positions if p < index]
        compare = earlier[-1] if earlier else -1
    return TimeScreen(timeline, scope, positions, index, compare, database, applied)
