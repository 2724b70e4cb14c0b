"""Preview a rollback before it runs: the backwards plan, its SQL, and the data it destroys."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from widgets.draw.palette import JP_THEME, css_variables
from widgets.read.state import Plan, plan_from_steps
from widgets.read.table import TableLike, is_missing, make_table, records, table_html, with_column
from widgets.run import timeouts
from widgets.run._probe import PUTS_BACK
from widgets.run.diagnose import diagnose
from widgets.run.rehearsal import Rehearsal
from widgets.run.rehearsal import rehearse as _rehearse
from widgets.run.result import stable_text
from widgets.run.risks import RiskReport, risks_from_preview

__all__ = ["RollbackPreview", "rollback_preview"]

DROP_COLUMNS = ["step", "migration", "table", "column", "rows_lost"]


@dataclass(frozen=True)
class RollbackPreview:
    """What ``migrate app_label target`` would undo, computed without running it."""

    app_label: str
    target: str
    plan: Plan
    sql: list[tuple[str, str, str]]  # (app_label, name, SQL or the reason there is none)
    drops: TableLike  # step, migration, table, column (None for a whole table), rows_lost
    rehearsal: Rehearsal | None = None  # what the plan did to the data of a throw-away copy
    risks: RiskReport | None = None  # on PostgreSQL: squawk's and the kit's warnings, step by step
    may_fail: tuple[tuple[int, str, str], ...] = ()  # (step, app.name, why) for each step that can fail

    @property
    def failing_step(self) -> tuple[int, str] | None:
        """Return (step number, app.name) where the rehearsed rollback failed, or None if it ran or was not tried."""
        if self.rehearsal is None or self.rehearsal.ok:
            return None
        labels = [f"{step.app_label}.{step.name}" for step in self.plan.steps]
        stopped = self.rehearsal.stopped_at
        return (labels.index(stopped) + 1, stopped) if stopped in labels else (0, stopped or "")

    def _unpreviewable(self) -> str:
        """Say in one sentence that a step's SQL cannot be shown but the rehearsed rollback works."""
        missing = [f"{a}.{n}" for a, n, sql in self.sql if sql.startswith(_NO_SQL)]
        if not missing or self.rehearsal is None or not self.rehearsal.ok:
            return ""
        return (
            f"sqlmigrate cannot show the SQL of {', '.join(missing)}, but the rehearsal ran the real rollback "
            "on a copy to the end: it works."
        )

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
        """Return the rows of dropped tables, plus the values of dropped columns whose table survives."""
        if self.drops.empty:
            return 0
        drops = records(self.drops)
        gone = {row["table"] for row in drops if row["column"] is None}
        # A column dropped before its whole table goes loses nothing more than the table's rows.
        return sum(int(row["rows_lost"]) for row in drops if row["column"] is None or row["table"] not in gone)

    def _headline(self) -> str:
        failing = self.failing_step
        if failing is not None:
            number, label = failing
            where = f"step {number} ({label})" if number else "a step"
            return f"This rollback would fail at {where}: {self.rehearsal.result.message}"
        return self._summary()

    def _summary(self) -> str:
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

    def _notes(self) -> list[str]:
        """Return the sentences under the headline: the plan's summary when a failure leads, the unshown SQL."""
        notes = [f"Rehearsed on a copy, which is deleted; had it run: {self._summary()}"] if self.failing_step else []
        return notes + [note for note in [self._warning(), self._unpreviewable()] if note]

    def __str__(self) -> str:
        lines = [self._headline(), *self._notes()]
        if self.plan.steps:
            lines += ["", str(self.plan)]
        if not self.drops.empty:
            lines += ["", "Dropped:"]
            lines += [f"  {_thing(r)}: {_lost(r)}" for r in self.drops.itertuples()]
        if self.rehearsal is not None:
            lines += ["", str(self.rehearsal)]
        if self.risks is not None and self.risks.steps:
            lines += ["", str(self.risks)]
        for app, name, sql in self.sql:
            lines += ["", f"-- SQL to unapply {app}.{name}", sql]
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        parts = [f"<p><b>{html.escape(self._headline())}</b></p>"]
        for note in self._notes():
            # The irreversible warning, and a rollback that would fail, keep the palette's red.
            if note == self._warning():
                parts.append(
                    f'<p class="mk-fail" style="color: var(--mk-fail, {_FAIL_LIGHT})"><b>{html.escape(note)}</b></p>'
                )
            else:
                parts.append(f"<p><b>{html.escape(note)}</b></p>")
        if self.plan.steps:
            parts.append(_breakable(table_html(self.plan.to_frame())))
        if not self.drops.empty:
            parts.append("<p>Dropped, with the data that goes with it:</p>")
            whole = ["(whole table)" if row["column"] is None else row["column"] for row in records(self.drops)]
            parts.append(_breakable(table_html(with_column(self.drops, "column", whole))))
        if self.rehearsal is not None:
            parts.append(self.rehearsal._repr_html_())
        if self.risks is not None and self.risks.steps:
            parts.append(self.risks._repr_html_())
        for app, name, sql in self.sql:
            parts.append(f"<p>SQL to unapply {html.escape(app)}.{html.escape(name)}:</p><pre>{html.escape(sql)}</pre>")
        return f'<div class="mk-rollback"><style>{_STYLE}</style>' + "\n".join(parts) + "</div>"


