"""Read a project's migration state with Django's own loader; print it as JSON.

Run by the kit as ``python _probe.py COMMAND ...`` with the sandbox as the
working directory. Read-only: the database is read through a read-only
connection (SQLite's mode=ro; on PostgreSQL the kit's reader role with
read-only transactions) and Django's own connection is never opened, except
read-only for a preview.
"""

import contextlib
import functools
import json
import os
import sqlite3
import sys
import traceback
from pathlib import Path

#: Starts the probe's one line of JSON; the kit (widgets/state.py) imports it from here.
MARKER = "@@migration-kit@@"


def main(argv):
    """Run one probe command and print its JSON answer after the marker."""
    # Like manage.py: the project folder, not this file's folder, comes first.
    sys.path[0] = os.getcwd()
    sys.stdout.write(MARKER + json.dumps(answer(argv), default=str) + "\n")


def answer(argv):
    """Run one probe command and return its answer; a failure is an answer too (the kit diagnoses it)."""
    try:
        return COMMANDS[argv[0]](*argv[1:])
    except Exception as exc:
        found = {"type": type(exc).__name__, "message": str(exc), "traceback": traceback.format_exc()}
        # SQLite's code says whether the database file itself is at fault (locked, damaged, half-done).
        found["sqlite"] = getattr(exc, "sqlite_errorname", None)
        return {"error": found}


def _setup(read_only_connection=False):
    """Set Django up with its connection sealed (or read-only) and the recorder read from the file."""
    import django
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.migrations.recorder import MigrationRecorder

    def sealed(self):
        raise RuntimeError("the kit's state probe never opens Django's database connection")

    if not read_only_connection:
        BaseDatabaseWrapper.ensure_connection = sealed
    django.setup()
    rows = _recorded_rows()
    if read_only_connection:
        _open_read_only()
    MigrationRecorder.applied_migrations = lambda self: dict(rows)


def _open_read_only():
    """Point Django's connection at the same database, read-only (SQLite's mode=ro, PostgreSQL's read-only role)."""
    from django.db import connection

    connection.close()
    if _is_postgresql():
        _read_only_postgresql(connection.settings_dict)
        return
    path = _database_file()
    if path is None:
        raise RuntimeError("the kit's preview reads SQLite and PostgreSQL databases only")
    name = f"{path.resolve().as_uri()}?mode=ro" if path.is_file() else "file:kit-preview?mode=memory"
    connection.settings_dict["NAME"] = name


def _read_only_postgresql(settings_dict):
    """Make a PostgreSQL settings entry read-only: the kit's reader role, read-only transactions by default."""
    from django.conf import settings

    reader = getattr(settings, "KIT_READ_ONLY_USER", None)
    if reader:
        settings_dict["USER"] = reader
        settings_dict["PASSWORD"] = ""
    options = dict(settings_dict.get("OPTIONS") or {})
    options["options"] = f"{options.get('options', '')} -c default_transaction_read_only=on".strip()
    options["application_name"] = "migration kit (read-only)"
    settings_dict["OPTIONS"] = options


def _is_postgresql():
    from django.conf import settings

    return "postgresql" in settings.DATABASES["default"]["ENGINE"]


def _database_file():
    """Return the default database's SQLite file, or None for another engine."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    return Path(db["NAME"]) if "sqlite3" in db["ENGINE"] else None


def _recorded_rows():
    """Return the django_migrations rows keyed by (app, name), read-only."""
    if _is_postgresql():
        return _recorded_rows_postgresql()
    path = _database_file()
    if path is None or not path.is_file():
        return {}
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
        has_table = db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='django_migrations'").fetchone()
        if not has_table:
            return {}
        return {
            (app, name): {"app": app, "name": name}
            for app, name in db.execute("SELECT app, name FROM django_migrations")
        }


def _recorded_rows_postgresql():
    """Read django_migrations through psycopg on a read-only session, never through Django's connection."""
    import psycopg
    from django.db import connections

    wrapper = connections["default"]
    settings_dict = {**wrapper.settings_dict, "OPTIONS": dict(wrapper.settings_dict.get("OPTIONS") or {})}
    _read_only_postgresql(settings_dict)
    params = type(wrapper)(settings_dict).get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as db:
        if db.execute("SELECT to_regclass('django_migrations')").fetchone()[0] is None:
            return {}
        return {
            (app, name): {"app": app, "name": name}
            for app, name in db.execute("SELECT app, name FROM django_migrations")
        }


def graph():
    """Describe Django's own migration graph: nodes, dependencies, leaf nodes, conflicts, squashes."""
    _setup()
    from django.apps import apps
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.recorder import MigrationRecorder

    recorded = set(MigrationRecorder(connection).applied_migrations())
    # The loader after build_graph: a squash stands in for what it replaces when all or none of
    # those are recorded, and is dropped (its dependants remapped) when only some are.
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    graph = loader.graph
    unused = {key: m for key, m in loader.replacements.items() if key not in graph.nodes}
    replaced_by = {old: key for key, m in unused.items() for old in m.replaces}
    nodes = [
        _node(key, graph.nodes[key], key in loader.applied_migrations, recorded, replaced_by)
        for key in sorted(graph.nodes)
    ]
    edges = sorted([list(parent.key), list(key)] for key, node in graph.node_map.items() for parent in node.parents)
    leaves = {}
    for app_label, name in graph.leaf_nodes():
        leaves.setdefault(app_label, []).append(name)
    configs = {c.label: {"module": c.name, "contrib": _is_contrib(c.name)} for c in apps.get_app_configs()}
    return {
        "nodes": nodes,
        "edges": edges,
        "leaf_nodes": leaves,
        "conflicts": {app: sorted(names) for app, names in loader.detect_conflicts().items()},
        "apps": configs,
        "unmigrated_apps": sorted(loader.unmigrated_apps),
        "recorded_unknown": sorted([list(k) for k in recorded - set(loader.disk_migrations)]),
        "unused_squashes": [_squash(key, m, recorded) for key, m in sorted(unused.items())],
        "tables": _model_tables(apps),
    }


def _is_contrib(module):
    """Return whether an app is one of Django's own (django.contrib and friends): the kit's one rule for it."""
    return module.startswith("django.")


def _model_tables(apps):
    """Return each table Django's models own: its app_label and whether that app is Django's own.

    django_migrations belongs to Django's recorder, which is not an installed app.
    """
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder.Migration._meta.db_table
    owned = {recorder: {"app_label": "migrations", "contrib": True}}
    for model in apps.get_models(include_auto_created=True):
        config = model._meta.app_config
        owned[model._meta.db_table] = {"app_label": model._meta.app_label, "contrib": _is_contrib(config.name)}
    return dict(sorted(owned.items()))


