"""The MigrationLab panel: wiring only, between a LabSession and the small widgets that show it.

Every decision (undo, the pending rollback, Django's question, picks, what a
click on the graph means) lives in ``widgets.lab.session``; the I/O it asks
for is carried out by ``widgets.lab.executor``; every view is a pure function
in ``widgets.lab.panel_views``. The panel lays the widgets out, forwards each
click or pick to the session as an event (an action's in a worker thread, so
that a click arriving while one runs is seen, and ignored, instead of being
queued behind it), and shows the session that comes back.
"""

from __future__ import annotations

import html
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import ipywidgets as ipw

from widgets.draw.palette import css_variables
from widgets.errors import KitError
from widgets.lab import events as ev
from widgets.lab import panel_views as views
from widgets.lab.executor import LabDriver
from widgets.lab.graph_widget import GraphView
from widgets.lab.lab_widgets import LiveStatus, ModelEditor, QuestionBox, RollbackBox, TimeMachine, button
from widgets.lab.options import check_options
from widgets.lab.outcome import Outcome
from widgets.lab.picker_width import fitted_width
from widgets.lab.screens import LabScreen, lab_screen, time_screen
from widgets.lab.session import HistoryEntry, LabSession
from widgets.read.state import MigrationGraph, Plan, State
from widgets.read.timeline import Timeline
from widgets.run.result import DEFAULT_TIMEOUT
from widgets.sandbox.facade import Sandbox

__all__ = ["HistoryEntry", "MigrationLab"]

BUTTONS = ("makemigrations", "migrate", "showmigrations", "sqlmigrate", "reset", "snapshot", "restore", "undo")
VIEWS = ("graph", "time machine", "schema", "django_migrations", "rows")
# Views drawn only when their tab is open (the graph and the changes are always drawn).
_DRAWN_WHEN_OPEN = ("schema", "django_migrations", "rows")
# Pyodide (the browser edition) has no threads: there an action runs in the kernel's turn.
_THREADS = sys.platform != "emscripten"
_IDLE_TERMINAL = "$ # click a button or a migration in the graph: the command and its output appear here"
_CSS = Path(__file__).with_name("static") / "panel.css"


def _style() -> str:
    """Return the panel's CSS, its colours read from the palette."""
    return f"<style>{css_variables('.mk-lab')}\n{_CSS.read_text(encoding='utf-8')}</style>"


def _text(text: str) -> str:
    """Escape text for HTML content (quotes stay readable: Django's messages are full of them)."""
    return html.escape(text, quote=False)