# The light theme's red, for a page that defines neither the kit's variables nor JupyterLab's.
_FAIL_LIGHT = JP_THEME["error-color0"][0]
# The preview's own colours, light and dark; its tables wrap rather than run off the side of a narrow panel.
_STYLE = (
    css_variables(".mk-rollback", ["fail"])
    + "\n.mk-rollback table { table-layout: auto; max-width: 100%; }"
    + "\n.mk-rollback td, .mk-rollback th { white-space: normal; overflow-wrap: break-word; }"
    + "\n.mk-rollback pre { white-space: pre-wrap; overflow-wrap: break-word; }"
)


def _breakable(table: str) -> str:
    """Let long names wrap after their underscores and dots ("0002_added_/Book_model"), never mid-word."""
    return re.sub(r"([_.])(?![^<>]*>)", r"\1<wbr>", table)


def _lost(row) -> str:
    """Say what one drop loses: the rows of a table, or the values of a column."""
    if is_missing(row.column):
        return f"{row.rows_lost} row(s) lost"
    return f"{row.rows_lost} value(s) lost"


def _thing(row) -> str:
    return f"table {row.table}" if is_missing(row.column) else f"column {row.table}.{row.column}"


def rollback_preview(
    sandbox, app_label: str, target: str, *, rehearse: bool | None = None, timeout: float | None = None
) -> RollbackPreview:
    """Show what ``migrate app_label target`` would undo and destroy, without running it on the sandbox.

    One probe process reads the plan, collects each step's SQL the way
    ``sqlmigrate --backwards`` does (text-identical), and counts the rows each
    dropped table or column holds. Code in the plan (RunPython, RunSQL) can
    change any value, which no reading can foresee: then (unless all of it is
    a noop on the way back), or with ``rehearse=True``, the plan also runs on a
    throw-away copy of the sandbox and the preview shows every row and value
    that changed there.

    ``timeout`` (seconds) limits reading the preview; by default the limit grows
    with the number of migrations, so a long history is never cut off.
    """
    call = f"rollback_preview(sandbox, {app_label!r}, {target!r}, timeout={{timeout}})"
    with timeouts.named(call):
        answer = sandbox.preview(app_label, target, timeout=timeout)
    plan = plan_from_steps(app_label, target, answer["steps"])
    backwards = [s for s in answer["steps"] if s["backwards"]]
    drops = [
        {
            "step": i,
            "migration": f"{s['app_label']}.{s['name']}",
            "table": item["table"],
            "column": item["column"],
            "rows_lost": int(item.get("rows_lost", 0)),
        }
        for i, s in enumerate(backwards, 1)
        for op in s["operations"]
        for item in op["drops"]
    ]
    sql = [(s["app_label"], s["name"], _step_sql(sandbox, s)) for s in backwards]
    may_fail = tuple(
        (number, f"{s['app_label']}.{s['name']}", why)
        for number, s in enumerate(backwards, 1)
        if (why := step_may_fail(s))
    )
    # An irreversible step stops Django before any data changes past it; the plan already says so.
    # A rehearsal copies the SQLite file: none on PostgreSQL unless asked for (then refused in one sentence).
    automatic = (
        rehearse is None and may_fail_here(backwards) and not plan.irreversible and sandbox.database != "postgresql"
    )
    tried = _rehearse(sandbox, app_label, target) if backwards and (rehearse or automatic) else None
    # On PostgreSQL the preview's SQL is PostgreSQL's: lint it too (never started for a SQLite sandbox).
    risks = risks_from_preview(app_label, target, answer) if sandbox.database == "postgresql" and backwards else None
    frame = make_table(drops, DROP_COLUMNS, dtypes={"rows_lost": "int"})
    return RollbackPreview(app_label, target, plan, sql, frame, tried, risks, may_fail)


