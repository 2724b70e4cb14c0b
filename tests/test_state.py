"""State readers: django_migrations rows, schema, tables, graph and plan; all read-only."""

from __future__ import annotations

from datetime import datetime

import pytest

from widgets import KitError, MigrationGraph, Plan, State, StateError, scenarios
from widgets.read.state import APPLIED_COLUMNS, SCHEMA_COLUMNS
from widgets.read.table import column as column_values
from widgets.read.table import keyed, records, same_rows, select, sort_by

TEMPLATE_MIGRATIONS = {("boards", "0001_initial"), ("boards", "0002_post"), ("tracker", "0001_initial")}


def read_everything(sandbox) -> None:
    """Call every state reader once."""
    sandbox.applied_migrations()
    sandbox.schema()
    sandbox.tables()
    sandbox.state()
    sandbox.migration_graph()
    sandbox.plan("boards", "zero")
    sandbox.plan("boards", "0002")


def column(schema, table: str, name: str) -> dict:
    rows = [row for row in records(schema) if (row["table"], row["column"]) == (table, name)]
    assert len(rows) == 1, f"{table}.{name} not in the schema"
    return rows[0]


# ----- read-only ----------------------------------------------------------------------------


def test_readers_change_neither_bytes_nor_mtime_of_the_database(sandbox):
    before = (sandbox.db_path.read_bytes(), sandbox.db_path.stat().st_mtime_ns)
    files = sorted(p.name for p in sandbox.path.iterdir())
    read_everything(sandbox)
    assert (sandbox.db_path.read_bytes(), sandbox.db_path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in sandbox.path.iterdir()) == files


def test_readers_create_no_database_when_there_is_none(fresh_sandbox):
    read_everything(fresh_sandbox)
    assert not fresh_sandbox.db_path.exists()
    assert not list(fresh_sandbox.path.glob("*.sqlite3*"))


def test_readers_of_a_missing_database_return_empty_frames(fresh_sandbox):
    assert list(fresh_sandbox.applied_migrations().columns) == APPLIED_COLUMNS
    assert fresh_sandbox.applied_migrations().empty
    assert fresh_sandbox.schema().empty and list(fresh_sandbox.schema().columns) == SCHEMA_COLUMNS
    assert fresh_sandbox.tables().empty
    with pytest.raises(KitError, match=r"There is no database yet\. Fix: run migrate first"):
        fresh_sandbox.query("SELECT 1")


def test_query_refuses_to_write(sandbox):
    with pytest.raises(KitError, match=r"SQLite refused the query \(attempt to write a readonly database\)"):
        sandbox.query("DELETE FROM django_migrations")
    assert len(sandbox.applied_migrations()) > 0


def test_query_cannot_create_a_file_with_attach(sandbox, tmp_path):
    target = tmp_path / "attached.sqlite3"
    with pytest.raises(KitError, match="SQLite refused the query"):
        sandbox.query(f"ATTACH DATABASE '{target}' AS other")
    assert not target.exists()


def test_query_explains_a_bad_table_name(sandbox):
    with pytest.raises(KitError, match=r"no such table: boards_topics\)\. Fix: check the table and column names"):
        sandbox.query("SELECT * FROM boards_topics")


# ----- rows, schema, tables -------------------------------------------------------------------


def test_applied_migrations_are_the_django_migrations_rows_by_id(sandbox):
    applied = sandbox.applied_migrations()
    assert list(applied.columns) == APPLIED_COLUMNS
    assert list(applied["id"]) == sorted(applied["id"])
    assert TEMPLATE_MIGRATIONS <= set(zip(applied["app"], applied["name"], strict=True))
    assert all(isinstance(when, datetime) for when in column_values(applied, "applied"))
    direct = sandbox.query("SELECT COUNT(*) AS n FROM django_migrations")["n"][0]
    assert len(applied) == direct


def test_schema_has_one_row_per_column_with_foreign_keys(sandbox):
    schema = sandbox.schema()
    assert list(schema.columns) == SCHEMA_COLUMNS
    assert column(schema, "boards_topic", "id") | {} == {
        "table": "boards_topic",
        "column": "id",
        "type": "INTEGER",
        "null": False,
        "default": None,
        "primary_key": True,
        "references_table": None,
        "references_column": None,
    }
    board = column(schema, "boards_topic", "board_id")
    assert (board["references_table"], board["references_column"], board["null"]) == ("boards_board", "id", False)
    assert column(schema, "boards_post", "updated_at")["null"] is True
    assert column(schema, "boards_board", "name")["type"] == "varchar(30)"
    assert column(schema, "tracker_transaction", "category_id")["references_table"] == "tracker_category"


def test_tables_count_rows(sandbox):
    assert sandbox.manage("loaddata", "boards_demo").ok
    tables = {row["table"]: row["rows"] for row in records(sandbox.tables())}
    assert list(tables) == sorted(tables)
    assert tables["boards_board"] == sandbox.query("SELECT COUNT(*) AS n FROM boards_board")["n"][0] > 0
    assert tables["django_migrations"] == len(sandbox.applied_migrations())
    assert tables["tracker_category"] == 0


