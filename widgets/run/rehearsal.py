"""Rehearse a migrate on a throw-away copy of the sandbox and show exactly which rows and values change.

A preview reads the plan and counts what a dropped table or column holds, but
it cannot see what a ``RunPython`` or ``RunSQL`` does to the data: only running
it can. A rehearsal copies the sandbox (cheap for SQLite), runs the same
``migrate`` in the copy, compares every table cell by cell, and deletes the
copy. The sandbox itself is never touched.
"""

from __future__ import annotations

import html
import re
import shutil
import uuid
from collections import Counter
from dataclasses import dataclass

from widgets.draw.rows import read_rows, rows_diff
from widgets.errors import KitError
from widgets.read.state import django_tables
from widgets.read.table import TableLike, column, make_table, records, table_html
from widgets.run import timeouts
from widgets.run.result import CommandResult
from widgets.run.runner import run_manage

__all__ = ["Rehearsal", "RoundTrip", "rehearse", "round_trip"]

# Bookkeeping tables whose rows a migrate always changes: leave them out of the comparison.
_BOOKKEEPING = {"django_migrations", "django_content_type", "auth_permission"}


@dataclass(frozen=True)
class Rehearsal:
    """What ``migrate app_label target`` did to the data of a copy of the sandbox."""

    app_label: str
    target: str
    result: CommandResult
    changes: TableLike  # table, key, column, before, after, change

    @property
    def ok(self) -> bool:
        """Return True when the migrate ran to the end in the copy."""
        return self.result.ok

    @property
    def stopped_at(self) -> str | None:
        """Return the app.name migrate was applying or unapplying when it failed, from Django's own progress lines."""
        if self.ok:
            return None
        steps = re.findall(r"^\s*(?:Applying|Unapplying) (\w+\.\w+)\.\.\.(?! OK)", self.result.stdout, re.MULTILINE)
        return steps[-1] if steps else None

    def summary(self) -> TableLike:
        """Return, per table and column, how many values were changed, emptied, filled, removed or added."""
        counted = Counter(
            (row["table"], "(whole row)" if row["column"] is None else row["column"], row["change"])
            for row in records(self.changes)
        )
        rows = [(*key, count) for key, count in sorted(counted.items())]
        return make_table(rows, ["table", "column", "change", "values"], dtypes={"values": "int"})

    def headline(self) -> str:
        command = f"migrate {self.app_label} {self.target}"
        if not self.ok:
            return f"Rehearsal of {command} failed in the copy: {self.result.message} Your sandbox was not touched."
        if self.changes.empty:
            return f"Rehearsal of {command}: no row or value of your tables changed (the copy is deleted)."
        tables = len(set(column(self.changes, "table")))
        return f"Rehearsal of {command}: {len(self.changes)} value(s) or row(s) changed in {tables} table(s) (the copy is deleted)."

    def __str__(self) -> str:
        lines = [self.headline()]
        for row in self.summary().itertuples(index=False):
            lines.append(f"  {row.table}.{row.column}: {row.values} {row.change}")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        parts = [f"<p><b>{html.escape(self.headline())}</b></p>"]
        if not self.changes.empty:
            parts.append(table_html(self.changes.head(200)))
        return "\n".join(parts)


def _in_copy(sandbox, targets: list[tuple[str, str]]) -> tuple[list[CommandResult], list[dict]]:
    """Run ``migrate app target`` for each pair in a copy of the sandbox; return the results and each reading.

    The first reading is the data before anything ran; one more follows each
    command that succeeded. The copy is deleted whatever happens.
    """
    if sandbox.database == "postgresql":
        raise KitError(
            "A rehearsal runs on a copy of the sandbox's SQLite file, and this sandbox keeps its data in PostgreSQL. "
            "Fix: rehearse on a SQLite sandbox (Sandbox.fresh(name)), or read the rollback preview's rows lost."
        )
    copy = sandbox.workspace / ".kit" / "rehearsals" / f"{sandbox.name}-{uuid.uuid4().hex[:8]}"
    copy.parent.mkdir(parents=True, exist_ok=True)
    options = sandbox.command_options
    results, readings = [], []
    try:
        sandbox.copy_to(copy)  # the project folder and its database, as a snapshot copies them
        database = copy / sandbox.db_path.relative_to(sandbox.path)
        readings.append(read_rows(database))
        for app_label, target in targets:
            # No warm Django for a copy that lives a second: it would push the sandbox's own out of the kernel's few.
            result = run_manage(
                copy,
                ["migrate", app_label, target, "--noinput"],
                timeout=timeouts.scaled(copy),
                warm=False,
                **options,
            )
            results.append(result)
            if not result.ok:
                break
            readings.append(read_rows(database))
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    return results, readings


