"""Read a sandbox's state, read-only: the database and Django's migration loader.

The ``django_migrations`` table and the schema come straight from the
database through a read-only connection: the SQLite file opened with
``mode=ro``, or a PostgreSQL session whose role can only read and whose
transactions are read-only (``widgets/postgres.py``). The migration graph and plans come from
Django's own ``MigrationLoader`` in a short-lived subprocess (``_probe.py``).
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from widgets.errors import KitError
from widgets.read.table import TableLike, column, make_table, records, with_column
from widgets.run import timeouts
from widgets.run.runner import run_probe
from widgets.sandbox import database_file

__all__ = [
    "APPLIED_COLUMNS",
    "SCHEMA_COLUMNS",
    "MigrationGraph",
    "Plan",
    "PlanStep",
    "State",
    "applied_migrations",
    "django_apps",
    "django_tables",
    "migration_graph",
    "operation_text",
    "plan",
    "preview",
    "read_state",
    "sql_compare",
    "schema",
    "tables",
    "query",
]

APPLIED_COLUMNS = ["id", "app", "name", "applied"]
# The applied column holds timestamps (datetime objects without pandas), parsed from Django's ISO text.
APPLIED_DTYPES = {"applied": "datetime"}
SCHEMA_COLUMNS = ["table", "column", "type", "null", "default", "primary_key", "references_table", "references_column"]
TABLE_COLUMNS = ["table", "rows"]
EDGE_COLUMNS = ["from_app", "from_name", "to_app", "to_name"]


# A SQLite file (Path), or a ``postgres.Database``: anything with ``read_only()`` yielding a reader.
Source = Any


class _SQLiteReader:
    """The state readers' questions, answered from a SQLite file opened read-only."""

    def __init__(self, connection: sqlite3.Connection, db_path: Path) -> None:
        self.connection = connection
        self.db_path = db_path

    def execute(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        """Run SQL on the read-only connection (widgets.rows reads row values through it)."""
        return self.connection.execute(sql, params)

    def table_names(self) -> list[str]:
        rows = self.connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
        return [name for (name,) in rows]

    def columns(self, table: str) -> list[dict]:
        return _columns_of(self.connection, table)

    def count(self, table: str) -> int:
        return self.connection.execute(f'SELECT COUNT(*) FROM "{table.replace(chr(34), chr(34) * 2)}"').fetchone()[0]

    def applied_rows(self) -> list[tuple]:
        return self.connection.execute("SELECT id, app, name, applied FROM django_migrations ORDER BY id").fetchall()

    def rows(self, sql: str, params: tuple = ()) -> tuple[list[str], list[tuple]]:
        try:
            cursor = self.connection.execute(sql, params)
            rows = cursor.fetchall()
        except sqlite3.Error as exc:
            if database_file.reader_error(exc, self.db_path) is not None:
                raise  # the file's fault, not the query's: said by read_only
            if getattr(exc, "sqlite_errorname", "") == "SQLITE_READONLY":
                raise KitError(
                    f"SQLite refused the query ({exc}): sandbox.query() only reads. "
                    "Fix: change data through Django, with sandbox.shell(...) or a migration."
                ) from exc
            raise KitError(
                f"SQLite refused the query ({exc}). Fix: check the table and column names in sandbox.tables()."
            ) from exc
        return [d[0] for d in cursor.description or ()], rows


@contextmanager
def read_only(source) -> Iterator:
    """Open the database read-only and yield a reader; yield None when there is no database yet.

    On SQLite (a file, its path given): no file or 0 bytes is no database, and a
    fault of the file itself (locked, damaged, its folder gone) becomes one
    sentence with the fix (database_file.py), never SQLite's bare exception.
    """
    if hasattr(source, "read_only"):  # PostgreSQL: a read-only role and read-only transactions
        with source.read_only() as reader:
            yield reader
        return
    db_path = Path(source)
    if not db_path.parent.is_dir():
        raise database_file.folder_gone(db_path)
    if not db_path.is_file() or db_path.stat().st_size == 0:
        yield None  # SQLite and Django both take an empty file for an empty database
        return
    try:
        connection = sqlite3.connect(
            f"{db_path.resolve().as_uri()}?mode=ro", uri=True, timeout=database_file.BUSY_TIMEOUT
        )
        # mode=ro covers this file only: ATTACH could still create a file anywhere.
        connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        connection.execute("PRAGMA query_only = ON")
    except sqlite3.Error as error:
        raise database_file.reader_error(error, db_path) or _unreadable(error, db_path) from error
    try:
        yield _SQLiteReader(connection, db_path)
    except sqlite3.Error as error:
        raise database_file.reader_error(error, db_path) or _unreadable(error, db_path) from error
    finally:
        connection.close()


def _unreadable(error: sqlite3.Error, db_path: Path) -> KitError:
    return KitError(f"SQLite could not read {db_path.name} ({error}). Fix: try again; if it repeats, sandbox.reset().")


def applied_migrations(source: Source) -> TableLike:
    """Return the ``django_migrations`` rows (id, app, name, applied) ordered by id; read-only."""
    with read_only(source) as db:
        return _applied(db)


def _applied(db) -> TableLike:
    if db is None or "django_migrations" not in db.table_names():
        return make_table([], APPLIED_COLUMNS, dtypes=APPLIED_DTYPES)
    return make_table(db.applied_rows(), APPLIED_COLUMNS, dtypes=APPLIED_DTYPES)


def schema(source: Source) -> TableLike:
    """Return one row per column of every table, with its foreign key if any; read-only."""
    with read_only(source) as db:
        return _schema(db)


def _schema(db) -> TableLike:
    rows = [entry for table in (db.table_names() if db else []) for entry in db.columns(table)]
    return make_table(rows, SCHEMA_COLUMNS)


def _columns_of(db: sqlite3.Connection, table: str) -> list[dict]:
    quoted = table.replace('"', '""')
    references = {row[3]: (row[2], row[4]) for row in db.execute(f'PRAGMA foreign_key_list("{quoted}")')}
    columns = []
    for _cid, name, type_, notnull, default, pk in db.execute(f'PRAGMA table_info("{quoted}")'):
        columns.append(column_row(table, name, type_, notnull, default, pk, *references.get(name, (None, None))))
    return columns


def column_row(table, name, type_, notnull, default, pk, ref_table, ref_column) -> dict:
    """Return one row of ``schema()``, as every database's reader reports it (SQLite and PostgreSQL alike)."""
    values = (table, name, type_, not notnull and not pk, default, bool(pk), ref_table, ref_column)
    return dict(zip(SCHEMA_COLUMNS, values, strict=True))


def tables(source: Source) -> TableLike:
    """Return every table with its number of rows, sorted by name; read-only."""
    with read_only(source) as db:
        return _tables(db)


def _tables(db) -> TableLike:
    counts = [(t, db.count(t)) for t in db.table_names()] if db is not None else []
    return make_table(counts, TABLE_COLUMNS, dtypes={"rows": "int"})


def query(source: Source, sql: str, params: tuple = ()) -> TableLike:
    """Run one SELECT on a read-only connection and return the rows."""
    with read_only(source) as db:
        if db is None:
            raise KitError("There is no database yet. Fix: run migrate first (sandbox.migrate()).")
        columns, rows = db.rows(sql, params)
        return make_table(rows, columns)


@dataclass(frozen=True)
class State:
    """What the database holds at one moment: applied migrations, schema, row counts."""

    applied: TableLike
    schema: TableLike
    tables: TableLike


def read_state(source: Source) -> State:
    """Read the applied migrations, schema and row counts at once, on one read-only connection."""
    with read_only(source) as db:
        return State(_applied(db), _schema(db), _tables(db))


@dataclass(frozen=True)
class MigrationGraph:
    """Django's migration graph of a project: nodes, dependency edges, leaf nodes, conflicts."""

    nodes: TableLike
    edges: TableLike
    leaf_nodes: dict[str, list[str]]
    conflicts: dict[str, list[str]]
    apps: dict[str, dict] = field(default_factory=dict)
    recorded_unknown: list[tuple[str, str]] = field(default_factory=list)
    #: Squashes Django leaves out because only some of what they replace is recorded.
    unused_squashes: list[dict] = field(default_factory=list)
    #: Each table Django's models own now: {"app_label": ..., "contrib": bool} (django_migrations included).
    tables: dict[str, dict] = field(default_factory=dict)

    def app_labels(self, *, include_contrib: bool = True) -> list[str]:
        """Return the app labels that have migrations, Django's own included or not."""
        labels = sorted(set(column(self.nodes, "app_label")))
        return [a for a in labels if include_contrib or not self.apps.get(a, {}).get("contrib", False)]

    def migrations_of(self, app_label: str) -> list[str]:
        """Return the names of an app's migrations in the graph, in name order."""
        return sorted(row["name"] for row in records(self.nodes) if row["app_label"] == app_label)

    def keys(self) -> set[tuple[str, str]]:
        """Return every node as an (app_label, name) pair."""
        return {(row["app_label"], row["name"]) for row in records(self.nodes)}

    def edge_set(self) -> set[tuple[tuple[str, str], tuple[str, str]]]:
        """Return every dependency as (parent, child), each an (app_label, name) pair."""
        return {((e["from_app"], e["from_name"]), (e["to_app"], e["to_name"])) for e in records(self.edges)}

    def applied_keys(self) -> set[tuple[str, str]]:
        """Return the nodes Django counts as applied."""
        return {(row["app_label"], row["name"]) for row in records(self.nodes) if row["applied"]}

    def contrib_apps(self) -> set[str]:
        """Return the labels of Django's own apps (django.contrib and friends), as the probe reported them."""
        return {label for label, info in self.apps.items() if info.get("contrib")}

    def contrib_tables(self) -> set[str]:
        """Return the tables of Django's own apps, django_migrations included, as the probe reported them."""
        return {table for table, owner in self.tables.items() if owner.get("contrib")}


def django_tables(source, given: Iterable[str] | None = None) -> set[str]:
    """Return the tables of Django's own apps: ``given``, or what a sandbox's probe reports (its contrib flag).

    A bare State cannot tell whose tables it holds, so then none is Django's.
    """
    if given is not None:
        return set(given)
    read = getattr(source, "migration_graph", None)
    return read().contrib_tables() if callable(read) else set()


def django_apps(source, given: Iterable[str] | None = None) -> set[str]:
    """Return the labels of Django's own apps: ``given``, or what a sandbox's probe reports (its contrib flag)."""
    if given is not None:
        return set(given)
    read = getattr(source, "migration_graph", None)
    return read().contrib_apps() if callable(read) else set()


NODE_COLUMNS = [
    "app_label",
    "name",
    "applied",
    "recorded",
    "replaces",
    "replaces_recorded",
    "recorded_replaced",
    "replaced_by",
    "initial",
    "operations",
    "data",
]
NODE_DTYPES = {"applied": "bool", "recorded": "bool", "initial": "bool", "data": "bool"}


def graph_from_answer(answer: dict) -> MigrationGraph:
    """Build a MigrationGraph from the probe's JSON answer."""
    rows = [dict(node) for node in answer["nodes"]]
    for row in rows:
        for name in ("replaces", "recorded_replaced"):
            row[name] = [tuple(p) for p in row[name]]
    nodes = make_table(rows, NODE_COLUMNS, dtypes=NODE_DTYPES)
    edges = make_table([(p[0], p[1], c[0], c[1]) for p, c in answer["edges"]], EDGE_COLUMNS)
    squashes = [{**s, "replaces": [tuple(r) for r in s["replaces"]]} for s in answer.get("unused_squashes", [])]
    return MigrationGraph(
        nodes=nodes,
        edges=edges,
        leaf_nodes={app: sorted(names) for app, names in sorted(answer["leaf_nodes"].items())},
        conflicts=answer["conflicts"],
        apps=answer["apps"],
        recorded_unknown=[tuple(k) for k in answer["recorded_unknown"]],
        unused_squashes=squashes,
        tables=answer.get("tables", {}),
    )


def with_recorded(graph: MigrationGraph, recorded: set[tuple[str, str]]) -> MigrationGraph | None:
    """Return the graph as Django would read it with ``recorded`` in django_migrations, if the code is unchanged.

    Without a squash Django's rule is plain (a migration is applied when its
    row is recorded), so after a migrate only the flags change and no Django
    process is needed. With a squash the rules are Django's own (all, some or
    none of what it replaces): return None and let the probe read it.
    """
    rows = records(graph.nodes)
    if graph.unused_squashes or any(row["replaces"] for row in rows):
        return None
    keys = [(row["app_label"], row["name"]) for row in rows]
    flags = [key in recorded for key in keys]
    nodes = with_column(with_column(graph.nodes, "applied", flags), "recorded", flags)
    unknown = sorted(recorded - set(keys))
    return dataclasses.replace(graph, nodes=nodes, recorded_unknown=unknown)


def migration_graph(
    project: Path, settings_module: str, *, python: str | None = None, timeout: float | None = None
) -> MigrationGraph:
    """Return Django's migration graph, as its MigrationLoader builds it for this database; read-only."""
    limit = timeouts.scaled(project, timeout)
    return graph_from_answer(run_probe(project, settings_module, "graph", python=python, timeout=limit))


@dataclass(frozen=True)
class PlanStep:
    """One migration the plan applies (forwards) or unapplies (backwards)."""

    app_label: str
    name: str
    backwards: bool
    operations: list[dict]

    @property
    def irreversible(self) -> list[str]:
        """Return the operations that cannot run in this step's direction."""
        return [operation_text(op, True) for op in self.operations if self.backwards and not op["reversible"]]


@dataclass(frozen=True)
class Plan:
    """The plan ``migrate app_label target`` would run, in order."""

    app_label: str
    target: str
    steps: list[PlanStep]

    @property
    def direction(self) -> str:
        """Return 'forwards', 'backwards' or 'nothing'."""
        if not self.steps:
            return "nothing"
        return "backwards" if self.steps[0].backwards else "forwards"

    @property
    def irreversible(self) -> list[tuple[str, str, str]]:
        """Return (app_label, name, operation) for every step that cannot be unapplied."""
        return [(s.app_label, s.name, op) for s in self.steps for op in s.irreversible]

    def to_frame(self) -> TableLike:
        """Return one row per operation: step, migration, direction, description, reversible."""
        rows = [
            {
                "step": i,
                "app": s.app_label,
                "migration": s.name,
                "direction": "unapply" if s.backwards else "apply",
                "operation": operation_text(op, s.backwards),
                "reversible": op["reversible"],
            }
            for i, s in enumerate(self.steps, 1)
            for op in s.operations
        ]
        return make_table(rows, ["step", "app", "migration", "direction", "operation", "reversible"])

    def __str__(self) -> str:
        if not self.steps:
            return f"Nothing to do: {self.app_label} is already at {self.target}."
        verb = {"forwards": "Apply", "backwards": "Unapply"}
        lines = [f"Plan for migrate {self.app_label} {self.target} ({self.direction}):"]
        for s in self.steps:
            lines.append(f"  {verb['backwards' if s.backwards else 'forwards']} {s.app_label}.{s.name}")
            lines.extend(f"    {_describe_step_operation(s, op)}" for op in s.operations)
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))


