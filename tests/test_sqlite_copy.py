"""SQLite files copied through the backup API: never torn by a writer, never touched, faults kept."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import tree_digest

from widgets import Sandbox
from widgets.sandbox.copying import copy_tree
from widgets.sandbox.sqlite_copy import copy_database


def rows(database: Path) -> list[int]:
    with sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True) as db:
        return [n for (n,) in db.execute("SELECT n FROM t ORDER BY n")]


def integrity(database: Path) -> str:
    with sqlite3.connect(database) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0]


@pytest.fixture
def wal_writer(tmp_path: Path):
    """Return a project folder whose WAL database has committed rows only in its -wal and an open write."""
    top = tmp_path / "project"
    top.mkdir()
    database = top / "db.sqlite3"
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("PRAGMA journal_mode=wal")
    writer.execute("PRAGMA wal_autocheckpoint=0")  # keep the committed rows in the -wal, as a busy server does
    writer.execute("CREATE TABLE t (n INTEGER)")
    writer.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(300)])
    writer.execute("BEGIN IMMEDIATE")
    writer.executemany("INSERT INTO t VALUES (?)", [(-n,) for n in range(1, 50)])  # not committed
    assert Path(f"{database}-wal").stat().st_size > 0
    yield top
    writer.rollback()
    writer.close()


def test_a_copy_under_an_open_wal_transaction_holds_every_committed_row_and_no_other(wal_writer, tmp_path):
    before = tree_digest(wal_writer)
    copy_tree(wal_writer, tmp_path / "copy")
    copied = tmp_path / "copy" / "db.sqlite3"
    assert sorted(os.listdir(tmp_path / "copy")) == ["db.sqlite3"]
    assert rows(copied) == list(range(300))
    assert integrity(copied) == "ok"
    assert tree_digest(wal_writer) == before


def test_a_closed_wal_database_is_copied_without_touching_its_folder(tmp_path):
    database = tmp_path / "db.sqlite3"
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA journal_mode=wal")
        db.execute("CREATE TABLE t (n INTEGER)")
        db.execute("INSERT INTO t VALUES (7)")
    db.close()
    assert sorted(os.listdir(tmp_path)) == ["db.sqlite3"]
    copy_database(database, tmp_path / "copy.sqlite3")
    assert sorted(os.listdir(tmp_path)) == ["copy.sqlite3", "db.sqlite3"]
    assert rows(tmp_path / "copy.sqlite3") == [7]


def test_a_rollback_journal_writer_s_uncommitted_rows_stay_out(tmp_path):
    database = tmp_path / "db.sqlite3"
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("CREATE TABLE t (n INTEGER)")
    writer.execute("INSERT INTO t VALUES (1)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t VALUES (2)")
    try:
        copy_database(database, tmp_path / "copy.sqlite3")
    finally:
        writer.rollback()
        writer.close()
    assert rows(tmp_path / "copy.sqlite3") == [1]


HALF_DONE = """
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA cache_size = 1")  # spill to the file at once, so the journal is live when we die
db.execute("BEGIN")
for n in range(2000):
    db.execute("INSERT INTO t VALUES (?)", (n + 1000,))
os.kill(os.getpid(), 9)
"""


def test_a_half_done_change_is_copied_with_its_journal_and_rolls_back_in_the_copy(tmp_path):
    project = tmp_path / "project"  # the copy goes beside it, in this test's own folder
    project.mkdir()
    database = project / "db.sqlite3"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE t (n INTEGER)")
        db.execute("INSERT INTO t VALUES (5)")
    db.close()
    subprocess.run([sys.executable, "-c", HALF_DONE, str(database)], check=False)
    assert Path(f"{database}-journal").is_file()
    copy_tree(project, tmp_path / "copy")
    copied = tmp_path / "copy" / "db.sqlite3"
    assert Path(f"{copied}-journal").read_bytes() == Path(f"{database}-journal").read_bytes()
    with sqlite3.connect(copied) as db:  # a writer's connection undoes the change, as in the original
        assert [n for (n,) in db.execute("SELECT n FROM t")] == [5]
    assert integrity(copied) == "ok"


def test_a_snapshot_of_a_copied_project_is_whole_while_its_server_writes(shop, tmp_path):
    database = shop / "db.sqlite3"
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("PRAGMA journal_mode=wal")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("INSERT INTO catalog_category (name) VALUES ('committed in the wal')")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO catalog_category (name) VALUES ('not committed')")
    copy = None
    try:
        copy = Sandbox.copy_of(shop, "wal-copy")
        names = set(copy.query("SELECT name FROM catalog_category")["name"])
        assert "committed in the wal" in names and "not committed" not in names
        copy.snapshot("busy")
        copy.write("notes.txt", "after the snapshot")
        copy.restore("busy")
        assert set(copy.query("SELECT name FROM catalog_category")["name"]) == names
        assert integrity(copy.db_path) == "ok"
    finally:
        writer.rollback()
        writer.close()
        if copy is not None:
            copy.delete()