def _node(key, migration, applied, recorded, replaced_by):
    """Describe one node of the graph, with what it replaces and its operations."""
    replaces = [list(r) for r in migration.replaces]
    return {
        "app_label": key[0],
        "name": key[1],
        "applied": applied,
        "recorded": key in recorded,
        "replaces": replaces,
        "replaces_recorded": sum(tuple(r) in recorded for r in replaces),
        "recorded_replaced": [r for r in replaces if tuple(r) in recorded],
        "replaced_by": replaced_by.get(key, (None, None))[1],
        "initial": _initial(migration),
        "operations": [_safe_describe(op) for op in migration.operations],
        "data": any(type(op).__name__ in ("RunPython", "RunSQL") for op in migration.operations),
    }


def _squash(key, migration, recorded):
    """Describe a squash Django does not use because only some of what it replaces is recorded."""
    replaces = [list(r) for r in migration.replaces]
    return {
        "app_label": key[0],
        "name": key[1],
        "replaces": replaces,
        "replaces_recorded": sum(tuple(r) in recorded for r in replaces),
    }


def _safe_describe(operation):
    """Return Django's one-line description of an operation, or its class name if that fails."""
    try:
        return operation.describe()
    except Exception:  # A third-party operation may not describe itself without a database.
        return type(operation).__name__


def _initial(migration):
    """Return whether Django treats the migration as initial (None means: no parent in its app)."""
    if migration.initial is not None:
        return bool(migration.initial)
    return not any(app == migration.app_label for app, _name in migration.dependencies)


def plan(app_label, target, kept=""):
    """Describe the plan `migrate app_label target` would run, step by step.

    ``kept`` names a file of steps read earlier for the same code (state_cache's ``steps``): those are
    taken as they are, so only the steps never read build a state.
    """
    _setup()
    return _plan(app_label, target, with_sql=False, kept=_kept(kept))


def preview(app_label, target, vendor="", kept=""):
    """Describe the plan with each step's SQL, as sqlmigrate prints it, and the rows each drop loses.

    One process for the whole preview: Django's connection is opened read-only
    (SQLite's mode=ro, PostgreSQL's read-only role), because collecting SQL
    asks the schema editor, as sqlmigrate does. With ``vendor`` naming the
    other database ('postgresql' for a SQLite sandbox), each step's SQL is the
    SQL Django would run there (its connection comes on stdin, read-only).
    """
    _setup(read_only_connection=True)
    return _plan(app_label, target, with_sql=True, sql_vendor=vendor or None, kept=_kept(kept))


def _kept(path):
    """Return the steps kept for this code, keyed "app name b|f" ({} when there are none or they are unreadable)."""
    if not path:
        return {}
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _from_kept(step, connection, tables):
    """Return a kept step with this database's rows counted (a preview) or without SQL and rows (a plan)."""
    if tables is None:
        step.pop("sql", None)
        step.pop("rows", None)
        for op in step["operations"]:
            for dropped in op["drops"]:
                dropped.pop("rows_lost", None)
        return step
    for op in step["operations"]:
        for dropped in op["drops"]:
            dropped["rows_lost"] = _rows(connection, tables, dropped["table"], dropped["column"])
    if step.get("rows") is not None:
        step["rows"] = {table: _rows(connection, tables, table, None) for table in step["rows"]}
    return step


def sql_compare(app_label, name):
    """Collect one migration's SQL, forwards and backwards, for SQLite and PostgreSQL in one process.

    The sandbox's own database is read through its read-only connection; the
    other one is an empty database (SQLite in memory, or the PostgreSQL
    connection given on stdin), enough for what sqlmigrate prints.
    """
    _setup(read_only_connection=True)
    from django.db import connection

    answer = {"vendor": connection.vendor, "sql": {}}
    for vendor in ("sqlite", "postgresql"):
        other = connection if vendor == connection.vendor else _other_connection(vendor)
        if other is None:
            answer["sql"][vendor] = None
            continue
        loader = _loader(other)
        migration = _migration(loader, app_label, name)
        if isinstance(migration, dict):
            return migration
        answer["name"] = migration.name
        state_before = functools.partial(loader.project_state, (migration.app_label, migration.name), at_end=False)
        answer["sql"][vendor] = {
            "forwards": _sql(other, migration, False, state_before),
            "backwards": _sql(other, migration, True, state_before),
        }
    return answer