def _describe_step_operation(step: PlanStep, op: dict) -> str:
    """Describe one operation as migrate --plan does: 'Undo ...' backwards, marked if irreversible."""
    text = operation_text(op, step.backwards)
    if not step.backwards:
        return f"- {text}"
    if not op["reversible"]:
        return f"! {text} -> IRREVERSIBLE"
    return f"- Undo {text}"


def operation_text(op: dict, backwards: bool = False) -> str:
    """Describe an operation; for RunPython and RunSQL, name the code that runs in this direction."""
    code = op.get("code")
    if not code:
        return op["description"]
    ran = code.get("backwards" if backwards else "forwards")
    if op["operation"] == "RunPython":
        if ran is None:
            forwards = code.get("forwards")
            named = f" {forwards['name']}()" if forwards else ""
            return f"RunPython{named} has no reverse function"
        return f"RunPython {ran['name']}()" + (f": {ran['doc']}" if ran["doc"] else "")
    if ran is None:
        return "RunSQL has no reverse SQL"
    return "RunSQL: " + " ".join(str(ran).split())[:120]


def plan(
    project: Path,
    settings_module: str,
    app_label: str,
    target: str,
    *,
    python: str | None = None,
    timeout: float | None = None,
    kept: Path | None = None,
) -> Plan:
    """Return the forwards or backwards plan of ``migrate app_label target``; read-only.

    ``kept`` is a file of steps read earlier for the same code (widgets.sandbox.state_cache): reused as they are.
    """
    limit = timeouts.scaled(project, timeout)
    args = ("plan", app_label, target, str(kept or ""))
    answer = run_probe(project, settings_module, *args, python=python, timeout=limit)
    return plan_from_steps(app_label, target, answer["steps"])


