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

import pandas as pd
from pandas.io.formats.style import Styler

from widgets.draw.palette import TABLE_STYLES
from widgets.draw.tables import Table
from widgets.errors import KitError
from widgets.read.diff import renamed_columns
from widgets.read.state import Plan, _read_only, _table_names

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

    def frame(self) -> pd.DataFrame:
        """Return the rows as a DataFrame in key order."""
        records = [self.rows[k] for k in sorted(self.rows, key=_sortable)]
        return pd.DataFrame(records, columns=self.columns)


def _sortable(value) -> tuple:
    return (type(value).__name__, value)


def read_rows(db_path: Path, tables: list[str] | None = None) -> dict[str, TableRows]:
    """Read every row of the tables named (default: all), keyed by primary key; read-only."""
    found: dict[str, TableRows] = {}
    with _read_only(Path(db_path)) as db:
        if db is None:
            return found
        names = _table_names(db)
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


def rows_diff(before: dict[str, TableRows], after: dict[str, TableRows]) -> pd.DataFrame:
    """Return one line per value that changed, appeared or disappeared between two readings.

    ``change`` is 'changed', 'emptied' (a value became NULL), 'filled' (NULL
    became a value), 'removed' (the row, or the column, is gone) or 'added'.
    A table that disappeared counts as every row removed.
    """
    lines = []
    for table in sorted(before.keys() | after.keys()):
        old, new = before.get(table), after.get(table)
        lines.extend(_table_changes(table, old, new))
    return pd.DataFrame(lines, columns=ROW_DIFF_COLUMNS)


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


def rows_frame(sandbox_or_db, table: str) -> pd.DataFrame:
    """Return a table's rows in key order; read-only."""
    db_path = sandbox_or_db.db_path if hasattr(sandbox_or_db, "db_path") else Path(sandbox_or_db)
    found = read_rows(db_path, [table])
    if table not in found:
        raise KitError(f"There is no table called '{table}'. Fix: check the name in sandbox.tables().")
    return found[table].frame()


def rows_table(sandbox_or_db, table: str, *, previous: pd.DataFrame | None = None, plan: Plan | None = None) -> Styler:
    """Show a table's rows; with ``previous`` (an earlier rows_frame), highlight the values that changed.

    With ``plan`` too (the plan that ran since ``previous``), a column the
    migrations renamed is compared with its old name, and the caption says
    how many values it kept; a column dropped, not renamed, says what it lost.
    """
    now = rows_frame(sandbox_or_db, table)
    # Table: its plain text is the rows, and a fixed uuid keeps stored notebook outputs identical.
    styler = Table(now).hide(axis="index").set_uuid(f"rows-{table}")
    if previous is None or previous.empty or now.empty:
        return styler.set_caption(f"{table}: {len(now)} row(s)")
    key = now.columns[0]
    earlier = previous.set_index(key) if key in previous.columns else None
    # New column name -> the name it had in ``previous``.
    was_named = {new: old for t, old, new in renamed_columns(plan) if t == table} if plan is not None else {}

    def before(row: pd.Series, column: str):
        """Return the value this cell had in ``previous`` (under its old name), or _GONE."""
        if earlier is None or row[key] not in earlier.index:
            return _GONE
        old = earlier.loc[row[key]]
        name = was_named.get(column, column)
        return old[name] if name in old.index else _GONE

    def colour(row: pd.Series) -> list[str]:
        if earlier is None or row[key] not in earlier.index:
            return [TABLE_STYLES["added"]] * len(row)
        return [
            TABLE_STYLES["changed"] if (was := before(row, c)) is not _GONE and not _same(was, row[c]) else ""
            for c in row.index
        ]

    changed = sum(
        1
        for _, r in now.iterrows()
        if earlier is not None
        and (
            r[key] not in earlier.index
            or any((was := before(r, c)) is not _GONE and not _same(was, r[c]) for c in now.columns if c != key)
        )
    )
    caption = f"{table}: {len(now)} row(s), {changed} changed or new"
    if earlier is not None:
        caption += _renames_caption(now, earlier, key, was_named, plan is not None)
    return styler.apply(colour, axis=1).set_caption(caption)


def _renames_caption(now: pd.DataFrame, earlier: pd.DataFrame, key: str, was_named: dict, known: bool) -> str:
    """Say, per renamed column, how many values it kept; per dropped column, how many it lost."""
    parts = []
    for new, old in sorted(was_named.items()):
        if old in earlier.columns and new in now.columns:
            kept = sum(r[key] in earlier.index and _same(earlier.loc[r[key]][old], r[new]) for _, r in now.iterrows())
            parts.append(f"{old} renamed to {new}, {kept} value(s) kept")
    if known:
        dropped = [c for c in earlier.columns if c not in now.columns and c not in was_named.values()]
        parts += [f"{c} dropped, not renamed, {int(earlier[c].notna().sum())} value(s) lost" for c in dropped]
    return "".join(f"; {part}" for part in parts)


def _same(a, b) -> bool:
    return (pd.isna(a) and pd.isna(b)) if (_is_scalar_na(a) or _is_scalar_na(b)) else a == b


def _is_scalar_na(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