_NO_SQL = "-- sqlmigrate could not show it"


def step_may_fail(step: dict) -> str:
    """Say why unapplying one step can fail on the rows already there ("" when it cannot).

    It can when it runs code, or when its reverse puts back a NOT NULL column
    without a default, a unique constraint or a foreign key; a step whose SQL
    cannot be previewed counts as one that can fail.
    """
    names = {op["operation"] for op in step["operations"]}
    if any(_runs_code_backwards(op) for op in step["operations"]):
        return "it runs code"
    if "error" in step.get("sql", {}):
        return "its SQL cannot be previewed"  # only running it tells whether the real rollback works
    if not names & PUTS_BACK:
        return ""
    text = step["sql"].get("text", "")
    # SQLite rebuilds the whole table: only the re-added column's own definition tells about it.
    for column in (item["column"] for op in step["operations"] for item in op.get("creates", []) if item["column"]):
        definition = re.search(rf'"{re.escape(column)}" ([^,\n]*)', text)
        found = definition.group(1) if definition else ""
        if "NOT NULL" in found and "DEFAULT" not in found:
            return f"it puts {column} back as NOT NULL with no default"
        if "REFERENCES" in found or "UNIQUE" in found:
            return f"it puts {column} back with a constraint over the rows already there"
    if names & PUTS_BACK - {"RemoveField"} and re.search(r"\b(UNIQUE|REFERENCES|FOREIGN KEY|CHECK)\b", text):
        return "it puts a constraint back over the rows already there"
    return ""


def may_fail_here(backwards: list[dict]) -> bool:
    """Return whether unapplying these steps, in order, can fail on the rows this database holds.

    A step that runs code or whose SQL cannot be previewed always can. One that puts a constraint back
    can only be refused by rows: it cannot fail while its tables are empty and no step before it (or
    itself) runs code that could fill them (the schema changes of a rollback add no row). Skipping the
    rehearsal then saves a whole copy and a real migrate, seconds on a big project, for nothing.
    """
    code_ran = False
    for step in backwards:
        code_ran = code_ran or any(_runs_code_backwards(op) for op in step["operations"])
        why = step_may_fail(step)
        rows = step.get("rows")
        if why and (code_ran or "error" in step.get("sql", {}) or rows is None or any(rows.values())):
            return True
    return False


def _runs_code_backwards(operation: dict) -> bool:
    """Return True if unapplying the operation runs code that may change data (not RunPython.noop, not empty SQL).

    A noop cannot change a row, so it needs no rehearsal: on a big project a
    rehearsal is a whole copy and a real migrate, seconds for nothing.
    """
    reverse = (operation.get("code") or {}).get("backwards")
    if operation["operation"] == "RunPython":
        return not (isinstance(reverse, dict) and reverse.get("name") == "RunPython.noop")
    if operation["operation"] == "RunSQL":
        return reverse is None or bool(str(reverse).strip())
    return False


def _step_sql(sandbox, step: dict) -> str:
    """Return the step's backwards SQL as sqlmigrate prints it, or Django's reason when it has none."""
    sql = step["sql"]
    if "error" in sql:
        error = sql["error"]
        args = ("sqlmigrate", "--backwards", step["app_label"], step["name"])
        found = diagnose(args, "", f"{error['module']}.{error['type']}: {error['message']}", 1, sandbox.path)
        reason = str(found) if found else f"{error['type']}: {error['message']}"
        return stable_text(f"{_NO_SQL}: {reason}", sandbox.path)
    return sql["text"].strip() or "-- (no SQL: this step only changes Django's state)"
