"""The MigrationLab panel: buttons for Django's migration commands and live views of the database.

The panel holds no logic of its own: each button calls a plain function in
``widgets.actions`` and displays what it returns. Commands run in a worker
thread so that a click arriving while one runs is seen, and ignored, instead
of being queued behind it.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from dataclasses import dataclass

import ipywidgets as ipw

from . import actions
from . import panel_views as views
from .actions import ModelsFile, Outcome, UndoStack
from .commands import DEFAULT_TIMEOUT
from .errors import KitError
from .prompts import Prompt
from .sandbox import Sandbox
from .state import MigrationGraph, Plan, State

__all__ = ["HistoryEntry", "MigrationLab"]

BUTTONS = ("makemigrations", "migrate", "showmigrations", "sqlmigrate", "reset", "snapshot", "restore", "undo")
_TOOLTIPS = {
    "makemigrations": "Write new migrations for the changes in models.py",
    "migrate": "Apply or unapply migrations up to the chosen target",
    "showmigrations": "List the app's migrations, [X] when applied",
    "sqlmigrate": "Show the SQL of the chosen migration",
    "reset": "Put the sandbox back to where it started",
    "snapshot": "Save the files and database as a checkpoint",
    "restore": "Go back to the checkpoint",
    "undo": "Take back the last action that changed the sandbox",
}
# Actions that change files or the database: an undo snapshot is taken first.
_CHANGING = {"makemigrations", "migrate", "reset", "restore", "save", "revert", "answer"}
_IDLE_TERMINAL = "$ # click a button: the command it runs and its output appear here"
_STYLE = """<style>
.mk-lab pre.mk-term { background: #1e1e1e; color: #e8e8e8; padding: 8px 10px; margin: 0;
  white-space: pre-wrap; max-height: 26em; overflow: auto; font-size: 12px; border-radius: 4px; }
