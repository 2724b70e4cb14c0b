"""The MigrationLab panel's small widgets: each displays part of a session and forwards clicks, nothing more.

``QuestionBox`` shows Django's question, ``RollbackBox`` a rollback waiting
for confirmation, ``ModelEditor`` an app's models.py, ``TimeMachine`` the
schema after any migration. None of them runs a command or decides anything:
the panel hands their clicks to the session.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import anywidget
import ipywidgets as ipw
import traitlets

from widgets.lab import panel_views as views
from widgets.lab.graph_widget import GraphView
from widgets.lab.picker_width import fitted_width
from widgets.lab.screens import TimeScreen
from widgets.lab.session import Note, PendingRollback, Question

__all__ = ["FocusMover", "LiveStatus", "ModelEditor", "QuestionBox", "RollbackBox", "TimeMachine", "button", "show"]

# The compare picker's value for "the step before the one shown".
PREVIOUS = -2

TOOLTIPS = {
    "makemigrations": "Write new migrations for the changes in models.py",
    "migrate": "Apply or unapply migrations up to the chosen target",
    "showmigrations": "List the app's migrations, [X] when applied",
    "sqlmigrate": "Show the SQL of the chosen migration",
    "reset": "Put the sandbox back to where it started",
    "snapshot": "Save the files and database as a checkpoint",
    "restore": "Go back to the checkpoint",
    "undo": "Take back the last action that changed the sandbox",
}


def button(key: str, description: str | None = None, style: str = "") -> ipw.Button:
    """Return a button with the class mk-KEY (browser tests find it by that)."""
    made = ipw.Button(description=description or key, tooltip=TOOLTIPS.get(key, ""), button_style=style)
    made.add_class(f"mk-{key}")
    made.layout.width = "auto"
    return made


def show(widget: ipw.Widget, visible: bool) -> None:
    """Show or hide a widget without removing it from the layout's children."""
    # "" rather than None: JupyterLite's Pyodide kernel never sends a None to the page, so the widget stayed hidden.
    widget.layout.display = "" if visible else "none"


class LiveStatus(anywidget.AnyWidget):
    """The panel's status line: HTML in a region screen readers announce when it changes (aria-live)."""

    _esm = """
    function render({ model, el }) {
      const live = document.createElement("div");
      live.className = "mk-status-text";
      const show = () => {
        live.setAttribute("role", "status");
        live.setAttribute("aria-live", model.get("live"));
        live.innerHTML = model.get("value");
      };
      show();
      model.on("change", show);
      el.append(live);
    }
    export default { render };
    """

    value = traitlets.Unicode("").tag(sync=True)
    live = traitlets.Unicode("polite").tag(sync=True)

    def __repr__(self) -> str:
        # anywidget's repr is the object's address, which changes on every run.
        return f"LiveStatus({self.value!r})"


class FocusMover(anywidget.AnyWidget):
    """Move the keyboard focus to a control of the box it sits in, each time ``move()`` is called.

    ipywidgets' Button ignores ``focus()`` in the browser, and a button may
    still be disabled while the action that showed it finishes: the front end
    waits (up to 3 s) until the control is visible and enabled.
    """

    _esm = """
    function render({ model, el }) {
      const move = () => {
        let tries = 0;
        const attempt = () => {
          const scope = el.closest(model.get("scope")) || document;
          const target = scope.querySelector(model.get("target"));
          if (target && target.offsetParent !== null && !target.disabled) {
            target.focus();
            return;
          }
          if (++tries < 60) setTimeout(attempt, 50);
        };
        attempt();
      };
      model.on("change:requests", move);
    }
    export default { render };
    """

    scope = traitlets.Unicode("body").tag(sync=True)
    target = traitlets.Unicode("").tag(sync=True)
    requests = traitlets.Int(0).tag(sync=True)

    def move(self) -> None:
        """Ask the front end to focus the target now."""
        self.requests += 1

    def __repr__(self) -> str:
        return f"FocusMover({self.target!r})"