def test_state_bundles_the_three_readers(sandbox):
    state = sandbox.state()
    assert isinstance(state, State)
    assert state.applied.equals(sandbox.applied_migrations())
    assert state.schema.equals(sandbox.schema())
    assert state.tables.equals(sandbox.tables())


# ----- migration graph ----------------------------------------------------------------------------


def test_migration_graph_of_the_template(sandbox):
    graph = sandbox.migration_graph()
    assert isinstance(graph, MigrationGraph)
    nodes = keyed(graph.nodes, "app_label", "name")
    assert nodes[("boards", "0002_post")]["applied"]
    assert nodes[("boards", "0001_initial")]["initial"]
    assert nodes[("auth", "0001_initial")]["initial"]
    assert not nodes[("boards", "0002_post")]["initial"]
    assert graph.migrations_of("boards") == ["0001_initial", "0002_post"]
    assert graph.app_labels(include_contrib=False) == ["boards", "tracker"]
    assert {"admin", "auth", "contenttypes", "sessions"} <= set(graph.app_labels())
    edges = set(graph.edges.itertuples(index=False, name=None))
    assert ("boards", "0001_initial", "boards", "0002_post") in edges
    assert ("auth", "0001_initial", "boards", "0001_initial") in edges
    assert graph.leaf_nodes["boards"] == ["0002_post"] and graph.leaf_nodes["tracker"] == ["0001_initial"]
    assert graph.conflicts == {}
    assert graph.recorded_unknown == []


def test_migration_graph_without_a_database_has_nothing_applied(fresh_sandbox):
    graph = fresh_sandbox.migration_graph()
    assert not any(column_values(graph.nodes, "applied"))
    assert graph.leaf_nodes["boards"] == ["0002_post"]


def test_migration_graph_follows_a_partial_rollback(sandbox):
    assert sandbox.migrate("boards", "0001").ok
    nodes = keyed(sandbox.migration_graph().nodes, "app_label", "name")
    assert nodes[("boards", "0001_initial")]["applied"]
    assert not nodes[("boards", "0002_post")]["applied"]


def test_migration_graph_shows_two_leaf_nodes_as_a_conflict(sandbox):
    scenarios.make_conflicting_migrations(sandbox)
    graph = sandbox.migration_graph()
    assert graph.leaf_nodes["boards"] == ["0003_topic_pinned", "0003_topic_views"]
    assert graph.conflicts == {"boards": ["0003_topic_pinned", "0003_topic_views"]}


def test_migration_graph_shows_what_a_squashed_migration_replaces(sandbox):
    scenarios.make_squashed_migration(sandbox)
    graph = sandbox.migration_graph()
    squashed = keyed(graph.nodes, "app_label", "name")[("boards", "0001_squashed_0002_post")]
    assert squashed["replaces"] == [("boards", "0001_initial"), ("boards", "0002_post")]
    # Applied because everything it replaces is recorded, though it is not recorded itself.
    assert squashed["applied"] and not squashed["recorded"]
    assert squashed["replaces_recorded"] == 2 and squashed["recorded_replaced"] == squashed["replaces"]
    # Django's graph: the squash stands in for what it replaces, which are no nodes of their own.
    assert graph.migrations_of("boards") == ["0001_squashed_0002_post"]
    assert graph.leaf_nodes["boards"] == ["0001_squashed_0002_post"]


def test_migration_graph_lists_rows_with_no_migration_file(sandbox):
    record = (
        "from django.db.migrations.recorder import MigrationRecorder\n"
        "MigrationRecorder.Migration.objects.create(app='boards', name='0099_deleted_file')"
    )
    assert sandbox.shell(record).ok
    assert sandbox.migration_graph().recorded_unknown == [("boards", "0099_deleted_file")]


def test_migration_graph_of_broken_models_explains_the_error(sandbox):
    sandbox.edit("boards/models.py", "class Board(models.Model):", "class Board(models.Model)")
    with pytest.raises(StateError, match=r"Python cannot read boards/models\.py \(line 5: expected ':'\)"):
        sandbox.migration_graph()


# ----- plan ----------------------------------------------------------------------------------------


def test_plan_forwards_from_an_empty_database(fresh_sandbox):
    plan = fresh_sandbox.plan("boards", "0002")
    assert isinstance(plan, Plan) and plan.direction == "forwards"
    steps = [(s.app_label, s.name, s.backwards) for s in plan.steps]
    assert ("boards", "0001_initial", False) in steps and steps[-1] == ("boards", "0002_post", False)
    assert steps.index(("auth", "0001_initial", False)) < steps.index(("boards", "0001_initial", False))
    create_post = plan.steps[-1].operations[0]
    assert create_post["description"] == "Create model Post"
    assert create_post["creates"] == [{"table": "boards_post", "column": None}] and create_post["drops"] == []


