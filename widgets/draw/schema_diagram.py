"""Draw the schema diagram: one box per table with its columns and foreign keys, changes coloured.

The view collects plain data, then writes DOT from it sorted, so the same state
always gives the same text. Every node and edge carries a ``class``
(``table``, ``added``, ``removed``, ``foreign-key``...) that ends up in the SVG.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

from widgets.draw.palette import COLOURS
from widgets.draw.render import KitDigraph
from widgets.read.diff import diff
from widgets.read.state import State, django_tables
from widgets.read.table import TableLike, records, where

__all__ = ["draw_schema"]


@dataclass
class _Column:
    name: str
    type: str
    null: bool
    pk: bool
    status: str = ""  # "", "added", "removed", "changed"
    change: str = ""


def _schema_columns(state: State, previous: State | None) -> dict[str, tuple[str, list[_Column]]]:
    """Return table -> (status, columns), with removed tables and columns kept from previous."""
    changes = diff(previous, state) if previous is not None else None
    table_names = [row["table"] for row in records(state.tables)]
    added_cols = _pairs(changes.columns_added) if changes else set()
    changed = {(r.table, r.column): r.change for r in changes.columns_changed.itertuples()} if changes else {}
    tables: dict[str, tuple[str, list[_Column]]] = {}
    for row in state.schema.itertuples(index=False):
        status = (
            "added"
            if (row.table, row.column) in added_cols
            else "changed"
            if (row.table, row.column) in changed
            else ""
        )
        column = _Column(
            row.column,
            row.type,
            bool(row.null),
            bool(row.primary_key),
            status,
            changed.get((row.table, row.column), ""),
        )
        table_status = "added" if changes and row.table in changes.tables_added else ""
        tables.setdefault(row.table, (table_status, []))[1].append(column)
    if changes is not None:
        for row in changes.columns_removed.itertuples(index=False):
            table_status = "removed" if row.table in changes.tables_removed else ""
            column = _Column(row.column, row.type, bool(row.null), bool(row.primary_key), "removed")
            tables.setdefault(row.table, (table_status, []))[1].append(column)
    for table in table_names:
        tables.setdefault(table, ("", []))
    return dict(sorted(tables.items()))


def _pairs(frame: TableLike) -> set[tuple[str, str]]:
    return {(row["table"], row["column"]) for row in records(frame)}


def _cell(text: str, status: str, **attrs: str) -> str:
    shown = html.escape(text) or " "
    if status == "removed" and text:
        shown = f"<S>{shown}</S>"
    extra = "".join(f' {k.upper()}="{v}"' for k, v in attrs.items())
    fill = f' BGCOLOR="{COLOURS[status][0]}"' if status else ""
    return f'<TD ALIGN="LEFT"{fill}{extra}>{shown}</TD>'


def _table_label(table: str, status: str, columns: list[_Column]) -> str:
    """Return an HTML-like label: the table name, then one row per column (name, type, null, pk)."""
    header_fill = COLOURS[status][0] if status else "#e0e0e0"
    name = f"<S>{html.escape(table)}</S>" if status == "removed" else html.escape(table)
    rows = [f'<TR><TD COLSPAN="4" BGCOLOR="{header_fill}"><B>{name}</B></TD></TR>']
    for c in columns:
        shown = c.status or status
        rows.append(
            "<TR>"
            + _cell(c.name, shown, PORT=c.name)
            + _cell(c.type, shown)
            + _cell("NULL" if c.null else "", shown)
            + _cell("PK" if c.pk else "", shown, PORT=f"{c.name}__out")
            + "</TR>"
        )
    return f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">{"".join(rows)}</TABLE>>'


def _foreign_keys(state: State, previous: State | None) -> list[tuple[str, str, str, str, str]]:
    """Return (table, column, references_table, references_column, status) for every foreign key."""

    def keys(schema: TableLike) -> set[tuple[str, str, str, str]]:
        return {
            (r["table"], r["column"], r["references_table"], r["references_column"])
            for r in records(schema)
            if r["references_table"] is not None
        }

    now = keys(state.schema)
    before = keys(previous.schema) if previous is not None else now
    rows = [(*k, "added" if k not in before else "") for k in now]
    rows += [(*k, "removed") for k in before - now]
    return sorted(rows)


def draw_schema(
    sandbox_or_state,
    *,
    previous: State | None = None,
    include_contrib: bool = False,
    tables: list[str] | None = None,
    contrib_tables: Iterable[str] | None = None,
) -> KitDigraph:
    """Draw one box per table with its columns and foreign keys; with ``previous``, colour what changed.

    Added tables and columns are green, removed ones red and struck through,
    changed ones yellow. Django's own tables (``contrib_tables``, or what a
    sandbox's probe reports) are hidden unless ``include_contrib``; a hidden
    table that a foreign key points to is drawn as a small grey box.
    ``tables`` limits the drawing to the tables named.
    """
    state = sandbox_or_state if isinstance(sandbox_or_state, State) else sandbox_or_state.state()
    hidden = set() if include_contrib else django_tables(sandbox_or_state, contrib_tables)
    all_tables = _schema_columns(state, previous)
    wanted = [t for t in all_tables if t not in hidden and (tables is None or t in tables)]
    dot = KitDigraph("schema")
    dot.attr(rankdir="LR", fontname="Helvetica", fontsize="12", labelloc="t", label=_schema_title(previous, wanted))
    # No size cap: the notebook fits the picture to the cell's width, never below readable text (render.py).
    dot.attr("node", shape="plaintext", fontname="Helvetica", fontsize="10")
    for table in wanted:
        status, columns = all_tables[table]
        classes = " ".join(["table", *filter(None, [status])])
        dot.node(table, label=_table_label(table, status, columns), **{"class": classes, "tooltip": table})
    outside = set()
    for table, column, ref_table, ref_column, status in _foreign_keys(state, previous):
        if table not in wanted:
            continue
        if ref_table not in wanted:
            outside.add(ref_table)
        colour = COLOURS[status][1] if status else "#616161"
        attrs = {"class": " ".join(["foreign-key", *filter(None, [status])]), "color": colour}
        if status == "removed":
            attrs["style"] = "dashed"
        # Leave from the right edge of the column's row, arrive at the left of the referenced column.
        head = f"{ref_table}:{ref_column}:w" if ref_table in wanted else f"{ref_table}:w"
        tip = f"{table}.{column} -> {ref_table}.{ref_column}"
        dot.edge(f"{table}:{column}__out:e", head, tooltip=tip, **attrs)
    for table in sorted(outside):
        fill, border = COLOURS["external"]
        dot.node(
            table,
            label=table,
            shape="box",
            style="rounded,filled,dashed",
            fillcolor=fill,
            color=border,
            **{"class": "table external"},
        )
    dot.fallback_table = where(state.schema, lambda row: row["table"] in wanted)
    return dot


def _schema_title(previous: State | None, tables: list[str]) -> str:
    title = f"Schema: {len(tables)} table{'s' if len(tables) != 1 else ''}"
    return title + (" (green added, red removed, yellow changed)" if previous is not None else "")