def _other_connection(vendor):
    """Return a connection to an empty database of the other engine, or None if the kit gave none."""
    from django.db.utils import ConnectionHandler

    if vendor == "sqlite":
        entry = {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    else:
        given = json.loads(sys.stdin.read() or "{}") if not sys.stdin.isatty() else {}
        entry = given.get("postgresql")
        if not entry:
            return None
        entry.setdefault("OPTIONS", {})["options"] = "-c default_transaction_read_only=on"
        entry["OPTIONS"]["application_name"] = "migration kit (read-only)"
    return ConnectionHandler({"default": entry})["default"]


def _loader(connection):
    from django.db.migrations.loader import MigrationLoader

    return MigrationLoader(connection, ignore_no_migrations=True)


def _migration(loader, app_label, name):
    """Return the app's migration named by a unique prefix, or a refusal the kit turns into a sentence."""
    if app_label not in loader.migrated_apps:
        return _refusal("UnknownApp", app_label, sorted(loader.migrated_apps))
    known = sorted(n for app, n in loader.disk_migrations if app == app_label)
    matches = [n for n in known if n.startswith(name)]
    if len(matches) != 1:
        return _refusal("AmbiguousTarget" if matches else "UnknownTarget", name, matches or known)
    return loader.disk_migrations[(app_label, matches[0])]


@contextlib.contextmanager
def _swappable_names_kept():
    """Keep the installed apps' swappable setting names for the call, whatever state apps are made meanwhile.

    Django caches Apps.get_swappable_settings_name on the method, one cache
    for every registry, and each model a state registers clears it; every
    related field a state renders then walks every installed model again. The
    same function, cached on the installed registry alone, gives the same
    names: they depend on the settings and the installed models only, which a
    call never changes (the installed registry's own clear_cache still clears it).
    """
    from django.apps import apps

    unwrapped = getattr(type(apps).get_swappable_settings_name, "__wrapped__", None)
    if unwrapped is None or "get_swappable_settings_name" in vars(apps):  # another Django, or kept already
        yield
        return
    apps.get_swappable_settings_name = functools.cache(unwrapped.__get__(apps))
    try:
        yield
    finally:
        del apps.get_swappable_settings_name


def _plan(app_label, target, with_sql, sql_vendor=None, kept=None):
    """Describe the plan of ``migrate app_label target``, with each step's SQL when ``with_sql``."""
    with _swappable_names_kept():
        return _plan_steps(app_label, target, with_sql, sql_vendor, kept)


def _plan_steps(app_label, target, with_sql, sql_vendor=None, kept=None):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    loader = executor.loader
    if app_label not in loader.migrated_apps:
        return _refusal("UnknownApp", app_label, sorted(loader.migrated_apps))
    node = (app_label, None)
    if target != "zero":
        known = sorted(name for app, name in loader.disk_migrations if app == app_label)
        matches = [name for name in known if name.startswith(target)]
        if len(matches) != 1:
            return _refusal("AmbiguousTarget" if matches else "UnknownTarget", target, matches or known)
        node = (app_label, matches[0])
    tables = _existing_tables(connection) if with_sql else None
    sql_on = None
    if sql_vendor and sql_vendor != connection.vendor:
        sql_on = _other_connection(sql_vendor)
    states = _StatesBefore(loader)
    plan = executor.migration_plan([node])
    # Build the states earliest first (shortest forwards plan first): each then starts from one already built.
    steps = [None] * len(plan)
    for index, (migration, backwards) in enumerate(plan):
        found = (kept or {}).get(f"{migration.app_label} {migration.name} {'b' if backwards else 'f'}")
        if found is not None and (tables is None or "sql" in found):
            steps[index] = _from_kept(found, connection, tables)
    missing = [i for i, step in enumerate(steps) if step is None]
    for index in sorted(missing, key=lambda i: len(states.plan_of((plan[i][0].app_label, plan[i][0].name)))):
        migration, backwards = plan[index]
        steps[index] = _step(loader, connection, migration, backwards, tables, states, sql_on)
    return {"target": [app_label, node[1]], "steps": steps, "sql_vendor": (sql_on or connection).vendor}


class _StatesBefore:
    """Django's project state just before each migration, as ``loader.project_state(key, at_end=False)`` gives it.

    Django builds each one from scratch by replaying every ancestor
    (``forwards_plan(key)`` minus the key), so a plan of n steps costs n full
    replays. ``forwards_plan`` is a post-order depth-first
    walk that visits the largest parent first, so the plan of some earlier
    node is very often exactly the start of the key's plan: the state after
    that node, kept once built, plus the few migrations that follow is the
    same replay, in the same order, as Django's. The states are never
    rendered: mutating model states costs microseconds, while rendering (or
    reloading a model that a hundred others point at) costs seconds on a big
    project. What a step reads is rendered on its own, and only the models it
    needs (``_rendered``). Nor is a state cloned whole: each copy clones only
    the model states its operations change (``_copy_for``).
    """

    def __init__(self, loader):
        self.loader = loader
        self.graph = loader.graph
        self.plans = {}
        self.after = {}  # key -> the rendered state after key, replayed in forwards_plan(key) order

    def plan_of(self, key):
        """Return Django's forwards plan of one node, as a tuple (kept: states of a plan share them)."""
        if key not in self.plans:
            self.plans[key] = tuple(self.graph.forwards_plan(key))
        return self.plans[key]

    def __call__(self, key):
        """Return the state before ``key``; the caller must not change it (clone it first)."""
        plan = self.plan_of(key)[:-1]
        base, start = None, 0
        for index in range(len(plan) - 1, -1, -1):
            node = plan[index]
            if node in self.after and len(self.plan_of(node)) == index + 1 and self.plan_of(node) == plan[: index + 1]:
                base, start = self.after[node], index + 1
                break
        return self._replay(base, plan[start:])

    def state_after(self, key, before):
        """Return the state after ``key`` from the state before it, and keep it for the keys that follow."""
        if key not in self.after:
            migration = self.graph.nodes[key]
            if _own_mutate_state(migration):
                self.after[key] = migration.mutate_state(before, preserve=True)
            else:
                self.after[key] = migration.mutate_state(_copy_for(before, [migration]), preserve=False)
        return self.after[key]

    def around_operations(self, key, before):
        """Return (state before, state after) each operation of ``key``, and keep the last as the state after it.

        A squash that adds a field and later renames it in the same migration
        has the field only between those two operations: each operation is
        described from the states around it, not around the whole migration.
        """
        migration = self.graph.nodes[key]
        if len(migration.operations) <= 1:
            return [(before, self.state_after(key, before))] * len(migration.operations)
        around, state = [], before
        for operation in migration.operations:
            following = _copy_for(state, [migration], [operation])
            operation.state_forwards(migration.app_label, following)
            around.append((state, following))
            state = following
        self.after.setdefault(key, state)
        return around

    def _replay(self, base, nodes):
        """Return a new state, never rendered: ``base`` (None: empty) with ``nodes`` applied in order."""
        from django.db.migrations.state import ProjectState

        if base is not None and not nodes:
            return base
        if base is None:
            state = ProjectState(real_apps=self.loader.unmigrated_apps)
        else:
            state = _copy_for(base, [self.graph.nodes[node] for node in nodes])
        for node in nodes:
            state = self.graph.nodes[node].mutate_state(state, preserve=False)
        return state


def _copy_for(state, migrations, operations=None):
    """Return a copy of a state for the migrations' operations (or ``operations`` of the one migration) to change.

    What ProjectState.clone returns, without cloning every model state (a
    big project's migration of many operations cloned them all per operation):
    Django's own operations change the fields, options and managers of only
    the model states they name (a RenameModel also those pointing at it: then,
    as for an operation the kit does not know, all are cloned), and the Field
    objects they change in place (RenameField's references) are shared by a
    clone too. The copy holds the same models in the same order, and no
    relations yet, as a clone; the model states nothing changes are shared.
    """
    from django.db.migrations.state import ProjectState

    keys = set()
    for migration in migrations:
        found = _state_changes(migration.app_label, operations or migration.operations)
        rendered = "apps" in state.__dict__  # a rendered state is cloned with its apps, as Django does
        if found is None or rendered or _own_mutate_state(migration):
            return state.clone()
        keys |= found
    copy = ProjectState(
        models={k: v.clone() if k in keys else v for k, v in state.models.items()}, real_apps=state.real_apps
    )
    copy.is_delayed = state.is_delayed
    return copy


def _own_mutate_state(migration):
    """Return whether a migration's class changes the state its own way (not Django's Migration.mutate_state)."""
    from django.db.migrations import Migration

    return type(migration).mutate_state is not Migration.mutate_state


def _state_changes(app_label, operations):
    """Return the keys of the model states operations' state_forwards change in place, or None if it may be any."""
    keys, pending = set(), list(operations)
    while pending:
        operation = pending.pop()
        name = type(operation).__name__
        if not type(operation).__module__.startswith("django.db.migrations."):
            return None
        if name in ("RunSQL", "SeparateDatabaseAndState"):
            pending.extend(operation.state_operations)
        elif name in _NAMED_STATE_CHANGES:
            keys.add((app_label, getattr(operation, "model_name_lower", None) or operation.name_lower))
        elif name != "RunPython":
            return None
    return keys


def _step(loader, connection, migration, backwards, tables, states, sql_on=None):
    """Describe one step; with ``tables`` (a preview), add its SQL and the rows its drops lose."""
    key = (migration.app_label, migration.name)
    before = states(key)
    around = states.around_operations(key, before)
    step = {
        "app_label": migration.app_label,
        "name": migration.name,
        "backwards": backwards,
        "operations": [
            _describe(migration, op, backwards, *states_around)
            for op, states_around in zip(migration.operations, around, strict=True)
        ],
    }
    if tables is not None:
        # The project state does not depend on the database: the SQL of another vendor comes from the same one.
        step["sql"] = _sql(sql_on or connection, migration, backwards, lambda: before, states.after.get(key))
        for op in step["operations"]:
            for dropped in op["drops"]:
                dropped["rows_lost"] = _rows(connection, tables, dropped["table"], dropped["column"])
        if backwards and any(type(op).__name__ in PUTS_BACK for op in migration.operations):
            step["rows"] = _rows_of_touched(connection, tables, migration, before, states.after.get(key))
    return step


# Reverse operations that put a constraint back over rows (widgets/read/rollback.py decides with the rows).
PUTS_BACK = {"RemoveField", "AlterField", "RemoveConstraint", "RemoveIndex", "AlterUniqueTogether"}


def _rows_of_touched(connection, tables, migration, before, after):
    """Return {table: rows now} for every table of the models a step changes, or None if the kit cannot tell.

    A constraint put back on the way back (NOT NULL, UNIQUE, a foreign key) can only be refused by rows
    that are there: with the tables empty, and no code in the plan to fill them, the step cannot fail.
    """
    touched = _changed_models(migration)
    if touched is None:
        return None
    found = {}
    for state in [s for s in (before, after) if s is not None]:
        for key in touched & set(state.models):
            table = _table_name(state.models[key])
            found[table] = _rows(connection, tables, table, None)
    return found


def _sql(connection, migration, backwards, state_before, state_after=None):
    """Return the step's SQL exactly as sqlmigrate prints it, or the error that stops sqlmigrate.

    ``state_before`` returns the project state before the migration (built
    inside the try: Django may fail there too, as sqlmigrate would);
    ``state_after``, when given, is the state after it (else it is replayed).
    """
    try:
        # What loader.collect_sql does for one step, from a state given (apply and unapply change it: clone).
        given = state_before()
        restricted = _for_sql_restricted(migration, given, state_after)
        ways = [lambda: _collect(connection, migration, backwards, _unrendered(given))]  # sqlmigrate's own way
        if restricted is not None:
            ways.insert(0, lambda: _collect(connection, migration, backwards, _unrendered(restricted)))
            if backwards:
                ways.insert(0, lambda: _unapply_sql(connection, migration, _unrendered(restricted)))
        statements = _first_answer(ways)
    except Exception as exc:  # IrreversibleError and friends: sqlmigrate fails the same way
        return {"error": {"type": type(exc).__name__, "message": str(exc), "module": type(exc).__module__}}
    text = "\n".join(statements)
    # sqlmigrate wraps atomic migrations in BEGIN/COMMIT where DDL can roll back (BaseCommand.execute).
    if text and migration.atomic and connection.features.can_rollback_ddl:
        text = f"{connection.ops.start_transaction_sql()}\n{text}\n{connection.ops.end_transaction_sql()}"
    return {"text": text}


def _first_answer(ways):
    """Return what the first of the ways that does not raise returns; raise what the last one raised.

    The faster ways read less of the state: when one of them fails, something
    it left out may have been read, and the next way reads more (the last, all
    of it). A failure that does not depend on the state is the answer at once.
    """
    for way in ways[:-1]:
        try:
            return way()
        except Exception as exc:
            if not _state_may_be_short(exc):
                raise
    return ways[-1]()


def _state_may_be_short(exc):
    """Return False for a failure any state gives: an irreversible operation, or the database's own answer.

    Django says an operation is irreversible before it reads any state, and a
    schema editor's ValueError (a constraint it looked for in the database and
    did not find) comes from the database, which is the same whatever is rendered.
    """
    from django.db import DatabaseError
    from django.db.migrations.exceptions import IrreversibleError

    if isinstance(exc, (IrreversibleError, DatabaseError)):
        return False
    frames = traceback.extract_tb(exc.__traceback__)
    in_editor = bool(frames) and f"{os.sep}django{os.sep}db{os.sep}backends{os.sep}" in frames[-1].filename
    return not (type(exc) is ValueError and in_editor)


def _unrendered(state):
    """Return an unrendered copy of a state, as sqlmigrate starts from (applying and unapplying change it).

    SQLite rebuilds a table with its columns in the order of the fields'
    creation, and an operation that puts a field of one state into a model of
    the other (AddField forwards, AlterField, RenameModel, ...) orders them by
    when Django rendered each state: a state rendered earlier would give other
    text than sqlmigrate, so Django renders this one, as sqlmigrate does.
    """
    from django.db.migrations.state import ProjectState

    return ProjectState(models={k: v.clone() for k, v in state.models.items()}, real_apps=state.real_apps)


def _for_sql_restricted(migration, state, after=None):
    """Return an unrendered state holding only what the step's SQL reads, or None to use all of it.

    Django renders the state given to sqlmigrate whole, twice per operation
    (before and after it); in a project where every model points at every
    other that is the whole project, hundreds of times. What the schema editor
    reads is less: the models the step changes (with their explicit
    through models and bases), the models pointing at them when a primary
    or unique key or a model's name changes (their foreign keys follow it),
    and, of each model those point at, its table and keys only (a stub: what
    a foreign key's column and REFERENCES read). The states are rendered in
    the same order as sqlmigrate renders them, so the SQL is the same text:
    SQLite orders a rebuilt table's columns by when each field was made.
    """
    from django.db.migrations.state import ProjectState

    if after is None:
        models = {k: v.clone() for k, v in state.models.items()}
        after = migration.mutate_state(ProjectState(models=models, real_apps=state.real_apps), preserve=False)
    touched = _changed_models_of(migration.app_label, migration.operations, database=True)
    if touched is None or touched >= set(state.models):  # an operation the kit does not know, or everything changes
        return None
    if _reads_referrers(migration, state, after):
        touched = _with_referrers(state, touched) | _with_referrers(after, touched)
    whole = _with_parts(state, touched) | _with_parts(after, touched)
    models = _whole_and_stubs(state, whole, _stub_keys(state, whole) | _stub_keys(after, whole), clone=True)
    return ProjectState(models=models, real_apps=state.real_apps)


# Operations whose SQL reads only the models they name (and what those point at), by Django's own schema editors.
_LOCAL_OPERATIONS = {
    "CreateModel", "DeleteModel", "AlterModelTable", "AlterModelTableComment", "AlterUniqueTogether",
    "AlterIndexTogether", "AlterOrderWithRespectTo", "AlterModelOptions", "AlterModelManagers", "AddIndex",
    "RemoveIndex", "RenameIndex", "AddConstraint", "RemoveConstraint", "AlterConstraint", "AddField",
    "RemoveField", "AlterField", "RenameField", "RunPython", "RunSQL", "SeparateDatabaseAndState",
}  # fmt: skip
# Django's operations whose state_forwards changes only the model state they name (name or model_name).
_NAMED_STATE_CHANGES = _LOCAL_OPERATIONS - {"RunPython", "RunSQL", "SeparateDatabaseAndState"}


def _reads_referrers(migration, before, after):
    """Return whether the step's SQL reads the models pointing at what it changes.

    A schema editor follows foreign keys to a model only when a key they
    point at changes (``_related_non_m2m_objects``: a primary or unique
    field altered or renamed) or the model is renamed; an operation the kit
    does not know may do anything.
    """
    pending = list(migration.operations)
    while pending:
        operation = pending.pop()
        name = type(operation).__name__
        if name not in _LOCAL_OPERATIONS or not type(operation).__module__.startswith("django.db.migrations"):
            return True
        pending.extend(getattr(operation, "state_operations", None) or [])
        pending.extend(getattr(operation, "database_operations", None) or [])
        if name in ("AlterField", "RenameField"):
            key = (migration.app_label, operation.model_name_lower)
            names = {getattr(operation, a, None) for a in ("name", "old_name", "new_name")} - {None}
            for state in (before, after):
                fields = state.models[key].fields if key in state.models else {}
                if any(fields[n].unique for n in names if n in fields):  # a primary key is unique too
                    return True
            if getattr(operation, "field", None) is not None and operation.field.unique:
                return True
    return False


def _with_parts(state, keys):
    """Return the keys with what rendering them reads in full: their bases and explicit through models."""
    found, pending = set(), list(keys)
    while pending:
        key = pending.pop()
        if key in found:
            continue
        found.add(key)
        model = state.models.get(key)
        if model is None:
            continue
        pending.extend(_bases_of(model))
        for field in model.fields.values():
            through = getattr(field.remote_field, "through", None) if field.is_relation else None
            if through is not None:
                pending.append(_related_key(through, model.app_label))
    return found


def _stub_keys(state, whole, start=None):
    """Return the models the whole ones (or ``start``) point at, not whole themselves, with what their stubs point at."""
    stubs = set()
    pending = (
        list(start) if start is not None else [t for k in whole if k in state.models for t in _targets(state.models[k])]
    )
    while pending:
        key = pending.pop()
        if key in stubs or key in whole or key not in state.models:
            continue
        stubs.add(key)
        model = state.models[key]
        pending.extend(_bases_of(model))
        for field in model.fields.values():
            if field.unique and field.is_relation and field.remote_field.model != "self":
                pending.append(_related_key(field.remote_field.model, model.app_label))
    return stubs


def _whole_and_stubs(state, whole, stubs, clone=False):
    """Return the state's models, in its order: the whole ones as they are (or cloned), stubs for the others named."""
    models = {}
    for key, model in state.models.items():
        if key in whole:
            models[key] = model.clone() if clone else model
        elif key in stubs:
            models[key] = _stub(model)
    return models


def _bases_of(model_state):
    """Return the models a model state inherits from (its bases named by label)."""
    return [
        _related_key(b, model_state.app_label) for b in model_state.bases if isinstance(b, str) and b.count(".") == 1
    ]


def _stub(model_state):
    """Return a model state with only what a foreign key to it reads: its table, bases and unique keys."""
    from django.db.migrations.state import ModelState

    fields = [(name, field.clone()) for name, field in model_state.fields.items() if field.unique]
    options = {k: v for k, v in model_state.options.items() if k in _STUB_OPTIONS}
    return ModelState(model_state.app_label, model_state.name, fields, options, model_state.bases, [])


# What a foreign key's column and REFERENCES read of its target, and whether the target has a table at all.
_STUB_OPTIONS = ("db_table", "managed", "proxy", "swappable", "abstract", "db_tablespace", "default_related_name")


def _collect(connection, migration, backwards, state):
    """Return the SQL statements of applying or unapplying one migration from a state (which it changes)."""
    with connection.schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
        if backwards:
            migration.unapply(state, editor, collect_sql=True)
        else:
            migration.apply(state, editor, collect_sql=True)
    return editor.collected_sql


def _unapply_sql(connection, migration, state):
    """Return the SQL of unapplying a migration as ``Migration.unapply`` collects it, each operation from its own states.

    Django's unapply clones the whole state twice per operation and renders
    both clones while it undoes that operation; the SQL reads only the models
    the operation names (``_for_operation``). So each operation's two states
    hold those models and stubs, rendered in the same order as Django renders
    its clones (the operations in reverse, each clone when first read):
    the same text, without rendering a hundred models per operation.
    """
    from django.db.migrations.exceptions import IrreversibleError
    from django.db.transaction import atomic

    to_run = []
    for operation in migration.operations:  # phase 1 of Migration.unapply: the states around each operation
        if not operation.reversible:
            raise IrreversibleError(f"Operation {operation} in {migration} is not reversible")
        old_state = _for_operation(migration.app_label, operation, state)
        new_state = old_state.clone()
        operation.state_forwards(migration.app_label, new_state)
        operation.state_forwards(migration.app_label, state)
        to_run.insert(0, (operation, old_state, new_state))
    with connection.schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
        for operation, to_state, from_state in to_run:  # phase 2, as Django writes it
            editor.collected_sql.extend(["--", f"-- {operation.describe()}", "--"])
            if not operation.reduces_to_sql:
                editor.collected_sql.append("-- THIS OPERATION CANNOT BE WRITTEN AS SQL")
                continue
            collected_before = len(editor.collected_sql)
            if not editor.atomic_migration and (
                operation.atomic or (migration.atomic and operation.atomic is not False)
            ):
                with atomic(editor.connection.alias):
                    operation.database_backwards(migration.app_label, editor, from_state, to_state)
            else:
                operation.database_backwards(migration.app_label, editor, from_state, to_state)
            if collected_before == len(editor.collected_sql):
                editor.collected_sql.append("-- (no-op)")
    return editor.collected_sql


def _for_operation(app_label, operation, state):
    """Return an unrendered copy of what one operation's SQL reads of the state: its models whole, stubs of the rest.

    Raise LookupError for an operation the kit does not know (the caller then asks Django with the whole state).
    """
    from django.db.migrations.state import ProjectState

    touched = _changed_models_of(app_label, [operation], database=True)
    if touched is None:
        raise LookupError(f"{type(operation).__name__} may read any model")
    if _operation_reads_referrers(app_label, operation, state):
        touched = _with_referrers(state, touched)
    whole = _with_parts(state, touched)
    stubs = _stub_keys(state, whole) | _stubs_of_new(app_label, operation, state, whole)
    return ProjectState(models=_whole_and_stubs(state, whole, stubs, clone=True), real_apps=state.real_apps)


def _stubs_of_new(app_label, operation, state, whole):
    """Return stubs for what the fields and bases an operation brings point at (they are not in the state yet)."""
    from django.db.migrations.state import ModelState

    fields = [("field", operation.field)] if getattr(operation, "field", None) is not None else []
    fields += list(getattr(operation, "fields", None) or [])
    bases = [b for b in getattr(operation, "bases", None) or [] if isinstance(b, str)]
    pending = getattr(operation, "database_operations", None) or []
    found = set()
    for inner in pending:
        found |= _stubs_of_new(app_label, inner, state, whole)
    if not fields and not bases:
        return found
    brought = ModelState(app_label, "_brought", fields=[], bases=tuple(bases) or (), managers=[])
    brought.fields = dict(fields)  # not cloned: only read for the models they point at
    return found | _stub_keys(state, whole, start=_targets(brought))


def _operation_reads_referrers(app_label, operation, state):
    """Return whether one operation's SQL reads the models pointing at what it changes (as ``_reads_referrers``)."""
    from django.db.migrations.state import ProjectState

    migration = type("Step", (), {"app_label": app_label, "operations": [operation]})
    return _reads_referrers(migration, state, ProjectState())


def _existing_tables(connection):
    """Return the tables the database has now, or none if there is no database yet."""
    try:
        with connection.cursor() as cursor:
            return set(connection.introspection.table_names(cursor))
    except Exception:
        return set()


def _rows(connection, tables, table, column):
    """Return the rows of a table that would be dropped, or the non-empty values of a column."""
    if table not in tables:
        return 0
    quote = connection.ops.quote_name
    counted = "*" if column is None else quote(column)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT({counted}) FROM {quote(table)}")
            return int(cursor.fetchone()[0])
    except Exception:  # the column is already gone: nothing left to lose
        return 0


def _refusal(kind, value, known):
    return {"error": {"type": kind, "message": value, "known": known, "traceback": ""}}


def _describe(migration, operation, backwards, before, after):
    """Say what one operation does, and what it creates or drops in this direction."""
    from django.db.migrations import operations as ops

    effect = {
        "operation": type(operation).__name__,
        "description": _safe_describe(operation),
        "reversible": bool(operation.reversible),
        "drops": [],
        "creates": [],
    }
    app = migration.app_label
    made, gone = (effect["drops"], effect["creates"]) if backwards else (effect["creates"], effect["drops"])
    if isinstance(operation, ops.CreateModel):
        made.extend(_tables_of(after, app, operation.name))
    elif isinstance(operation, ops.DeleteModel):
        gone.extend(_tables_of(before, app, operation.name))
    elif isinstance(operation, ops.AddField):
        made.append(_column(after, app, operation.model_name, operation.name))
    elif isinstance(operation, ops.RemoveField):
        gone.append(_column(before, app, operation.model_name, operation.name))
    if type(operation).__name__ in ("RunPython", "RunSQL"):
        effect["code"] = _code_of(operation)
    effect["risks"] = _risks(operation, backwards, app, before)
    return effect


def _risks(operation, backwards, app_label, before):
    """Name what makes an operation unsafe while the previous version of the code still runs."""
    from django.db.migrations import operations as ops
    from django.db.models import NOT_PROVIDED

    risks = []
    name = type(operation).__name__
    if isinstance(operation, ops.AddField):
        if backwards:
            risks.append("column_dropped")
        elif _not_null_without_db_default(operation.field, NOT_PROVIDED):
            risks.append("not_null_without_db_default")
    elif isinstance(operation, ops.RemoveField):
        risks.append("column_added_back" if backwards else "column_dropped")
    elif isinstance(operation, ops.AlterField) and not backwards:
        old = _old_field(before, app_label, operation)
        if old is not None and old.null and _not_null_without_db_default(operation.field, NOT_PROVIDED):
            risks.append("set_not_null")
    elif isinstance(operation, (ops.RenameField, ops.RenameModel)):
        risks.append("renamed")
    elif isinstance(operation, ops.DeleteModel) and not backwards:
        risks.append("table_dropped")
    elif isinstance(operation, ops.CreateModel) and backwards:
        risks.append("table_dropped")
    if name == "RunPython" and operation.reverse_code is None:
        risks.append("no_reverse")
    if name == "RunSQL" and operation.reverse_sql is None:
        risks.append("no_reverse")
    return risks


def _not_null_without_db_default(field, not_provided):
    """Return True for a column that rows must fill but the database itself gives no default."""
    if field.many_to_many or field.null:
        return False
    return getattr(field, "db_default", not_provided) is not_provided


def _rendered(state, app_label, model_name):
    """Return one model of a state, rendered with stubs of the models it points at (not the whole state)."""
    from django.db.migrations.state import StateApps

    key = (app_label, model_name.lower())
    try:
        whole = _with_parts(state, [key])
        apps = StateApps(state.real_apps, _whole_and_stubs(state, whole, _stub_keys(state, whole)))
    except Exception:  # a reference the kit does not follow (a swapped model, say): render it all, as Django does
        apps = state.apps
    return apps.get_model(app_label, model_name)


def _old_field(state, app_label, operation):
    try:
        model = _rendered(state, app_label, operation.model_name)
        return model._meta.get_field(operation.name)
    except Exception:  # the model or field is not in the state (a squash, a custom operation)
        return None


def _tables_of(state, app_label, model_name):
    """Return the model's table and the many-to-many join tables Django made for it."""
    try:
        model = _rendered(state, app_label, model_name)
    except ValueError:  # a lazy reference this state cannot resolve (a swappable model whose app comes later)
        return [{"table": _table_name(state.models[(app_label, model_name.lower())]), "column": None}]
    found = [{"table": model._meta.db_table, "column": None}]
    for field in model._meta.local_many_to_many:
        through = field.remote_field.through
        if through is not None and not isinstance(through, str) and through._meta.auto_created:
            found.append({"table": through._meta.db_table, "column": None})
    return found


def _column(state, app_label, model_name, field_name):
    """Return a field's table and column, named as Django's Options and Field name them, without rendering."""
    import copy

    model_state = state.models[(app_label, model_name.lower())]
    named = copy.copy(model_state.fields[field_name])  # Field.get_attname_column reads the name it is given
    named.name = field_name
    return {"table": _table_name(model_state), "column": named.get_attname_column()[1]}


def _table_name(model_state):
    """Return a model state's table as Django's Options names it (db_table, or app_label_modelname, truncated)."""
    from django.db import connection
    from django.db.backends.utils import truncate_name

    table = model_state.options.get("db_table") or f"{model_state.app_label}_{model_state.name_lower}"
    return truncate_name(table, connection.ops.max_name_length())


def _code_of(operation):
    """Name the functions or SQL of a RunPython/RunSQL, forwards and backwards, with their docstrings."""
    if type(operation).__name__ == "RunPython":
        return {
            "forwards": _function(operation.code),
            "backwards": _function(operation.reverse_code),
        }
    return {
        "forwards": str(operation.sql)[:2000],
        "backwards": None if operation.reverse_sql is None else str(operation.reverse_sql)[:2000],
    }


def _function(function):
    """Return a function's name and the first line of its docstring, or None."""
    if function is None:
        return None
    name = getattr(function, "__qualname__", None) or getattr(function, "__name__", repr(function))
    if name == "RunPython.noop" or name == "noop":
        return {"name": "RunPython.noop", "doc": "does nothing"}
    doc = (getattr(function, "__doc__", None) or "").strip().splitlines()
    return {"name": name, "doc": doc[0] if doc else ""}


def database(*what):
    """Describe where the default database lives, and MEDIA_ROOT and STATIC_ROOT.

    Only the settings are read (no django.setup()), so a project whose database
    driver is not installed can still be described. With "recorded", also return
    the applied migrations of the default database as [app, name] pairs: a SQLite
    file through a read-only connection, any other database through Django's own
    connection (one SELECT); None with the reason when it cannot be read.
    """
    from django.conf import settings

    db = settings.DATABASES["default"]
    answer = {
        "engine": db["ENGINE"],
        "name": str(db.get("NAME", "")),
        "media_root": str(settings.MEDIA_ROOT or ""),
        "static_root": str(settings.STATIC_ROOT or ""),
    }
    if "recorded" in what:
        answer.update(_recorded_anywhere())
    return answer


def _recorded_anywhere():
    """Return {"applied": [[app, name], ...]} for the default database, or None and the reason."""
    try:
        path = _database_file()
        if path is not None:
            if not path.is_file():
                return {"applied": None, "reason": f"there is no file {path.name}"}
            return {"applied": sorted(list(key) for key in _recorded_rows())}
        import django
        from django.db import connection
        from django.db.migrations.recorder import MigrationRecorder

        django.setup()
        try:
            recorder = MigrationRecorder(connection)
            rows = recorder.applied_migrations() if recorder.has_table() else {}
        finally:
            connection.close()
        return {"applied": sorted(list(key) for key in rows)}
    except Exception as exc:  # no driver, no server, no permission: all mean "not readable"
        first = (str(exc).strip().splitlines() or [""])[0]
        return {"applied": None, "reason": f"{type(exc).__name__}: {first}".rstrip(": ")}


_OPENED = {"recording": False, "files": []}


def _record_open(event, args):
    """Audit hook: note each file opened while the settings module is imported again."""
    if _OPENED["recording"] and event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        _OPENED["files"].append(os.path.abspath(os.fsdecode(args[0])))


def paths(module=None):
    """List the absolute paths a settings module names and the files it reads; nothing is written.

    The module (default: DJANGO_SETTINGS_MODULE) is imported again, with its
    package, under an audit hook that notes every file opened meanwhile (config
    files, .env files, the modules themselves). Every upper-case setting is
    walked for strings and paths that are absolute; the database is left out
    (the kit settles it on its own).
    """
    import importlib

    module = module or os.environ["DJANGO_SETTINGS_MODULE"]
    top = module.split(".")[0]
    for name in [name for name in sys.modules if name == top or name.startswith(top + ".")]:
        del sys.modules[name]  # this process ends after the probe: the fresh import is the one that counts
    if not _OPENED.get("hooked"):
        sys.addaudithook(_record_open)
        _OPENED["hooked"] = True
    _OPENED.update(recording=True, files=[])
    try:
        settings = importlib.import_module(module)
    finally:
        _OPENED["recording"] = False
    named = []
    for name in sorted(vars(settings)):
        if name.isupper() and name != "DATABASES" and "URL" not in name:
            named += _absolute_paths(name, getattr(settings, name), 0)
    return {"file": getattr(settings, "__file__", None), "named": named, "opened": sorted(set(_OPENED["files"]))}


def _absolute_paths(where, value, depth):
    """Return [setting path, absolute path] for every absolute path held in a setting's value."""
    if depth > 6:
        return []
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _absolute_paths(f"{where}[{key!r}]", item, depth + 1)]
    if isinstance(value, (list, tuple)):
        return [found for n, item in enumerate(value) for found in _absolute_paths(f"{where}[{n}]", item, depth + 1)]
    if isinstance(value, os.PathLike) or isinstance(value, str):
        text = os.fspath(value)
        if isinstance(text, str) and _looks_like_a_path(text):
            return [[where, text]]
    return []


