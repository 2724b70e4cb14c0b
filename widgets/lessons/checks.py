"""Verdicts on a sandbox's real state and on a learner's typed answer, each with a helpful sentence.

State checks read the sandbox (files, database, migration graph). Typed
answers are compared with a right answer the caller reads from a sandbox at
check time, so no answer is ever written in the kit; small typing slips
(str for int, case, spaces, quotes, ``python manage.py`` in front of a
command) are forgiven, and other kinds of answer get a hint of their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from widgets.errors import KitError
from widgets.read.table import records, same_rows
from widgets.sandbox.facade import Sandbox

__all__ = [
    "Check",
    "index_built_concurrently",
    "safe_to_deploy",
    "NotReady",
    "all_applied",
    "all_of",
    "migration_exists",
    "own_migrations",
    "query_equals",
    "reversible",
    "app_at",
    "at_squash",
    "choice_is",
    "count_is",
    "field_added",
    "is_unfinished",
    "name_is",
    "no_conflicts",
    "normalise_command",
    "normalise_count",
    "normalise_name",
    "rows_in",
]

_QUOTES = "'\"`"
_PREFIXES = ("python3 ", "python ", "./manage.py ", "manage.py ", "django-admin ")
_NUMBER_WORDS = frozenset(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen".split()
)


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


class NotReady(KitError):
    """Say that the sandbox is not yet in a state where the right answer can be read."""


# ----- state checks ---------------------------------------------------------------


def _columns(sandbox: Sandbox, table: str) -> set[str]:
    return {row["column"] for row in records(sandbox.schema()) if row["table"] == table}


def _applied(sandbox: Sandbox, app_label: str) -> list[str]:
    return sorted(row["name"] for row in records(sandbox.applied_migrations()) if row["app"] == app_label)


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
    names = sandbox.migration_graph().migrations_of(app_label)
    if not any(name == target or name.startswith(target) for name in names):
        return Check(
            False,
            f"there is no migration {target} in {app_label} yet: create it first (makemigrations, or write it), "
            "then migrate to it.",
        )
    try:
        plan = sandbox.plan(app_label, target)
    except KitError as error:
        return Check(False, str(error))
    if plan.steps:
        verb = "unapply" if plan.direction == "backwards" else "apply"
        names = ", ".join(step.name for step in plan.steps)
        return Check(False, f"{app_label} is not at {target} yet: migrate would still {verb} {names}.")
    return Check(True, f"{app_label} is at {target}: {', '.join(applied)} applied.")


def all_applied(sandbox: Sandbox, app_label: str) -> Check:
    """Check that every migration of an app in Django's graph is applied."""
    nodes = [row for row in records(sandbox.migration_graph().nodes) if row["app_label"] == app_label]
    if not nodes:
        return Check(False, f"your sandbox has no migrations of {app_label}: run the notebook's cells from the top.")
    pending = sorted(row["name"] for row in nodes if not row["applied"])
    if pending:
        return Check(
            False,
            f"{app_label} still has {len(pending)} migration(s) to apply ({', '.join(pending)}): "
            f"migrate {app_label} forward; with no target, migrate goes to its latest migration.",
        )
    return Check(True, f"every migration of {app_label} is applied: {', '.join(sorted(row['name'] for row in nodes))}.")


def at_squash(sandbox: Sandbox, app_label: str) -> Check:
    """Check that an app's applied migrations end at its squashed migration (read from the graph, not named here)."""
    nodes = records(sandbox.migration_graph().nodes)
    squashes = sorted(row["name"] for row in nodes if row["app_label"] == app_label and row["replaces"])
    if len(squashes) != 1:
        return Check(False, f"Django's graph shows no single squashed migration of {app_label} in your sandbox.")
    try:
        plan = sandbox.plan(app_label, squashes[0])
    except KitError as error:
        return Check(False, str(error))
    if plan.steps:
        verb = "unapply" if plan.direction == "backwards" else "apply"
        names = ", ".join(step.name for step in plan.steps)
        return Check(
            False,
            f"{app_label} is not at its squash yet: migrate would still {verb} {names}. "
            "Hint: the squash is the 3-D box in the graph, and its name is a target like any other.",
        )
    return Check(True, f"{app_label} is at its squash, {squashes[0]}: what it replaces is applied, nothing after it.")