def _left_out(sandbox, include_contrib: bool) -> set[str]:
    """Return the tables a comparison leaves out: bookkeeping, and Django's own unless asked for."""
    # Django's own tables come from the probe's contrib flag; read before the copy, while the graph is cached.
    return _BOOKKEEPING | (set() if include_contrib else django_tables(sandbox))


def _compared(before: dict, after: dict, left_out: set[str]) -> TableLike:
    """Return the cell-by-cell changes between two readings, the tables ``left_out`` left out."""
    keep = {t for t in before.keys() | after.keys() if t not in left_out}
    return rows_diff({t: v for t, v in before.items() if t in keep}, {t: v for t, v in after.items() if t in keep})


def rehearse(sandbox, app_label: str, target: str, *, include_contrib: bool = False) -> Rehearsal:
    """Run ``migrate app_label target`` on a copy of the sandbox and compare its data before and after."""
    left_out = _left_out(sandbox, include_contrib)
    results, readings = _in_copy(sandbox, [(app_label, target)])
    after = readings[-1] if results[0].ok else readings[0]
    return Rehearsal(app_label, target, results[0], _compared(readings[0], after, left_out))


@dataclass(frozen=True)
class RoundTrip:
    """A rollback and the migrate forwards again, run on a copy: what changed each way and what did not come back."""

    back: Rehearsal
    forth: Rehearsal | None  # None when the way back failed
    not_restored: TableLike  # table, key, column, before, after, change: the start compared with the end

    @property
    def restored(self) -> bool:
        """Return True when both ways ran and every row and value is as it was."""
        return self.forth is not None and self.forth.ok and self.not_restored.empty

    def headline(self) -> str:
        if not self.back.ok:
            return self.back.headline()
        if not self.forth.ok:
            return f"Forwards again failed in the copy: {self.forth.result.message} Your sandbox was not touched."
        way_back = f"{len(self.back.changes)} value(s) or row(s) changed on the way back"
        if self.restored:
            return f"Round trip to {self.back.target} and forwards again: {way_back}, and every one came back."
        return f"Round trip to {self.back.target} and forwards again: {way_back}; {len(self.not_restored)} did not come back."

    def __str__(self) -> str:
        lines = [self.headline()]
        lines += [
            f"  {r.table} {r.key} {r.column}: {r.before!r} -> {r.after!r}" for r in self.not_restored.itertuples()
        ]
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        parts = [f"<p><b>{html.escape(self.headline())}</b></p>"]
        for title, changes in (("On the way back:", self.back.changes), ("Did not come back:", self.not_restored)):
            if not changes.empty:
                parts += [f"<p>{title}</p>", table_html(changes.head(200))]
        return "\n".join(parts)


def round_trip(sandbox, app_label: str, target: str, *, include_contrib: bool = False) -> RoundTrip:
    """Roll back to ``target`` and migrate forwards again on a copy; compare the data at each point, cell by cell."""
    plan = sandbox.plan(app_label, target)
    if plan.direction != "backwards":
        raise KitError(
            f"migrate {app_label} {target} is not a rollback from where the sandbox is. "
            f"Fix: pick a target before the last applied migration of {app_label}."
        )
    # Where each app is now: the newest of its migrations the rollback unapplies (it unapplies newest first).
    back_to: dict[str, str] = {}
    for step in plan.steps:
        back_to.setdefault(step.app_label, step.name)
    forwards = [(app_label, back_to.pop(app_label))] + list(back_to.items())
    left_out = _left_out(sandbox, include_contrib)
    results, readings = _in_copy(sandbox, [(app_label, target), *forwards])
    start, end = readings[0], readings[-1]
    if not results[0].ok:
        unchanged = _compared(start, start, left_out)
        return RoundTrip(Rehearsal(app_label, target, results[0], unchanged), None, unchanged)
    back = Rehearsal(app_label, target, results[0], _compared(start, readings[1], left_out))
    # _in_copy stops at the first failure, so the last result says whether forwards again ran to the end.
    forth = Rehearsal(app_label, forwards[0][1], results[-1], _compared(readings[1], end, left_out))
    return RoundTrip(back, forth, _compared(start, end, left_out))