def _looks_like_a_path(text):
    """Tell an absolute file path from a URL path or a name: it, or its folder below /, exists."""
    if len(text) < 2 or not os.path.isabs(text) or "\n" in text:
        return False
    parent = os.path.dirname(text.rstrip("/"))
    return os.path.exists(text) or (parent != "/" and os.path.isdir(parent))


# ----- the schema time machine --------------------------------------------------------


def states():
    """Describe the schema after each migration of the whole plan (``_states``), the installed swappable names kept."""
    with _swappable_names_kept():
        return _states()


def _states():
    """Describe the schema Django's migration state holds after each migration of the whole plan, in order.

    The plan is what ``migrate`` with no arguments would apply on an empty
    database (the forwards plan of every leaf node). The state is Django's own
    ProjectState, mutated one migration at a time as the executor does; each
    step lists only the tables it changed (None for a table that went), so the
    kit replays them. Nothing touches the database: column types come from
    ``field.db_type(connection)``, which needs no open connection.

    The state is never rendered whole: rendering every model again after each
    step (what a reload of a model many others point at does) costs seconds
    per step on a big project. After each step only the models it changed,
    and those that point at them, are rendered, with the models they point at.
    """
    _setup()
    from django.apps import apps as installed
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.state import ProjectState, StateApps

    loader = MigrationLoader(connection, ignore_no_migrations=True)
    graph = loader.graph
    plan, seen = [], set()
    for leaf in graph.leaf_nodes():
        for key in graph.forwards_plan(leaf):
            if key not in seen:
                seen.add(key)
                plan.append(key)
    contrib = {c.label: _is_contrib(c.name) for c in installed.get_app_configs()}
    state = ProjectState(real_apps=loader.unmigrated_apps)  # never rendered: its models are mutated cheaply
    # Models of apps without migrations are Django's real models: the same at every step (a throw-away render).
    real = {("", "real"): _schema_of(ProjectState(real_apps=loader.unmigrated_apps).apps, connection, contrib)[0]}
    by_model, steps, before = dict(real), [], {}
    for key in plan:
        migration = graph.nodes[key]
        touched = _touched(migration, state)
        read_before = _what_referrers_read(state, touched)
        state = migration.mutate_state(state, preserve=False)
        touched |= _touched(migration, state)
        # Only a change to what referrers read (table, primary key) changes their tables too.
        if _what_referrers_read(state, touched) != {**dict.fromkeys(touched), **read_before}:
            touched = _with_referrers(state, touched)
        for model_key in touched:
            by_model.pop(model_key, None)
        present = sorted(k for k in touched if k in state.models)
        if present:
            # What a column reads of a model it points at is its table and keys: a stub of it, not all of it
            # and everything it points at in turn (on pretix that closure was 13 models per render, 6 s in all).
            whole = _with_parts(state, present)
            apps = StateApps(state.real_apps, _whole_and_stubs(state, whole, _stub_keys(state, whole)))
            for model_key in present:
                by_model[model_key] = _tables_of_model(apps.get_model(*model_key), connection, contrib)
        after = {table: value for tables in by_model.values() for table, value in tables.items()}
        changes = {t: v for t, v in after.items() if before.get(t) != v}
        changes.update({t: None for t in before if t not in after})
        steps.append({"app_label": key[0], "name": key[1], "changes": dict(sorted(changes.items()))})
        before = after
    return {"steps": steps}


