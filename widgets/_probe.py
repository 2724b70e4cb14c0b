"""Read a project's migration state with Django's own loader; print it as JSON.

Run by the kit as ``python _probe.py COMMAND ...`` with the sandbox as the
working directory. Read-only: the database is read through a read-only
SQLite connection and Django's own connection is never opened.
"""

import json
import os
import sqlite3
import sys
import traceback
from pathlib import Path

MARKER = "@@migration-kit@@"


def main(argv):
    """Run one probe command and print its JSON answer after the marker."""
    # Like manage.py: the project folder, not this file's folder, comes first.
    sys.path[0] = os.getcwd()
    try:
        answer = COMMANDS[argv[0]](*argv[1:])
    except Exception as exc:  # Report every failure as data; the kit diagnoses it.
        answer = {"error": {"type": type(exc).__name__, "message": str(exc), "traceback": traceback.format_exc()}}
    sys.stdout.write(MARKER + json.dumps(answer, default=str) + "\n")


def _setup():
    """Set Django up with its connection sealed and the recorder read-only."""
    import django
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.migrations.recorder import MigrationRecorder

    def sealed(self):
        raise RuntimeError("the kit's state probe never opens Django's database connection")

    BaseDatabaseWrapper.ensure_connection = sealed
    django.setup()
    rows = _recorded_rows()
    MigrationRecorder.applied_migrations = lambda self: dict(rows)


def _database_file():
    """Return the default database's SQLite file, or None for another engine."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    return Path(db["NAME"]) if "sqlite3" in db["ENGINE"] else None


def _recorded_rows():
    """Return the django_migrations rows keyed by (app, name), read-only."""
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


def graph():
    """Describe every migration, dependency, leaf node and conflict."""
    _setup()
    from django.apps import apps
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.recorder import MigrationRecorder

    recorded = set(MigrationRecorder(connection).applied_migrations())
    full = MigrationLoader(connection, ignore_no_migrations=True, replace_migrations=False)
    effective = MigrationLoader(connection, ignore_no_migrations=True)
    nodes = []
    for key in sorted(full.graph.nodes):
        migration = full.graph.nodes[key]
        replaces = [list(r) for r in migration.replaces]
        applied = key in recorded or bool(replaces) and all(tuple(r) in recorded for r in replaces)
        nodes.append(
            {
                "app_label": key[0],
                "name": key[1],
                "applied": applied,
                "recorded": key in recorded,
                "replaces": replaces,
                "initial": _initial(migration),
            }
        )
    edges = sorted(
        [list(parent.key), list(key)] for key, node in full.graph.node_map.items() for parent in node.parents
    )
    leaves = {}
    for app_label, name in effective.graph.leaf_nodes():
        leaves.setdefault(app_label, []).append(name)
    configs = {c.label: {"module": c.name, "contrib": c.name.startswith("django.")} for c in apps.get_app_configs()}
    return {
        "nodes": nodes,
        "edges": edges,
        "leaf_nodes": leaves,
        "conflicts": {app: sorted(names) for app, names in effective.detect_conflicts().items()},
        "apps": configs,
        "unmigrated_apps": sorted(full.unmigrated_apps),
        "recorded_unknown": sorted([list(k) for k in recorded - set(full.graph.nodes)]),
    }


def _initial(migration):
    """Return whether Django treats the migration as initial (None means: no parent in its app)."""
    if migration.initial is not None:
        return bool(migration.initial)
    return not any(app == migration.app_label for app, _name in migration.dependencies)


def plan(app_label, target):
    """Describe the plan `migrate app_label target` would run, step by step."""
    _setup()
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
    steps = []
    for migration, backwards in executor.migration_plan([node]):
        steps.append(
            {
                "app_label": migration.app_label,
                "name": migration.name,
                "backwards": backwards,
                "operations": [_describe(loader, migration, op, backwards) for op in migration.operations],
            }
        )
    return {"target": [app_label, node[1]], "steps": steps}


def _refusal(kind, value, known):
    return {"error": {"type": kind, "message": value, "known": known, "traceback": ""}}


def _describe(loader, migration, operation, backwards):
    """Say what one operation does, and what it creates or drops in this direction."""
    from django.db.migrations import operations as ops

    effect = {
        "operation": type(operation).__name__,
        "description": operation.describe(),
        "reversible": bool(operation.reversible),
        "drops": [],
        "creates": [],
    }
    key = (migration.app_label, migration.name)
    if isinstance(operation, ops.CreateModel):
        table = _table(loader, key, migration.app_label, operation.name, at_end=True)
        effect["drops" if backwards else "creates"].append({"table": table, "column": None})
    elif isinstance(operation, ops.DeleteModel):
        table = _table(loader, key, migration.app_label, operation.name, at_end=False)
        effect["creates" if backwards else "drops"].append({"table": table, "column": None})
    elif isinstance(operation, ops.AddField):
        table, column = _column(loader, key, migration.app_label, operation.model_name, operation.name, at_end=True)
        effect["drops" if backwards else "creates"].append({"table": table, "column": column})
    elif isinstance(operation, ops.RemoveField):
        table, column = _column(loader, key, migration.app_label, operation.model_name, operation.name, at_end=False)
        effect["creates" if backwards else "drops"].append({"table": table, "column": column})
    return effect


def _model(loader, key, app_label, model_name, at_end):
    return loader.project_state(key, at_end=at_end).apps.get_model(app_label, model_name)


def _table(loader, key, app_label, model_name, at_end):
    return _model(loader, key, app_label, model_name, at_end)._meta.db_table


def _column(loader, key, app_label, model_name, field_name, at_end):
    model = _model(loader, key, app_label, model_name, at_end)
    field = model._meta.get_field(field_name)
    return model._meta.db_table, getattr(field, "column", None)


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


COMMANDS = {"graph": graph, "plan": plan, "database": database}

if __name__ == "__main__":
    main(sys.argv[1:])
