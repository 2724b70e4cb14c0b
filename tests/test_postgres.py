"""PostgreSQL sandboxes on the real embedded server: made, read read-only, snapshotted, checked against psql."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from widgets import Sandbox, scenarios
from widgets.errors import KitError
from widgets.read.rollback import rollback_preview

pytestmark = pytest.mark.processes("PostgreSQL runs as a server process")


def test_fresh_gives_a_migrated_database_of_its_own(pg_sandbox: Sandbox, psql) -> None:
    assert pg_sandbox.database == "postgresql" and pg_sandbox.run_settings == "kit_postgres_settings"
    assert pg_sandbox.settings_module == "djsandbox.settings"  # the project's own file is still the one edited
    assert not (pg_sandbox.path / "db.sqlite3").exists()
    applied = pg_sandbox.applied_migrations()
    rows = psql(pg_sandbox, "SELECT id, app, name FROM django_migrations ORDER BY id")
    assert applied[["id", "app", "name"]].astype(str).values.tolist() == rows
    assert ("boards", "0002_post") in set(zip(applied["app"], applied["name"], strict=True))
    with pytest.raises(KitError, match="PostgreSQL, not in a file"):
        pg_sandbox.db_path  # noqa: B018


def test_schema_matches_the_catalogue(pg_sandbox: Sandbox, psql) -> None:
    schema = pg_sandbox.schema()
    topic = schema[schema["table"] == "boards_topic"].set_index("column")
    expected = psql(
        pg_sandbox,
        "SELECT column_name, is_nullable FROM information_schema.columns "
        "WHERE table_name = 'boards_topic' ORDER BY ordinal_position",
    )
    assert [[c, "YES" if topic.loc[c, "null"] else "NO"] for c in topic.index] == expected
    assert topic.loc["subject", "type"] == "character varying(255)"
    assert topic.loc["id", "primary_key"] and not topic.loc["subject", "primary_key"]
    assert (topic.loc["board_id", "references_table"], topic.loc["board_id", "references_column"]) == (
        "boards_board",
        "id",
    )
    tables = psql(pg_sandbox, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    assert pg_sandbox.tables()["table"].tolist() == [t for (t,) in tables]


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM django_migrations",
        "SET default_transaction_read_only = off; DELETE FROM django_migrations",
        "CREATE TABLE sneaky (id int)",
    ],
)
def test_the_readers_cannot_write(pg_sandbox: Sandbox, sql: str, psql) -> None:
    before = psql(pg_sandbox, "SELECT COUNT(*) FROM django_migrations")
    with pytest.raises(KitError, match="read-only|may not"):
        pg_sandbox.query(sql)
    assert psql(pg_sandbox, "SELECT COUNT(*) FROM django_migrations") == before
    assert psql(pg_sandbox, "SELECT to_regclass('sneaky')") == [["NULL"]]


def test_query_reads_with_percent_placeholders(pg_sandbox: Sandbox) -> None:
    found = pg_sandbox.query("SELECT name FROM django_migrations WHERE app = %s ORDER BY id", ("boards",))
    assert found["name"].tolist() == ["0001_initial", "0002_post"]
    with pytest.raises(KitError, match="PostgreSQL refused the query"):
        pg_sandbox.query("SELECT * FROM boards_topics")


def test_snapshot_restore_and_reset_copy_the_database(pg_sandbox: Sandbox, psql) -> None:
    scenarios.create_author_book(pg_sandbox)
    scenarios.populate_author_book(pg_sandbox)
    pg_sandbox.snapshot("with-book")
    assert pg_sandbox.migrate("app", "zero").ok
    assert "app_book" not in set(pg_sandbox.tables()["table"])
    pg_sandbox.restore("with-book")
    assert psql(pg_sandbox, "SELECT title FROM app_book") == [["Harry Potter"]]
    assert pg_sandbox.file("app/models.py").is_file()
    pg_sandbox.reset()
    assert psql(pg_sandbox, "SELECT to_regclass('app_book')") == [["NULL"]]
    assert not pg_sandbox.file("app").exists()


def test_views_field_flow(pg_sandbox: Sandbox, psql) -> None:
    result = scenarios.add_views_field(pg_sandbox)
    assert result.ok, result.terminal()
    views = pg_sandbox.schema().query("table == 'boards_topic' and column == 'views'")
    assert views[["type", "null"]].values.tolist() == [["integer", False]]
    assert psql(pg_sandbox, "SELECT name FROM django_migrations WHERE app = 'boards' ORDER BY id")[-1] == [
        "0003_topic_views"
    ]
    sql = pg_sandbox.sqlmigrate("boards", "0003").stdout
    assert 'ALTER TABLE "boards_topic" ADD COLUMN "views" integer DEFAULT 0 NOT NULL' in sql
    assert "new__" not in sql and "RENAME TO" not in sql  # no table rebuild on PostgreSQL


def test_author_book_rollback_preview_counts_what_psql_counts(pg_sandbox: Sandbox, psql) -> None:
    scenarios.create_author_book(pg_sandbox)
    scenarios.populate_author_book(pg_sandbox)
    preview = rollback_preview(pg_sandbox, "app", "zero")
    (books,), (authors,) = psql(pg_sandbox, "SELECT COUNT(*) FROM app_book UNION ALL SELECT COUNT(*) FROM app_author")
    lost = preview.drops.set_index("table")["rows_lost"].to_dict()
    assert lost == {"app_book": int(books), "app_author": int(authors)} == {"app_book": 1, "app_author": 1}
    assert preview.rows_lost == 2
    for app, name, sql in preview.sql:
        assert sql == pg_sandbox.sqlmigrate(app, name, backwards=True).stdout.strip()
    assert pg_sandbox.migrate("app", "zero").ok
    assert psql(pg_sandbox, "SELECT to_regclass('app_book'), to_regclass('app_author')") == [["NULL", "NULL"]]
    assert pg_sandbox.applied_migrations().query("app == 'app'").empty


def test_graph_follows_migrations_recorded_in_postgresql(pg_sandbox: Sandbox) -> None:
    graph = pg_sandbox.migration_graph()
    assert ("boards", "0002_post") in graph.applied_keys()
    assert pg_sandbox.migrate("boards", "0001").ok
    assert ("boards", "0002_post") not in pg_sandbox.migration_graph().applied_keys()


def test_a_sqlite_sandbox_never_loads_postgresql(tmp_path: Path) -> None:
    code = (
        "import sys\nfrom widgets import Sandbox, rollback_preview\n"
        "sandbox = Sandbox.fresh('plain')\nsandbox.state()\nsandbox.migration_graph()\n"
        "rollback_preview(sandbox, 'boards', '0001')\n"
        "print(sorted(m for m in ('psycopg', 'pgserver') if m in sys.modules))"
    )
    env = {**__import__("os").environ, "MIGRATION_KIT_WORKSPACE": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert not (tmp_path / ".kit" / "postgres").exists()


@pytest.fixture
def own_workspace():
    """Return a workspace outside pytest's private temporary folder (the server's user must reach it)."""
    root = Path(tempfile.mkdtemp(prefix="kit-pg-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_the_server_stops_when_the_last_kernel_exits(own_workspace: Path, postgres_server) -> None:
    tmp_path = own_workspace
    code = (
        "import json, sys\nfrom pathlib import Path\nfrom widgets.sandbox import postgres\n"
        "server = postgres.server(Path(sys.argv[1]))\n"
        "with server.connect() as c:\n    print(json.dumps(c.execute('SELECT pg_backend_pid() > 0').fetchone()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [True]
    assert (tmp_path / ".kit" / "postgres" / "PG_VERSION").is_file()
    assert not (tmp_path / ".kit" / "postgres" / "postmaster.pid").exists()  # stopped at that kernel's exit


def test_copy_of_moves_a_project_onto_postgresql(postgres_server, psql) -> None:
    original = scenarios.example_project("shop")
    sqlite_copy = Sandbox.copy_of(original, "shop-on-sqlite")
    copy = Sandbox.copy_of(original, "shop-on-postgresql", database="postgresql")
    try:
        assert copy.database == "postgresql" and sqlite_copy.database == "sqlite"
        mine = copy.applied_migrations()[["app", "name"]].values.tolist()
        assert sorted(mine) == sorted(sqlite_copy.applied_migrations()[["app", "name"]].values.tolist())
        for table in ("orders_order", "orders_orderline", "catalog_product"):
            (rows,) = psql(copy, f"SELECT COUNT(*) FROM {table}")
            assert int(rows[0]) == int(sqlite_copy.tables().set_index("table").loc[table, "rows"]), table
        assert copy.migrate("orders", "zero").ok
        assert psql(copy, "SELECT to_regclass('orders_order')") == [["NULL"]]
        copy.reset()
        assert int(psql(copy, "SELECT COUNT(*) FROM orders_order")[0][0]) > 0
    finally:
        copy.delete()
        sqlite_copy.delete()