class QuestionBox(ipw.VBox):
    """Django's pending question: its text, the choices, a typed default when one is needed."""

    def __init__(self) -> None:
        self.text = ipw.HTML()
        self.choice = ipw.RadioButtons(options=[], tooltip="your answer to Django", layout={"width": "auto"})
        self.default_text = ipw.Text(
            placeholder="default, as Python: 0, '' or timezone.now",
            tooltip="the default Django should write into existing rows, as Python",
            layout={"width": "95%"},
        )
        self.answer_button = button("answer", "answer and rerun makemigrations", "warning")
        super().__init__([self.text, self.choice, self.default_text, self.answer_button])
        self.add_class("mk-question")
        show(self, False)

    def display(self, question: Question | None) -> None:
        """Show the question, or hide the box when Django asks none."""
        if question is None:
            show(self, False)
            return
        self.text.value = views.question_html(question)
        self.choice.options = question.choices
        self.choice.value = question.choices[0][1] if question.choices else None
        show(self.default_text, question.needs_default)
        show(self, True)


class RollbackBox(ipw.VBox):
    """A rollback waiting for confirmation: what it drops, then confirm or cancel."""

    def __init__(self) -> None:
        self.preview = ipw.HTML()
        self.preview.add_class("mk-preview")
        self.confirm_button = button("confirm", "confirm rollback", "danger")
        self.cancel_button = button("cancel", "cancel")
        self.focus_mover = FocusMover(scope=".mk-confirm-box", target=".mk-confirm")
        self.focus_mover.layout.height = "0px"
        super().__init__([self.preview, ipw.HBox([self.confirm_button, self.cancel_button]), self.focus_mover])
        self.add_class("mk-confirm-box")
        self._shown: PendingRollback | None = None
        show(self, False)

    def display(self, pending: PendingRollback | None) -> None:
        """Show the pending rollback's preview, or hide the box when none waits; a new preview takes the focus."""
        if pending is None:
            self._shown = None
            show(self, False)
            return
        command = html.escape(pending.command, quote=False)
        # The preview scrolls when long: a region keyboard users can reach and scroll too (tabindex).
        self.preview.value = (
            '<div class="mk-preview-body" tabindex="0" role="region" aria-label="rollback preview">'
            f"<p><b>{command}</b> would unapply migrations. Read what it drops, then confirm or cancel.</p>"
            + views.rollback_html(pending.preview)
            + "</div>"
        )
        show(self, True)
        if pending is not self._shown:
            # Keyboard and screen-reader users land on the decision, not on the page's body ten Tabs away.
            self._shown = pending
            self.focus_mover.move()


class ModelEditor(ipw.VBox):
    """An app's models.py to edit, save (then makemigrations) and revert, with Django's verdict under it."""

    def __init__(self) -> None:
        self.title = ipw.HTML()
        self.editor = ipw.Textarea(tooltip="models.py: edit, then save", layout={"width": "auto", "height": "20em"})
        self.editor.add_class("mk-editor")
        self.save_button = button("save", "save and makemigrations", "success")
        self.revert_button = button("revert", "revert to last good version")
        self.message = ipw.HTML()
        self.message.add_class("mk-editor-message")
        super().__init__([self.title, self.editor, ipw.HBox([self.save_button, self.revert_button]), self.message])

    def display(self, app_label: str, text: str | None, note: Note | None) -> None:
        """Show the file's text (None keeps what the learner typed) and Django's last verdict on it."""
        self.title.value = f"<b>{html.escape(app_label)}/models.py</b>"
        if text is not None:
            self.editor.value = text
        self.message.value = views.note_html(note)