def _what_referrers_read(state, keys):
    """Return, per model, what a model pointing at it reads: its table, name and unique keys (None: no model).

    A foreign key's column type and reference come from the target's table and primary key only, so a
    step that changes neither leaves every referrer's table as it was, and they need no new render.
    """
    read = {}
    for key in keys:
        model = state.models.get(key)
        if model is None:
            read[key] = None
            continue
        # A foreign key's to_field must be unique: unique fields are read as the primary key is.
        keys_read = [(name, repr(field.deconstruct()[1:])) for name, field in model.fields.items() if field.unique]
        read[key] = (model.options.get("db_table"), model.name_lower, keys_read)
    return read


def _touched(migration, state):
    """Return the models of the state a migration's operations change (every model for an unknown operation)."""
    keys = _changed_models(migration)
    return set(state.models) if keys is None else keys


def _changed_models(migration):
    """Return the (app_label, model_name) keys a migration's operations name, or None for an unknown operation."""
    return _changed_models_of(migration.app_label, migration.operations)


def _changed_models_of(app_label, operations, database=False):
    """Return the keys operations name (with ``database``, what SeparateDatabaseAndState runs too), or None."""
    keys = set()
    pending = list(operations)
    while pending:
        operation = pending.pop()
        name = type(operation).__name__
        if name == "RunPython":
            continue
        if name in ("RunSQL", "SeparateDatabaseAndState"):
            pending.extend(getattr(operation, "state_operations", None) or [])
            if database:
                pending.extend(getattr(operation, "database_operations", None) or [])
            continue
        if isinstance(getattr(operation, "model_name_lower", None), str):  # a field, index or constraint
            names = [operation.model_name_lower]
        else:  # a model operation; RenameModel names the old model and the new one
            names = [getattr(operation, a, None) for a in ("name_lower", "old_name_lower", "new_name_lower")]
            names = [n for n in names if isinstance(n, str)]
        if not names:  # an operation the kit does not know: any model may have changed
            return None
        keys.update((app_label, n) for n in names)
    return keys


