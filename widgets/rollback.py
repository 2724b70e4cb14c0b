"""Preview a rollback before it runs: the backwards plan, its SQL, and the data it destroys."""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd

from .errors import KitError
from .state import Plan

__all__ = ["RollbackPreview", "rollback_preview"]

DROP_COLUMNS = ["step", "migration", "table", "column", "rows_lost"]


@dataclass(frozen=True)
class RollbackPreview:
    """What ``migrate app_label target`` would undo, computed without running it."""

    app_label: str
    target: str
    plan: Plan
    sql: list[tuple[str, str, str]]  # (app_label, name, SQL or the reason there is none)
    drops: pd.DataFrame  # step, migration, table, column (None for a whole table), rows_lost

    @property
    def is_rollback(self) -> bool:
        """Return True when the plan unapplies migrations."""
        return self.plan.direction == "backwards"

    @property
    def irreversible(self) -> list[tuple[str, str, str]]:
        """Return (app_label, name, operation) for every step Django cannot undo."""
        return self.plan.irreversible

    @property
    def rows_lost(self) -> int:
        """Return the number of rows (or column values) the rollback destroys."""
        return int(self.drops["rows_lost"].sum()) if not self.drops.empty else 0

    def _headline(self) -> str:
        command = f"migrate {self.app_label} {self.target}"
        if not self.plan.steps:
            return f"{command}: nothing to unapply, {self.app_label} is already there."
        if not self.is_rollback:
            return f"{command} applies migrations, it does not roll anything back."
        return f"{command} unapplies {len(self.plan.steps)} migration(s) and loses {self.rows_lost} row(s) of data."

    def _warning(self) -> str:
        if not self.irreversible:
            return ""
        steps = ", ".join(f"{a}.{n} ({op})" for a, n, op in self.irreversible)
        return f"Irreversible: {steps}. Django will refuse this rollback (IrreversibleError)."

    def __str__(self) -> str:
        lines = [self._headline()]
        if self._warning():
            lines.append(self._warning())
        if self.plan.steps:
            lines += ["", str(self.plan)]
        if not self.drops.empty:
            lines += ["", "Dropped:"]
            lines += [f"  {_thing(r)}: {r.rows_lost} row(s) lost" for r in self.drops.itertuples()]
        for app, name, sql in self.sql:
            lines += ["", f"-- SQL to unapply {app}.{name}", sql]
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        parts = [f"<p><b>{html.escape(self._headline())}</b></p>"]
        if self._warning():
            parts.append(f'<p style="color:#c62828"><b>{html.escape(self._warning())}</b></p>')
        if self.plan.steps:
            parts.append(self.plan.to_frame().to_html(index=False))
        if not self.drops.empty:
            parts.append("<p>Dropped, with the data that goes with it:</p>")
            whole = self.drops["column"].map(lambda c: "(whole table)" if c is None or pd.isna(c) else c)
            parts.append(self.drops.assign(column=whole).to_html(index=False))
        for app, name, sql in self.sql:
            parts.append(f"<p>SQL to unapply {html.escape(app)}.{html.escape(name)}:</p><pre>{html.escape(sql)}</pre>")
        return "\n".join(parts)


def _thing(row) -> str:
    return f"table {row.table}" if row.column is None or pd.isna(row.column) else f"column {row.table}.{row.column}"


def rollback_preview(sandbox, app_label: str, target: str) -> RollbackPreview:
    """Show what ``migrate app_label target`` would undo and destroy, without running it; read-only."""
    plan = sandbox.plan(app_label, target)
    backwards = [s for s in plan.steps if s.backwards]
    counts = dict(zip(*(sandbox.tables()[c] for c in ("table", "rows")), strict=True))
    drops = [
        {
            "step": i,
            "migration": f"{s.app_label}.{s.name}",
            "table": item["table"],
            "column": item["column"],
            "rows_lost": _rows_lost(sandbox, counts, item["table"], item["column"]),
        }
        for i, s in enumerate(backwards, 1)
        for op in s.operations
        for item in op["drops"]
    ]
    sql = [(s.app_label, s.name, _backwards_sql(sandbox, s.app_label, s.name)) for s in backwards]
    return RollbackPreview(app_label, target, plan, sql, pd.DataFrame(drops, columns=DROP_COLUMNS))


def _rows_lost(sandbox, counts: dict[str, int], table: str, column: str | None) -> int:
    """Return the rows of a dropped table, or the non-empty values of a dropped column."""
    if table not in counts:
        return 0
    if column is None:
        return int(counts[table])
    quoted_table, quoted_column = (name.replace('"', '""') for name in (table, column))
    try:
        found = sandbox.query(f'SELECT COUNT("{quoted_column}") AS n FROM "{quoted_table}"')
    except KitError:  # the column is already gone: nothing left to lose
        return 0
    return int(found["n"].iloc[0])


def _backwards_sql(sandbox, app_label: str, name: str) -> str:
    """Return ``sqlmigrate --backwards`` output, or Django's reason when it has none."""
    result = sandbox.sqlmigrate(app_label, name, backwards=True)
    if result.ok:
        return result.stdout.strip() or "-- (no SQL: this step only changes Django's state)"
    return f"-- sqlmigrate could not show it: {result.message}"
