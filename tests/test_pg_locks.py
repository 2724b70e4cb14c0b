"""The documented lock table against PostgreSQL's own pg_locks, and the lock lesson on a real server."""

from __future__ import annotations

import threading
import time

import pytest

from widgets import Sandbox, scenarios
from widgets.errors import KitError
from widgets.run import pg_locks
from widgets.run.risks import WITH_TIMEOUT, risk_report
from widgets.sandbox import postgres

pytestmark = pytest.mark.processes("PostgreSQL runs as a server process")

SETUP = [
    'CREATE TABLE "r" ("id" int PRIMARY KEY)',
    'CREATE TABLE "t" ("id" int PRIMARY KEY, "a" int, "b" int, "r_id" int)',
    'CREATE INDEX "t_b_idx" ON "t" ("b")',
    'ALTER TABLE "t" ADD CONSTRAINT "t_c_check" CHECK ("a" > 0) NOT VALID',
]
OBSERVED = "SELECT l.relation, l.mode FROM pg_locks l WHERE l.pid = %s AND l.granted AND l.locktype = 'relation'"
OIDS = "SELECT oid, relname FROM pg_class WHERE relname IN ('t', 'r', 'n')"


@pytest.fixture(scope="module")
def scratch(postgres_server):
    """Return a database with the example tables t and r, dropped at the end."""
    database = postgres.Database(postgres_server, "kit_test_locks")
    database.create()
    with postgres_server.connect(database.name) as connection:
        for statement in SETUP:
            connection.execute(statement)
    yield database
    database.drop()


def strongest(rows, names: dict[int, str]) -> dict[str, str]:
    """Return the strongest lock mode held on each example table, in the manual's words."""
    found: dict[str, str] = {}
    for relation, mode in rows:
        table = names.get(relation)
        if table is None:
            continue
        mode = pg_locks._mode(mode)
        if table not in found or pg_locks.MODES.index(mode) > pg_locks.MODES.index(found[table]):
            found[table] = mode
    return found


def observe_in_transaction(database, statement: str) -> dict[str, str]:
    """Run a statement in a transaction, read its own locks from pg_locks, roll back."""
    with database.server.connect(database.name) as connection:
        names = dict(connection.execute(OIDS).fetchall())  # before: a dropped table leaves pg_class
        connection.execute("BEGIN")
        connection.execute(statement)
        names |= dict(connection.execute(OIDS).fetchall())  # after: a created one appears
        rows = connection.execute(OBSERVED, (connection.info.backend_pid,)).fetchall()
        connection.execute("ROLLBACK")
    return strongest(rows, names)


def observe_concurrently(database, statement: str) -> dict[str, str]:
    """Run a CONCURRENTLY statement (no transaction allowed) while a writer makes it wait, and read its locks."""
    server = database.server
    with server.connect(database.name) as writer, server.connect(database.name) as runner:
        writer.execute("BEGIN")
        writer.execute('INSERT INTO "t" ("id", "a") VALUES (1, 1)')  # ROW EXCLUSIVE: the build must wait for it
        pid = runner.info.backend_pid
        thread = threading.Thread(target=runner.execute, args=(statement,), daemon=True)
        thread.start()
        try:
            with server.connect(database.name) as watcher:
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:
                    waiting = watcher.execute(
                        "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
                    ).fetchone()
                    if waiting and waiting[0] == "Lock":
                        break
                    time.sleep(0.02)
                rows = watcher.execute(OBSERVED, (pid,)).fetchall()
                names = dict(watcher.execute(OIDS).fetchall())
        finally:
            writer.execute("ROLLBACK")
            thread.join(20)
    # Put the index back for the next example.
    with server.connect(database.name) as connection:
        connection.execute('CREATE INDEX IF NOT EXISTS "t_b_idx" ON "t" ("b")')
        connection.execute('DROP INDEX IF EXISTS "t_a_idx"')
    return strongest(rows, names)


@pytest.mark.parametrize("rule", pg_locks.LOCK_RULES, ids=lambda rule: rule.name)
def test_the_documented_lock_is_the_one_postgresql_takes(scratch, rule: pg_locks.LockRule) -> None:
    observe = observe_concurrently if "CONCURRENTLY" in rule.example else observe_in_transaction
    observed = observe(scratch, rule.example)
    table = "n" if rule.name == "create table" else "t"
    assert observed.get(table) == rule.mode, f"{rule.name}: pg_locks shows {observed}"
    if rule.referenced_mode:
        assert observed.get("r") == rule.referenced_mode
    if not rule.name.startswith("drop index"):
        parsed = dict(pg_locks.statement_locks(rule.example))
        assert parsed[table] == rule.mode and parsed.get("r") == rule.referenced_mode


def test_every_mode_says_what_it_blocks() -> None:
    assert {rule.mode for rule in pg_locks.LOCK_RULES} <= set(pg_locks.BLOCKS)
    assert pg_locks.statement_locks("SELECT 1") == []


def test_step_locks_reads_sqlmigrate_text(pg_sandbox: Sandbox) -> None:
    scenarios.add_views_field(pg_sandbox, migrate=False)
    frame = pg_locks.step_locks(pg_sandbox.sqlmigrate("boards", "0003").stdout)
    assert frame[["operation", "table", "lock"]].values.tolist() == [
        ["Add field views to topic", "boards_topic", "ACCESS EXCLUSIVE"],
        ["Add field views to topic", "boards_topic", "ACCESS EXCLUSIVE"],
    ]


