"""The right answers to the lessons' questions, found the way a learner finds them: in a real sandbox.

The tests never write an answer down, so tests/ stays as free of answers as
the kit. Each function reads its answer at test time by a route of its own
(files on disk, a SQL count, the text sqlmigrate prints, a command tried in a
throw-away copy), not by calling the kit's check, so a test that compares the
two can fail.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from widgets import Sandbox, scenarios
from widgets.lessons.scenarios import STARTER_LINE, VIEWS_LINE


def tracker_migrations(sandbox: Sandbox) -> int:
    """Count the migration files of the tracker app on disk."""
    return len(list(sandbox.file("tracker/migrations").glob("0*.py")))


def temporary_table(sandbox: Sandbox) -> str:
    """Return the table boards 0003 creates that is not one of the database's tables."""
    sql = sandbox.manage("sqlmigrate", "boards", "0003").stdout
    existing = set(sandbox.tables()["table"])
    [name] = [table for table in re.findall(r'CREATE TABLE "(\w+)"', sql) if table not in existing]
    return name


def authors_left(sandbox: Sandbox) -> int:
    """Count app_author's rows with SQL."""
    return int(sandbox.query("SELECT COUNT(*) AS n FROM app_author")["n"][0])


def index_count(sandbox: Sandbox) -> int:
    """Count the CREATE INDEX statements of tracker 0001."""
    return len(re.findall(r"^CREATE INDEX ", sandbox.manage("sqlmigrate", "tracker", "0001").stdout, re.MULTILINE))


def command_that_writes_files(options: Sequence[str]) -> str:
    """Try each command in its own throw-away copy after a model change; return the one that wrote a migration."""
    writers = []
    for command in options:
        with tempfile.TemporaryDirectory() as folder:
            trial = Sandbox.fresh("trial", migrated=False, workspace=Path(folder))
            trial.edit("boards/models.py", STARTER_LINE, STARTER_LINE + VIEWS_LINE)
            before = set(trial.file("boards/migrations").iterdir())
            trial.manage(command)
            if set(trial.file("boards/migrations").iterdir()) - before:
                writers.append(command)
    [writer] = writers
    return writer


def tables_after_book(sandbox: Sandbox) -> int:
    """Count the project's tables after ``migrate app 0002_added_Book_model`` on a copy emptied of the project's apps.

    Nothing of boards or tracker comes before app in the plan (app depends on
    neither, and its label sorts first), so this is the schema right after it.
    """
    copy = Sandbox.copy_of(sandbox.path, f"{sandbox.name}-at-book")
    try:
        for app_label in ("tracker", "boards", "app"):
            assert copy.migrate(app_label, "zero").ok
        assert copy.migrate("app", "0002_added_Book_model").ok
        return sum(t.split("_")[0] in {"boards", "tracker", "app"} for t in copy.tables()["table"])
    finally:
        copy.delete()


def lesson_sandbox(name: str) -> Sandbox:
    """Return a sandbox taken through the lessons' steps: views field, Author and Book, rollback, forward again."""
    sandbox = Sandbox.fresh(name)
    scenarios.add_views_field(sandbox)
    scenarios.create_author_book(sandbox)
    scenarios.populate_author_book(sandbox)
    assert sandbox.migrate("app", "0001_initial").ok
    assert sandbox.migrate("app").ok
    return sandbox
