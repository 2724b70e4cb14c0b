"""Turn the kit's values into HTML for the MigrationLab panel, falling back when one fails.

Pure functions: each takes values (``State``, ``MigrationGraph``, ``Plan``,
``RollbackPreview``, ``Timeline``, the session's notes) and does no I/O; the
session reads them (``widgets.screens`` gathers them per screen). The views
(``graphs``, ``tables``, ``rollback``) are imported when first used: if one is
missing or raises, the panel shows one plain sentence in its place and a
minimal fallback (a table, the diff as text) and keeps working.
"""

from __future__ import annotations

import html
import importlib
from collections.abc import Callable, Iterable
from typing import Any

from widgets.errors import KitError
from widgets.read.diff import diff
from widgets.read.state import MigrationGraph, Plan, State
from widgets.read.table import concat, is_table, records, table_html, with_column

__all__ = [
    "as_html",
    "changes_html",
    "graph_html",
    "graph_picture",
    "history_html",
    "migrations_html",
    "note_html",
    "question_html",
    "rollback_html",
    "rows_html",
    "schema_html",
    "timeline_html",
]


def as_html(obj: Any) -> str:
    """Return the HTML Jupyter would show for an object: SVG, HTML, a table or its text."""
    if obj is None:
        return ""
    if isinstance(obj, str):
        return obj
    if is_table(obj):
        return table_html(obj)
    # A graph's own HTML: its SVG, or its DOT for the page to draw (the browser edition), never a widget per view.
    if callable(getattr(obj, "picture", None)):
        return obj.picture()
    bundle = obj._repr_mimebundle_() if hasattr(obj, "_repr_mimebundle_") else None
    if isinstance(bundle, tuple):
        bundle = bundle[0]
    if bundle:
        for mime in ("image/svg+xml", "text/html"):
            if bundle.get(mime):
                return bundle[mime]
    if hasattr(obj, "_repr_html_"):
        page = obj._repr_html_()
        if page:
            return page
    if hasattr(obj, "to_html"):
        return obj.to_html()
    return _pre(str(obj))


def _pre(text: str) -> str:
    return f"<pre>{html.escape(text)}</pre>"


def _problem(what: str, error: Exception) -> str:
    """Return one plain sentence for a view that could not be drawn."""
    reason = str(error) if isinstance(error, KitError) else f"{type(error).__name__}: {error}"
    return f'<p class="mk-view-problem">The {what} could not be shown: {html.escape(reason)}</p>'


def _view(module: str, name: str) -> Callable | None:
    """Return a view function from a kit module, or None when it is not there (yet)."""
    try:
        return getattr(importlib.import_module(f"widgets.{module}"), name)
    except (ImportError, AttributeError):
        return None


def _shown(what: str, real: Callable | None, fallback: Callable[[], str], *args, **kwargs) -> str:
    """Render with the real view if there is one; on failure, say so above the fallback."""
    if real is not None:
        try:
            return as_html(real(*args, **kwargs))
        except Exception as error:  # a broken view must not break the panel
            try:
                return _problem(what, error) + fallback()
            except Exception:
                return _problem(what, error)
    try:
        return fallback()
    except Exception as error:
        return _problem(what, error)


def migrations_html(after: State, before: State | None, *, include_contrib: bool = True) -> str:
    """Return the django_migrations table, rows added or removed since ``before`` marked."""
    return _shown(
        "django_migrations table",
        _view("draw.tables", "migrations_table"),
        lambda: _marked_applied(after, before),
        after,
        previous=before,
        include_contrib=include_contrib,
    )


def _marked_applied(after: State, before: State | None) -> str:
    """Fallback: the rows, with a 'change' column saying added or removed."""
    frame = with_column(after.applied, "change", "")
    if before is not None:
        changes = diff(before, after)
        added = {(r["app"], r["name"]) for r in records(changes.migrations_applied)}
        marks = ["added" if (r["app"], r["name"]) in added else "" for r in records(frame)]
        frame = with_column(frame, "change", marks)
        if not changes.migrations_unapplied.empty:
            frame = concat([frame, with_column(changes.migrations_unapplied, "change", "removed")])
    return table_html(frame)