def test_plan_backwards_to_zero_says_what_is_dropped(sandbox):
    plan = sandbox.plan("boards", "zero")
    assert plan.direction == "backwards"
    assert [(s.name, s.backwards) for s in plan.steps] == [("0002_post", True), ("0001_initial", True)]
    drops = [d["table"] for s in plan.steps for op in s.operations for d in op["drops"]]
    assert drops == ["boards_post", "boards_board", "boards_topic"]
    assert plan.irreversible == []
    assert str(plan).splitlines() == [
        "Plan for migrate boards zero (backwards):",
        "  Unapply boards.0002_post",
        "    - Undo Create model Post",
        "  Unapply boards.0001_initial",
        "    - Undo Create model Board",
        "    - Undo Create model Topic",
    ]
    frame = plan.to_frame()
    assert list(frame.columns) == ["step", "app", "migration", "direction", "operation", "reversible"]
    assert list(frame["direction"]) == ["unapply"] * 3


def test_plan_to_the_current_migration_does_nothing(sandbox):
    plan = sandbox.plan("boards", "0002_post")
    assert plan.direction == "nothing" and plan.steps == []
    assert str(plan) == "Nothing to do: boards is already at 0002_post."


def test_plan_of_a_field_rollback_drops_the_column(sandbox):
    scenarios.add_views_field(sandbox)
    plan = sandbox.plan("boards", "0002")
    [step] = plan.steps
    assert (step.name, step.backwards) == ("0003_topic_views", True)
    assert step.operations[0]["drops"] == [{"table": "boards_topic", "column": "views"}]


def test_plan_marks_an_irreversible_step(sandbox):
    scenarios.make_irreversible_migration(sandbox)
    plan = sandbox.plan("boards", "0002")
    no_way_back = "RunPython uppercase_subjects() has no reverse function"
    assert plan.irreversible == [("boards", "0003_uppercase_subjects", no_way_back)]
    assert f"    ! {no_way_back} -> IRREVERSIBLE" in str(plan).splitlines()


def test_plan_of_an_unknown_target_lists_the_choices(sandbox):
    with pytest.raises(StateError) as caught:
        sandbox.plan("boards", "0009")
    assert str(caught.value) == (
        "App 'boards' has no migration called '0009'. "
        "Fix: choose one of zero, 0001_initial, 0002_post (a unique prefix such as 0001 works)."
    )


def test_plan_of_an_ambiguous_target_says_so(sandbox):
    with pytest.raises(StateError, match=r"App 'boards' has more than one migration starting with '000'\. Fix: "):
        sandbox.plan("boards", "000")


def test_plan_of_an_unknown_app_suggests_the_close_one(sandbox):
    with pytest.raises(StateError) as caught:
        sandbox.plan("board", "0001")
    assert str(caught.value) == (
        "There is no app with migrations called 'board'. Fix: did you mean 'boards'? "
        "apps with migrations: admin, auth, boards, contenttypes, sessions, tracker."
    )


def _same_graph(a, b) -> None:
    columns = ["app_label", "name", "applied", "recorded"]
    sort = ["app_label", "name"]
    left = sort_by(select(a.nodes, columns), *sort)
    right = sort_by(select(b.nodes, columns), *sort)
    assert same_rows(left, right)
    assert a.edge_set() == b.edge_set() and a.leaf_nodes == b.leaf_nodes and a.conflicts == b.conflicts
    assert sorted(a.recorded_unknown) == sorted(b.recorded_unknown)


def test_after_a_migrate_the_graph_read_without_django_is_djangos(sandbox, monkeypatch):
    from widgets.read import state

    scenarios.add_views_field(sandbox)
    sandbox.migration_graph()  # cached for this code
    probes = []
    real = state.migration_graph
    monkeypatch.setattr(state, "migration_graph", lambda *a, **k: probes.append(a) or real(*a, **k))
    for target in ("0001_initial", "zero", "0003_topic_views"):
        assert sandbox.migrate("boards", target).ok
        _same_graph(sandbox.migration_graph(), real(sandbox.path, sandbox.settings_module))
    assert probes == []  # the kit's own reading: no Django process for it
    # A row for a migration that no longer exists: Django lists it as recorded but unknown, and so does the kit.
    sandbox.shell(
        "from django.db.migrations.recorder import MigrationRecorder\n"
        "MigrationRecorder.Migration.objects.create(app='boards', name='0009_gone')"
    )
    _same_graph(sandbox.migration_graph(), real(sandbox.path, sandbox.settings_module))
    assert ("boards", "0009_gone") in sandbox.migration_graph().recorded_unknown and probes == []


def test_with_a_squash_the_graph_is_read_by_django_again(sandbox):
    from widgets.read import state

    scenarios.make_squashed_migration(sandbox)
    graph = sandbox.migration_graph()
    assert state.with_recorded(graph, set()) is None
    assert sandbox.migrate("boards", "zero").ok
    _same_graph(sandbox.migration_graph(), state.migration_graph(sandbox.path, sandbox.settings_module))
