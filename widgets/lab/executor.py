"""Carry out a LabSession's effects against a sandbox and hand the results back to it as events.

The session decides (``widgets.lab.session``); this module acts, through the
Sandbox's public methods (which run Django through the runner) and the
functions of ``widgets.lab.actions``. Effects run in order; a failed one stops
the effects after it and comes back as ``Failed`` with one sentence. When none
is left the session hears ``Settled``, so it can ask for the readings an action
needs afterwards.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from widgets.errors import KitError
from widgets.lab import actions
from widgets.lab import events as ev
from widgets.lab.outcome import Outcome
from widgets.lab.session import LabSession
from widgets.lab.travel import Travel, click_meaning
from widgets.read.rollback import rollback_preview
from widgets.read.state import State
from widgets.read.timeline import Timeline, read_timeline
from widgets.run.result import DEFAULT_TIMEOUT
from widgets.sandbox import browser_storage
from widgets.sandbox.facade import Sandbox
from widgets.sandbox.fingerprint import code_fingerprint

__all__ = ["Executor", "LabDriver"]

Handle = Callable[[ev.Event], list[ev.Effect]]


class Executor:
    """Run effects against one sandbox; each returns the event that says what came of it."""

    def __init__(self, sandbox: Sandbox, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.sandbox = sandbox
        self.timeout = timeout

    def carry_out(self, handle: Handle, event: ev.Event) -> None:
        """Hand ``event`` to ``handle``, carry out the effects it returns, and feed every result back until settled."""
        queue: deque[ev.Effect] = deque(handle(event))
        while queue:
            while queue:
                effect = queue.popleft()
                result = self.result_of(effect)
                more = handle(result)
                if isinstance(result, ev.Failed):
                    queue.clear()  # what came after a failed step assumed it worked
                queue.extendleft(reversed(more))  # an effect's own follow-ups come before its siblings
            queue.extend(handle(ev.Settled()))
        browser_storage.persist()  # a click changes files outside any cell: keep them across a reload

    def result_of(self, effect: ev.Effect) -> ev.Event:
        """Carry out one effect; a failure comes back as ``Failed`` with one sentence."""
        try:
            return self.perform(effect)
        except KitError as error:
            return ev.Failed(effect, str(error))
        except Exception as error:  # the learner must see one sentence, never a dead panel
            message = f"The panel hit an unexpected error ({type(error).__name__}: {error}). Fix: click reset, or undo."
            return ev.Failed(effect, message)

    def perform(self, effect: ev.Effect) -> ev.Event:
        """Carry out one effect and return its result (errors are raised)."""
        perform = _PERFORM.get(type(effect))
        if perform is None:
            raise KitError(f"The executor cannot carry out {type(effect).__name__}. Fix: add it to executor._PERFORM.")
        return perform(self, effect)

    # ----- one method per effect ------------------------------------------------------------

    def _makemigrations(self, effect: ev.Makemigrations) -> ev.Event:
        answers = list(effect.answers) if effect.answers is not None else None
        outcome = actions.makemigrations(
            self.sandbox,
            effect.app_label,
            name=effect.name,
            dry_run=effect.dry_run,
            answers=answers,
            flags=effect.flags,
            timeout=self.timeout,
        )
        return ev.Ran(effect, outcome)

    def _migrate(self, effect: ev.Migrate) -> ev.Event:
        outcome = actions.migrate(
            self.sandbox, effect.app_label, effect.target, plan=effect.plan, flags=effect.flags, timeout=self.timeout
        )
        return ev.Ran(effect, outcome)

    def _showmigrations(self, effect: ev.Showmigrations) -> ev.Event:
        outcome = actions.showmigrations(self.sandbox, effect.app_label, flags=effect.flags, timeout=self.timeout)
        return ev.Ran(effect, outcome)

    def _sqlmigrate(self, effect: ev.Sqlmigrate) -> ev.Event:
        outcome = actions.sqlmigrate(
            self.sandbox, effect.app_label, effect.migration_name, flags=effect.flags, timeout=self.timeout
        )
        return ev.Ran(effect, outcome)

    def _sql_side_by_side(self, effect: ev.SqlSideBySide) -> ev.Event:
        return ev.Ran(effect, actions.sql_side_by_side(self.sandbox, effect.app_label, effect.migration_name))

    def _reset(self, effect: ev.Reset) -> ev.Event:
        return ev.Ran(effect, actions.reset(self.sandbox))

    def _snapshot(self, effect: ev.Snapshot) -> ev.Event:
        return ev.Ran(effect, actions.snapshot(self.sandbox, effect.label))

    def _restore(self, effect: ev.Restore) -> ev.Event:
        return ev.Ran(effect, actions.restore(self.sandbox, effect.label))

    def _save_undo(self, effect: ev.SaveUndo) -> ev.Event:
        self.sandbox.snapshot(effect.label)
        return ev.UndoSaved(effect)

    def _restore_undo(self, effect: ev.RestoreUndo) -> ev.Event:
        return ev.Ran(effect, actions.restore_undo(self.sandbox, effect.label, effect.before))

    def _read_state(self, effect: ev.ReadState) -> ev.Event:
        state = self.sandbox.state()
        try:
            return ev.StateRead(effect, state, self.sandbox.migration_graph())
        except KitError as error:  # no graph (a broken models.py, say): the views say why
            return ev.StateRead(effect, state, None, str(error))

    def _read_plan(self, effect: ev.ReadPlan) -> ev.Event:
        return ev.PlanRead(effect, self.sandbox.plan(effect.app_label, effect.target))

    def _read_preview(self, effect: ev.ReadPreview) -> ev.Event:
        return ev.PreviewRead(effect, rollback_preview(self.sandbox, effect.app_label, effect.target))

    def _read_models(self, effect: ev.ReadModels) -> ev.Event:
        return ev.ModelsRead(effect, self.sandbox.read(f"{effect.app_label}/models.py"))

    def _write_models(self, effect: ev.WriteModels) -> ev.Event:
        return ev.Ran(effect, actions.write_models(self.sandbox, effect.app_label, effect.text, effect.action))

    def _read_timeline(self, effect: ev.ReadTimeline) -> ev.Event:
        key = code_fingerprint(self.sandbox.path)
        if key == effect.known:
            return ev.TimelineRead(effect, key, None)  # no .py file changed: the one known still holds
        return ev.TimelineRead(effect, key, read_timeline(self.sandbox))


_PERFORM: dict[type, Callable[[Executor, ev.Effect], ev.Event]] = {
    ev.Makemigrations: Executor._makemigrations,
    ev.Migrate: Executor._migrate,
    ev.Showmigrations: Executor._showmigrations,
    ev.Sqlmigrate: Executor._sqlmigrate,
    ev.SqlSideBySide: Executor._sql_side_by_side,
    ev.Reset: Executor._reset,
    ev.Snapshot: Executor._snapshot,
    ev.Restore: Executor._restore,
    ev.SaveUndo: Executor._save_undo,
    ev.RestoreUndo: Executor._restore_undo,
    ev.ReadState: Executor._read_state,
    ev.ReadPlan: Executor._read_plan,
    ev.ReadPreview: Executor._read_preview,
    ev.ReadModels: Executor._read_models,
    ev.WriteModels: Executor._write_models,
    ev.ReadTimeline: Executor._read_timeline,
}


class LabDriver:
    """A session and an executor together: send it an event, it carries out what follows and keeps the new session.

    The panel sends events from the kernel's thread (picks) and from its worker
    thread (actions); the lock keeps every step of the session in one order.
    ``run``, ``travel``, ``confirm``, ``cancel``, ``refresh``, ``choose_app`` and
    ``timeline`` do what the LabSession methods of those names did before the
    session stopped doing I/O.
    """

    def __init__(self, sandbox: Sandbox, *, app_label: str = "boards", timeout: float = DEFAULT_TIMEOUT) -> None:
        self.sandbox = sandbox
        self.executor = Executor(sandbox, timeout=timeout)
        self.session = LabSession.new(app_label)
        self._lock = threading.Lock()

    def handle(self, event: ev.Event) -> list[ev.Effect]:
        """Let the session handle one event; return the effects it asks for (not carried out)."""
        with self._lock:
            self.session, effects = self.session.handle(event)
        return effects

    def send(self, event: ev.Event) -> LabSession:
        """Handle an event and carry out every effect it leads to; return the session after."""
        self.executor.carry_out(self.handle, event)
        return self.session

    # ----- the verbs of the LabSession before it only decided -----------------------------------

    def run(self, name: str, /, **options) -> list[Outcome]:
        """Do what the button called ``name`` does; return what ran (nothing for a preview)."""
        count = len(self.session.history)
        session = self.send(ev.Clicked(name, options))
        return list(session.outcomes) if len(session.history) > count else []

    def travel(self, node_id: str) -> Travel:
        """Act on a click on a graph node; return what the click meant."""
        session = self.session
        graph = session.graph
        meaning = click_meaning(graph, node_id, session.expanded) if graph is not None else None
        self.send(ev.NodeClicked(node_id))
        return meaning or Travel("ignore", reason=session.graph_problem)

    def confirm(self) -> list[Outcome]:
        """Run the rollback waiting for confirmation (nothing when none waits)."""
        if self.session.pending is None:
            return []
        count = len(self.session.history)
        session = self.send(ev.Confirmed())
        return list(session.outcomes) if len(session.history) > count else []

    def cancel(self) -> bool:
        """Drop the rollback waiting for confirmation; return False when none waited."""
        waited = self.session.pending is not None
        self.send(ev.Cancelled())
        return waited

    def refresh(self, before: State | None = None) -> None:
        """Read the database and Django's graph again (read-only)."""
        self.send(ev.RefreshAsked(before))

    def choose_app(self, app_label: str) -> None:
        """Switch to another app: forget its question and pending rollback, read its models.py."""
        self.send(ev.AppChosen(app_label))

    def timeline(self) -> Timeline:
        """Return the schema after every migration, read again only when a .py file changed."""
        return self.send(ev.TimelineAsked()).timeline()
