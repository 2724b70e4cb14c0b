"""Row values, read-only, and what changed between two readings of them: the view data migrations need.

``rows(db, table)`` reads a table's rows keyed by its primary key;
``rows_diff(before, after)`` compares two readings of every table cell by
cell; ``rows_table(...)`` shows one table with changed values highlighted.
Counts are not enough for a data migration: a reverse function that empties a
column keeps every row and loses every value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from widgets.draw.palette import TABLE_STYLES
from widgets.draw.tables import ROW_CSS
from widgets.errors import KitError
from widgets.read.diff import renamed_columns
from widgets.read.state import Plan, read_only
from widgets.read.table import StyledTable, TableLike, is_missing, make_table, records

__all__ = ["ROW_DIFF_COLUMNS", "TableRows", "read_rows", "rows_diff", "rows_frame", "rows_table"]

ROW_DIFF_COLUMNS = ["table", "key", "column", "before", "after", "change"]
# A rehearsal or a view reads at most this many rows of one table: enough for a lesson, safe for a real project.
MAX_ROWS = 20_000


@dataclass(frozen=True)
class TableRows:
    """The rows of one table at one moment, keyed by primary key (or by rowid when it has none)."""

    table: str
    key: str
    columns: list[str]
    rows: dict = field(default_factory=dict)  # key value -> {column: value}
    truncated: bool = False

    def frame(self) -> TableLike:
        """Return the rows as a table (a DataFrame with pandas) in key order."""
        return make_table([self.rows[k] for k in sorted(self.rows, key=_sortable)], self.columns)


def _sortable(value) -> tuple:
    return (type(value).__name__, value)


def read_rows(db_path: Path, tables: list[str] | None = None) -> dict[str, TableRows]:
    """Read every row of the tables named (default: all), keyed by primary key; read-only."""
    found: dict[str, TableRows] = {}
    with read_only(Path(db_path)) as db:
        if db is None:
            return found
        names = db.table_names()
        for table in tables if tables is not None else names:
            if table in names:
                found[table] = _table_rows(db, table)
    return found


def _table_rows(db, table: str) -> TableRows:
    quoted = table.replace('"', '""')
    info = db.execute(f'PRAGMA table_info("{quoted}")').fetchall()
    columns = [row[1] for row in info]
    primary = [row[1] for row in info if row[5]]
    key = primary[0] if len(primary) == 1 else "rowid"
    selected = ", ".join(f'"{c.replace(chr(34), chr(34) * 2)}"' for c in columns)
    key_sql = "rowid" if key == "rowid" else f'"{key.replace(chr(34), chr(34) * 2)}"'
    cursor = db.execute(f'SELECT {key_sql}, {selected} FROM "{quoted}" ORDER BY {key_sql} LIMIT {MAX_ROWS + 1}')
    fetched = cursor.fetchall()
    rows = {values[0]: dict(zip(columns, values[1:], strict=True)) for values in fetched[:MAX_ROWS]}
    return TableRows(table, key, columns, rows, truncated=len(fetched) > MAX_ROWS)


def rows_diff(before: dict[str, TableRows], after: dict[str, TableRows]) -> TableLike:
    """Return one line per value that changed, appeared or disappeared between two readings.

    ``change`` is 'changed', 'emptied' (a value became NULL), 'filled' (NULL
    became a value), 'removed' (the row, or the column, is gone) or 'added'.
    A table that disappeared counts as every row removed.
    """
    lines = []
    for table in sorted(before.keys() | after.keys()):
        old, new = before.get(table), after.get(table)
        lines.extend(_table_changes(table, old, new))
    return make_table(lines, ROW_DIFF_COLUMNS)


def _table_changes(table: str, old: TableRows | None, new: TableRows | None) -> list[dict]:
    if old is None or new is None:
        present, change = (new, "added") if old is None else (old, "removed")
        return [_line(table, key, None, None, None, change) for key in sorted(present.rows, key=_sortable)]
    lines = []
    for key in sorted(old.rows.keys() | new.rows.keys(), key=_sortable):
        was, now = old.rows.get(key), new.rows.get(key)
        if was is None or now is None:
            lines.append(_line(table, key, None, None, None, "added" if was is None else "removed"))
            continue
        for column in [c for c in old.columns if c in was]:
            value = now.get(column, _GONE)
            if value is _GONE:
                if was[column] is not None:
                    lines.append(_line(table, key, column, was[column], None, "removed"))
            elif value != was[column]:
                lines.append(_line(table, key, column, was[column], value, _kind(was[column], value)))
        for column in [c for c in new.columns if c not in old.columns and now.get(c) is not None]:
            lines.append(_line(table, key, column, None, now[column], "added"))
    return lines


_GONE = object()


def _kind(before, after) -> str:
    # An empty string is how a CharField says "nothing" (Django stores '' rather than NULL for text).
    if after is None or after == "":
        return "emptied"
    if before is None or before == "":
        return "filled"
    return "changed"


def _line(table, key, column, before, after, change) -> dict:
    return {"table": table, "key": key, "column": column, "before": before, "after": after, "change": change}


def rows_frame(sandbox_or_db, table: str) -> TableLike:
    """Return a table's rows in key order; read-only."""
    db_path = sandbox_or_db.db_path if hasattr(sandbox_or_db, "db_path") else Path(sandbox_or_db)
    found = read_rows(db_path, [table])
    if table not in found:
        raise KitError(f"There is no table called '{table}'. Fix: check the name in sandbox.tables().")
    return found[table].frame()


