"""What the MigrationLab panel decides, as plain Python: no widgets and no I/O here, so all of it is tested from values.

A ``LabSession`` is a value: the learner's choices (app, target, migration...),
the undo labels, the rollback waiting for confirmation, Django's pending
question and the answers given so far, the history, what the graph shows
expanded, and the readings last received. ``handle(event)`` returns the next
session and the effects to carry out (``widgets.lab.events``); the executor
(``widgets.lab.executor``) carries them out and hands the results back as
events. The panel's widgets only display a session and forward events.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from widgets.errors import KitError
from widgets.lab import events as ev
from widgets.lab.options import ACTIONS, check_options, flags
from widgets.lab.outcome import Outcome, command_line, failed
from widgets.lab.questions import Question, answers_for, same_question
from widgets.lab.travel import Travel, click_hints, click_meaning, default_target, needs_confirmation, unapplies
from widgets.lab.travel import app_labels as _app_labels
from widgets.lab.travel import targets as _targets

if TYPE_CHECKING:  # types only: readings arrive as values
    from widgets.read.rollback import RollbackPreview
    from widgets.read.state import MigrationGraph, Plan, State
    from widgets.read.timeline import Timeline

__all__ = [
    "ACTIONS",
    "Choices",
    "HistoryEntry",
    "LabSession",
    "Note",
    "PendingRollback",
    "Question",
    "Travel",
    "UndoLabels",
    "click_meaning",
]

# Actions that may change files or the database: an undo snapshot is taken before they run.
_CHANGING = {"makemigrations", "reset", "restore", "save", "revert", "answer"}
# Actions after which the editor shows models.py as it is on disk again.
_RELOADS_EDITOR = {"revert", "reset", "restore", "undo"}
# Actions that put files back: what was known about them is forgotten.
_REPLACES_FILES = {"reset", "restore", "undo"}
# migrate options that only read: no preview, no confirmation, no undo snapshot.
_READ_ONLY_MIGRATE = {"plan", "check"}
CHECKPOINT = "checkpoint"
UNDO_DEPTH = 5
_PICKED = {"target", "migration", "name", "dry_run", "backwards", "side_by_side"}


@dataclass(frozen=True)
class HistoryEntry:
    """One action taken in the panel: its command line, whether it worked, one sentence."""

    command: str
    ok: bool
    message: str


@dataclass(frozen=True)
class Note:
    """One sentence for the learner and its tone: 'ok', 'fail' or 'info'."""

    tone: str
    text: str


@dataclass(frozen=True)
class PendingRollback:
    """A backwards migrate waiting for the learner's confirmation: its plan, what it would drop, its flags."""

    plan: Plan
    preview: RollbackPreview
    flags: tuple[str, ...] = ()

    @property
    def command(self) -> str:
        return command_line("migrate", self.plan.app_label, self.plan.target, *self.flags)


@dataclass(frozen=True)
class Choices:
    """The learner's picks: app, migrate target, sqlmigrate migration and the options beside them."""

    app_label: str
    target: str = "zero"
    migration: str = ""
    name: str = ""
    dry_run: bool = False
    backwards: bool = False
    side_by_side: bool = False  # sqlmigrate on SQLite and PostgreSQL at once
    defaults: Mapping[str, str] = field(default_factory=dict)  # what the kit chose last, per picker

    def kept_or_default(self, key: str, options: list[str], default: str) -> Choices:
        """Return the choices keeping a pick the learner made if it still exists, else taking the new default."""
        chosen = getattr(self, key)
        untouched = key not in self.defaults or chosen == self.defaults[key] or chosen not in options
        return replace(self, **{key: default if untouched else chosen}, defaults={**self.defaults, key: default})

    def keep_or_default(self, key: str, options: list[str], default: str) -> None:
        """Deprecated: choices are values now; use ``kept_or_default``, which returns the new choices."""
        warnings.warn(
            "Choices.keep_or_default is deprecated: choices are frozen values now. "
            "Use choices = choices.kept_or_default(key, options, default).",
            DeprecationWarning,
            stacklevel=2,
        )
        kept = self.kept_or_default(key, options, default)
        object.__setattr__(self, key, getattr(kept, key))  # the old in-place behaviour, for one release
        object.__setattr__(self, "defaults", kept.defaults)