def _related_key(model, app_label):
    """Return (app_label, model_name) of a relation's target or a base, as a ModelState names it."""
    from django.db.migrations.state import _get_app_label_and_model_name

    found = _get_app_label_and_model_name(model, app_label)
    return found[0], found[1].lower()


def _targets(model_state):
    """Return the models a model state points at: relation targets, explicit through models, bases."""
    found = set()
    for field in model_state.fields.values():
        if field.is_relation and field.remote_field.model != "self":
            found.add(_related_key(field.remote_field.model, model_state.app_label))
            through = getattr(field.remote_field, "through", None)
            if through is not None:
                found.add(_related_key(through, model_state.app_label))
    for base in model_state.bases:
        if isinstance(base, str) and base.count(".") == 1:
            found.add(_related_key(base, model_state.app_label))
    return found


def _with_referrers(state, touched):
    """Add the models that point at a touched one (their foreign key columns follow it), and so on up keys."""
    result, frontier = set(touched), set(touched)
    while frontier:
        pointing = {k for k, m in state.models.items() if k not in result and _targets(m) & frontier}
        result |= pointing
        # A referrer whose primary key is itself a relation changes what points at it in turn.
        frontier = {
            k for k in pointing if any(f.primary_key and f.is_relation for f in state.models[k].fields.values())
        }
        frontier |= {k for k in pointing if any(isinstance(b, str) for b in state.models[k].bases)}
    return result


