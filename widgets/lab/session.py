"""What the MigrationLab panel decides, as plain Python: no widgets here, so all of it is tested without a browser.

A ``LabSession`` holds the learner's choices (app, target, migration...), the
undo stack, the rollback waiting for confirmation, Django's pending question
and the answers given so far, the history, and what the graph shows expanded.
Its actions call ``widgets.actions`` and return outcomes; the panel's widgets
only display a session and forward clicks to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from widgets.errors import KitError
from widgets.lab import actions
from widgets.lab.actions import ModelsFile, Outcome, UndoStack
from widgets.read.rollback import RollbackPreview, rollback_preview
from widgets.read.state import MigrationGraph, Plan, State
from widgets.read.timeline import Timeline, code_fingerprint, read_timeline
from widgets.run.commands import DEFAULT_TIMEOUT
from widgets.run.prompts import DEFAULT_VALUE_KINDS, Prompt
from widgets.sandbox.facade import Sandbox

__all__ = ["ACTIONS", "Choices", "HistoryEntry", "LabSession", "Note", "PendingRollback", "Question", "Travel"]

#: Every action the panel offers, by name (buttons and the editor's and question's own).
ACTIONS = (
    "makemigrations",
    "migrate",
    "showmigrations",
    "sqlmigrate",
    "reset",
    "snapshot",
    "restore",
    "undo",
    "save",
    "revert",
    "answer",
)
# Actions that may change files or the database: an undo snapshot is taken before they run.
_CHANGING = {"makemigrations", "reset", "restore", "save", "revert", "answer"}


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
    """A backwards migrate waiting for the learner's confirmation: its plan and what it would drop."""

    plan: Plan
    preview: RollbackPreview

    @property
    def command(self) -> str:
        return actions.command_line("migrate", self.plan.app_label, self.plan.target)


@dataclass(frozen=True)
class Question:
    """A question Django asked during makemigrations, with the answers that led to it."""

    prompt: Prompt
    answers: list[str]  # given before this question, replayed on the next run
    options: dict  # the makemigrations options to run again with the answer
    refused: bool = False  # Django asked the same question again: the last answer was not accepted

    @property
    def text(self) -> str:
        """Return Django's question without the line that asks for a typed default."""
        return self.prompt.question.split("Please enter the default value")[0].strip()

    @property
    def needs_default(self) -> bool:
        """Return True when the first choice asks for a typed one-off default."""
        return self.prompt.kind in DEFAULT_VALUE_KINDS

    @property
    def choices(self) -> list[tuple[str, str]]:
        """Return (label, value) for every answer Django accepts."""
        if self.prompt.is_yes_no:
            return [("yes", "y"), ("no", "n")]
        return [(f"{i}) {text}", str(i)) for i, text in enumerate(self.prompt.choices, 1)]

    @property
    def complaint(self) -> str:
        """Return Django's complaint about the last typed default, if it refused one."""
        return actions.rejected_answer(self.prompt) if self.refused else ""


@dataclass
class Choices:
    """The learner's picks: app, migrate target, sqlmigrate migration and the options beside them."""

    app_label: str
    target: str = "zero"
    migration: str = ""
    name: str = ""
    dry_run: bool = False
    backwards: bool = False
    side_by_side: bool = False  # sqlmigrate on SQLite and PostgreSQL at once
    defaults: dict[str, str] = field(default_factory=dict)  # what the kit chose last, per picker

    def keep_or_default(self, key: str, options: list[str], default: str) -> None:
        """Keep a pick the learner made if it still exists; otherwise take the new default."""
        chosen = getattr(self, key)
        untouched = key not in self.defaults or chosen == self.defaults[key] or chosen not in options
        setattr(self, key, default if untouched else chosen)
        self.defaults[key] = default


@dataclass(frozen=True)
class Travel:
    """What a click on a graph node means: expand or fold a node, migrate an app to a migration, or nothing."""

    kind: str  # "expand", "fold", "migrate" or "ignore"
    node: str = ""
    app_label: str = ""
    target: str = ""
    reason: str = ""