.mk-lab pre.mk-changes { background: #f6f8fa; padding: 4px 8px; margin: 4px 0; }
.mk-lab .mk-ok { color: #1a7f37; } .mk-lab .mk-fail { color: #cf222e; }
.mk-lab .mk-spinner { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.4em;
  border: 2px solid #999; border-top-color: transparent; border-radius: 50%;
  animation: mk-spin 0.8s linear infinite; vertical-align: middle; }
@keyframes mk-spin { to { transform: rotate(360deg); } }
.mk-lab .mk-question, .mk-lab .mk-confirm-box { border: 2px solid #d4a72c; padding: 6px; background: #fff8c5; }
.mk-lab .mk-editor textarea { font-family: monospace; font-size: 12px; }
.mk-lab .mk-view { overflow: auto; max-height: 40em; }
.mk-lab .mk-view svg { max-width: 100%; height: auto; }
.mk-compact { --jp-widgets-font-size: 18px; --jp-widgets-inline-height: 36px; font-size: 18px; }
.mk-compact pre.mk-term, .mk-compact pre.mk-changes, .mk-compact .mk-editor textarea { font-size: 17px; }
.mk-lab .mk-views .lm-TabBar-tab { flex: 0 0 auto !important; min-width: 8em !important; }
.mk-compact .mk-preview pre { font-size: 16px; }
.mk-compact .mk-view { font-size: 17px; max-height: none; }
.mk-lab .mk-compare { overflow: auto; max-height: 40em; }
.mk-lab .mk-compare pre { font-size: 12px; margin: 0; }
</style>"""


@dataclass(frozen=True)
class HistoryEntry:
    """One action taken in the panel: its command line, whether it worked, one sentence."""

    command: str
    ok: bool
    message: str


def _button(key: str, description: str | None = None, style: str = "") -> ipw.Button:
    button = ipw.Button(description=description or key, tooltip=_TOOLTIPS.get(key, ""), button_style=style)
    button.add_class(f"mk-{key}")
    button.layout.width = "auto"
    return button


def _text(text: str) -> str:
    """Escape text for HTML content (quotes stay readable: Django's messages are full of them)."""
    return html.escape(text, quote=False)


def _show(widget: ipw.Widget, visible: bool) -> None:
    widget.layout.display = None if visible else "none"


class MigrationLab(ipw.VBox):
    """Run makemigrations, migrate, showmigrations and sqlmigrate on a sandbox and watch what changes."""

    def __init__(
        self, sandbox: Sandbox, *, app_label: str = "boards", compact: bool = False, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        super().__init__()
        self.sandbox = sandbox
        self.compact = compact
        self.timeout = timeout
        self.history: list[HistoryEntry] = []
        self.last: Outcome | None = None
        self.state: State | None = None
        self.previous: State | None = None
        self.graph: MigrationGraph | None = None
        self.pending_rollback: Plan | None = None
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._undo = UndoStack(sandbox)
        self._models: dict[str, ModelsFile] = {}
        self._prompt: Prompt | None = None
        self._answers: list[str] = []
        self._question_options: dict = {}
        self._updating = False
        self._defaults: dict[str, str] = {}
        self._finished: str | None = None
        self._build(app_label)
        self.refresh()
        self._load_editor()

    def __repr__(self) -> str:
        # The default widget repr lists every child's value: long, and it changes with the layout.
        return f"MigrationLab({self.sandbox!r}, app_label={self.app_picker.value!r})"

    # ----- building the widgets ------------------------------------------------------

    def _build(self, app_label: str) -> None:
        """Create every widget and lay them out; no command runs here."""
        self.buttons = {key: _button(key, style="primary" if key == "migrate" else "") for key in BUTTONS}
        self.app_picker = ipw.Dropdown(
            options=[app_label],
            value=app_label,
            description="app",
            style={"description_width": "6em"},
            layout={"width": "16em"},
        )
        self.target_picker = ipw.Dropdown(
            description="target", style={"description_width": "6em"}, layout={"width": "22em"}
        )
        self.name_text = ipw.Text(placeholder="--name (optional)", layout={"width": "180px"})
        self.dry_run = ipw.Checkbox(description="--dry-run", indent=False, layout={"width": "auto"})
        self.sql_picker = ipw.Dropdown(
            description="migration", style={"description_width": "6em"}, layout={"width": "22em"}
        )
        self.backwards = ipw.Checkbox(description="--backwards", indent=False, layout={"width": "auto"})
        self.side_by_side = ipw.Checkbox(
            description="SQLite and PostgreSQL side by side", indent=False, layout={"width": "auto"}
        )
        self.comparison = ipw.HTML()
        self.comparison.add_class("mk-compare")
        _show(self.comparison, False)
        self.status = ipw.HTML()
        self.status.add_class("mk-status")
        self.terminal = ipw.HTML(f'<pre class="mk-term">{_IDLE_TERMINAL}</pre>')
        self.terminal.add_class("mk-terminal")
        self.changes = ipw.HTML()
        self.changes.add_class("mk-changes")
        self._build_confirmation()
        self._build_question()
        self._build_editor()
        self._build_views()
        self.history_view = ipw.HTML("<p>No actions yet.</p>")
        self.history_view.add_class("mk-history")
        self._wire()
        self._lay_out()

    def _build_confirmation(self) -> None:
        self.preview = ipw.HTML()
        self.preview.add_class("mk-preview")
        self.confirm_button = _button("confirm", "confirm rollback", "danger")
        self.cancel_button = _button("cancel", "cancel")
        self.confirm_box = ipw.VBox([self.preview, ipw.HBox([self.confirm_button, self.cancel_button])])
        self.confirm_box.add_class("mk-confirm-box")
        _show(self.confirm_box, False)

    def _build_question(self) -> None:
        self.question_text = ipw.HTML()
        self.choice = ipw.RadioButtons(options=[], layout={"width": "auto"})
        self.default_text = ipw.Text(placeholder="default, as Python: 0, '' or timezone.now", layout={"width": "360px"})
        self.answer_button = _button("answer", "answer and rerun makemigrations", "warning")
        self.question = ipw.VBox([self.question_text, self.choice, self.default_text, self.answer_button])
        self.question.add_class("mk-question")
        _show(self.question, False)

    def _build_editor(self) -> None:
        self.editor = ipw.Textarea(layout={"width": "auto", "height": "22em"})
        self.editor.add_class("mk-editor")
        self.save_button = _button("save", "save and makemigrations", "success")
        self.revert_button = _button("revert", "revert to last good version")
        self.editor_message = ipw.HTML()
        self.editor_message.add_class("mk-editor-message")
        self.editor_title = ipw.HTML()
        self.editor_box = ipw.VBox(
            [self.editor_title, self.editor, ipw.HBox([self.save_button, self.revert_button]), self.editor_message]
        )

    def _build_views(self) -> None:
        names = ("django_migrations", "schema", "graph", "rows")
        self._view_widgets: dict[str, list[ipw.HTML]] = {name: [ipw.HTML()] for name in names}
        children, titles = [], []
        if not self.compact:
            # A side-by-side overview, drawn from the same HTML as the single views.
            copies = {name: ipw.HTML() for name in names[:3]}
            for name, widget in copies.items():
                self._view_widgets[name].append(widget)
                widget.add_class("mk-view")
            copies["django_migrations"].layout = ipw.Layout(flex="0 1 auto", max_width="48%")
            copies["schema"].layout = ipw.Layout(flex="1 1 52%")
            top = ipw.HBox([copies["django_migrations"], copies["schema"]], layout={"align_items": "flex-start"})
            children.append(ipw.VBox([top, copies["graph"]]))
            titles.append("all")
        for name in names:
            widget = self._view_widgets[name][0]
            widget.add_class("mk-view")
            widget.add_class(f"mk-view-{name.replace('_', '-')}")
            children.append(widget)
            titles.append(name)
        self.views = ipw.Tab(children=children)
        self.views.titles = tuple(titles)
        self.views.add_class("mk-views")

    def _wire(self) -> None:
        """Connect every button to the action of the same name."""
        for key, button in self.buttons.items():
            button.on_click(self._clicker(key))
        self.save_button.on_click(self._clicker("save"))
        self.revert_button.on_click(self._clicker("revert"))
        self.answer_button.on_click(self._clicker("answer"))
        self.confirm_button.on_click(lambda _button: self.confirm())
        self.cancel_button.on_click(lambda _button: self.cancel())
        self.app_picker.observe(self._app_changed, names="value")

    def _clicker(self, name: str) -> Callable:
        return lambda _button: self.run_action(name, wait=False)

    def _lay_out(self) -> None:
        b = self.buttons
        commands = ipw.HBox([self.app_picker, b["makemigrations"], self.name_text, self.dry_run])
        migrate = ipw.HBox([self.target_picker, b["migrate"], b["showmigrations"]])
        sql = ipw.HBox([self.sql_picker, self.backwards, b["sqlmigrate"], self.side_by_side])
        kit = ipw.HBox([b["reset"], b["snapshot"], b["restore"], b["undo"]])
        output = ipw.VBox([self.terminal, self.changes], layout={"flex": "1 1 55%", "min_width": "0"})
        editor = ipw.VBox([self.editor_box], layout={"flex": "1 1 45%", "min_width": "0"})
        work = ipw.VBox([output, editor]) if self.compact else ipw.HBox([output, editor])
        history = ipw.Accordion(children=[self.history_view], selected_index=None)
        history.set_title(0, "history")
        self.children = [
            ipw.HTML(_STYLE),
            ipw.VBox([commands, migrate, sql, kit]),
            self.status,
            self.question,
            self.confirm_box,
            self.comparison,
            work,
            self.views,
            history,
        ]
        self.add_class("mk-lab")
        if self.compact:
            self.add_class("mk-compact")

    # ----- running actions -----------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Return True while an action runs."""
        return self._lock.locked()

    @property
    def app_label(self) -> str:
        """Return the app the panel works on (the app picker's value)."""
        return self.app_picker.value

    def run_action(self, name: str, *, wait: bool = True, **options) -> Outcome | None:
        """Do what the button called ``name`` does; ignored (None) while another action runs."""
        handler = getattr(self, f"_do_{name}", None)
        if handler is None:
            known = ", ".join([*BUTTONS, "save", "revert", "answer"])
            raise KitError(f"The panel has no action called '{name}'. Fix: use one of {known}.")
        if not self._lock.acquire(blocking=False):
            return None  # a click while busy: seen and ignored, never queued
        self._finished = None
        self._set_busy(True, name)
        self._worker = threading.Thread(target=self._run, args=(name, handler, options), daemon=True)
        self._worker.start()
        if wait:
            self.wait()
            return self.last if self.history and self._finished == name else None
        return None

    def wait(self, timeout: float | None = None) -> None:
        """Wait until the running action, if any, has finished (tests and notebooks use it)."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)

    def _run(self, name: str, handler: Callable, options: dict) -> None:
        """Run one action in the worker thread, then show its outcome and the new state."""
        before = self.state
        try:
            if name in _CHANGING and self._changes_anything(name, options):
                self._undo.push(self._describe(name, options))
            outcomes = handler(**options)
            if outcomes:
                self._record(outcomes if isinstance(outcomes, list) else [outcomes])
                self._finished = name
                self.refresh(before)
        except KitError as error:
            self._record([Outcome(name, name, False, str(error), f"[!] {error}")])
            self._finished = name
        except Exception as error:  # the learner must see one sentence, never a dead panel
            message = f"The panel hit an unexpected error ({type(error).__name__}: {error}). Fix: click reset, or undo."
            self._record([Outcome(name, name, False, message, f"[!] {message}")])
            self._finished = name
        finally:
            self._set_busy(False, name)
            self._lock.release()

    def _changes_anything(self, name: str, options: dict) -> bool:
        """Return False for a makemigrations dry run or a migrate that only shows its preview."""
        if name == "makemigrations":
            return not options.get("dry_run", self.dry_run.value)
        if name == "migrate":
            return bool(options.get("confirmed")) or not self._backwards(options)
        return True

    def _backwards(self, options: dict) -> bool:
        """Return True when this migrate would unapply migrations (read from the plan)."""
        app = options.get("app_label") or self.app_label
        options["_plan"] = plan = self.sandbox.plan(app, self._target(options))
        return actions.needs_confirmation(plan)

    def _describe(self, name: str, options: dict) -> str:
        if name == "migrate":
            return actions.command_line("migrate", options.get("app_label") or self.app_label, self._target(options))
        if name in ("save", "revert"):
            return f"{name} {self.app_label}/models.py"
        return name

    def _target(self, options: dict) -> str:
        return options.get("target") or self.target_picker.value or "zero"

    def _set_busy(self, busy: bool, name: str) -> None:
        for button in self._all_buttons():
            button.disabled = busy
        if busy:
            self.add_class("mk-busy")
            self.status.value = f'<span class="mk-spinner"></span>Running {_text(name)}…'
        else:
            self.remove_class("mk-busy")

    def _all_buttons(self) -> list[ipw.Button]:
        extra = [self.save_button, self.revert_button, self.answer_button, self.confirm_button, self.cancel_button]
        return [*self.buttons.values(), *extra]

    # ----- the actions (each returns outcomes; the panel displays them) ---------------

    def _do_makemigrations(
        self, app_label: str | None = None, name: str | None = None, dry_run: bool | None = None, answers=None
    ) -> Outcome:
        app = app_label or self.app_label
        options = {
            "app_label": app,
            "name": self.name_text.value if name is None else name,
            "dry_run": self.dry_run.value if dry_run is None else dry_run,
        }
        outcome = actions.makemigrations(self.sandbox, answers=answers, timeout=self.timeout, **options)
        self._after_makemigrations(outcome, options, answers or [])
        return outcome

    def _after_makemigrations(self, outcome: Outcome, options: dict, answers: list[str]) -> None:
        """Show Django's question if it asked one; remember models.py if Django accepted it."""
        previous = self._prompt
        if outcome.prompt is not None:
            refused = bool(answers) and actions.same_question(previous, outcome.prompt)
            self._answers = answers[: len(self._answers)] if refused else answers
            self._ask(outcome.prompt, refused)
            self._question_options = options
            self.editor_message.value = "<p>Django has a question about this change: answer it below.</p>"
            return
        self._ask(None)
        if outcome.ok:
            if not options["dry_run"]:
                self._models_file(options["app_label"]).accept()
            self.editor_message.value = f"<p class='mk-ok'>Django accepted {options['app_label']}/models.py.</p>"
        elif outcome.result is not None and not outcome.result.timed_out:
            self.editor_message.value = (
                f"<p class='mk-fail'>{_text(outcome.message)} Or click <b>revert to last good version</b>.</p>"
            )

    def _do_answer(self, choice: str | None = None, value: str | None = None) -> Outcome:
        if self._prompt is None:
            raise KitError("Django has no question waiting. Fix: run makemigrations first.")
        choice = self.choice.value if choice is None else choice
        value = self.default_text.value if value is None else value
        answers = self._answers + actions.answers_for(self._prompt, choice, value)
        return self._do_makemigrations(answers=answers, **self._question_options)

    def _do_migrate(self, app_label: str | None = None, target: str | None = None, confirmed: bool = False, _plan=None):
        app, target = app_label or self.app_label, self._target({"target": target})
        plan = _plan or self.sandbox.plan(app, target)
        if actions.needs_confirmation(plan) and not confirmed:
            self._show_rollback(app, target, plan)
            return None
        self._hide_rollback()
        return actions.migrate(self.sandbox, app, target, plan=plan, timeout=self.timeout)

    def _do_showmigrations(self, app_label: str | None = None) -> Outcome:
        return actions.showmigrations(self.sandbox, app_label or self.app_label, timeout=self.timeout)

    def _do_sqlmigrate(
        self,
        app_label: str | None = None,
        name: str | None = None,
        backwards: bool | None = None,
        side_by_side: bool | None = None,
    ):
        backwards = self.backwards.value if backwards is None else backwards
        name = name or self.sql_picker.value
        if self.side_by_side.value if side_by_side is None else side_by_side:
            outcome = actions.sql_side_by_side(self.sandbox, app_label or self.app_label, name)
            self.comparison.value = outcome.html
            _show(self.comparison, True)
            return outcome
        _show(self.comparison, False)
        return actions.sqlmigrate(
            self.sandbox, app_label or self.app_label, name, backwards=backwards, timeout=self.timeout
        )

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
        outcome = self._undo.pop()
        self._files_replaced()
        return outcome

    def _do_save(self, text: str | None = None) -> list[Outcome]:
        models = self._models_file(self.app_label)
        saved = models.write(self.editor.value if text is None else text)
        return [saved, self._do_makemigrations(name="", dry_run=False)]

    def _do_revert(self) -> Outcome:
        outcome = self._models_file(self.app_label).revert()
        self._load_editor()
        self.editor_message.value = f"<p>{_text(outcome.message)}</p>"
        return outcome

    # ----- confirmation of a rollback ------------------------------------------------

    def _show_rollback(self, app: str, target: str, plan: Plan) -> None:
        self.pending_rollback = plan
        self.preview.value = (
            f"<b>{_text(actions.command_line('migrate', app, target))}</b> would unapply migrations. "
            "Read what it drops, then confirm or cancel." + views.rollback_html(self.sandbox, app, target, plan)
        )
        _show(self.confirm_box, True)
        if self.graph is not None:
            self._set_view("graph", views.graph_html(self.graph, app, plan))
        self.status.value = "<p>Rollback waiting for confirmation: nothing has run yet.</p>"

    def _hide_rollback(self) -> None:
        self.pending_rollback = None
        _show(self.confirm_box, False)

    def confirm(self, *, wait: bool = False) -> Outcome | None:
        """Run the rollback waiting for confirmation."""
        plan = self.pending_rollback
        if plan is None or self.busy:
            return None
        return self.run_action("migrate", wait=wait, app_label=plan.app_label, target=plan.target, confirmed=True)

    def cancel(self) -> None:
        """Drop the rollback waiting for confirmation: nothing runs, nothing changes."""
        if self.pending_rollback is None or self.busy:
            return
        self._hide_rollback()
        if self.graph is not None:
            self._set_view("graph", views.graph_html(self.graph, self.app_label))
        self.status.value = "<p>Rollback cancelled: nothing was run and nothing changed.</p>"

    # ----- Django's questions ----------------------------------------------------------

    def _ask(self, prompt: Prompt | None, refused: bool = False) -> None:
        """Show Django's question with its choices, or hide the box when there is none."""
        self._prompt = prompt
        if prompt is None:
            self._answers = []
            _show(self.question, False)
            return
        complaint = actions.rejected_answer(prompt) if refused else ""
        note = f"<p class='mk-fail'>Django did not accept that answer: {_text(complaint)}</p>" if refused else ""
        first = prompt.question.split("Please enter the default value")[0]
        self.question_text.value = f"{note}<b>Django asks:</b><pre>{_text(first.strip())}</pre>"
        if prompt.is_yes_no:
            self.choice.options = [("yes", "y"), ("no", "n")]
        else:
            self.choice.options = [(f"{i}) {text}", str(i)) for i, text in enumerate(prompt.choices, 1)]
        self.choice.value = self.choice.options[0][1] if self.choice.options else None
        _show(self.default_text, prompt.kind in ("not_null_addition", "not_null_alteration", "auto_now_add_addition"))
        _show(self.question, True)

    # ----- showing results -------------------------------------------------------------

    def _record(self, outcomes: list[Outcome]) -> None:
        """Add outcomes to the history and show the last one in the terminal."""
        for outcome in outcomes:
            self.history.append(HistoryEntry(outcome.command, outcome.ok, outcome.message))
        self.last = outcomes[-1]
        if not self.last.html:  # the side-by-side SQL belongs to the sqlmigrate that showed it
            _show(self.comparison, False)
        shown = [o.terminal for o in outcomes if o.result is not None] or [outcomes[-1].terminal]
        self.terminal.value = f'<pre class="mk-term">{_text(chr(10).join(shown))}</pre>'
        self.history_view.value = self._history_html()
        self._show_status(self.last)

    def _history_html(self) -> str:
        items = "".join(
            f"<li><span class='{'mk-ok' if e.ok else 'mk-fail'}'>{'✔' if e.ok else '✖'}</span> "
            f"<code>{_text(e.command)}</code>{' — ' + _text(e.message) if e.message else ''}</li>"
            for e in self.history
        )
        return f"<ol class='mk-history-list'>{items}</ol>"

    def _show_status(self, outcome: Outcome) -> None:
        if outcome.ok:
            text = outcome.message or f"Done: {outcome.command}"
            self.status.value = f"<p class='mk-ok'>✔ {_text(text)}</p>"
        else:
            self.status.value = f"<p class='mk-fail'>✖ {_text(outcome.message)}</p>"

    def refresh(self, before: State | None = None) -> None:
        """Read the database and Django's graph again and redraw every view (read-only)."""
        self.previous, self.state = before, self.sandbox.state()
        try:
            self.graph, graph_problem = self.sandbox.migration_graph(), ""
        except KitError as error:
            self.graph, graph_problem = None, str(error)
        self._update_pickers()
        # The overview leaves out Django's own apps: their rows would push the lesson's below the fold.
        own = views.migrations_html(self.state, before, include_contrib=False)
        self._set_view("django_migrations", views.migrations_html(self.state, before), overview=own)
        self._set_view("schema", views.schema_html(self.state, before))
        self._set_view("rows", views.rows_html(self.state, before))
        if self.graph is not None:
            self._set_view("graph", views.graph_html(self.graph, self.app_label))
        else:
            self._set_view("graph", f"<p class='mk-fail'>{_text(graph_problem)}</p>")
        self.changes.value = views.changes_html(self.state, before)

    def _set_view(self, name: str, page: str, *, overview: str | None = None) -> None:
        """Show a view in its own tab and, in a different form if given, in the overview."""
        tab, *copies = self._view_widgets[name]
        tab.value = page
        for widget in copies:
            widget.value = page if overview is None else overview

    def _update_pickers(self) -> None:
        """Offer the apps and migrations Django knows now, keeping the learner's choices."""
        if self.graph is None:
            return
        self._updating = True
        try:
            labels = actions.app_labels(self.graph) or [self.app_label]
            current = self.app_label if self.app_label in labels else labels[0]
            self.app_picker.options = labels
            self.app_picker.value = current
            default = actions.default_target(self.graph, current)
            self._choose(self.target_picker, actions.targets(self.graph, current), default, "target")
            migrations = self.graph.migrations_of(current) or [""]
            self._choose(self.sql_picker, migrations, migrations[-1], "sql")
        finally:
            self._updating = False

    def _choose(self, picker: ipw.Dropdown, options: list[str], default: str, key: str) -> None:
        """Keep a picker's value if the learner chose it and it still exists; else the default."""
        chosen = picker.value
        picker.options = options
        untouched = chosen is None or chosen == self._defaults.get(key) or chosen not in options
        picker.value = default if untouched else chosen
        self._defaults[key] = default

    # ----- the model editor --------------------------------------------------------------

    def _models_file(self, app_label: str) -> ModelsFile:
        if app_label not in self._models:
            self._models[app_label] = ModelsFile(self.sandbox, app_label)
        return self._models[app_label]

    def _load_editor(self) -> None:
        """Show the app's models.py from disk in the editor."""
        relative = f"{self.app_label}/models.py"
        self.editor_title.value = f"<b>{_text(relative)}</b>"
        try:
            self.editor.value = self._models_file(self.app_label).read()
        except KitError as error:
            self.editor.value = ""
            self.editor_message.value = f"<p class='mk-fail'>{_text(str(error))}</p>"

    def _files_replaced(self) -> None:
        """Forget what was known about files after reset, restore or undo, and reload the editor."""
        self._models.clear()
        self._ask(None)
        self._hide_rollback()
        self._load_editor()
        self.editor_message.value = ""

    def _app_changed(self, change: dict) -> None:
        if self._updating:
            return
        self._ask(None)
        self._hide_rollback()
        self._update_pickers()
        self._load_editor()
        if self.graph is not None:
            self._set_view("graph", views.graph_html(self.graph, self.app_label))
