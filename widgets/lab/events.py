"""The messages between the panel's session and the executor: events that happen, effects to carry out.

An *event* is something the learner did (a click, a pick, an answer) or the
result of an effect (a command ran, the state was read). An *effect* describes
one piece of I/O for the executor: run a command, take or restore a snapshot,
read the state, the graph, a plan, a preview, models.py or the timeline, write
models.py. ``LabSession.handle(event)`` returns the new session and the
effects; ``widgets.lab.executor`` carries them out and hands each result back
as an event. Every result event carries the effect it answers, so the session
knows what it asked for. Plain frozen values: nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: values the executor reads
    from widgets.lab.outcome import Outcome
    from widgets.read.rollback import RollbackPreview
    from widgets.read.state import MigrationGraph, Plan, State
    from widgets.read.timeline import Timeline

__all__ = [
    "Answered",
    "AppChosen",
    "Cancelled",
    "Clicked",
    "Confirmed",
    "Effect",
    "Event",
    "Failed",
    "Makemigrations",
    "Migrate",
    "ModelsRead",
    "NodeClicked",
    "Opened",
    "Picked",
    "PlanRead",
    "PreviewRead",
    "Ran",
    "ReadModels",
    "RefreshAsked",
    "ReadPlan",
    "ReadPreview",
    "ReadState",
    "ReadTimeline",
    "Reset",
    "Restore",
    "RestoreUndo",
    "SaveUndo",
    "Settled",
    "Showmigrations",
    "Snapshot",
    "SqlSideBySide",
    "Sqlmigrate",
    "StateRead",
    "TimelineAsked",
    "TimelineRead",
    "UndoSaved",
    "WriteModels",
]


# ----- effects: what the executor does ---------------------------------------------------------


@dataclass(frozen=True)
class Effect:
    """One piece of I/O the session asks for."""


@dataclass(frozen=True)
class Makemigrations(Effect):
    """Run makemigrations for one app; ``answers`` go to Django's questions, ``flags`` are its other options."""

    app_label: str
    name: str = ""
    dry_run: bool = False
    flags: tuple[str, ...] = ()
    answers: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Migrate(Effect):
    """Run ``migrate app_label target``, the plan read before printed above Django's output."""

    app_label: str
    target: str
    plan: Plan | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Showmigrations(Effect):
    """Run showmigrations for one app."""

    app_label: str
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sqlmigrate(Effect):
    """Run sqlmigrate for one migration, forwards or backwards."""

    app_label: str
    migration_name: str
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class SqlSideBySide(Effect):
    """Show one migration's SQL on SQLite and on PostgreSQL, side by side."""

    app_label: str
    migration_name: str


@dataclass(frozen=True)
class Reset(Effect):
    """Put the sandbox back to its origin (files and database)."""


@dataclass(frozen=True)
class Snapshot(Effect):
    """Save the files and database under a label (the snapshot button)."""

    label: str


@dataclass(frozen=True)
class Restore(Effect):
    """Put the files and database back as they were at a snapshot (the restore button)."""

    label: str


@dataclass(frozen=True)
class SaveUndo(Effect):
    """Snapshot the sandbox before an action that may change it, so undo can take it back."""

    label: str
    before: str  # the action it comes before, as the learner reads it


@dataclass(frozen=True)
class RestoreUndo(Effect):
    """Restore the snapshot taken before an action: undo."""

    label: str
    before: str


@dataclass(frozen=True)
class ReadState(Effect):
    """Read the database's state and Django's graph again (read-only); ``before`` comes back as the previous state."""

    before: State | None = None


@dataclass(frozen=True)
class ReadPlan(Effect):
    """Read the plan ``migrate app_label target`` would run (read-only)."""

    app_label: str
    target: str
    flags: tuple[str, ...] = ()
    confirmed: bool = False


@dataclass(frozen=True)
class ReadPreview(Effect):
    """Read what ``migrate app_label target`` would undo and drop, its plan included (read-only)."""

    app_label: str
    target: str
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReadModels(Effect):
    """Read an app's models.py: to ``show`` in the editor, to ``accept`` as the last good version, or to ``remember`` it."""

    app_label: str
    purpose: str = "show"  # "show", "accept" or "remember"


@dataclass(frozen=True)
class WriteModels(Effect):
    """Write an app's models.py: the learner's text (``save``) or the last good version (``revert``)."""

    app_label: str
    text: str
    action: str  # "save" or "revert"


@dataclass(frozen=True)
class ReadTimeline(Effect):
    """Read the schema after every migration, unless the code's fingerprint is still ``known``."""

    known: str = ""


# ----- events: what happened ---------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """Something that happened: the learner did it, or an effect ended."""


@dataclass(frozen=True)
class Opened(Event):
    """The panel opened: read the state and the chosen app's models.py."""


@dataclass(frozen=True)
class Clicked(Event):
    """A click on an action's button (or ``run_action``), with the command's options by their own names."""

    action: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NodeClicked(Event):
    """A click on a node of the migration graph."""

    node_id: str


@dataclass(frozen=True)
class Picked(Event):
    """A picker or box changed: ``key`` is a field of ``Choices`` other than the app."""

    key: str
    value: Any


@dataclass(frozen=True)
class AppChosen(Event):
    """The app picker changed."""

    app_label: str


@dataclass(frozen=True)
class Answered(Event):
    """The learner answered Django's question: a choice, and a typed default when it needs one."""

    choice: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class Confirmed(Event):
    """Confirm the rollback waiting for confirmation."""


@dataclass(frozen=True)
class Cancelled(Event):
    """Drop the rollback waiting for confirmation."""


@dataclass(frozen=True)
class RefreshAsked(Event):
    """Read the state and the graph again; the views then mark what changed since ``before``."""

    before: State | None = None


@dataclass(frozen=True)
class TimelineAsked(Event):
    """The time machine opened (or code asked for the timeline): read it if the code changed."""


@dataclass(frozen=True)
class Settled(Event):
    """Every effect asked for so far has been carried out."""


@dataclass(frozen=True)
class Ran(Event):
    """A command or a kit step ran (successfully or not): what it did."""

    effect: Effect
    outcome: Outcome


@dataclass(frozen=True)
class UndoSaved(Event):
    """The undo snapshot was taken."""

    effect: SaveUndo


@dataclass(frozen=True)
class StateRead(Event):
    """The database's state and Django's graph, read again; ``graph_problem`` says why there is no graph."""

    effect: ReadState
    state: State
    graph: MigrationGraph | None
    graph_problem: str = ""


@dataclass(frozen=True)
class PlanRead(Event):
    """The plan of a migrate, read."""

    effect: ReadPlan
    plan: Plan


@dataclass(frozen=True)
class PreviewRead(Event):
    """The rollback preview of a migrate, read."""

    effect: ReadPreview
    preview: RollbackPreview


@dataclass(frozen=True)
class ModelsRead(Event):
    """An app's models.py, read from disk."""

    effect: ReadModels
    text: str


@dataclass(frozen=True)
class TimelineRead(Event):
    """The timeline and the code fingerprint it belongs to (None: the code did not change, keep the one known)."""

    effect: ReadTimeline
    key: str
    timeline: Timeline | None


@dataclass(frozen=True)
class Failed(Event):
    """An effect stopped with one sentence for the learner (``effect`` None: the panel itself stumbled)."""

    effect: Effect | None
    message: str