def click_meaning(graph: MigrationGraph, node_id: str, expanded: set[str]) -> Travel:
    """Decide what clicking a node of the migration graph does: pure, from the graph alone."""
    app, _, name = node_id.partition(".")
    if ".." in name:  # a folded run: unfold the app's runs
        return Travel("expand", app, reason=f"Unfolded the runs of {app}.")
    rows = graph.nodes[(graph.nodes["app_label"] == app) & (graph.nodes["name"] == name)]
    if rows.empty:
        squash = _squash_of(graph, app, name, expanded)
        if squash:
            return Travel("fold", squash, reason=f"Folded {squash} again.")
        return Travel("ignore", reason=f"{node_id} is not a migration Django uses now: nothing to migrate to.")
    if app in graph.contrib_apps():
        return Travel("ignore", reason=f"{app} is one of Django's own apps: the panel moves your apps only.")
    if rows.iloc[0]["replaces"] and node_id not in expanded:
        count = len(rows.iloc[0]["replaces"])
        return Travel("expand", node_id, reason=f"{node_id} squashes {count} migrations: they hang under it now.")
    return Travel("migrate", node_id, app, name)


def _squash_of(graph: MigrationGraph, app: str, name: str, expanded: set[str]) -> str:
    """Return the expanded squash that replaces a migration, if any ('' when none)."""
    for row in graph.nodes[graph.nodes["app_label"] == app].itertuples():
        squash = f"{app}.{row.name}"
        if squash in expanded and (app, name) in row.replaces:
            return squash
    return ""


