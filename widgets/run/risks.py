"""Is this migration safe to deploy? Each step's PostgreSQL SQL linted by squawk, plus the kit's own checks.

squawk (PyPI ``squawk-cli``) reads the SQL Django would run on PostgreSQL and
names what would hurt a live site: a lock held too long, an index built
without ``CONCURRENTLY``, a constraint that scans the table. It runs as a
subprocess with its JSON reporter. The kit adds the backward-incompatible
cases that django-migration-linter checks, read from the operations
themselves: a column or table dropped or renamed while the old code still
runs, NOT NULL without a database default, a data migration with no way back.

Each step gets a verdict: ``safe``, ``safe with a lock_timeout`` (only the
timeout rules fired: run it with ``pg_locks.migrate_with_lock_timeout``), or
``not safe`` (change the migration first).
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from widgets.errors import KitError
from widgets.read.table import TableLike, concat, make_table, select, with_column
from widgets.run.pg_locks import step_locks, strongest_locks

__all__ = ["KIT_RULES", "RISK_COLUMNS", "RiskReport", "StepRisk", "lint_sql", "risk_report", "risks_from_preview"]

SAFE, WITH_TIMEOUT, UNSAFE = "safe", "safe with a lock_timeout", "not safe"
RISK_COLUMNS = ["step", "migration", "operation", "rule", "source", "message", "fix"]
# Rules about style, not about deploying safely: left out so that what remains is worth acting on.
IGNORED_SQUAWK_RULES = {
    "prefer-bigint-over-int": "a data-modelling choice (Django picks integer for IntegerField)",
    "prefer-bigint-over-smallint": "a data-modelling choice",
    "prefer-identity": "Django already uses identity columns",
    "prefer-text-field": "varchar(n) is what CharField(max_length=n) means",
    "prefer-timestamptz": "Django's DateTimeField is already timestamptz when USE_TZ is on",
    "prefer-robust-stmts": "Django's django_migrations table already makes each step run once",
    "transaction-nesting": "sqlmigrate shows Django's own BEGIN/COMMIT",
}
# Satisfied by running the migration with a lock_timeout (and retrying), as pg_locks.migrate_with_lock_timeout does.
TIMEOUT_RULES = {"require-lock-timeout", "require-statement-timeout", "require-timeout-settings"}
# squawk leaves some fixes empty: the kit's words for those.
_SQUAWK_FIXES = {
    "ban-drop-column": "stop using the field in the code and deploy that first; drop the column in a later release.",
    "ban-drop-table": "stop using the model in the code and deploy that first; drop the table in a later release.",
    "ban-drop-default": "keep the default in the database with db_default=..., so old code that leaves the column "
    "out still inserts.",
    "renaming-column": "add the new column, write both, backfill, switch the reads, then drop the old one.",
    "renaming-table": "create the new table (or a view), move the code over, then drop the old one.",
}
# The kit's own checks, keyed by what the probe reports for an operation: rule, one sentence, the fix.
KIT_RULES = {
    "not_null_without_db_default": (
        "not-null-without-db-default",
        "The new column is NOT NULL and the database has no default for it: the old code, still running during "
        "the deploy, inserts rows without it and fails.",
        "add it with null=True (or db_default=...) first, deploy, backfill, then make it NOT NULL in a later "
        "migration.",
    ),
    "set_not_null": (
        "set-not-null",
        "The column becomes NOT NULL: old code that leaves it empty fails, and PostgreSQL checks every row under "
        "an ACCESS EXCLUSIVE lock.",
        "backfill first, give it a database default (db_default=...), and add the constraint as NOT VALID, then "
        "VALIDATE it separately.",
    ),
    "column_dropped": (
        "column-dropped",
        "A column is dropped while the other version of the code may still read or write it: its queries fail.",
        "deploy code that no longer uses the field first, then drop the column in a later release.",
    ),
    "table_dropped": (
        "table-dropped",
        "A table is dropped while code that still uses the model may be running: its queries fail.",
        "deploy code that no longer uses the model first, then drop the table in a later release.",
    ),
    "renamed": (
        "renamed",
        "A rename breaks the running code that still uses the old name until the new code is everywhere.",
        "expand and contract: add the new name, write to both, backfill, switch the reads, then drop the old name.",
    ),
    "no_reverse": (
        "no-reverse",
        "This step has no reverse code: if the deploy goes wrong it cannot be rolled back.",
        "give RunPython a reverse_code (RunPython.noop when nothing needs undoing), or RunSQL a reverse_sql.",
    ),
}


def _squawk() -> str:
    """Return the squawk program of the kit's environment; raise KitError if it is not installed."""
    found = shutil.which("squawk", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if found is None:
        raise KitError("The squawk linter is not installed. Fix: run make setup (it installs squawk-cli from PyPI).")
    return found


def lint_sql(statements: list[str]) -> list[list[dict]]:
    """Lint several pieces of PostgreSQL SQL with one squawk run; return squawk's findings for each piece."""
    if not statements:
        return []
    with tempfile.TemporaryDirectory(prefix="kit-squawk-") as folder:
        paths = []
        for index, sql in enumerate(statements):
            path = Path(folder) / f"step-{index}.sql"
            path.write_text(sql + "\n", encoding="utf-8")
            paths.append(path)
        done = subprocess.run(
            [_squawk(), "--reporter", "json", "--pg-version", "16", *map(str, paths)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=folder,
        )
    try:
        findings = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        raise KitError(
            f"squawk could not read the SQL ({done.stderr.strip()[:200]}). Fix: check the step's SQL."
        ) from None
    by_file: dict[str, list[dict]] = {path.name: [] for path in paths}
    for finding in findings:
        by_file.setdefault(Path(finding["file"]).name, []).append(finding)
    return [by_file[path.name] for path in paths]


@dataclass(frozen=True)
class StepRisk:
    """One step of a plan: its PostgreSQL SQL, its warnings and whether it is safe to deploy."""

    step: int
    migration: str
    backwards: bool
    sql: str
    warnings: list[dict] = field(default_factory=list)  # rule, source, operation, message, fix

    @property
    def locks(self) -> TableLike:
        """Return the table locks this step's statements take: operation, statement, table, lock, blocks."""
        return step_locks(self.sql)

    @property
    def lock_summary(self) -> str:
        """Return the strongest lock on each table, one phrase: 'boards_topic: ACCESS EXCLUSIVE'."""
        return "; ".join(f"{table}: {mode}" for table, mode in strongest_locks(self.locks).items())

    @property
    def verdict(self) -> str:
        """Return 'safe', 'safe with a lock_timeout' or 'not safe'."""
        rules = {w["rule"] for w in self.warnings}
        if not rules:
            return SAFE
        return WITH_TIMEOUT if rules <= TIMEOUT_RULES else UNSAFE


@dataclass(frozen=True)
class RiskReport:
    """The risk warnings of every step of a plan, squawk's and the kit's."""

    app_label: str
    target: str
    steps: list[StepRisk]

    @property
    def safe(self) -> bool:
        """Return True when every step is safe to deploy (a lock_timeout allowed)."""
        return all(step.verdict != UNSAFE for step in self.steps)

    def verdicts(self) -> TableLike:
        """Return one row per step: step, migration, direction, locks, verdict."""
        rows = [
            {
                "step": s.step,
                "migration": s.migration,
                "direction": "unapply" if s.backwards else "apply",
                "locks": s.lock_summary,
                "verdict": s.verdict,
            }
            for s in self.steps
        ]
        return make_table(rows, ["step", "migration", "direction", "locks", "verdict"])

    def locks(self) -> TableLike:
        """Return one row per table lock of every step: step, migration, operation, statement, table, lock, blocks."""
        frames = [with_column(with_column(s.locks, "step", s.step), "migration", s.migration) for s in self.steps]
        columns = ["step", "migration", *step_locks("").columns]
        return select(concat(frames), columns) if frames else make_table([], columns)

    def to_frame(self) -> TableLike:
        """Return one row per warning: step, migration, operation, rule, source, message, fix."""
        rows = [{"step": s.step, "migration": s.migration, **w} for s in self.steps for w in s.warnings]
        return make_table(rows, RISK_COLUMNS)

    def __str__(self) -> str:
        if not self.steps:
            return f"migrate {self.app_label} {self.target}: nothing to run, nothing to check."
        lines = [f"Risks of migrate {self.app_label} {self.target} on PostgreSQL:"]
        for s in self.steps:
            verb = "Unapply" if s.backwards else "Apply"
            lines.append(f"  {s.step}. {verb} {s.migration}: {s.verdict}")
            if s.lock_summary:
                lines.append(f"     locks {s.lock_summary}")
            for w in s.warnings:
                lines.append(f"     ! {w['rule']} ({w['source']}): {w['message']}")
                lines.append(f"       fix: {w['fix']}")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        colours = {SAFE: "#1a7f37", WITH_TIMEOUT: "#9a6700", UNSAFE: "#cf222e"}
        parts = [
            f"<p><b>Risks of migrate {html.escape(self.app_label)} {html.escape(self.target)} on PostgreSQL</b></p>"
        ]
        for s in self.steps:
            verb = "Unapply" if s.backwards else "Apply"
            parts.append(
                f"<p>{s.step}. {verb} <code>{html.escape(s.migration)}</code>: "
                f"<b style='color:{colours[s.verdict]}'>{html.escape(s.verdict)}</b>"
                + (f" <small>(locks {html.escape(s.lock_summary)})</small>" if s.lock_summary else "")
                + "</p>"
            )
            items = "".join(
                f"<li><code>{html.escape(w['rule'])}</code> ({html.escape(w['source'])}): {html.escape(w['message'])}"
                f"<br><i>fix:</i> {html.escape(w['fix'])}</li>"
                for w in s.warnings
            )
            if items:
                parts.append(f"<ul class='mk-risks'>{items}</ul>")
        return "\n".join(parts)


def risk_report(sandbox, app_label: str, target: str) -> RiskReport:
    """Lint every step ``migrate app_label target`` would run, as PostgreSQL SQL; read-only.

    On a SQLite sandbox the SQL is collected on the workspace's PostgreSQL
    server (started if needed): the question is what would happen in production.
    """
    answer = sandbox.preview(app_label, target, sql_on="postgresql")
    return risks_from_preview(app_label, target, answer)


def risks_from_preview(app_label: str, target: str, answer: dict) -> RiskReport:
    """Build the risk report from a preview whose SQL is PostgreSQL's."""
    steps = answer["steps"]
    texts = [_sql_text(step) for step in steps]
    findings = lint_sql(texts)
    risks = []
    for number, (step, sql, found) in enumerate(zip(steps, texts, findings, strict=True), 1):
        warnings = _kit_warnings(step) + _squawk_warnings(sql, found)
        risks.append(StepRisk(number, f"{step['app_label']}.{step['name']}", step["backwards"], sql, warnings))
    return RiskReport(app_label, target, risks)


def _sql_text(step: dict) -> str:
    sql = step.get("sql") or {}
    return sql.get("text", "") if "error" not in sql else ""


def _kit_warnings(step: dict) -> list[dict]:
    """Return the kit's backward-incompatibility warnings for a step's operations."""
    warnings = []
    for op in step["operations"]:
        for code in op.get("risks", []):
            if code in KIT_RULES:
                rule, message, fix = KIT_RULES[code]
                warnings.append(
                    {"operation": op["description"], "rule": rule, "source": "kit", "message": message, "fix": fix}
                )
    return warnings


def _squawk_warnings(sql: str, findings: list[dict]) -> list[dict]:
    """Turn squawk's findings into warnings, each next to the operation its line belongs to."""
    operations = _operation_of_lines(sql)
    warnings = []
    for finding in findings:
        rule = finding["rule_name"]
        if rule in IGNORED_SQUAWK_RULES:
            continue
        line = finding.get("line", 0)
        fix = finding.get("help") or _SQUAWK_FIXES.get(rule, "see squawk's documentation of this rule.")
        warning = {
            "operation": operations[line] if line < len(operations) else "",
            "rule": rule,
            "source": "squawk",
            "message": finding["message"],
            "fix": fix,
        }
        if warning not in warnings:
            warnings.append(warning)
    return warnings


def _operation_of_lines(sql: str) -> list[str]:
    """Return, for each line of sqlmigrate's text (squawk counts from 0), the operation it belongs to."""
    current, found = "", []
    for line in sql.splitlines():
        stripped = line.strip()
        if stripped.startswith("--") and stripped.strip("-").strip():
            current = stripped.strip("-").strip()
        found.append(current)
    return found