class MigrationLab(ipw.VBox):
    """Run makemigrations, migrate, showmigrations and sqlmigrate on a sandbox and watch what changes.

    Click a migration in the graph to migrate its app there (a rollback is
    previewed first and waits for confirm); move the time machine's slider to
    see the schema after any migration. ``compact=True`` is the projector
    mode: large type, one view at a time.
    """

    def __init__(
        self, sandbox: Sandbox, *, app_label: str = "boards", compact: bool = False, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        super().__init__()
        self.sandbox = sandbox
        self.compact = compact
        self.driver = LabDriver(sandbox, app_label=app_label, timeout=timeout)
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._finished: str | None = None
        self._updating = False
        self._screen: LabScreen | None = None
        self._stale: set[str] = set()
        self._editor_reads = 0  # the session's count of models.py reads the editor has shown
        self._build()
        self.driver.send(ev.Opened())
        self.refresh(reread=False)
        self._show_editor()

    def __repr__(self) -> str:
        # The default widget repr lists every child's value: long, and it changes with the layout.
        return f"MigrationLab({self.sandbox!r}, app_label={self.app_label!r})"

    # ----- what the session knows, for notebooks and tests ---------------------------------

    @property
    def session(self) -> LabSession:
        """Return the session the panel shows now (a value: each event makes a new one)."""
        return self.driver.session

    @property
    def app_label(self) -> str:
        """Return the app the panel works on."""
        return self.session.app_label

    @property
    def history(self) -> list[HistoryEntry]:
        return list(self.session.history)

    @property
    def last(self) -> Outcome | None:
        return self.session.last

    @property
    def state(self) -> State | None:
        return self.session.state

    @property
    def graph(self) -> MigrationGraph | None:
        return self.session.graph

    @property
    def pending_rollback(self) -> Plan | None:
        """Return the plan of the rollback waiting for confirmation, if any."""
        return self.session.pending.plan if self.session.pending else None

    @property
    def busy(self) -> bool:
        """Return True while an action runs."""
        return self._lock.locked()

    # ----- building ----------------------------------------------------------------------------

    def _build(self) -> None:
        """Create every widget and lay them out; no command runs here."""
        self.buttons = {key: button(key, style="primary" if key == "migrate" else "") for key in BUTTONS}
        self.app_picker = ipw.Dropdown(description="app", style={"description_width": "4.5em"})
        self.app_picker.layout.width = "12.5em"
        self.target_picker = ipw.Dropdown(description="target", style={"description_width": "4.5em"})
        self.target_picker.layout.width = "16em"
        # A visible label, not only a placeholder: screen readers and everyone else know what the box is for.
        self.name_text = ipw.Text(
            description="--name", placeholder="optional", style={"description_width": "4em"}, layout={"width": "11em"}
        )
        self.dry_run = ipw.Checkbox(description="--dry-run", indent=False, layout={"width": "auto"})
        self.sql_picker = ipw.Dropdown(description="migration", style={"description_width": "5.2em"})
        self.sql_picker.layout.width = "16.7em"
        self.backwards = ipw.Checkbox(description="--backwards", indent=False, layout={"width": "auto"})
        self.side_by_side = ipw.Checkbox(
            description="SQLite | PostgreSQL",
            tooltip="sqlmigrate on SQLite and on PostgreSQL, side by side",
            indent=False,
            layout={"width": "auto"},
        )
        self.comparison = ipw.HTML()
        self.comparison.add_class("mk-compare")
        self.comparison.layout.display = "none"
        self.status = LiveStatus()
        self.status.add_class("mk-status")
        self.terminal = ipw.HTML(f'<pre class="mk-term">{_IDLE_TERMINAL}</pre>')
        self.terminal.add_class("mk-terminal")
        self.changes = ipw.HTML()
        self.changes.add_class("mk-changes-box")
        self.question_box = QuestionBox()
        self.rollback_box = RollbackBox()
        self.model_editor = ModelEditor()
        self.graph_view = GraphView(height="500px" if not self.compact else "600px")
        self.graph_view.add_class("mk-graph-view")
        self.time_machine = TimeMachine(lambda scope, index, compare: time_screen(self.session, scope, index, compare))
        self.schema_view = GraphView(height="500px", placeholder="find a table by name")
        self.schema_view.add_class("mk-schema-view")
        self.tables_view = {name: ipw.HTML() for name in ("django_migrations", "rows")}
        self.history_view = ipw.HTML("<p>No actions yet.</p>")
        self.history_view.add_class("mk-history")
        self._wire()
        self._lay_out()

    # Names the tests and notebooks of the earlier panel used, kept as plain aliases.
    @property
    def question(self) -> QuestionBox:
        return self.question_box

    @property
    def question_text(self) -> ipw.HTML:
        return self.question_box.text

    @property
    def choice(self) -> ipw.RadioButtons:
        return self.question_box.choice

    @property
    def default_text(self) -> ipw.Text:
        return self.question_box.default_text

    @property
    def answer_button(self) -> ipw.Button:
        return self.question_box.answer_button

    @property
    def confirm_box(self) -> RollbackBox:
        return self.rollback_box

    @property
    def confirm_button(self) -> ipw.Button:
        return self.rollback_box.confirm_button

    @property
    def cancel_button(self) -> ipw.Button:
        return self.rollback_box.cancel_button

    @property
    def preview(self) -> ipw.HTML:
        return self.rollback_box.preview

    @property
    def editor(self) -> ipw.Textarea:
        return self.model_editor.editor

    @property
    def editor_message(self) -> ipw.HTML:
        return self.model_editor.message

    @property
    def save_button(self) -> ipw.Button:
        return self.model_editor.save_button

    @property
    def revert_button(self) -> ipw.Button:
        return self.model_editor.revert_button

    def _wire(self) -> None:
        """Connect every click and pick to the session."""
        for key, widget in self.buttons.items():
            widget.on_click(self._clicker(key))
        self.save_button.on_click(lambda _b: self.run_action("save", wait=False))
        self.revert_button.on_click(self._clicker("revert"))
        self.answer_button.on_click(lambda _b: self._start("answer", ev.Answered(**self._answer()), False))
        self.confirm_button.on_click(lambda _b: self.confirm())
        self.cancel_button.on_click(lambda _b: self.cancel())
        self.app_picker.observe(self._app_changed, names="value")
        for picker, key in ((self.target_picker, "target"), (self.sql_picker, "migration")):
            picker.observe(self._picker(key), names="value")
        boxes = ((self.name_text, "name"), (self.dry_run, "dry_run"), (self.backwards, "backwards"))
        for box, key in (*boxes, (self.side_by_side, "side_by_side")):
            box.observe(self._picker(key), names="value")
        self.graph_view.on_click(self._node_clicked)
        self.time_machine.migrate_here.on_click(self._migrate_here)

    def _clicker(self, name: str) -> Callable:
        return lambda _button: self.run_action(name, wait=False)

    def _picker(self, key: str) -> Callable:
        def chosen(change: dict) -> None:
            if not self._updating:
                self.driver.handle(ev.Picked(key, change["new"]))

        return chosen

    def _answer(self) -> dict:
        return {"choice": self.choice.value, "value": self.default_text.value}

    def _lay_out(self) -> None:
        b = self.buttons
        controls = ipw.VBox(
            [
                ipw.HBox([self.app_picker, b["makemigrations"], self.name_text, self.dry_run]),
                ipw.HBox([self.target_picker, b["migrate"], b["showmigrations"]]),
                ipw.HBox([self.sql_picker, self.backwards, b["sqlmigrate"], self.side_by_side]),
                ipw.HBox([b["reset"], b["snapshot"], b["restore"], b["undo"]]),
            ]
        )
        controls.add_class("mk-controls")
        output = ipw.VBox([self.comparison, self.terminal, self.changes])
        history = ipw.VBox([self.history_view])
        views = {
            "graph": self.graph_view,
            "time machine": self.time_machine,
            "schema": self.schema_view,
            "django_migrations": self.tables_view["django_migrations"],
            "rows": self.tables_view["rows"],
        }
        for name, widget in views.items():
            widget.add_class("mk-view")
            widget.add_class(f"mk-view-{name.replace('_', '-').replace(' ', '-')}")
        if self.compact:
            # Projector: one column, large type, one view at a time (the terminal is one of them).
            pages = {"terminal": output, **views, "models.py": self.model_editor, "history": history}
            self.views = self._tabs(pages, "mk-views")
            work = [controls, self.status, self.question_box, self.rollback_box, self.views]
            self.children = [ipw.HTML(_style()), *work]
            self.add_class("mk-compact")
        else:
            left_tabs = self._tabs({"terminal": output, "models.py": self.model_editor, "history": history}, "mk-side")
            left = ipw.VBox([controls, self.status, self.question_box, self.rollback_box, left_tabs])
            left.add_class("mk-left")
            self.views = self._tabs(views, "mk-views")
            right = ipw.VBox([self.views])
            right.add_class("mk-right")
            columns = ipw.HBox([left, right])
            columns.add_class("mk-columns")
            self.children = [ipw.HTML(_style()), columns]
        self.views.observe(self._tab_changed, names="selected_index")
        self.add_class("mk-lab")

    @staticmethod
    def _tabs(pages: dict[str, ipw.Widget], css: str) -> ipw.Tab:
        tabs = ipw.Tab(children=list(pages.values()))
        tabs.titles = tuple(pages)
        tabs.add_class(css)
        return tabs

    # ----- running actions -----------------------------------------------------------------

    def run_action(self, name: str, /, *, wait: bool = True, **options) -> Outcome | None:
        """Do what the button called ``name`` does, with the command's own options; ignored (None) while busy.

        Options keep Django's names: ``run_action("sqlmigrate", migration_name="0001_initial", backwards=True)``,
        ``run_action("makemigrations", name="topic_views", empty=True)``, ``run_action("migrate", fake=True)``.
        """
        check_options(name, options)
        if name == "save" and "text" not in options:
            options["text"] = self.editor.value
        return self._start(name, ev.Clicked(name, options), wait)

    def _start(self, name: str, event: ev.Event, wait: bool) -> Outcome | None:
        if not self._lock.acquire(blocking=False):
            return None  # a click while busy: seen and ignored, never queued
        self._finished = None
        self._set_busy(True, name)
        if not _THREADS:  # Pyodide starts no thread: the action runs now, in the kernel's turn
            self._run(name, event)
            return self.last if self.history and self._finished == name else None
        self._worker = threading.Thread(target=self._run, args=(name, event), daemon=True)
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

    def _run(self, name: str, event: ev.Event) -> None:
        """Send one event in the worker thread (the executor carries out what follows), then show the session."""
        count = len(self.session.history)
        try:
            self.driver.send(event)
        except Exception as error:  # the learner must see one sentence, never a dead panel
            message = f"The panel hit an unexpected error ({type(error).__name__}: {error}). Fix: click reset, or undo."
            self.driver.handle(ev.Failed(None, message))
        try:
            if len(self.session.history) > count:
                self._finished = name
                self._show_terminal()
            self.refresh(reread=False)
            self._show_editor()
        finally:
            self._set_busy(False, name)
            self._lock.release()

    def _set_busy(self, busy: bool, name: str) -> None:
        for widget in self._all_buttons():
            widget.disabled = busy
        self.graph_view.busy = busy
        if busy:
            self.add_class("mk-busy")
            self.status.value = f'<span class="mk-spinner"></span>Running {_text(name)}…'
        else:
            self.remove_class("mk-busy")
            self.status.value = views.note_html(self.session.status)

    def _all_buttons(self) -> list[ipw.Button]:
        extra = [self.save_button, self.revert_button, self.answer_button, self.confirm_button, self.cancel_button]
        return [*self.buttons.values(), *extra, self.time_machine.migrate_here]

    def confirm(self, *, wait: bool = False) -> Outcome | None:
        """Run the rollback waiting for confirmation."""
        if self.session.pending is None or self.busy:
            return None
        return self._start("migrate", ev.Confirmed(), wait)

    def cancel(self) -> None:
        """Drop the rollback waiting for confirmation: nothing runs, nothing changes."""
        if self.busy or self.session.pending is None:
            return
        self.driver.handle(ev.Cancelled())
        self._show(lab_screen(self.session))
        self.status.value = views.note_html(self.session.status)

    def click_node(self, node_id: str, *, wait: bool = True) -> None:
        """Do what clicking a node of the graph does (tests and notebooks use it)."""
        self._start("migrate", ev.NodeClicked(node_id), wait)

    def _node_clicked(self, node_id: str) -> None:
        self.click_node(node_id, wait=False)

    def _migrate_here(self, _button=None) -> None:
        screen = self.time_machine.screen
        if screen is None or screen.index < 0:
            return
        app, name = screen.timeline.steps[screen.index]
        self._start("migrate", ev.Clicked("migrate", {"app_label": app, "target": name}), False)

    # ----- showing ---------------------------------------------------------------------------

    def _show_terminal(self) -> None:
        outcomes = self._outcomes_shown()
        shown = [o.terminal for o in outcomes]
        self.terminal.value = f'<pre class="mk-term">{_text(chr(10).join(shown))}</pre>'
        # The side-by-side SQL stands above the terminal for the sqlmigrate that asked for it only.
        self.comparison.value = outcomes[-1].html if outcomes else ""
        self.comparison.layout.display = "" if self.comparison.value else "none"  # not None: see lab_widgets.show
        self.history_view.value = views.history_html(self.history)

    def _outcomes_shown(self) -> list[Outcome]:
        ran = self.session.outcomes
        return [o for o in ran if o.result is not None] or list(ran[-1:])

    def refresh(self, before: State | None = None, *, reread: bool = True) -> None:
        """Read the database and Django's graph again and redraw every view (read-only)."""
        if reread:
            self.driver.send(ev.RefreshAsked(before))
        self._update_pickers()
        self._show(lab_screen(self.session))

    def _show(self, screen: LabScreen) -> None:
        """Draw the views always on screen, and the tab that is open; the other tabs when they are opened."""
        state, before = screen.state, screen.previous
        # A class clicking at once pays for every view drawn: draw a tab's view only when it is looked at.
        self._screen, self._stale = screen, set(_DRAWN_WHEN_OPEN)
        self.changes.value = views.changes_html(state, before)
        self.question_box.display(self.session.question)
        self.rollback_box.display(self.session.pending)
        if screen.graph is None:
            self.graph_view.svg = f"<p class='mk-fail'>{_text(screen.graph_problem)}</p>"
        else:
            drawing, svg = views.graph_picture(screen.graph, plan=screen.plan, expand=screen.expanded)
            self.graph_view.show(drawing, svg, self.session.click_hints(node.id for node in drawing.nodes))
            target = f"{screen.plan.app_label}.{screen.plan.target}" if screen.plan else ""
            self.graph_view.selected = target
            self.graph_view.hint = "click a migration to migrate its app there"
        self._show_open_tab()

    def _show_open_tab(self) -> None:
        """Draw the view of the open tab if it is out of date."""
        index = self.views.selected_index
        title = self.views.titles[index] if index is not None else None
        if title == "time machine":
            self._show_time_machine()
        elif title in self._stale and self._screen is not None:
            self._stale.discard(title)
            self._draw(title, self._screen)

    def _draw(self, title: str, screen: LabScreen) -> None:
        state, before = screen.state, screen.previous
        if title == "schema":
            self.schema_view.svg = views.schema_html(state, before, screen.contrib_tables)
        elif title == "django_migrations":
            self.tables_view["django_migrations"].value = views.migrations_html(state, before)
        elif title == "rows":
            self.tables_view["rows"].value = views.rows_html(state, before, screen.contrib_tables)

    def open_view(self, title: str) -> ipw.Widget:
        """Open a view's tab, as a click on it does, and return its widget, drawn."""
        if title not in self.views.titles:
            raise KitError(f"The panel has no view called '{title}'. Fix: use one of {', '.join(self.views.titles)}.")
        self.views.selected_index = self.views.titles.index(title)
        self._show_open_tab()
        return self.views.children[self.views.selected_index]

    def timeline(self) -> Timeline:
        """Return the schema after every migration, read again only when a .py file changed."""
        return self.driver.timeline()

    def _show_time_machine(self) -> None:
        try:
            self.timeline()
            self.time_machine.load(self.session.app_labels(), self.app_label)
        except KitError as error:
            self.time_machine.headline.value = f"<p class='mk-fail'>{_text(str(error))}</p>"

    def _tab_changed(self, change: dict) -> None:
        self._show_open_tab()

    def _update_pickers(self) -> None:
        """Offer the apps and migrations the session knows, with its picks."""
        session, choices = self.session, self.session.choices
        self._updating = True
        try:
            self.app_picker.options = session.app_labels()
            self.app_picker.value = choices.app_label
            self.target_picker.options = session.targets()
            self.target_picker.value = choices.target if choices.target in session.targets() else "zero"
            migrations = session.migrations() or [""]
            self.sql_picker.options = migrations
            self.sql_picker.value = choices.migration if choices.migration in migrations else migrations[-1]
            # Wide enough for the longest name: a cut name cannot be told from its neighbour.
            self.app_picker.layout.width = fitted_width(self.app_picker.options, 4.5, 12.5)
            self.target_picker.layout.width = fitted_width(self.target_picker.options, 4.5, 16)
            self.sql_picker.layout.width = fitted_width(migrations, 5.2, 16.7)
        finally:
            self._updating = False

    def _show_editor(self) -> None:
        """Show models.py as the session last read it, if it read it since (else keep what the learner typed)."""
        session = self.session
        text = session.editor_text if session.editor_reads != self._editor_reads else None
        self._editor_reads = session.editor_reads
        self.model_editor.display(self.app_label, text, session.models_note)

    def _app_changed(self, change: dict) -> None:
        if self._updating:
            return
        self.driver.send(ev.AppChosen(change["new"]))
        self._update_pickers()
        self._show(lab_screen(self.session))
        self._show_editor()
