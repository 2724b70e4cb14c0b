"""Show the django_migrations rows, the schema and row counts as tables, changes highlighted.

Each ``*_frame`` function returns a plain DataFrame with a ``change`` column
('applied', 'unapplied', 'added', 'removed', 'changed' or ''); each
``*_table`` function styles it for Jupyter. Timestamps change on every run, so
the styled tables show the order of application instead and hide the real
time, which stays in the frame's ``applied`` column.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from pandas.io.formats.style import Styler

from widgets.draw.palette import TABLE_STYLES, css_variables
from widgets.read.diff import diff
from widgets.read.state import State, django_apps, django_tables

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
) -> pd.DataFrame:
    """Return the django_migrations rows with their order, plus rows unapplied since ``previous``.

    Columns: order (1 = applied first), id, app, name, applied (the real
    timestamp), change ('applied' if new since previous, 'unapplied' if gone).
    Without ``include_contrib``, Django's own apps (``contrib_apps``, or what a
    sandbox's probe reports) are left out.
    """
    rows = _state_of(source).applied.copy()
    rows.insert(0, "order", range(1, len(rows) + 1))
    rows["change"] = ""
    if previous is not None:
        changes = diff(previous, _state_of(source))
        new = set(zip(changes.migrations_applied["app"], changes.migrations_applied["name"], strict=True))
        rows.loc[[(a, n) in new for a, n in zip(rows["app"], rows["name"], strict=True)], "change"] = "applied"
        gone = changes.migrations_unapplied.assign(order=pd.NA, change="unapplied")
        rows = pd.concat([rows, gone[rows.columns]], ignore_index=True) if not gone.empty else rows
    if app_label is not None:
        rows = rows[rows["app"] == app_label]
    if not include_contrib:
        rows = rows[~rows["app"].isin(django_apps(source, contrib_apps))]
    return rows.reset_index(drop=True)


# The colours a highlighted row needs, light and dark: the table brings them, so it reads the same in any cell.
_ROW_STYLE = css_variables(".mk-table", ["text", "applied-row", "added-row", "removed-row", "changed-row"])


class Table(Styler):
    """A styled table whose plain-text form is the visible table, never an object address."""

    def _repr_html_(self) -> str:
        """Return the table's HTML with the theme's row colours, light and dark."""
        return f'<div class="mk-table"><style>{_ROW_STYLE}</style>{super()._repr_html_()}</div>'

    def __repr__(self) -> str:
        shown = self.data.drop(columns=self.data.columns[list(self.hidden_columns)])
        return shown.to_string(index=False)


def _style(frame: pd.DataFrame, uuid: str, hidden: list[str]) -> Styler:
    """Colour each row by its change; a fixed uuid keeps stored notebook outputs identical."""
    styler = Table(frame).apply(lambda row: [TABLE_STYLES.get(row["change"], "")] * len(row), axis=1)
    return styler.hide(axis="index").hide(subset=hidden, axis="columns").set_uuid(uuid)


def migrations_table(
    source,
    *,
    previous: State | None = None,
    app_label: str | None = None,
    include_contrib: bool = True,
    show_time: bool = False,
    contrib_apps: Iterable[str] | None = None,
) -> Styler:
    """Style the django_migrations rows: newly applied green, unapplied red and struck through."""
    frame = migrations_frame(
        source, previous=previous, app_label=app_label, include_contrib=include_contrib, contrib_apps=contrib_apps
    )
    frame["order"] = frame["order"].astype("string").fillna("")
    return _style(frame, "migrations", [] if show_time else ["applied"])


def schema_frame(
    source,
    *,
    previous: State | None = None,
    table: str | None = None,
    include_contrib: bool = False,
    contrib_tables: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Return one row per column with a change column; removed columns come from ``previous``."""
    state = _state_of(source)
    frame = state.schema.copy()
    frame["change"] = ""
    if previous is not None:
        changes = diff(previous, state)
        keys = list(zip(frame["table"], frame["column"], strict=True))
        added = set(zip(changes.columns_added["table"], changes.columns_added["column"], strict=True))
        changed = dict(
            zip(
                zip(changes.columns_changed["table"], changes.columns_changed["column"], strict=True),
                changes.columns_changed["change"],
                strict=True,
            )
        )
        frame["change"] = ["added" if k in added else f"changed: {changed[k]}" if k in changed else "" for k in keys]
        removed = changes.columns_removed.assign(change="removed")
        frame = pd.concat([frame, removed[frame.columns]], ignore_index=True) if not removed.empty else frame
    if table is not None:
        frame = frame[frame["table"] == table]
    elif not include_contrib:
        frame = frame[~frame["table"].isin(django_tables(source, contrib_tables))]
    return frame.sort_values(["table"], kind="stable").reset_index(drop=True)


def schema_table(
    source,
    *,
    previous: State | None = None,
    table: str | None = None,
    include_contrib: bool = False,
    contrib_tables: Iterable[str] | None = None,
) -> Styler:
    """Style the schema: added columns green, removed red and struck through, changed yellow."""
    frame = schema_frame(
        source, previous=previous, table=table, include_contrib=include_contrib, contrib_tables=contrib_tables
    )
    styler = Table(frame).apply(lambda row: [TABLE_STYLES.get(row["change"].split(":")[0], "")] * len(row), axis=1)
    return styler.hide(axis="index").set_uuid(f"schema-{table or 'all'}")


def row_counts_frame(
    source, *, previous: State | None = None, include_contrib: bool = False, contrib_tables: Iterable[str] | None = None
) -> pd.DataFrame:
    """Return every table with its rows now, rows before, and 'added'/'removed'/'changed'."""
    now = _state_of(source).tables
    before = previous.tables if previous is not None else now
    merged = now.merge(before, on="table", how="outer", suffixes=("", "_before"), indicator=True)
    merged["change"] = merged["_merge"].astype(str).map({"left_only": "added", "right_only": "removed", "both": ""})
    differs = (merged["_merge"] == "both") & (merged["rows"] != merged["rows_before"])
    merged.loc[differs, "change"] = "changed"
    frame = merged.rename(columns={"rows_before": "before"})[["table", "rows", "before", "change"]]
    frame = frame.astype({"rows": "Int64", "before": "Int64"}).astype({"change": str})
    if not include_contrib:
        frame = frame[~frame["table"].isin(django_tables(source, contrib_tables))]
    return frame.sort_values("table").reset_index(drop=True)


def row_counts_table(
    source, *, previous: State | None = None, include_contrib: bool = False, contrib_tables: Iterable[str] | None = None
) -> Styler:
    """Style the row counts: new tables green, dropped tables red, changed counts yellow."""
    frame = row_counts_frame(source, previous=previous, include_contrib=include_contrib, contrib_tables=contrib_tables)
    hidden = [] if previous is not None else ["before", "change"]
    return _style(frame, "row-counts", hidden)
