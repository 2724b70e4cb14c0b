"""Compare two states of a sandbox database: what a command changed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from dataclasses import replace as dataclass_replace

import pandas as pd

from widgets.read.state import Plan, State

__all__ = ["StateDiff", "diff", "renamed_columns"]

_COLUMN_KEY = ["table", "column"]
_COLUMN_PROPERTIES = ["type", "null", "default", "primary_key", "references_table", "references_column"]


@dataclass(frozen=True)
class StateDiff:
    """Tables, columns, foreign keys, migration rows and row counts that changed."""

    tables_added: list[str]
    tables_removed: list[str]
    columns_added: pd.DataFrame
    columns_removed: pd.DataFrame
    columns_changed: pd.DataFrame
    foreign_keys_added: pd.DataFrame
    foreign_keys_removed: pd.DataFrame
    migrations_applied: pd.DataFrame
    migrations_unapplied: pd.DataFrame
    row_counts: pd.DataFrame
    # Rows that went with each removed table: what a rollback cost.
    rows_dropped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["table", "rows"]))
    # Columns the migrations renamed (read from their operations), with the values kept: table, before, after, rows.
    columns_renamed: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_RENAMED_COLUMNS))
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
        dropped = dict(zip(self.rows_dropped["table"], self.rows_dropped["rows"], strict=True))
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
    def _outside(frame: pd.DataFrame, tables: list[str]):
        """Yield the rows of tables not already reported whole, to avoid saying it twice."""
        return frame[~frame["table"].isin(tables)].itertuples()

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
    tables_before, tables_after = set(before.tables["table"]), set(after.tables["table"])
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


def _added_removed(before: pd.DataFrame, after: pd.DataFrame, key: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the rows only in after, and the rows only in before, matched on key."""
    keys_before, keys_after = set(_keys(before, key)), set(_keys(after, key))
    # A boolean Series, not a list: an empty list would select columns and lose them.
    in_after = after[pd.Series([k not in keys_before for k in _keys(after, key)], index=after.index, dtype=bool)]
    in_before = before[pd.Series([k not in keys_after for k in _keys(before, key)], index=before.index, dtype=bool)]
    return in_after.reset_index(drop=True), in_before.reset_index(drop=True)


def _keys(frame: pd.DataFrame, key: list[str]) -> list[tuple]:
    return list(frame[key].itertuples(index=False, name=None))


def _foreign_keys(schema: pd.DataFrame) -> pd.DataFrame:
    return schema[schema["references_table"].notna()].reset_index(drop=True)


def _changed_columns(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Return columns present in both states whose type, nullability, default or key changed."""
    merged = before.merge(after, on=_COLUMN_KEY, suffixes=("_before", "_after"))
    rows = []
    for record in merged.to_dict("records"):
        changes = [
            f"{prop} {record[prop + '_before']!r} -> {record[prop + '_after']!r}"
            for prop in _COLUMN_PROPERTIES
            if not _same(record[prop + "_before"], record[prop + "_after"])
        ]
        if changes:
            rows.append({"table": record["table"], "column": record["column"], "change": "; ".join(changes)})
    return pd.DataFrame(rows, columns=["table", "column", "change"])


def _same(a, b) -> bool:
    return (pd.isna(a) and pd.isna(b)) if (pd.isna(a) or pd.isna(b)) else a == b


def _rows_of(tables: pd.DataFrame, names: set[str]) -> pd.DataFrame:
    """Return the row counts of the named tables, sorted by table."""
    return tables[tables["table"].isin(names)].sort_values("table").reset_index(drop=True)[["table", "rows"]]


def _row_counts(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Return the tables present in both states whose number of rows changed."""
    merged = before.merge(after, on="table", suffixes=("_before", "_after"))
    changed = merged[merged["rows_before"] != merged["rows_after"]]
    return changed.rename(columns={"rows_before": "before", "rows_after": "after"}).reset_index(drop=True)


def _with_renames(changes: StateDiff, renames: list[tuple[str, str, str]], before: State) -> StateDiff:
    """Move each renamed column out of the removed and added columns, with the values it kept."""
    removed, added = changes.columns_removed, changes.columns_added
    rows_before = dict(zip(before.tables["table"], before.tables["rows"], strict=True))
    renamed = []
    for table, old, new in renames:
        for suffix in ("", "_id"):  # a foreign key's column is its field's name plus _id
            gone = (removed["table"] == table) & (removed["column"] == old + suffix)
            came = (added["table"] == table) & (added["column"] == new + suffix)
            if gone.any() and came.any():
                removed, added = removed[~gone], added[~came]
                renamed.append([table, old + suffix, new + suffix, int(rows_before.get(table, 0))])
    return dataclass_replace(
        changes,
        columns_removed=removed.reset_index(drop=True),
        columns_added=added.reset_index(drop=True),
        columns_renamed=pd.DataFrame(renamed, columns=_RENAMED_COLUMNS),
        rows_before=rows_before,
    )