class LabSession:
    """Everything the MigrationLab panel decides: choices, undo, pending rollback, Django's question, history."""

    def __init__(self, sandbox: Sandbox, *, app_label: str = "boards", timeout: float = DEFAULT_TIMEOUT) -> None:
        self.sandbox = sandbox
        self.timeout = timeout
        self.choices = Choices(app_label)
        self.history: list[HistoryEntry] = []
        self.last: Outcome | None = None
        self.outcomes: list[Outcome] = []  # what the last action ran
        self.status: Note | None = None
        self.models_note: Note | None = None
        self.pending: PendingRollback | None = None
        self.question: Question | None = None
        self.expanded: set[str] = set()
        self.state: State | None = None
        self.previous: State | None = None
        self.graph: MigrationGraph | None = None
        self.graph_problem = ""
        self.undo = UndoStack(sandbox)
        self._models: dict[str, ModelsFile] = {}
        self._timeline: tuple[tuple, Timeline] | None = None

    # ----- reading ---------------------------------------------------------------------

    @property
    def app_label(self) -> str:
        """Return the app the panel works on."""
        return self.choices.app_label

    def refresh(self, before: State | None = None) -> None:
        """Read the database and Django's graph again (read-only), then update the picks."""
        self.previous, self.state = before, self.sandbox.state()
        try:
            self.graph, self.graph_problem = self.sandbox.migration_graph(), ""
        except KitError as error:
            self.graph, self.graph_problem = None, str(error)
        self._update_choices()

    def _update_choices(self) -> None:
        """Offer the apps and migrations Django knows now, keeping the learner's picks."""
        if self.graph is None:
            return
        labels = self.app_labels()
        if self.choices.app_label not in labels and labels:
            self.choices.app_label = labels[0]
        app = self.choices.app_label
        self.choices.keep_or_default("target", self.targets(), actions.default_target(self.graph, app))
        migrations = self.migrations()
        self.choices.keep_or_default("migration", migrations, migrations[-1] if migrations else "")

    def app_labels(self) -> list[str]:
        """Return the project's own apps with migrations (the app picker's options)."""
        labels = actions.app_labels(self.graph) if self.graph is not None else []
        return labels or [self.choices.app_label]

    def targets(self) -> list[str]:
        """Return the targets migrate accepts for the chosen app: its migrations, then zero."""
        return actions.targets(self.graph, self.app_label) if self.graph is not None else ["zero"]

    def migrations(self) -> list[str]:
        """Return the chosen app's migrations (the sqlmigrate picker's options)."""
        return self.graph.migrations_of(self.app_label) if self.graph is not None else []

    def choose_app(self, app_label: str) -> None:
        """Switch the panel to another app: forget its question and pending rollback."""
        self.choices.app_label = app_label
        self.question = None
        self.pending = None
        self._update_choices()

    def timeline(self) -> Timeline:
        """Return the schema after every migration, read again only when a .py file changed."""
        key = code_fingerprint(self.sandbox.path)
        if self._timeline is None or self._timeline[0] != key:
            self._timeline = (key, read_timeline(self.sandbox))
        return self._timeline[1]

    # ----- actions -----------------------------------------------------------------------

    def run(self, name: str, **options) -> list[Outcome]:
        """Do what the button called ``name`` does and remember it; return what ran (nothing for a preview)."""
        handler = getattr(self, f"_do_{name}", None)
        if name not in ACTIONS or handler is None:
            raise KitError(f"The panel has no action called '{name}'. Fix: use one of {', '.join(ACTIONS)}.")
        try:
            if name in _CHANGING and self._changes_anything(name, options):
                self.undo.push(self._describe(name, options))
            done = handler(**options)
        except KitError as error:
            done = [Outcome(name, name, False, str(error), f"[!] {error}")]
        outcomes = done if isinstance(done, list) else [done] if done is not None else []
        self.record(outcomes)
        return outcomes

    def record(self, outcomes: list[Outcome]) -> None:
        """Add outcomes to the history and say how the last one went."""
        for outcome in outcomes:
            self.history.append(HistoryEntry(outcome.command, outcome.ok, outcome.message))
        if outcomes:
            self.outcomes = outcomes
            self.last = outcomes[-1]
            self.status = Note("ok" if self.last.ok else "fail", self.last.message or f"Done: {self.last.command}")

    def _changes_anything(self, name: str, options: dict) -> bool:
        """Return False for a makemigrations dry run: it writes nothing."""
        if name == "makemigrations":
            return not options.get("dry_run", self.choices.dry_run)
        return True

    def _describe(self, name: str, options: dict) -> str:
        if name in ("save", "revert"):
            return f"{name} {self.app_label}/models.py"
        return name

    def travel(self, node_id: str) -> Travel:
        """Act on a click on a graph node: expand or fold it, or migrate its app to it (previewed if backwards)."""
        if self.graph is None:
            return Travel("ignore", reason=self.graph_problem)
        meaning = click_meaning(self.graph, node_id, self.expanded)
        if meaning.kind == "expand":
            self.expanded.add(meaning.node)
        elif meaning.kind == "fold":
            self.expanded.discard(meaning.node)
        elif meaning.kind == "migrate":
            self.choose_app(meaning.app_label)
            self.choices.target = meaning.target
            self.run("migrate", app_label=meaning.app_label, target=meaning.target)
            return meaning
        self.status = Note("info", meaning.reason)
        return meaning

    def _do_makemigrations(
        self, app_label: str | None = None, name: str | None = None, dry_run: bool | None = None, answers=None
    ) -> Outcome:
        options = {
            "app_label": app_label or self.app_label,
            "name": self.choices.name if name is None else name,
            "dry_run": self.choices.dry_run if dry_run is None else dry_run,
        }
        outcome = actions.makemigrations(self.sandbox, answers=answers, timeout=self.timeout, **options)
        self._after_makemigrations(outcome, options, answers or [])
        return outcome

    def _after_makemigrations(self, outcome: Outcome, options: dict, answers: list[str]) -> None:
        """Keep Django's question if it asked one; remember models.py if Django accepted it."""
        if outcome.prompt is not None:
            previous = self.question.prompt if self.question else None
            refused = bool(answers) and actions.same_question(previous, outcome.prompt)
            kept = answers[: len(self.question.answers)] if refused and self.question else answers
            self.question = Question(outcome.prompt, kept, options, refused)
            self.models_note = Note("info", "Django has a question about this change: answer it below.")
            return
        self.question = None
        app = options["app_label"]
        if outcome.ok:
            if not options["dry_run"]:
                self.models_file(app).accept()
            self.models_note = Note("ok", f"Django accepted {app}/models.py.")
        elif outcome.result is not None and not outcome.result.timed_out:
            self.models_note = Note("fail", f"{outcome.message} Or click revert to last good version.")

    def _do_answer(self, choice: str | None = None, value: str | None = None) -> Outcome:
        if self.question is None:
            raise KitError("Django has no question waiting. Fix: run makemigrations first.")
        question = self.question
        choice = question.choices[0][1] if choice is None and question.choices else choice
        answers = question.answers + actions.answers_for(question.prompt, choice or "", value)
        return self._do_makemigrations(answers=answers, **question.options)

    def _do_migrate(self, app_label: str | None = None, target: str | None = None, confirmed: bool = False):
        app, target = app_label or self.app_label, target or self.choices.target or "zero"
        pending = self.pending
        preview = None
        if confirmed and pending is not None and (pending.plan.app_label, pending.plan.target) == (app, target):
            plan = pending.plan  # read a moment ago, and nothing may run in between
        elif not confirmed and actions.unapplies(self.sandbox.migration_graph(), app, target):
            # Backwards: the preview's one probe reads the plan too, and confirm reuses it.
            preview = rollback_preview(self.sandbox, app, target)
            plan = preview.plan
        else:
            plan = self.sandbox.plan(app, target)
        if actions.needs_confirmation(plan) and not confirmed:
            self.pending = PendingRollback(plan, preview or rollback_preview(self.sandbox, app, target))
            self.status = Note("info", "Rollback waiting for confirmation: nothing has run yet.")
            return None
        self.pending = None
        if plan.steps:
            self.undo.push(actions.command_line("migrate", app, target))
        return actions.migrate(self.sandbox, app, target, plan=plan, timeout=self.timeout)

    def confirm(self) -> list[Outcome]:
        """Run the rollback waiting for confirmation (nothing when none waits)."""
        if self.pending is None:
            return []
        plan = self.pending.plan
        return self.run("migrate", app_label=plan.app_label, target=plan.target, confirmed=True)

    def cancel(self) -> bool:
        """Drop the rollback waiting for confirmation: nothing runs, nothing changes."""
        if self.pending is None:
            return False
        self.pending = None
        self.status = Note("info", "Rollback cancelled: nothing was run and nothing changed.")
        return True

    def _do_showmigrations(self, app_label: str | None = None) -> Outcome:
        return actions.showmigrations(self.sandbox, app_label or self.app_label, timeout=self.timeout)

    def _do_sqlmigrate(
        self,
        app_label: str | None = None,
        name: str | None = None,
        backwards: bool | None = None,
        side_by_side: bool | None = None,
    ):
        backwards = self.choices.backwards if backwards is None else backwards
        name = name or self.choices.migration
        app = app_label or self.app_label
        if self.choices.side_by_side if side_by_side is None else side_by_side:
            return actions.sql_side_by_side(self.sandbox, app, name)
        return actions.sqlmigrate(self.sandbox, app, name, backwards=backwards, timeout=self.timeout)

    def _do_reset(self) -> Outcome:
        outcome = actions.reset(self.sandbox)
        self._files_replaced()
        return outcome

    def _do_snapshot(self) -> Outcome:
        return actions.snapshot(self.sandbox)

    def _do_restore(self) -> Outcome:
        outcome = actions.restore(self.sandbox)
        self._files_replaced()
        return outcome

    def _do_undo(self) -> Outcome:
        outcome = self.undo.pop()
        self._files_replaced()
        return outcome

    def _do_save(self, text: str) -> list[Outcome]:
        saved = self.models_file(self.app_label).write(text)
        return [saved, self._do_makemigrations(name="", dry_run=False)]

    def _do_revert(self) -> Outcome:
        outcome = self.models_file(self.app_label).revert()
        self.models_note = Note("info", outcome.message)
        return outcome

    # ----- the model editor's file -----------------------------------------------------------

    def models_file(self, app_label: str) -> ModelsFile:
        """Return the app's models.py, remembering its last version Django accepted."""
        if app_label not in self._models:
            self._models[app_label] = ModelsFile(self.sandbox, app_label)
        return self._models[app_label]

    def models_text(self) -> str:
        """Return the chosen app's models.py as it is on disk now."""
        return self.models_file(self.app_label).read()

    def _files_replaced(self) -> None:
        """Forget what was known about files after reset, restore or undo."""
        self._models.clear()
        self.question = None
        self.pending = None
        self.models_note = None
