"""The kit's migration graph is Django's: compared with MigrationLoader on the shapes of Django's own tests.

``tests/projects/shapes`` is a small project whose apps have the shapes of
Django's migration test packages, rewritten: a squash, a complex squash in the
middle of a chain, squashes across two apps, ``run_before``, ``__first__`` and
``__latest__``, a conflict, a merge and an irreversible RunPython. Each test
puts the database in one state (rows in ``django_migrations``), then compares
``Sandbox.migration_graph()`` with what Django's own loader says in a separate
process: nodes, edges, leaf nodes, applied migrations and conflicts.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from widgets import Sandbox
from widgets.read.table import records, where
from widgets.run.commands import child_env

SHAPES = Path(__file__).parent / "projects" / "shapes"

# Django's loader, run the way any Django program would: a real connection, nothing of the kit's.
DJANGO_SAYS = """
import json, django
django.setup()
from django.db import connection
from django.db.migrations.loader import MigrationLoader
loader = MigrationLoader(connection)
graph = loader.graph
print(json.dumps({
    "nodes": sorted(graph.nodes),
    "edges": sorted([list(p.key), list(k)] for k, n in graph.node_map.items() for p in n.parents),
    "leaf_nodes": sorted(graph.leaf_nodes()),
    "applied": sorted(k for k in loader.applied_migrations if k in graph.nodes),
    "conflicts": {app: sorted(names) for app, names in loader.detect_conflicts().items()},
}))
"""

EVERY_FILE = sorted(
    (path.parent.parent.name, path.stem)
    for path in SHAPES.glob("*/migrations/[!_]*.py")
    if path.parent.parent != SHAPES
)
SQUASHES = {
    ("squashed", "0001_squashed_0002"),
    ("complex", "3_squashed_5"),
    ("multi1", "2_squashed_3"),
    ("multi2", "1_squashed_2"),
}
REPLACED_FIRSTS = {("squashed", "0001_initial"), ("complex", "3_auto"), ("multi1", "2_auto"), ("multi2", "1_auto")}
EARLIER = {("complex", "1_auto"), ("complex", "2_auto"), ("multi1", "1_auto")}

STATES = {
    "nothing recorded": set(),
    "everything recorded but the squashes": set(EVERY_FILE) - SQUASHES,
    "everything recorded": set(EVERY_FILE),
    "squashes half applied": EARLIER | REPLACED_FIRSTS,
    "one squash applied, the others half": EARLIER
    | REPLACED_FIRSTS
    | {("squashed", "0002_second"), ("squashed", "0003_third")},
}


def record(sandbox: Sandbox, keys: set[tuple[str, str]]) -> None:
    """Make django_migrations hold exactly these rows (the state of a database somewhere)."""
    with sqlite3.connect(sandbox.db_path) as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS django_migrations "
            "(id integer PRIMARY KEY AUTOINCREMENT, app varchar(255), name varchar(255), applied datetime)"
        )
        db.execute("DELETE FROM django_migrations")
        db.executemany(
            "INSERT INTO django_migrations (app, name, applied) VALUES (?, ?, '2026-01-01 00:00:00')", sorted(keys)
        )
    db.close()


def django_says(sandbox: Sandbox) -> dict:
    """Return Django's own view of the graph, from a plain python process in the sandbox."""
    done = subprocess.run(
        [sys.executable, "-c", DJANGO_SAYS],
        cwd=sandbox.path,
        env=child_env() | {"DJANGO_SETTINGS_MODULE": "shapes.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


def as_keys(pairs) -> set[tuple[str, str]]:
    return {tuple(pair) for pair in pairs}


@pytest.fixture(scope="module")
def shapes() -> Sandbox:
    sandbox = Sandbox.copy_of(SHAPES, "graph-shapes")
    yield sandbox
    sandbox.delete()


@pytest.mark.parametrize("state", list(STATES))
def test_migration_graph_is_django_s_graph(shapes, state):
    record(shapes, STATES[state])
    django = django_says(shapes)
    graph = shapes.migration_graph()
    assert graph.keys() == as_keys(django["nodes"])
    assert graph.edge_set() == {(tuple(p), tuple(c)) for p, c in django["edges"]}
    assert {(app, name) for app, names in graph.leaf_nodes.items() for name in names} == as_keys(django["leaf_nodes"])
    assert graph.applied_keys() == as_keys(django["applied"])
    assert graph.conflicts == django["conflicts"]


def node(graph, app_label: str, name: str) -> dict:
    rows = records(where(graph.nodes, app_label=app_label, name=name))
    assert len(rows) == 1, f"{app_label}.{name} is not a node of the graph"
    return rows[0]


def test_a_used_squash_carries_what_it_replaces_as_data(shapes):
    record(shapes, set(EVERY_FILE) - SQUASHES)
    graph = shapes.migration_graph()
    squash = node(graph, "complex", "3_squashed_5")
    assert squash["replaces"] == [("complex", "3_auto"), ("complex", "4_auto"), ("complex", "5_auto")]
    assert squash["replaces_recorded"] == 3 and squash["applied"] and not squash["recorded"]
    assert not {("complex", "3_auto"), ("complex", "4_auto")} & graph.keys()
    assert (("complex", "3_squashed_5"), ("complex", "6_auto")) in graph.edge_set()
    assert graph.unused_squashes == []


def test_a_half_applied_squash_is_left_out_and_said_so(shapes):
    record(shapes, EARLIER | REPLACED_FIRSTS)
    graph = shapes.migration_graph()
    assert ("squashed", "0001_squashed_0002") not in graph.keys()
    assert (("squashed", "0002_second"), ("squashed", "0003_third")) in graph.edge_set()
    assert node(graph, "squashed", "0001_initial")["replaced_by"] == "0001_squashed_0002"
    unused = {(s["app_label"], s["name"]): s for s in graph.unused_squashes}
    assert set(unused) == SQUASHES
    assert unused[("complex", "3_squashed_5")]["replaces_recorded"] == 1


def test_operations_and_data_migrations_are_described(shapes):
    graph = shapes.migration_graph()
    fill = node(graph, "irreversible", "0002_fill")
    assert fill["data"] and fill["operations"] == ["Raw Python operation"]
    assert not node(graph, "irreversible", "0001_initial")["data"]