def schema_html(after: State, before: State | None, contrib_tables: Iterable[str] = ()) -> str:
    """Return the schema diagram with the changes since ``before``, Django's own tables left out."""
    return _shown(
        "schema diagram",
        _view("draw.graphs", "draw_schema"),
        lambda: _schema_fallback(after, before),
        after,
        previous=before,
        contrib_tables=contrib_tables,
    )


def _schema_fallback(after: State, before: State | None) -> str:
    return changes_html(after, before) + table_html(after.tables)


def changes_html(after: State, before: State | None) -> str:
    """Return what changed since ``before``, one line per change."""
    if before is None:
        return ""
    return f'<pre class="mk-changes">{html.escape(str(diff(before, after)))}</pre>'


def graph_html(graph: MigrationGraph, app_label: str | None, plan: Plan | None = None) -> str:
    """Return the migration graph with the applied frontier (and a plan's steps, if given)."""
    return _shown(
        "migration graph",
        _view("draw.graphs", "draw_migration_graph"),
        lambda: table_html(graph.nodes),
        graph,
        app_label=app_label,
        plan=plan,
    )


def rows_html(after: State, before: State | None, contrib_tables: Iterable[str] = ()) -> str:
    """Return the row count of every table, changes since ``before`` marked, Django's own tables left out."""
    return _shown(
        "row counts",
        _view("draw.tables", "row_counts_table"),
        lambda: table_html(after.tables),
        after,
        previous=before,
        contrib_tables=contrib_tables,
    )


def rollback_html(preview) -> str:
    """Return the rollback preview: what is dropped, rows lost, irreversible steps, the SQL."""
    return _shown("rollback preview", None, lambda: as_html(preview))


def graph_picture(graph: MigrationGraph, *, plan: Plan | None = None, expand=(), actions: dict[str, str] | None = None):
    """Return the drawing (nodes, legend) and the SVG of the project's own apps for the interactive graph."""
    from widgets.draw.graphs import migration_view

    drawing, dot = migration_view(graph, plan=plan, expand=expand, legend=False)
    return drawing, as_html(dot)


def note_html(note) -> str:
    """Return one sentence for the learner, green when it worked and red when it failed."""
    if note is None:
        return ""
    mark = {"ok": "✔ ", "fail": "✖ "}.get(note.tone, "")
    return f"<p class='mk-{note.tone}'>{mark}{html.escape(note.text, quote=False)}</p>"


def history_html(history) -> str:
    """Return every action taken, in order, with its command line and what came of it."""
    if not history:
        return "<p>No actions yet.</p>"
    items = "".join(
        f"<li><span class='{'mk-ok' if e.ok else 'mk-fail'}'>{'✔' if e.ok else '✖'}</span> "
        f"<code>{html.escape(e.command, quote=False)}</code>"
        f"{' — ' + html.escape(e.message, quote=False) if e.message else ''}</li>"
        for e in history
    )
    return f"<ol class='mk-history-list'>{items}</ol>"


def question_html(question) -> str:
    """Return Django's question, with its complaint when the last answer was refused."""
    if question is None:
        return ""
    text = html.escape(question.text, quote=False)
    note = ""
    if question.refused:
        complaint = html.escape(question.complaint, quote=False)
        note = f"<p class='mk-fail'>Django did not accept that answer: {complaint}</p>"
    return f"{note}<b>Django asks:</b><pre>{text}</pre>"


def timeline_html(timeline, positions: list[int], index: int, database: int, applied: set) -> str:
    """Return the time machine's strip: one box per migration, the one shown outlined, the database marked."""
    cells = []
    for position in positions:
        app, name = timeline.steps[position]
        classes = ["mk-step", "mk-step-applied" if (app, name) in applied else "mk-step-unapplied"]
        if position == index:
            classes.append("mk-step-shown")
        if position == database:
            classes.append("mk-step-database")
        marker = "◆" if position == database else ""
        title = html.escape(f"{app}.{name}")
        cells.append(f"<span class='{' '.join(classes)}' title='{title}'>{marker}</span>")
    return f"<div class='mk-strip'>{''.join(cells)}</div>"


def schema_drawing(after: State, before: State | None):
    """Return the schema diagram of a State with what changed since ``before`` (no sandbox involved)."""
    from widgets.draw.graphs import draw_schema

    return draw_schema(after, previous=before)