def rows_table(
    sandbox_or_db, table: str, *, previous: TableLike | None = None, plan: Plan | None = None
) -> StyledTable:
    """Show a table's rows; with ``previous`` (an earlier rows_frame), highlight the values that changed.

    With ``plan`` too (the plan that ran since ``previous``), a column the
    migrations renamed is compared with its old name, and the caption says
    how many values it kept; a column dropped, not renamed, says what it lost.
    """
    now = rows_frame(sandbox_or_db, table)
    if previous is None or previous.empty or now.empty:
        return StyledTable(now, caption=f"{table}: {len(now)} row(s)", css=ROW_CSS)
    columns, key = list(now.columns), now.columns[0]
    rows = records(now)
    earlier = {row[key]: row for row in records(previous)} if key in previous.columns else None
    # New column name -> the name it had in ``previous``.
    was_named = {new: old for t, old, new in renamed_columns(plan) if t == table} if plan is not None else {}

    def before(row: dict, name: str):
        """Return the value this cell had in ``previous`` (under its old name), or _GONE."""
        old = earlier.get(row[key]) if earlier is not None else None
        if old is None:
            return _GONE
        return old.get(was_named.get(name, name), _GONE)

    def differs(row: dict, name: str) -> bool:
        return (was := before(row, name)) is not _GONE and not _same(was, row[name])

    def colour(row: dict) -> list[str]:
        if earlier is None or row[key] not in earlier:
            return [TABLE_STYLES["added"]] * len(columns)
        return [TABLE_STYLES["changed"] if differs(row, name) else "" for name in columns]

    changed = sum(
        1
        for r in rows
        if earlier is not None and (r[key] not in earlier or any(differs(r, c) for c in columns if c != key))
    )
    caption = f"{table}: {len(now)} row(s), {changed} changed or new"
    if earlier is not None:
        caption += _renames_caption(rows, columns, list(previous.columns), earlier, key, was_named, plan is not None)
    return StyledTable(now, styles=[colour(row) for row in rows], caption=caption, css=ROW_CSS)


def _renames_caption(
    rows: list[dict], columns: list[str], before: list[str], earlier: dict, key: str, was_named: dict, known: bool
) -> str:
    """Say, per renamed column, how many values it kept; per dropped column, how many it lost."""
    parts = []
    for new, old in sorted(was_named.items()):
        if old in before and new in columns:
            kept = sum(r[key] in earlier and _same(earlier[r[key]][old], r[new]) for r in rows)
            parts.append(f"{old} renamed to {new}, {kept} value(s) kept")
    if known:
        dropped = [c for c in before if c not in columns and c not in was_named.values()]
        lost = {c: sum(not is_missing(row[c]) for row in earlier.values()) for c in dropped}
        parts += [f"{c} dropped, not renamed, {lost[c]} value(s) lost" for c in dropped]
    return "".join(f"; {part}" for part in parts)


def _same(a, b) -> bool:
    return (is_missing(a) and is_missing(b)) if (is_missing(a) or is_missing(b)) else a == b
