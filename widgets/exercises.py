"""Check a learner's exercise against the sandbox's real state, with a helpful message.

Every check reads the sandbox (files, database, migration graph) and returns a
``Check``: passed or not, and one sentence that says what is missing next.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import KitError
from .sandbox import Sandbox

__all__ = [
    "Check",
    "app_at",
    "field_added",
    "no_conflicts",
    "answer_is",
    "rows_in",
    "safe_to_deploy",
    "index_built_concurrently",
]


@dataclass(frozen=True)
class Check:
    """The verdict on one exercise: passed or not, and what to do next."""

    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return f"{'✔ Well done' if self.passed else '✘ Not yet'}: {self.message}"

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))


def _columns(sandbox: Sandbox, table: str) -> set[str]:
    schema = sandbox.schema()
    return set(schema.loc[schema["table"] == table, "column"])


def _applied(sandbox: Sandbox, app_label: str) -> list[str]:
    rows = sandbox.applied_migrations()
    return sorted(rows.loc[rows["app"] == app_label, "name"])


def field_added(sandbox: Sandbox, app_label: str, model: str, field: str) -> Check:
    """Check that a field is in models.py, in a migration, applied, and in the table."""
    models_py = sandbox.read(f"{app_label}/models.py")
    if f"{field} =" not in models_py:
        return Check(False, f"{app_label}/models.py has no field '{field}' yet: add it to class {model.capitalize()}.")
    migrations = sorted(p.name for p in sandbox.file(f"{app_label}/migrations").glob("0*.py"))
    made = [name for name in migrations if _mentions_field(sandbox, app_label, name, field)]
    if not made:
        return Check(False, f"No migration adds '{field}' yet: run sandbox.makemigrations('{app_label}').")
    name = made[-1].removesuffix(".py")
    if name not in _applied(sandbox, app_label):
        return Check(False, f"{name} exists but is not applied: run sandbox.migrate().")
    table = f"{app_label}_{model.lower()}"
    if field not in _columns(sandbox, table) and f"{field}_id" not in _columns(sandbox, table):
        return Check(False, f"{name} is recorded as applied but {table} has no '{field}' column: was it faked?")
    return Check(True, f"{name} is applied and {table}.{field} exists.")


def _mentions_field(sandbox: Sandbox, app_label: str, migration: str, field: str) -> bool:
    text = sandbox.read(f"{app_label}/migrations/{migration}")
    return f"name='{field}'" in text or f'name="{field}"' in text


def app_at(sandbox: Sandbox, app_label: str, target: str) -> Check:
    """Check that an app's applied migrations end exactly at target (or none for 'zero')."""
    applied = _applied(sandbox, app_label)
    if target == "zero":
        if applied:
            return Check(
                False,
                f"{app_label} still has {len(applied)} applied migration(s): run sandbox.migrate('{app_label}', 'zero').",
            )
        return Check(True, f"no migration of {app_label} is applied: its tables are gone.")
    try:
        plan = sandbox.plan(app_label, target)
    except KitError as error:
        return Check(False, str(error))
    if plan.steps:
        verb = "unapply" if plan.direction == "backwards" else "apply"
        names = ", ".join(step.name for step in plan.steps)
        return Check(False, f"{app_label} is not at {target} yet: migrate would still {verb} {names}.")
    return Check(True, f"{app_label} is at {target}: {', '.join(applied)} applied.")


def no_conflicts(sandbox: Sandbox, app_label: str) -> Check:
    """Check that an app has a single leaf node and everything is applied."""
    graph = sandbox.migration_graph()
    if app_label in graph.conflicts:
        leaves = " and ".join(graph.conflicts[app_label])
        return Check(False, f"{app_label} still has two leaf nodes ({leaves}): run sandbox.makemigrations(merge=True).")
    nodes = graph.nodes[graph.nodes["app_label"] == app_label]
    pending = sorted(nodes.loc[~nodes["applied"], "name"])
    if pending:
        return Check(False, f"the merge is written but not applied ({', '.join(pending)}): run sandbox.migrate().")
    return Check(True, f"{app_label} has one leaf node, {graph.leaf_nodes[app_label][0]}, and it is applied.")


def answer_is(answer: object, expected: object, *, hint: str) -> Check:
    """Check a typed answer; the hint says where to look when it is wrong."""
    if answer is ... or answer is None:
        return Check(False, f"replace the ... with your answer. Hint: {hint}")
    if str(answer).strip().lower() != str(expected).strip().lower():
        return Check(False, f"{answer!r} is not it. Hint: {hint}")
    return Check(True, f"{expected!r} is right.")


def rows_in(sandbox: Sandbox, table: str, expected: int) -> Check:
    """Check that a table exists and holds the expected number of rows."""
    counts = sandbox.tables().set_index("table")["rows"]
    if table not in counts:
        return Check(False, f"there is no table {table}: is its migration applied?")
    if int(counts[table]) != expected:
        return Check(False, f"{table} has {int(counts[table])} row(s), the exercise wants {expected}.")
    return Check(True, f"{table} has {expected} row(s).")


def safe_to_deploy(sandbox: Sandbox, app_label: str) -> Check:
    """Check that the app has migrations waiting and that every one is safe to deploy on PostgreSQL."""
    from .risks import TIMEOUT_RULES, UNSAFE, risk_report  # squawk and PostgreSQL: only for the production lesson

    leaf = sandbox.migration_graph().leaf_nodes.get(app_label)
    if not leaf:
        return Check(False, f"{app_label} has no migrations: is the app name right?")
    report = risk_report(sandbox, app_label, leaf[0])
    if not report.steps:
        return Check(False, f"nothing of {app_label} waits to be deployed: change models.py and run makemigrations.")
    for step in report.steps:
        if step.verdict == UNSAFE:
            first = next(w for w in step.warnings if w["rule"] not in TIMEOUT_RULES)
            return Check(False, f"{step.migration} is not safe yet ({first['rule']}): {first['fix']}")
    names = ", ".join(step.migration for step in report.steps)
    return Check(True, f"{names} can be deployed while the old code runs (with a lock_timeout).")


def index_built_concurrently(sandbox: Sandbox, table: str, column: str) -> Check:
    """Check that an index on table(column) exists in PostgreSQL and that its migration builds it CONCURRENTLY."""
    if sandbox.database != "postgresql":
        return Check(False, "this exercise needs the PostgreSQL sandbox: use the one made in the setup cell.")
    found = sandbox.query(
        "SELECT i.relname AS name FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "JOIN pg_class t ON t.oid = x.indrelid JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0] "
        "WHERE t.relname = %s AND a.attname = %s AND NOT x.indisprimary AND x.indisvalid ORDER BY 1",
        (table, column),
    )
    app_label = table.split("_", 1)[0]
    made = [
        (path.stem, name)
        for name in found["name"]
        for path in sorted(sandbox.file(f"{app_label}/migrations").glob("0*.py"))
        if name in path.read_text(encoding="utf-8")
    ]
    if not made:
        return Check(
            False,
            f"there is no index on {table}.{column} made by a migration yet: add one to the model's "
            "Meta.indexes, run makemigrations, then migrate.",
        )
    migration, name = made[-1]
    sql = sandbox.sqlmigrate(app_label, migration).stdout
    if "CONCURRENTLY" not in sql:
        return Check(
            False,
            f"{migration} builds {name} with a plain CREATE INDEX, which blocks writes: "
            "use AddIndexConcurrently with atomic = False (pg_locks.make_concurrent does it).",
        )
    return Check(True, f"{name} exists and {migration} builds it CONCURRENTLY: the site kept writing meanwhile.")