@dataclass(frozen=True)
class UndoLabels:
    """The snapshots undo can go back to, newest last, as (label, the action it came before)."""

    entries: tuple[tuple[str, str], ...] = ()
    counter: int = 0  # snapshots taken so far: the next label reuses the oldest slot
    depth: int = UNDO_DEPTH

    def next_label(self) -> tuple[str, UndoLabels]:
        """Return the label for the next undo snapshot and the labels counting it."""
        return f"panel-undo-{self.counter % self.depth}", replace(self, counter=self.counter + 1)

    def saved(self, label: str, before: str) -> UndoLabels:
        """Return the labels with a snapshot taken before ``before`` added (the oldest dropped past the depth)."""
        kept = tuple(entry for entry in self.entries if entry[0] != label)[-(self.depth - 1) :]
        return replace(self, entries=(*kept, (label, before)))

    def popped(self) -> tuple[tuple[str, str], UndoLabels]:
        """Return the newest (label, before) and the labels without it; one sentence when there is none."""
        if not self.entries:
            raise KitError("There is nothing to undo yet. Fix: undo works after an action that changes the sandbox.")
        return self.entries[-1], replace(self, entries=self.entries[:-1])

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def last(self) -> str | None:
        """Return the description of the action undo would take back, if any."""
        return self.entries[-1][1] if self.entries else None


Effects = list[ev.Effect]