class TimeMachine(ipw.VBox):
    """A slider over the migrations: the schema Django's state holds after the one chosen, and what it changed."""

    def __init__(self, screen: Callable[[str | None, int | None, int | None], TimeScreen]) -> None:
        self._screen = screen
        self._current: TimeScreen | None = None
        self._updating = False
        self._loaded = False
        self.scope = ipw.Dropdown(description="migrations of", style={"description_width": "7em"})
        self.scope.layout.width = "17em"
        self.slider = ipw.SelectionSlider(options=[("", 0)], description="as of", continuous_update=False)
        self.slider.layout.width = "98%"
        self.slider.style.description_width = "3em"
        self.slider.add_class("mk-time-slider")
        self.compare = ipw.Dropdown(description="compare with", style={"description_width": "7em"})
        self.compare.layout.width = "24em"
        self.to_database = button("to-database", "◆ where the database is")
        self.migrate_here = button("migrate-here", "migrate here", "primary")
        self.headline = ipw.HTML()
        self.headline.add_class("mk-time-headline")
        self.strip = ipw.HTML()
        self.changes = ipw.HTML()
        self.changes.add_class("mk-time-changes")
        self.schema = GraphView(height="400px", placeholder="find a table by name")
        self.schema.add_class("mk-time-schema")
        controls = ipw.HBox([self.scope, self.compare, self.to_database, self.migrate_here])
        controls.layout.flex_flow = "row wrap"
        super().__init__([controls, self.slider, self.strip, self.headline, self.changes, self.schema])
        self.add_class("mk-time-machine")
        self.scope.observe(self._scope_changed, names="value")
        self.slider.observe(self._moved, names="value")
        self.compare.observe(self._moved, names="value")
        self.to_database.on_click(self._go_to_database)

    @property
    def screen(self) -> TimeScreen | None:
        """Return the values shown now."""
        return self._current

    def load(self, apps: list[str], scope: str | None = None) -> None:
        """Read the timeline again (the session caches it) and show where the database is."""
        self._updating = True
        try:
            options = [("every app, in plan order", "")] + [(app, app) for app in apps]
            self.scope.options = options
            self.scope.layout.width = fitted_width(options, 7, 17)
            if self.scope.value not in apps and self.scope.value != "":
                self.scope.value = scope if scope in apps else ""
            elif not self._loaded and scope in apps:
                self.scope.value = scope
            self._loaded = True
        finally:
            self._updating = False
        self.move(None)

    def move(self, index: int | None, compare: int | None = None) -> None:
        """Show the schema after step ``index`` (None: where the database is), compared with ``compare``."""
        screen = self._screen(self.scope.value or None, index, compare)
        self._current = screen
        self._updating = True
        try:
            labels = [(screen.label(p), p) for p in screen.positions] or [("no migrations", -1)]
            self.slider.options = labels
            self.slider.value = screen.index if screen.positions else -1
            self.compare.options = [("the step before", PREVIOUS), (screen.label(-1), -1)] + labels
            self.compare.layout.width = fitted_width(self.compare.options, 7, 24)
            self.compare.value = compare if compare in [v for _l, v in labels] + [-1] else PREVIOUS
        finally:
            self._updating = False
        self._draw(screen)

    def _draw(self, screen: TimeScreen) -> None:
        # The schema first: the headline, written last, then means the whole view is up to date.
        self.schema.svg = views.as_html(views.schema_drawing(screen.shown, screen.before))
        applied = screen.applied
        self.strip.value = views.timeline_html(
            screen.timeline, screen.positions, screen.index, screen.database, applied
        )
        here = screen.label(screen.index)
        state = "applied" if screen.index >= 0 and screen.timeline.steps[screen.index] in applied else "not applied"
        self.headline.value = (
            f"<p><b>{html.escape(here)}</b> ({state}) · compared with {html.escape(screen.label(screen.compare))} · "
            f"<span class='mk-database'>◆ {html.escape(screen.where_database())}</span></p>"
        )
        self.changes.value = f'<pre class="mk-changes">{html.escape(str(screen.changes), quote=False)}</pre>'
        travel = screen.index >= 0 and screen.index != screen.database
        if travel:
            app, name = screen.timeline.steps[screen.index]
            # Say exactly what runs: across apps, only this step's app moves (with what depends on it).
            self.migrate_here.description = f"migrate {app} to {name}"
        show(self.migrate_here, travel)

    def _scope_changed(self, _change) -> None:
        if not self._updating:
            self.move(None)

    def _moved(self, _change) -> None:
        if not self._updating:
            self.move(self.slider.value, None if self.compare.value == PREVIOUS else self.compare.value)

    def _go_to_database(self, _button=None) -> None:
        self.move(None)
