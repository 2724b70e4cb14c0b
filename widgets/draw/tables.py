"""Show the django_migrations rows, the schema and row counts as tables, changes highlighted.

Each ``*_frame`` function returns a plain table (a DataFrame with pandas) with a ``change`` column
('applied', 'unapplied', 'added', 'removed', 'changed' or ''); each
``*_table`` function styles it for Jupyter. Timestamps change on every run, so
the styled tables show the order of application instead and hide the real
time, which stays in the frame's ``applied`` column.
"""

from __future__ import annotations

from collections.abc import Iterable

from widgets.draw.palette import TABLE_STYLES, css_variables
from widgets.read.diff import diff
from widgets.read.state import State, django_apps, django_tables
from widgets.read.table import (
    StyledTable,
    TableLike,
    column,
    concat,
    make_table,
    records,
    sort_by,
    where,
    with_column,
)

__all__ = [
    "migrations_frame",
    "migrations_table",
    "row_counts_frame",
    "row_counts_table",
    "schema_frame",
    "schema_table",
]


def _state_of(source) -> State:
    return source if isinstance(source, State) else source.state()


def migrations_frame(
    source,
    *,
    previous: State | None = None,
    app_label: str | None = None,
    include_contrib: bool = True,
    contrib_apps: Iterable[str] | None = None,
) -> TableLike:
    """Return the django_migrations rows with their order, plus rows unapplied since ``previous``.

    Columns: order (1 = applied first), id, app, name, applied (the real
    timestamp), change ('applied' if new since previous, 'unapplied' if gone).
    Without ``include_contrib``, Django's own apps (``contrib_apps``, or what a
    sandbox's probe reports) are left out.
    """
    applied = _state_of(source).applied
    rows = with_column(applied, "order", list(range(1, len(applied) + 1)), at=0, dtype="int")
    change = [""] * len(rows)
    if previous is not None:
        changes = diff(previous, _state_of(source))
        new = {(r["app"], r["name"]) for r in records(changes.migrations_applied)}
        change = ["applied" if (r["app"], r["name"]) in new else "" for r in records(rows)]
    rows = with_column(rows, "change", change)
    if previous is not None and not changes.migrations_unapplied.empty:
        gone = with_column(with_column(changes.migrations_unapplied, "order", None), "change", "unapplied")
        rows = concat([rows, gone])
    if app_label is not None:
        rows = where(rows, lambda row: row["app"] == app_label)
    if not include_contrib:
        theirs = django_apps(source, contrib_apps)
        rows = where(rows, lambda row: row["app"] not in theirs)
    return rows


# The colours a highlighted row needs, light and dark: the table brings them, so it reads the same in any cell.
ROW_CSS = css_variables(".mk-table", ["text", "applied-row", "added-row", "removed-row", "changed-row"])


def _style(frame: TableLike, kinds: list[str], hidden: list[str]) -> StyledTable:
    """Colour each row by its change ('changed: ...' counts as changed)."""
    width = len(frame.columns)
    styles = [[TABLE_STYLES.get(kind.split(":")[0], "")] * width for kind in kinds]
    return StyledTable(frame, styles=styles, hidden=hidden, css=ROW_CSS)


def migrations_table(
    source,
    *,
    previous: State | None = None,
    app_label: str | None = None,
    include_contrib: bool = True,
    show_time: bool = False,
    contrib_apps: Iterable[str] | None = None,
) -> StyledTable:
    """Style the django_migrations rows: newly applied green, unapplied red and struck through."""
    frame = migrations_frame(
        source, previous=previous, app_label=app_label, include_contrib=include_contrib, contrib_apps=contrib_apps
    )
    order = ["" if n is None else str(n) for n in column(frame, "order")]
    return _style(
        with_column(frame, "order", order, dtype="string"), column(frame, "change"), [] if show_time else ["applied"]
    )


def schema_frame(
    source,
    *,
    previous: State | None = None,
    table: str | None = None,
    include_contrib: bool = False,
    contrib_tables: Iterable[str] | None = None,
) -> TableLike:
    """Return one row per column with a change column; removed columns come from ``previous``."""
    state = _state_of(source)
    frame = with_column(state.schema, "change", "")
    if previous is not None:
        changes = diff(previous, state)
        added = {(r["table"], r["column"]) for r in records(changes.columns_added)}
        changed = {(r["table"], r["column"]): r["change"] for r in records(changes.columns_changed)}
        keys = [(r["table"], r["column"]) for r in records(frame)]
        frame = with_column(
            frame, "change", ["added" if k in added else f"changed: {changed[k]}" if k in changed else "" for k in keys]
        )
        if not changes.columns_removed.empty:
            frame = concat([frame, with_column(changes.columns_removed, "change", "removed")])
    if table is not None:
        frame = where(frame, lambda row: row["table"] == table)
    elif not include_contrib:
        theirs = django_tables(source, contrib_tables)
        frame = where(frame, lambda row: row["table"] not in theirs)
    return sort_by(frame, "table")


def schema_table(
    source,
    *,
    previous: State | None = None,
    table: str | None = None,
    include_contrib: bool = False,
    contrib_tables: Iterable[str] | None = None,
) -> StyledTable:
    """Style the schema: added columns green, removed red and struck through, changed yellow."""
    frame = schema_frame(
        source, previous=previous, table=table, include_contrib=include_contrib, contrib_tables=contrib_tables
    )
    return _style(frame, column(frame, "change"), [])


def row_counts_frame(
    source, *, previous: State | None = None, include_contrib: bool = False, contrib_tables: Iterable[str] | None = None
) -> TableLike:
    """Return every table with its rows now, rows before, and 'added'/'removed'/'changed'."""
    now = {r["table"]: r["rows"] for r in records(_state_of(source).tables)}
    before = {r["table"]: r["rows"] for r in records(previous.tables)} if previous is not None else now
    rows = []
    for name in sorted(now.keys() | before.keys()):
        rows_now, rows_before = now.get(name), before.get(name)
        change = "added" if name not in before else "removed" if name not in now else ""
        change = "changed" if not change and rows_now != rows_before else change
        rows.append((name, rows_now, rows_before, change))
    theirs = set() if include_contrib else django_tables(source, contrib_tables)
    rows = [row for row in rows if row[0] not in theirs]
    return make_table(rows, ["table", "rows", "before", "change"], dtypes={"rows": "Int64", "before": "Int64"})


def row_counts_table(
    source, *, previous: State | None = None, include_contrib: bool = False, contrib_tables: Iterable[str] | None = None
) -> StyledTable:
    """Style the row counts: new tables green, dropped tables red, changed counts yellow."""
    frame = row_counts_frame(source, previous=previous, include_contrib=include_contrib, contrib_tables=contrib_tables)
    hidden = [] if previous is not None else ["before", "change"]
    return _style(frame, column(frame, "change"), hidden)
