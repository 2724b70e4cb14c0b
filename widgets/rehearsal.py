"""Rehearse a migrate on a throw-away copy of the sandbox and show exactly which rows and values change.

A preview reads the plan and counts what a dropped table or column holds, but
it cannot see what a ``RunPython`` or ``RunSQL`` does to the data: only running
it can. A rehearsal copies the sandbox (cheap for SQLite), runs the same
``migrate`` in the copy, compares every table cell by cell, and deletes the
copy. The sandbox itself is never touched.
"""

from __future__ import annotations

import html
import shutil
import uuid
from dataclasses import dataclass

import pandas as pd

from .commands import DEFAULT_TIMEOUT, CommandResult, run_manage
from .rows import read_rows, rows_diff
from .schema_diagram import is_contrib_table

__all__ = ["Rehearsal", "rehearse"]

# Bookkeeping tables whose rows a migrate always changes: leave them out of the comparison.
_BOOKKEEPING = {"django_migrations", "django_content_type", "auth_permission"}


@dataclass(frozen=True)
class Rehearsal:
    """What ``migrate app_label target`` did to the data of a copy of the sandbox."""

    app_label: str
    target: str
    result: CommandResult
    changes: pd.DataFrame  # table, key, column, before, after, change

    @property
    def ok(self) -> bool:
        """Return True when the migrate ran to the end in the copy."""
        return self.result.ok

    def summary(self) -> pd.DataFrame:
        """Return, per table and column, how many values were changed, emptied, filled, removed or added."""
        if self.changes.empty:
            return pd.DataFrame(columns=["table", "column", "change", "values"])
        counted = self.changes.fillna({"column": "(whole row)"}).groupby(["table", "column", "change"]).size()
        return counted.rename("values").reset_index()

    def headline(self) -> str:
        command = f"migrate {self.app_label} {self.target}"
        if not self.ok:
            return f"Rehearsal of {command} failed in the copy: {self.result.message} Your sandbox was not touched."
        if self.changes.empty:
            return f"Rehearsal of {command}: no row or value of your tables changed (the copy is deleted)."
        tables = self.changes["table"].nunique()
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
            parts.append(self.changes.head(200).to_html(index=False))
        return "\n".join(parts)


def rehearse(sandbox, app_label: str, target: str, *, include_contrib: bool = False) -> Rehearsal:
    """Run ``migrate app_label target`` on a copy of the sandbox and compare its data before and after."""
    copy = sandbox.workspace / ".kit" / "rehearsals" / f"{sandbox.name}-{uuid.uuid4().hex[:8]}"
    copy.parent.mkdir(parents=True, exist_ok=True)
    try:
        sandbox._save(copy)  # the project folder and its database, as a snapshot copies them
        database = copy / sandbox.db_path.relative_to(sandbox.path)
        before = read_rows(database)
        args = ["migrate", app_label, target, "--noinput"]
        meta = sandbox._meta()
        # No warm Django for a copy that lives a second: it would push the sandbox's own out of the kernel's few.
        result = run_manage(
            copy,
            args,
            timeout=DEFAULT_TIMEOUT,
            settings=meta["settings"],
            pass_settings=bool(meta.get("set_settings")),
            python=meta.get("python"),
            warm=False,
        )
        after = read_rows(database) if result.ok else before
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    keep = {
        t
        for t in before.keys() | after.keys()
        if t not in _BOOKKEEPING and (include_contrib or not is_contrib_table(t))
    }
    changes = rows_diff({t: v for t, v in before.items() if t in keep}, {t: v for t, v in after.items() if t in keep})
    return Rehearsal(app_label, target, result, changes)