def _tables_of_model(model, connection, contrib):
    """Return the tables of one rendered model: its own and its auto-created many-to-many join tables."""
    found = {}
    # A swapped model (auth.User under AUTH_USER_MODEL) gets no through models: its ``through`` stays None.
    throughs = [f.remote_field.through for f in model._meta.local_many_to_many]
    models = [model] + [
        through
        for through in throughs
        if through is not None and not isinstance(through, str) and through._meta.auto_created
    ]
    for each in models:
        meta = each._meta
        if meta.managed and not meta.proxy and not meta.swapped:
            columns = [_column_of(field, connection) for field in meta.local_concrete_fields]
            found[meta.db_table] = {
                "app_label": meta.app_label,
                "contrib": contrib.get(meta.app_label, False),
                "columns": [c for c in columns if c is not None],
            }
    return found


def _schema_of(apps, connection, contrib, seen=None):
    """Return (table -> {app_label, contrib, columns}, model -> its tables) for every managed model of a state.

    ``seen`` is what an earlier call returned: a model class that is still the
    same object was not reloaded (Django renders a model again whenever it or
    a model it points to changes), so its table is taken as it was.
    """
    seen = seen or {}
    tables, now = {}, {}
    for model in apps.get_models(include_auto_created=True):
        if model in seen:
            found = seen[model]
        else:
            meta = model._meta
            found = {}
            if meta.managed and not meta.proxy and not meta.swapped:
                columns = [_column_of(field, connection) for field in meta.local_concrete_fields]
                found[meta.db_table] = {
                    "app_label": meta.app_label,
                    "contrib": contrib.get(meta.app_label, False),
                    "columns": [c for c in columns if c is not None],
                }
        now[model] = found
        tables.update(found)
    return tables, now


def _column_of(field, connection):
    """Return [column, type, null, primary_key, references_table, references_column] of one field."""
    if field.column is None:
        return None
    try:
        db_type = field.db_type(connection)
    except Exception:  # a third-party field that needs a live connection: name its class instead
        db_type = type(field).__name__
    if db_type is None:
        return None
    reference = [None, None]
    if field.remote_field is not None and getattr(field, "db_constraint", False):
        try:
            reference = [field.remote_field.model._meta.db_table, field.target_field.column]
        except Exception:  # the model it points to is not in this state (a swapped or missing app)
            pass
    return [field.column, db_type, bool(field.null) and not field.primary_key, bool(field.primary_key), *reference]


COMMANDS = {
    "graph": graph,
    "plan": plan,
    "preview": preview,
    "sql_compare": sql_compare,
    "database": database,
    "states": states,
    "paths": paths,
}

if __name__ == "__main__":
    main(sys.argv[1:])
