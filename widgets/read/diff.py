"""Compare two states of a sandbox database: what a command changed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from dataclasses import replace as dataclass_replace

from widgets.read.state import Plan, State
from widgets.read.table import TableLike, column, make_table, records, select, sort_by, where

__all__ = ["StateDiff", "diff", "renamed_columns"]

_COLUMN_KEY = ["table", "column"]
_COLUMN_PROPERTIES = ["type", "null", "default", "primary_key", "references_table", "references_column"]


@dataclass(frozen=True)
class StateDiff:
    """Tables, columns, foreign keys, migration rows and row counts that changed."""

    tables_added: list[str]
    tables_removed: list[str]
    columns_added: TableLike
    columns_removed: TableLike
    columns_changed: TableLike
    foreign_keys_added: TableLike
    foreign_keys_removed: TableLike
    migrations_applied: TableLike
    migrations_unapplied: TableLike
    row_counts: TableLike
    # Rows that went with each removed table: what a rollback cost.
    rows_dropped: TableLike = field(default_factory=lambda: make_table([], ["table", "rows"]))
    # Columns the migrations renamed (read from their operations), with the values kept: table, before, after, rows.
    columns_renamed: TableLike = field(default_factory=lambda: make_table([], _RENAMED_COLUMNS))
    # Read from the migrations' operations: the rows of each table a column was dropped from (None: not read).
    rows_before: dict[str, int] | None = None

    @property
    def is_empty(self) -> bool:
        """Return True when nothing changed."""
        frames = (
            self.columns_added,
            self.columns_removed,
            self.columns_changed,
            self.foreign_keys_added,
            self.foreign_keys_removed,
            self.migrations_applied,
            self.migrations_unapplied,
            self.row_counts,
            self.columns_renamed,
        )
        return not self.tables_added and not self.tables_removed and all(f.empty for f in frames)

    def summary(self) -> list[str]:
        """Return one plain line per change, '+' for added and '-' for removed."""
        lines = [f"+ migration {r.app}.{r.name} applied" for r in self.migrations_applied.itertuples()]
        lines += [f"- migration {r.app}.{r.name} unapplied" for r in self.migrations_unapplied.itertuples()]
        lines += [f"+ table {t}" for t in self.tables_added]
        dropped = {r["table"]: r["rows"] for r in records(self.rows_dropped)}
        lines += [f"- table {t}" + (f" ({dropped[t]} rows)" if dropped.get(t) else "") for t in self.tables_removed]
        lines += [
            f"+ column {r.table}.{r.column} ({r.type})" for r in self._outside(self.columns_added, self.tables_added)
        ]
        lines += [
            f"- column {r.table}.{r.column} ({r.type})" + self._lost(r.table)
            for r in self._outside(self.columns_removed, self.tables_removed)
        ]
        lines += [
            f"~ column {r.table}.{r.before} renamed to {r.after}: {r.rows} value(s) kept"
            for r in self.columns_renamed.itertuples()
        ]
        lines += [f"~ column {r.table}.{r.column}: {r.change}" for r in self.columns_changed.itertuples()]
        lines += [
            f"+ foreign key {r.table}.{r.column} -> {r.references_table}.{r.references_column}"
            for r in self._outside(self.foreign_keys_added, self.tables_added)
        ]
        lines += [
            f"- foreign key {r.table}.{r.column} -> {r.references_table}.{r.references_column}"
            for r in self._outside(self.foreign_keys_removed, self.tables_removed)
        ]
        lines += [f"~ rows in {r.table}: {r.before} -> {r.after}" for r in self.row_counts.itertuples()]
        return lines

    def _lost(self, table: str) -> str:
        """Say how many values a removed column took with it, once the operations tell it was not a rename."""
        if self.rows_before is None:
            return ""
        return f": dropped, not renamed, {self.rows_before.get(table, 0)} value(s) lost"

    @staticmethod
    def _outside(frame: TableLike, tables: list[str]):
        """Yield the rows of tables not already reported whole, to avoid saying it twice."""
        return where(frame, lambda row: row["table"] not in tables).itertuples()

    def __str__(self) -> str:
        return "\n".join(self.summary()) or "No changes."

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))


_RENAMED_COLUMNS = ["table", "before", "after", "rows"]
_RENAME_FIELD = re.compile(r"^Rename field (\w+) on (\w+) to (\w+)$")


def renamed_columns(plan: Plan) -> list[tuple[str, str, str]]:
    """Return (table, field before, field after) for every field a plan renames, in the plan's direction.

    Read from the migrations' own operations (RenameField), so a column
    dropped and added (makemigrations' rename question answered no) is not
    one. The table is Django's default name, ``<app_label>_<model>``.
    """
    found = []
    for step in plan.steps:
        for operation in step.operations:
            match = _RENAME_FIELD.match(operation.get("description", ""))
            if operation.get("operation") == "RenameField" and match:
                old, model, new = match.groups()
                table = f"{step.app_label}_{model.lower()}"
                found.append((table, new, old) if step.backwards else (table, old, new))
    return found


# The last comparison and the two states it was made from: the panel's views (django_migrations,
# rows, schema, the changes line) all compare the same two states after an action, so it is made once.
_last: tuple[State, State, StateDiff] | None = None


def diff(before: State, after: State, *, plan: Plan | None = None) -> StateDiff:
    """Return what changed from one state to the next.

    With ``plan`` (the plan that ran between them, ``sandbox.plan(...)`` read
    before migrating), a renamed column shows as renamed with the values it
    kept, and a dropped one says how many values it lost.
    """
    if plan is not None:
        return _with_renames(_compare(before, after), renamed_columns(plan), before)
    global _last
    last = _last
    if last is not None and last[0] is before and last[1] is after:
        return last[2]
    changes = _compare(before, after)
    _last = (before, after, changes)
    return changes


def _compare(before: State, after: State) -> StateDiff:
    tables_before, tables_after = set(column(before.tables, "table")), set(column(after.tables, "table"))
    added_cols, removed_cols = _added_removed(before.schema, after.schema, _COLUMN_KEY)
    fks_before, fks_after = _foreign_keys(before.schema), _foreign_keys(after.schema)
    fk_key = ["table", "column", "references_table", "references_column"]
    added_fks, removed_fks = _added_removed(fks_before, fks_after, fk_key)
    applied, unapplied = _added_removed(before.applied, after.applied, ["app", "name"])
    return StateDiff(
        tables_added=sorted(tables_after - tables_before),
        tables_removed=sorted(tables_before - tables_after),
        columns_added=added_cols,
        columns_removed=removed_cols,
        columns_changed=_changed_columns(before.schema, after.schema),
        foreign_keys_added=added_fks,
        foreign_keys_removed=removed_fks,
        migrations_applied=applied,
        migrations_unapplied=unapplied,
        row_counts=_row_counts(before.tables, after.tables),
        rows_dropped=_rows_of(before.tables, tables_before - tables_after),
    )


def _added_removed(before: TableLike, after: TableLike, key: list[str]) -> tuple[TableLike, TableLike]:
    """Return the rows only in after, and the rows only in before, matched on key."""
    keys_before, keys_after = _keys(before, key), _keys(after, key)
    in_after = where(after, lambda row: tuple(row[k] for k in key) not in keys_before)
    in_before = where(before, lambda row: tuple(row[k] for k in key) not in keys_after)
    return in_after, in_before


def _keys(frame: TableLike, key: list[str]) -> set[tuple]:
    return {tuple(row[k] for k in key) for row in records(frame)}


def _foreign_keys(schema: TableLike) -> TableLike:
    return where(schema, lambda row: row["references_table"] is not None)


def _changed_columns(before: TableLike, after: TableLike) -> TableLike:
    """Return columns present in both states whose type, nullability, default or key changed."""
    earlier = {(r["table"], r["column"]): r for r in records(before)}
    rows = []
    for now in records(after):
        was = earlier.get((now["table"], now["column"]))
        if was is None:
            continue
        changes = [f"{prop} {was[prop]!r} -> {now[prop]!r}" for prop in _COLUMN_PROPERTIES if was[prop] != now[prop]]
        if changes:
            rows.append({"table": now["table"], "column": now["column"], "change": "; ".join(changes)})
    return make_table(rows, ["table", "column", "change"])


def _rows_of(tables: TableLike, names: set[str]) -> TableLike:
    """Return the row counts of the named tables, sorted by table."""
    return sort_by(select(where(tables, lambda row: row["table"] in names), ["table", "rows"]), "table")


def _row_counts(before: TableLike, after: TableLike) -> TableLike:
    """Return the tables present in both states whose number of rows changed."""
    later = {r["table"]: r["rows"] for r in records(after)}
    rows = [
        (r["table"], r["rows"], later[r["table"]])
        for r in records(before)
        if r["table"] in later and later[r["table"]] != r["rows"]
    ]
    return make_table(rows, ["table", "before", "after"], dtypes={"before": "int", "after": "int"})


def _with_renames(changes: StateDiff, renames: list[tuple[str, str, str]], before: State) -> StateDiff:
    """Move each renamed column out of the removed and added columns, with the values it kept."""
    removed, added = changes.columns_removed, changes.columns_added
    rows_before = {r["table"]: r["rows"] for r in records(before.tables)}
    renamed = []
    for table, old, new in renames:
        for suffix in ("", "_id"):  # a foreign key's column is its field's name plus _id
            gone, came = (table, old + suffix), (table, new + suffix)
            if gone in _keys(removed, _COLUMN_KEY) and came in _keys(added, _COLUMN_KEY):
                removed = where(removed, lambda row, gone=gone: (row["table"], row["column"]) != gone)
                added = where(added, lambda row, came=came: (row["table"], row["column"]) != came)
                renamed.append([table, old + suffix, new + suffix, int(rows_before.get(table, 0))])
    return dataclass_replace(
        changes,
        columns_removed=removed,
        columns_added=added,
        columns_renamed=make_table(renamed, _RENAMED_COLUMNS),
        rows_before=rows_before,
    )