def no_conflicts(sandbox: Sandbox, app_label: str) -> Check:
    """Check that an app has a single leaf node and everything is applied."""
    graph = sandbox.migration_graph()
    if app_label in graph.conflicts:
        leaves = " and ".join(graph.conflicts[app_label])
        return Check(False, f"{app_label} still has two leaf nodes ({leaves}): run sandbox.makemigrations(merge=True).")
    pending = sorted(r["name"] for r in records(graph.nodes) if r["app_label"] == app_label and not r["applied"])
    if pending:
        return Check(False, f"the merge is written but not applied ({', '.join(pending)}): run sandbox.migrate().")
    return Check(True, f"{app_label} has one leaf node, {graph.leaf_nodes[app_label][0]}, and it is applied.")


def all_of(*checks: Check | Callable[[], Check]) -> Check:
    """Pass when every check passes; stop at the first that fails and give its message.

    Give checks as zero-argument callables (``lambda: app_at(...)``) to skip
    the costly ones once an earlier one has failed.
    """
    messages = []
    for item in checks:
        verdict = item() if callable(item) else item
        if not verdict:
            return verdict
        messages.append(verdict.message.rstrip("."))
    return Check(True, "; ".join(messages) + ".")


def own_migrations(
    sandbox: Sandbox, app_label: str, *, runs: str | None = None, other_than: Sequence[str] = ()
) -> list[str]:
    """Return the names of an app's migration files, in order, leaving out squashes and the lesson's own.

    ``runs`` keeps those whose operations include it (say 'RunPython');
    ``other_than`` leaves out names ending with one of its suffixes.
    """
    return [
        path.stem
        for path in sorted(sandbox.file(f"{app_label}/migrations").glob("[0-9]*.py"))
        if not any(path.stem.endswith(suffix) for suffix in other_than)
        and "_squashed_" not in path.stem
        and (runs is None or f"migrations.{runs}(" in path.read_text(encoding="utf-8"))
    ]


def migration_exists(
    sandbox: Sandbox, app_label: str, *, runs: str | None = None, other_than: Sequence[str] = ()
) -> Check:
    """Check that an app has a migration file of the learner's own, optionally one that uses ``runs``."""
    found = own_migrations(sandbox, app_label, runs=runs, other_than=other_than)
    what = f"migration of {app_label} that uses {runs}" if runs else f"migration of {app_label}"
    if not found:
        return Check(False, f"there is no {what} of your own yet: write one in {app_label}/migrations/.")
    return Check(True, f"{found[-1]} is a {what}.")


def reversible(sandbox: Sandbox, app_label: str, name: str) -> Check:
    """Check that Django can unapply a migration: every operation has a way back."""
    # sqlmigrate --backwards asks each operation for its reverse, as migrate does, without running anything.
    result = sandbox.sqlmigrate(app_label, name, backwards=True)
    if not result.ok:
        if result.diagnosis is not None and result.diagnosis.code == "irreversible":
            return Check(
                False,
                f"{app_label}.{name} still cannot be unapplied: give its RunPython a reverse function "
                "(or RunPython.noop), then try again.",
            )
        return Check(False, f"Django could not read {app_label}.{name}: {result.message}")
    return Check(True, f"{app_label}.{name} can be unapplied.")


def query_equals(sandbox: Sandbox, sql: str, expected_sql: str) -> Check:
    """Check that a read-only query gives the same rows as a reference query, both run in the sandbox now.

    The reference is a query too, so the right answer is read from the
    sandbox and never written into the notebook.
    """
    try:
        got, want = sandbox.query(sql), sandbox.query(expected_sql)
    except KitError as error:
        return Check(False, str(error))
    if list(got.columns) != list(want.columns):
        return Check(False, f"the query gives the columns {', '.join(got.columns)}, not the ones asked for.")
    if same_rows(got, want):
        return Check(True, f"the query gives the {len(got)} row(s) asked for.")
    return Check(False, f"the query gives {len(got)} row(s), but not the ones asked for: compare them with the table.")