def test_a_migration_waits_for_a_report_and_the_site_queues_behind_it(pg_sandbox: Sandbox) -> None:
    scenarios.add_views_field(pg_sandbox, migrate=False)
    report = pg_locks.Session(pg_sandbox, "report").hold("boards_topic")
    site = pg_locks.Session(pg_sandbox, "site request")
    try:
        migration = pg_locks.in_background(lambda: pg_sandbox.migrate("boards"), "migrate")
        assert pg_locks.wait_for_lock_wait(pg_sandbox, "manage.py migrate")
        site.query_in_background("SELECT COUNT(*) FROM boards_topic")
        assert pg_locks.wait_for_lock_wait(pg_sandbox, "site request")
        table = pg_locks.lock_table(pg_sandbox)
        rows = table[["session", "lock", "granted", "blocked_by"]].values.tolist()
        assert rows == [
            ["report", "ACCESS SHARE", True, ""],
            ["manage.py migrate", "ACCESS EXCLUSIVE", False, "report"],
            ["site request", "ACCESS SHARE", False, "manage.py migrate"],
        ]
        assert not migration.done
        report.commit()
        result = migration.wait(60)
        assert result is not None and result.ok, result
        assert site.wait(30).rows == [(0,)]
        assert pg_locks.lock_table(pg_sandbox).empty
    finally:
        report.close()
        site.close()


def test_lock_timeout_gives_up_then_a_retry_succeeds(pg_sandbox: Sandbox) -> None:
    scenarios.add_views_field(pg_sandbox, migrate=False)
    report = pg_locks.Session(pg_sandbox, "report").hold("boards_topic")
    try:
        retries = pg_locks.migrate_with_lock_timeout(
            pg_sandbox, "boards", lock_timeout="200ms", pause=0.05, before_retry=lambda n: report.commit()
        )
    finally:
        report.close()
    first, second = retries.attempts
    assert first.gave_up_waiting and not first.result.ok
    assert first.result.diagnosis is not None and first.result.diagnosis.code == "lock_timeout"
    assert second.result.ok and retries.ok
    assert "attempt 1: gave up" in str(retries)
    applied = pg_sandbox.applied_migrations()
    assert applied.query("app == 'boards'")["name"].tolist()[-1] == "0003_topic_views"


def test_sessions_need_a_postgresql_sandbox(sandbox: Sandbox) -> None:
    with pytest.raises(KitError, match="need PostgreSQL"):
        pg_locks.Session(sandbox)


def test_make_concurrent_builds_the_index_without_blocking_writes(pg_sandbox: Sandbox, psql) -> None:
    scenarios.add_subject_index(pg_sandbox)
    plain = risk_report(pg_sandbox, "boards", "0003")
    assert "require-concurrent-index-creation" in {w["rule"] for w in plain.steps[0].warnings}
    assert plain.steps[0].lock_summary == "boards_topic: SHARE"

    path = pg_locks.make_concurrent(pg_sandbox, "boards", "0003")
    assert path == "boards/migrations/0003_topic_subject_idx.py"
    assert "atomic = False" in pg_sandbox.read(path)
    sql = pg_sandbox.sqlmigrate("boards", "0003").stdout
    assert 'CREATE INDEX CONCURRENTLY "topic_subject_idx"' in sql and "BEGIN;" not in sql
    (step,) = risk_report(pg_sandbox, "boards", "0003").steps
    assert step.verdict == WITH_TIMEOUT and step.lock_summary == "boards_topic: SHARE UPDATE EXCLUSIVE"

    # A writer in the middle of a transaction: a plain CREATE INDEX would wait for it; CONCURRENTLY waits too,
    # but holds only SHARE UPDATE EXCLUSIVE meanwhile, so another writer goes on.
    writer = pg_locks.Session(pg_sandbox, "writer")
    other = pg_locks.Session(pg_sandbox, "site request")
    try:
        writer.connection.execute("BEGIN")
        writer.connection.execute("UPDATE boards_topic SET subject = subject")
        migration = pg_locks.in_background(lambda: pg_sandbox.migrate("boards"), "migrate")
        assert pg_locks.wait_for_lock_wait(pg_sandbox, "manage.py migrate")
        waiting = pg_locks.lock_table(pg_sandbox).query("session == 'manage.py migrate' and not granted")
        assert waiting["waiting_for"].tolist() == ["the end of the transaction of writer"]
        other.query_in_background("INSERT INTO boards_board (name, description) VALUES ('new', 'written meanwhile')")
        assert other.wait(30).error is None and other.rows == []
        assert not migration.done
        writer.commit()
        result = migration.wait(60)
        assert result is not None and result.ok, result
    finally:
        writer.close()
        other.close()
    assert psql(pg_sandbox, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'topic_subject_idx'::regclass") == [
        ["t"]
    ]


def test_make_concurrent_refuses_a_migration_without_an_index(pg_sandbox: Sandbox) -> None:
    with pytest.raises(KitError, match="no AddIndex or RemoveIndex"):
        pg_locks.make_concurrent(pg_sandbox, "boards", "0002")
    with pytest.raises(KitError, match="no migration starting with '0009'"):
        pg_locks.make_concurrent(pg_sandbox, "boards", "0009")