def preview(
    project: Path,
    settings_module: str,
    app_label: str,
    target: str,
    *,
    python: str | None = None,
    other: dict | None = None,
    timeout: float | None = None,
    kept: Path | None = None,
) -> dict:
    """Return the plan of ``migrate app_label target`` with each step's SQL and rows lost, in one probe; read-only.

    ``other`` ({"postgresql": DATABASES entry}) collects each step's SQL on that database instead.
    ``timeout`` (seconds) defaults to a limit that grows with the number of migrations.
    ``kept`` is a file of steps read earlier for the same code (widgets.sandbox.state_cache): reused as they are.
    """
    vendor = next(iter(other), "") if other else ""
    given = json.dumps(other) if other else None
    limit = timeouts.scaled(project, timeout)
    args = ("preview", app_label, target, vendor, str(kept or ""))
    return run_probe(project, settings_module, *args, python=python, input=given, timeout=limit)


def sql_compare(
    project: Path,
    settings_module: str,
    app_label: str,
    name: str,
    *,
    python: str | None = None,
    other: dict | None = None,
) -> dict:
    """Return one migration's SQL forwards and backwards on SQLite and PostgreSQL, in one probe; read-only."""
    given = json.dumps(other) if other else None
    return run_probe(project, settings_module, "sql_compare", app_label, name, python=python, input=given)


def plan_from_steps(app_label: str, target: str, steps: list[dict]) -> Plan:
    """Build a Plan from the probe's steps, leaving out what only a preview carries."""
    fields = ("app_label", "name", "backwards", "operations")
    return Plan(app_label, target, [PlanStep(**{k: step[k] for k in fields}) for step in steps])