def rows_in(sandbox: Sandbox, table: str, expected: int) -> Check:
    """Check that a table exists and holds the expected number of rows."""
    counts = {row["table"]: row["rows"] for row in records(sandbox.tables())}
    if table not in counts:
        return Check(False, f"there is no table {table}: is its migration applied?")
    if int(counts[table]) != expected:
        return Check(False, f"{table} has {int(counts[table])} row(s), the exercise wants {expected}.")
    return Check(True, f"{table} has {expected} row(s).")


# ----- typed answers ---------------------------------------------------------------


def _unquoted(text: str) -> str:
    """Return text without surrounding spaces and quotes, however many layers."""
    previous = None
    while previous != text:
        previous, text = text, text.strip().strip(_QUOTES)
    return text


def normalise_count(answer: object) -> int | str:
    """Return the answer as a whole number, or the sentence that says how to write one."""
    if isinstance(answer, bool):
        return "write the number itself, not True or False."
    if isinstance(answer, int):
        return answer
    if isinstance(answer, float):
        return int(answer) if answer.is_integer() else "a count is a whole number."
    if isinstance(answer, str):
        text = _unquoted(answer)
        if re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        if text.lower() in _NUMBER_WORDS:
            return "write the number with digits, not in words."
        return "answer with a number, without quotes around it."
    return f"answer with a single number, not a {type(answer).__name__}."


def normalise_name(answer: object) -> str | None:
    """Return a typed name without quotes, spaces or case, or None if it is not text."""
    if not isinstance(answer, str):
        return None
    return re.sub(r"\s+", " ", _unquoted(answer)).lower()


def normalise_command(answer: object) -> str | None:
    """Return the manage.py command a typed answer names, e.g. 'showmigrations' for 'python manage.py showmigrations'."""
    text = normalise_name(answer)
    if not text:
        return None
    for prefix in _PREFIXES:
        text = text.removeprefix(prefix)
    return text.split()[0] if text.split() else None


def is_unfinished(answer: object) -> bool:
    """Return True while the answer cell still holds ``...`` (or None)."""
    return answer is ... or answer is None


def _unfinished(hint: str) -> Check:
    return Check(False, f"replace the ... with your answer. Hint: {hint}")


def count_is(answer: object, right: Callable[[], int], *, hint: str) -> Check:
    """Check a typed count against the count ``right()`` reads from the sandbox now."""
    if is_unfinished(answer):
        return _unfinished(hint)
    number = normalise_count(answer)
    if isinstance(number, str):
        return Check(False, f"{answer!r}: {number} Hint: {hint}")
    if number != right():
        return Check(False, f"{number} is not it. Hint: {hint}")
    return Check(True, f"{number} is right.")


def name_is(answer: object, right: Callable[[], str], *, hint: str) -> Check:
    """Check a typed name against the name ``right()`` reads from the sandbox now, ignoring case and quotes."""
    if is_unfinished(answer):
        return _unfinished(hint)
    name = normalise_name(answer)
    if not name:
        return Check(False, f"{answer!r}: answer with the name as text, in quotes. Hint: {hint}")
    expected = right()
    if name != expected.lower():
        return Check(False, f"{name!r} is not it. Hint: {hint}")
    return Check(True, f"{expected!r} is right.")


def choice_is(answer: object, options: Sequence[str], verdict: Callable[[str], Check], *, hint: str) -> Check:
    """Check that a typed command is one of the options, then let ``verdict`` try it for real."""
    if is_unfinished(answer):
        return _unfinished(hint)
    command = normalise_command(answer)
    if command not in options:
        choices = " or ".join(repr(option) for option in options)
        return Check(False, f"{answer!r}: answer with one of the commands the question names, {choices}.")
    found = verdict(command)
    return found if found else Check(False, f"{found.message} Hint: {hint}")


def safe_to_deploy(sandbox: Sandbox, app_label: str) -> Check:
    """Check that the app has migrations waiting and that every one is safe to deploy on PostgreSQL."""
    from widgets.run.risks import (  # squawk and PostgreSQL: only for the production lesson
        TIMEOUT_RULES,
        UNSAFE,
        risk_report,
    )

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
        for name in column(found, "name")
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
