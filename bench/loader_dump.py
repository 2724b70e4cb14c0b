"""Print Django's own view of a project's migrations as JSON: the reference the kit is checked against.

Run inside a project folder with DJANGO_SETTINGS_MODULE set, by the project's
own interpreter (``bench/real_projects.py`` and ``tests/test_loader_check.py``
do this). It uses nothing from the kit:

    python loader_dump.py graph                 # MigrationLoader(connection).graph, applied, conflicts
    python loader_dump.py plan APP TARGET       # what ``migrate APP TARGET`` would run
    python loader_dump.py apply-replaced APP NAME
        # really migrate to a migration that a squash replaces, leaving the squash half applied;
        # ``manage.py migrate APP NAME`` refuses that (NodeNotFoundError: the squash hides NAME)

The answer is the last line of stdout, after a marker.
"""

import json
import os
import sys
from pathlib import Path

MARKER = "@@loader-dump@@"


def _setup() -> None:
    """Import the project like manage.py does and set Django up."""
    # Like manage.py: the project folder, not this file's folder, comes first on the path.
    sys.path[0] = os.getcwd()
    import django

    django.setup()


def _key(key: tuple[str, str]) -> list[str]:
    return [key[0], key[1]]


def _database_file() -> Path | None:
    from django.conf import settings

    db = settings.DATABASES["default"]
    return Path(db["NAME"]) if "sqlite3" in db["ENGINE"] else None


def graph() -> dict:
    """Return the loader's graph after build_graph: nodes, parent->child edges, leaf nodes, applied, conflicts."""
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    database = _database_file()
    existed = database is None or database.exists()
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    connection.close()
    # Reading the recorder opens SQLite, which creates an empty file: leave the project as it was.
    if not existed and database.exists() and database.stat().st_size == 0:
        database.unlink()
    nodes = sorted(loader.graph.nodes)
    edges = sorted(
        [_key(parent.key), _key(key)] for key, node in loader.graph.node_map.items() for parent in node.parents
    )
    leaves: dict[str, list[str]] = {}
    for app_label, name in loader.graph.leaf_nodes():
        leaves.setdefault(app_label, []).append(name)
    return {
        "nodes": [_key(k) for k in nodes],
        "edges": edges,
        "leaf_nodes": {app: sorted(names) for app, names in sorted(leaves.items())},
        "applied": sorted(_key(k) for k in loader.applied_migrations),
        "conflicts": {app: sorted(names) for app, names in sorted(loader.detect_conflicts().items())},
        "disk": sorted(_key(k) for k in loader.disk_migrations),
        "replacements": {f"{k[0]}.{k[1]}": [_key(r) for r in m.replaces] for k, m in loader.replacements.items()},
    }


def plan(app_label: str, target: str) -> dict:
    """Return the steps ``migrate app_label target`` would run, as the migrate command finds them."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    node = (app_label, None)
    if target != "zero":
        node = (app_label, executor.loader.get_migration_by_prefix(app_label, target).name)
    steps = [[m.app_label, m.name, backwards] for m, backwards in executor.migration_plan([node])]
    connection.close()
    return {"steps": steps}


def apply_replaced(app_label: str, name: str) -> dict:
    """Really apply one replaced migration (and what it depends on), so that its squash is half applied."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.loader import MigrationLoader

    executor = MigrationExecutor(connection)
    # This loader keeps the replaced migrations as nodes, so the replaced one is a valid target.
    executor.loader = MigrationLoader(connection, replace_migrations=False)
    target = (app_label, name)
    steps = executor.migration_plan([target])
    executor.migrate([target], plan=steps)
    connection.close()
    return {"applied": [[m.app_label, m.name] for m, _backwards in steps]}


COMMANDS = {"graph": graph, "plan": plan, "apply-replaced": apply_replaced}


def main(argv: list[str]) -> None:
    """Run one command and print its answer after the marker."""
    _setup()
    answer = COMMANDS[argv[0]](*argv[1:])
    sys.stdout.write(MARKER + json.dumps(answer) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