@dataclass(frozen=True)
class LabSession:
    """Everything the MigrationLab panel decides: choices, undo, pending rollback, Django's question, history."""

    choices: Choices
    history: tuple[HistoryEntry, ...] = ()
    outcomes: tuple[Outcome, ...] = ()  # what the last action ran
    status: Note | None = None
    models_note: Note | None = None
    pending: PendingRollback | None = None
    question: Question | None = None
    expanded: frozenset[str] = frozenset()
    state: State | None = None
    previous: State | None = None
    graph: MigrationGraph | None = None
    graph_problem: str = ""
    undo: UndoLabels = UndoLabels()
    last_good: Mapping[str, str] = field(default_factory=dict)  # models.py Django last accepted, per app
    editor_text: str | None = None  # models.py as last read to show in the editor
    editor_reads: int = 0  # how many times it was read: the editor reloads when this moves
    timeline_read: tuple[str, Timeline] | None = None  # (code fingerprint, timeline)
    timeline_problem: str = ""
    doing: str = ""  # the action under way ('' when none)
    started: int = 0  # the history's length when it began
    state_before: State | None = None  # the state when it began: the views mark changes since then

    def __post_init__(self) -> None:
        if not isinstance(self.choices, Choices):  # LabSession(sandbox, ...), as before this release
            raise KitError(
                "LabSession no longer takes a sandbox: it only decides. Fix: use "
                "widgets.lab.executor.LabDriver(sandbox, app_label=...), or LabSession.new(app_label) for a bare session."
            )

    @classmethod
    def new(cls, app_label: str = "boards") -> LabSession:
        """Return the session of a panel just opened on ``app_label``: nothing read yet."""
        return cls(Choices(app_label))

    # ----- what the pickers offer ------------------------------------------------------

    @property
    def app_label(self) -> str:
        """Return the app the panel works on."""
        return self.choices.app_label

    @property
    def last(self) -> Outcome | None:
        """Return the outcome of the last command or kit step, if any ran."""
        return self.outcomes[-1] if self.outcomes else None

    def app_labels(self) -> list[str]:
        """Return the project's own apps with migrations (the app picker's options)."""
        labels = _app_labels(self.graph) if self.graph is not None else []
        return labels or [self.choices.app_label]

    def targets(self) -> list[str]:
        """Return the targets migrate accepts for the chosen app: its migrations, then zero."""
        return _targets(self.graph, self.app_label) if self.graph is not None else ["zero"]

    def migrations(self) -> list[str]:
        """Return the chosen app's migrations (the sqlmigrate picker's options)."""
        return self.graph.migrations_of(self.app_label) if self.graph is not None else []

    def click_hints(self, node_ids: Iterable[str]) -> dict[str, str]:
        """Return what a click on each drawn node does, for its hover card."""
        return click_hints(self.graph, node_ids, self.expanded) if self.graph is not None else {}

    def timeline(self) -> Timeline:
        """Return the timeline last read; one sentence when none was read yet."""
        if self.timeline_read is None:
            problem = self.timeline_problem or "The timeline has not been read yet."
            raise KitError(f"{problem} Fix: call lab.timeline() or open the panel's time machine tab.")
        return self.timeline_read[1]

    # ----- handling events -------------------------------------------------------------

    def handle(self, event: ev.Event) -> tuple[LabSession, Effects]:
        """Return the session after ``event`` and the effects to carry out, in order."""
        handler = _HANDLERS.get(type(event))
        if handler is None:
            raise KitError(
                f"The session does not know the event {type(event).__name__}. Fix: send one from widgets.lab.events."
            )
        return handler(self, event)

    def _opened(self, _event: ev.Opened) -> tuple[LabSession, Effects]:
        return self, [ev.ReadState(None), ev.ReadModels(self.app_label, "show")]

    def _clicked(self, event: ev.Clicked) -> tuple[LabSession, Effects]:
        check_options(event.action, event.options)
        session = replace(self, doing=event.action, started=len(self.history), state_before=self.state)
        try:
            return getattr(session, f"_do_{event.action}")(dict(event.options))
        except KitError as error:
            return session._recorded(failed(event.action, str(error))), []

    def _node_clicked(self, event: ev.NodeClicked) -> tuple[LabSession, Effects]:
        if self.graph is None:
            return replace(self, status=Note("info", self.graph_problem)), []
        meaning = click_meaning(self.graph, event.node_id, self.expanded)
        if meaning.kind == "migrate":
            chosen = self._with_app(meaning.app_label)
            chosen = replace(chosen, choices=replace(chosen.choices, target=meaning.target))
            return chosen._clicked(ev.Clicked("migrate", {"app_label": meaning.app_label, "target": meaning.target}))
        if meaning.kind == "expand":
            return replace(self, expanded=self.expanded | {meaning.node}, status=Note("info", meaning.reason)), []
        if meaning.kind == "fold":
            return replace(self, expanded=self.expanded - {meaning.node}, status=Note("info", meaning.reason)), []
        return replace(self, status=Note("info", meaning.reason)), []

    def _picked(self, event: ev.Picked) -> tuple[LabSession, Effects]:
        if event.key not in _PICKED:
            raise KitError(f"The panel has no pick called '{event.key}'. Fix: use one of {', '.join(sorted(_PICKED))}.")
        value = event.value if event.value is not None else ""
        return replace(self, choices=replace(self.choices, **{event.key: value})), []

    def _app_chosen(self, event: ev.AppChosen) -> tuple[LabSession, Effects]:
        return self._with_app(event.app_label), [ev.ReadModels(event.app_label, "show")]

    def _with_app(self, app_label: str) -> LabSession:
        """Switch to another app: forget its question and pending rollback."""
        session = replace(self, choices=replace(self.choices, app_label=app_label), question=None, pending=None)
        return session._with_choices_updated()

    def _answered(self, event: ev.Answered) -> tuple[LabSession, Effects]:
        return self._clicked(ev.Clicked("answer", {"choice": event.choice, "value": event.value}))

    def _confirmed(self, _event: ev.Confirmed) -> tuple[LabSession, Effects]:
        if self.pending is None:
            return self, []
        session = replace(self, doing="migrate", started=len(self.history), state_before=self.state)
        return session._go(self.pending.plan, self.pending.flags)

    def _cancelled(self, _event: ev.Cancelled) -> tuple[LabSession, Effects]:
        if self.pending is None:
            return self, []
        return replace(
            self, pending=None, status=Note("info", "Rollback cancelled: nothing was run and nothing changed.")
        ), []

    def _refresh_asked(self, event: ev.RefreshAsked) -> tuple[LabSession, Effects]:
        return self, [ev.ReadState(event.before)]

    def _timeline_asked(self, _event: ev.TimelineAsked) -> tuple[LabSession, Effects]:
        return self, [ev.ReadTimeline(self.timeline_read[0] if self.timeline_read else "")]

    def _settled(self, _event: ev.Settled) -> tuple[LabSession, Effects]:
        """After an action's last effect: read the state again if anything ran, and reload the editor if asked."""
        if not self.doing:
            return self, []
        effects: Effects = []
        if len(self.history) > self.started:
            effects.append(ev.ReadState(self.state_before))
        if self.doing in _RELOADS_EDITOR:
            effects.append(ev.ReadModels(self.app_label, "show"))
        return replace(self, doing=""), effects

    # ----- results of effects ------------------------------------------------------------

    def _ran(self, event: ev.Ran) -> tuple[LabSession, Effects]:
        session = self._recorded(event.outcome)
        effect, outcome = event.effect, event.outcome
        if isinstance(effect, ev.Makemigrations):
            return session._after_makemigrations(effect, outcome)
        if isinstance(effect, ev.WriteModels) and effect.action == "revert":
            return replace(session, models_note=Note("info", outcome.message)), []
        if isinstance(effect, (ev.Reset, ev.Restore, ev.RestoreUndo)):
            return session._files_replaced(), []
        return session, []

    def _recorded(self, outcome: Outcome) -> LabSession:
        """Add an outcome to the history and say how it went."""
        entry = HistoryEntry(outcome.command, outcome.ok, outcome.message)
        ran = self.outcomes if len(self.history) > self.started else ()
        note = Note("ok" if outcome.ok else "fail", outcome.message or f"Done: {outcome.command}")
        return replace(self, history=(*self.history, entry), outcomes=(*ran, outcome), status=note)

    def _undo_saved(self, event: ev.UndoSaved) -> tuple[LabSession, Effects]:
        return replace(self, undo=self.undo.saved(event.effect.label, event.effect.before)), []

    def _state_read(self, event: ev.StateRead) -> tuple[LabSession, Effects]:
        session = replace(
            self, previous=event.effect.before, state=event.state, graph=event.graph, graph_problem=event.graph_problem
        )
        return session._with_choices_updated(), []

    def _plan_read(self, event: ev.PlanRead) -> tuple[LabSession, Effects]:
        effect = event.effect
        if needs_confirmation(event.plan) and not effect.confirmed:
            return self, [ev.ReadPreview(effect.app_label, effect.target, effect.flags)]
        return self._go(event.plan, effect.flags)

    def _preview_read(self, event: ev.PreviewRead) -> tuple[LabSession, Effects]:
        plan = event.preview.plan
        if needs_confirmation(plan):
            note = Note("info", "Rollback waiting for confirmation: nothing has run yet.")
            return replace(self, pending=PendingRollback(plan, event.preview, event.effect.flags), status=note), []
        return self._go(plan, event.effect.flags)

    def _models_read(self, event: ev.ModelsRead) -> tuple[LabSession, Effects]:
        app, purpose = event.effect.app_label, event.effect.purpose
        if purpose == "accept" or app not in self.last_good:
            session = replace(self, last_good={**self.last_good, app: event.text})
        else:
            session = self
        if purpose == "show":
            session = replace(session, editor_text=event.text, editor_reads=self.editor_reads + 1)
        return session, []

    def _timeline_read(self, event: ev.TimelineRead) -> tuple[LabSession, Effects]:
        if event.timeline is None:
            return replace(self, timeline_problem=""), []
        return replace(self, timeline_read=(event.key, event.timeline), timeline_problem=""), []

    def _failed(self, event: ev.Failed) -> tuple[LabSession, Effects]:
        effect = event.effect
        if isinstance(effect, ev.ReadModels):
            note = Note("fail", event.message)
            if effect.purpose == "show":
                return replace(self, models_note=note, editor_text="", editor_reads=self.editor_reads + 1), []
            return replace(self, models_note=note), []
        if isinstance(effect, ev.ReadTimeline):
            return replace(self, timeline_problem=event.message), []
        if isinstance(effect, ev.ReadState):
            return replace(self, status=Note("fail", event.message)), []
        return self._recorded(failed(self.doing or "panel", event.message)), []

    # ----- what each button does -----------------------------------------------------------

    def _saving_undo(self, before: str, effects: Effects) -> tuple[LabSession, Effects]:
        """Return the session and effects with an undo snapshot taken first."""
        label, undo = self.undo.next_label()
        return replace(self, undo=undo), [ev.SaveUndo(label, before), *effects]

    def _do_makemigrations(self, options: dict) -> tuple[LabSession, Effects]:
        name = (self.choices.name if options.get("name") is None else options["name"]).strip()
        if name and not name.isidentifier():
            raise KitError(
                f"'{name}' cannot be a migration name. Fix: use letters, digits and '_' only, e.g. 'topic_views'."
            )
        dry_run = bool(self.choices.dry_run if options.get("dry_run") is None else options["dry_run"])
        others = {key: value for key, value in options.items() if key not in ("app_label", "name", "dry_run")}
        answers = options.get("answers")
        effect = ev.Makemigrations(
            options.get("app_label") or self.app_label,
            name,
            dry_run,
            flags("makemigrations", others),
            tuple(answers) if answers is not None else None,
        )
        if dry_run or options.get("check"):
            return self, [effect]  # writes nothing: no undo snapshot
        return self._saving_undo(self._describe(), [effect])

    def _describe(self) -> str:
        if self.doing in ("save", "revert"):
            return f"{self.doing} {self.app_label}/models.py"
        return self.doing

    def _after_makemigrations(self, effect: ev.Makemigrations, outcome: Outcome) -> tuple[LabSession, Effects]:
        """Keep Django's question if it asked one; remember models.py if Django accepted it."""
        answers = list(effect.answers or [])
        if outcome.prompt is not None:
            previous = self.question.prompt if self.question else None
            refused = bool(answers) and same_question(previous, outcome.prompt)
            kept = answers[: len(self.question.answers)] if refused and self.question else answers
            options = {"app_label": effect.app_label, "name": effect.name, "dry_run": effect.dry_run}
            question = Question(outcome.prompt, kept, {**options, "flags": effect.flags}, refused)
            note = Note("info", "Django has a question about this change: answer it below.")
            return replace(self, question=question, models_note=note), []
        session = replace(self, question=None)
        app = effect.app_label
        if outcome.ok:
            session = replace(session, models_note=Note("ok", f"Django accepted {app}/models.py."))
            return session, [] if effect.dry_run else [ev.ReadModels(app, "accept")]
        if outcome.result is not None and not outcome.result.timed_out:
            session = replace(
                session, models_note=Note("fail", f"{outcome.message} Or click revert to last good version.")
            )
        return session, []

    def _do_answer(self, options: dict) -> tuple[LabSession, Effects]:
        if self.question is None:
            raise KitError("Django has no question waiting. Fix: run makemigrations first.")
        question = self.question
        choice = options.get("choice")
        choice = question.choices[0][1] if choice is None and question.choices else choice
        answers = question.answers + answers_for(question.prompt, choice or "", options.get("value"))
        asked = question.options
        label, undo = self.undo.next_label()
        effect = ev.Makemigrations(asked["app_label"], asked["name"], asked["dry_run"], asked["flags"], tuple(answers))
        return replace(self, undo=undo), [ev.SaveUndo(label, "answer"), effect]

    def _do_migrate(self, options: dict) -> tuple[LabSession, Effects]:
        app = options.get("app_label") or self.app_label
        target = options.get("migration_name") or options.get("target") or self.choices.target or "zero"
        shown = flags("migrate", options)
        if any(options.get(key) for key in _READ_ONLY_MIGRATE):
            return self, [ev.Migrate(app, target, None, shown)]
        confirmed = bool(options.get("confirmed"))
        waiting = self.pending.plan if self.pending is not None else None
        if confirmed and waiting is not None and (waiting.app_label, waiting.target) == (app, target):
            return self._go(waiting, shown)  # read a moment ago, and nothing may run in between
        if not confirmed and self.graph is not None and unapplies(self.graph, app, target):
            # Backwards: the preview's one probe reads the plan too, and confirm reuses it.
            return self, [ev.ReadPreview(app, target, shown)]
        return self, [ev.ReadPlan(app, target, shown, confirmed=confirmed)]

    def _go(self, plan: Plan, shown: tuple[str, ...]) -> tuple[LabSession, Effects]:
        """Run a migrate whose plan is known: an undo snapshot first when it changes anything."""
        session = replace(self, pending=None)
        effect = ev.Migrate(plan.app_label, plan.target, plan, shown)
        if not plan.steps:
            return session, [effect]
        return session._saving_undo(command_line("migrate", plan.app_label, plan.target, *shown), [effect])

    def _do_showmigrations(self, options: dict) -> tuple[LabSession, Effects]:
        return self, [ev.Showmigrations(options.get("app_label") or self.app_label, flags("showmigrations", options))]

    def _do_sqlmigrate(self, options: dict) -> tuple[LabSession, Effects]:
        name = options.get("migration_name") or options.get("name") or self.choices.migration
        if not name or name == "zero":
            raise KitError("sqlmigrate needs a migration, not zero. Fix: pick a migration name such as 0001_initial.")
        app = options.get("app_label") or self.app_label
        side_by_side = self.choices.side_by_side if options.get("side_by_side") is None else options["side_by_side"]
        if side_by_side:
            return self, [ev.SqlSideBySide(app, name)]
        backwards = self.choices.backwards if options.get("backwards") is None else options["backwards"]
        return self, [ev.Sqlmigrate(app, name, flags("sqlmigrate", {**options, "backwards": backwards}))]

    def _do_reset(self, _options: dict) -> tuple[LabSession, Effects]:
        return self._saving_undo("reset", [ev.Reset()])

    def _do_snapshot(self, _options: dict) -> tuple[LabSession, Effects]:
        return self, [ev.Snapshot(CHECKPOINT)]

    def _do_restore(self, _options: dict) -> tuple[LabSession, Effects]:
        return self._saving_undo("restore", [ev.Restore(CHECKPOINT)])

    def _do_undo(self, _options: dict) -> tuple[LabSession, Effects]:
        (label, before), undo = self.undo.popped()
        return replace(self, undo=undo), [ev.RestoreUndo(label, before)]

    def _do_save(self, options: dict) -> tuple[LabSession, Effects]:
        if "text" not in options:
            raise KitError("save needs the text of models.py. Fix: run_action('save', text=...) or click save.")
        app = self.app_label
        remember = [] if app in self.last_good else [ev.ReadModels(app, "remember")]
        write = ev.WriteModels(app, options["text"], "save")
        session, effects = self._saving_undo(self._describe(), [*remember, write])
        return session, [*effects, ev.Makemigrations(app, "", False, (), None)]

    def _do_revert(self, _options: dict) -> tuple[LabSession, Effects]:
        app = self.app_label
        if app not in self.last_good:
            raise KitError(f"The panel has not read {app}/models.py yet. Fix: reopen the panel, then revert.")
        return self._saving_undo(self._describe(), [ev.WriteModels(app, self.last_good[app], "revert")])

    # ----- keeping the picks and the files in step ---------------------------------------------

    def _with_choices_updated(self) -> LabSession:
        """Offer the apps and migrations Django knows now, keeping the learner's picks."""
        if self.graph is None:
            return self
        choices = self.choices
        labels = self.app_labels()
        if choices.app_label not in labels and labels:
            choices = replace(choices, app_label=labels[0])
        session = replace(self, choices=choices)
        choices = choices.kept_or_default("target", session.targets(), default_target(self.graph, choices.app_label))
        migrations = session.migrations()
        choices = choices.kept_or_default("migration", migrations, migrations[-1] if migrations else "")
        return replace(session, choices=choices)

    def _files_replaced(self) -> LabSession:
        """Forget what was known about files after reset, restore or undo."""
        return replace(self, last_good={}, question=None, pending=None, models_note=None)


_HANDLERS = {
    ev.Opened: LabSession._opened,
    ev.Clicked: LabSession._clicked,
    ev.NodeClicked: LabSession._node_clicked,
    ev.Picked: LabSession._picked,
    ev.AppChosen: LabSession._app_chosen,
    ev.Answered: LabSession._answered,
    ev.Confirmed: LabSession._confirmed,
    ev.Cancelled: LabSession._cancelled,
    ev.RefreshAsked: LabSession._refresh_asked,
    ev.TimelineAsked: LabSession._timeline_asked,
    ev.Settled: LabSession._settled,
    ev.Ran: LabSession._ran,
    ev.UndoSaved: LabSession._undo_saved,
    ev.StateRead: LabSession._state_read,
    ev.PlanRead: LabSession._plan_read,
    ev.PreviewRead: LabSession._preview_read,
    ev.ModelsRead: LabSession._models_read,
    ev.TimelineRead: LabSession._timeline_read,
    ev.Failed: LabSession._failed,
}
