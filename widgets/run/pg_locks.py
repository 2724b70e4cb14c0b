"""Locks on PostgreSQL: which lock each migration statement takes, and a live view of who waits for whom.

``LOCK_RULES`` is the documented table (PostgreSQL's manual, "Explicit
Locking" and each statement's page): the table-level lock a statement takes
on each table it names. tests/test_pg_locks.py runs one example of every rule on
the real server and checks the table against ``pg_locks``.

The lesson helpers make the classic production incident happen on purpose:
``Session`` is a second connection that holds a transaction on a table (a
long report), ``in_background`` runs ``migrate`` in a thread, and
``lock_table`` reads ``pg_locks`` with ``pg_stat_activity`` to show the
migration waiting for the report and the site's queries queuing behind the
migration. The fixes: ``migrate_with_lock_timeout`` gives up quickly and
retries; ``make_concurrent`` rewrites a migration's index operations to build
the index ``CONCURRENTLY`` (``atomic = False``), so writes go on meanwhile.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from widgets.errors import KitError
from widgets.read.table import TableLike, column, make_table, where
from widgets.run.result import DEFAULT_TIMEOUT, CommandResult

__all__ = [
    "BLOCKS",
    "LOCK_COLUMNS",
    "LOCK_RULES",
    "MODES",
    "Background",
    "LockRule",
    "Session",
    "in_background",
    "lock_table",
    "make_concurrent",
    "migrate_with_lock_timeout",
    "statement_locks",
    "step_locks",
    "wait_for_lock_wait",
]


@dataclass(frozen=True)
class LockRule:
    """A statement form and the table-level lock it takes on its own table (and on the one it references)."""

    name: str
    pattern: str  # matched against the statement, case-insensitive, from its start
    mode: str  # on the statement's table
    referenced_mode: str | None = None  # on the table after REFERENCES, if any
    example: str = ""  # one statement of this form, run by the tests against tables t (and r)


# Ordered: the first rule that matches a statement wins (CONCURRENTLY before the plain form).
LOCK_RULES: list[LockRule] = [
    LockRule("create table", r"CREATE TABLE", "ACCESS EXCLUSIVE", None, 'CREATE TABLE "n" (id int)'),
    LockRule(
        "create index concurrently",
        r"CREATE (UNIQUE )?INDEX CONCURRENTLY",
        "SHARE UPDATE EXCLUSIVE",
        None,
        'CREATE INDEX CONCURRENTLY "t_a_idx" ON "t" ("a")',
    ),
    LockRule("create index", r"CREATE (UNIQUE )?INDEX", "SHARE", None, 'CREATE INDEX "t_a_idx" ON "t" ("a")'),
    LockRule(
        "drop index concurrently",
        r"DROP INDEX CONCURRENTLY",
        "SHARE UPDATE EXCLUSIVE",
        None,
        'DROP INDEX CONCURRENTLY "t_b_idx"',
    ),
    LockRule("drop index", r"DROP INDEX", "ACCESS EXCLUSIVE", None, 'DROP INDEX "t_b_idx"'),
    LockRule(
        "add foreign key",
        r"ALTER TABLE \S+ ADD CONSTRAINT \S+ FOREIGN KEY",
        "SHARE ROW EXCLUSIVE",
        "SHARE ROW EXCLUSIVE",
        'ALTER TABLE "t" ADD CONSTRAINT "t_r_fk" FOREIGN KEY ("r_id") REFERENCES "r" ("id") DEFERRABLE INITIALLY DEFERRED',
    ),
    LockRule(
        "validate constraint",
        r"ALTER TABLE \S+ VALIDATE CONSTRAINT",
        "SHARE UPDATE EXCLUSIVE",
        None,
        'ALTER TABLE "t" VALIDATE CONSTRAINT "t_c_check"',
    ),
    LockRule(
        "alter table",
        r"ALTER TABLE",
        "ACCESS EXCLUSIVE",
        None,
        'ALTER TABLE "t" ADD COLUMN "views" integer DEFAULT 0 NOT NULL',
    ),
    LockRule("drop table", r"DROP TABLE", "ACCESS EXCLUSIVE", None, 'DROP TABLE "t" CASCADE'),
    LockRule("update rows", r"UPDATE", "ROW EXCLUSIVE", None, 'UPDATE "t" SET "a" = 1'),
    LockRule("insert rows", r"INSERT INTO", "ROW EXCLUSIVE", None, 'INSERT INTO "t" ("id", "a") VALUES (2, 1)'),
    LockRule("delete rows", r"DELETE FROM", "ROW EXCLUSIVE", None, 'DELETE FROM "t"'),
]

# PostgreSQL's table lock modes, weakest first (the manual's "Table-Level Lock Modes").
MODES = [
    "ACCESS SHARE",
    "ROW SHARE",
    "ROW EXCLUSIVE",
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
]
# What each lock mode stops other sessions from doing while it is held (or queued).
BLOCKS = {
    "ACCESS EXCLUSIVE": "everything, reads included: every query on the table waits",
    "SHARE ROW EXCLUSIVE": "writes (INSERT, UPDATE, DELETE) and schema changes; reads go on",
    "SHARE": "writes (INSERT, UPDATE, DELETE) and schema changes; reads go on",
    "SHARE UPDATE EXCLUSIVE": "only other schema changes and VACUUM; reads and writes go on",
    "ROW EXCLUSIVE": "only schema changes and SHARE locks (index builds); reads and writes go on",
}
STATEMENT_COLUMNS = ["operation", "statement", "table", "lock", "blocks"]
LOCK_COLUMNS = ["session", "state", "table", "lock", "granted", "waiting_for", "blocked_by", "query"]
_NAME = r'"?([\w$]+)"?'


def statement_locks(statement: str) -> list[tuple[str, str]]:
    """Return (table, lock mode) for each table one SQL statement locks, from the documented table."""
    text = " ".join(statement.split())
    for rule in LOCK_RULES:
        if re.match(rule.pattern, text, re.IGNORECASE):
            return _tables_locked(rule, text)
    return []


def _tables_locked(rule: LockRule, text: str) -> list[tuple[str, str]]:
    """Name the tables a statement of this rule locks."""
    if rule.name.startswith("drop index"):
        return []  # the table is found through the index, which the SQL alone does not say
    target = re.search(rf"(?:TABLE|ON|INTO|UPDATE|FROM)\s+(?:IF (?:NOT )?EXISTS\s+)?{_NAME}", text, re.IGNORECASE)
    found = [(target.group(1), rule.mode)] if target else []
    referenced = re.search(rf"REFERENCES\s+{_NAME}", text, re.IGNORECASE)
    if rule.referenced_mode and referenced:
        found.append((referenced.group(1), rule.referenced_mode))
    return found


def split_sql(sql: str) -> list[tuple[str, str]]:
    """Split sqlmigrate's text into (operation, statement): Django heads each operation with a -- comment."""
    operation, found = "", []
    lines = iter(sql.splitlines())
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("--"):
            words = stripped.strip("-").strip()
            operation = words or operation
            continue
        if stripped and stripped.upper() not in ("BEGIN;", "COMMIT;"):
            found.append((operation, stripped))
    return found


def step_locks(sql: str) -> TableLike:
    """Return one row per table each statement of a step's SQL locks: operation, statement, table, lock, blocks."""
    rows = [
        {"operation": operation, "statement": _short(statement), "table": table, "lock": mode, "blocks": BLOCKS[mode]}
        for operation, statement in split_sql(sql)
        for table, mode in statement_locks(statement)
    ]
    return make_table(rows, STATEMENT_COLUMNS)


def strongest_locks(frame: TableLike) -> dict[str, str]:
    """Return the strongest lock mode on each table of a step_locks frame, tables in first-locked order."""
    found: dict[str, str] = {}
    for table, mode in zip(column(frame, "table"), column(frame, "lock"), strict=True):
        if table not in found or MODES.index(mode) > MODES.index(found[table]):
            found[table] = mode
    return found


def _short(statement: str, limit: int = 90) -> str:
    return statement if len(statement) <= limit else statement[: limit - 1] + "…"


# ----- the lesson: a second session, a migration in the background, the live view ------------------


class Session:
    """A second PostgreSQL session on a sandbox's database, as another part of the site would hold one.

    ``Session(sandbox, "report").hold(table)`` starts a transaction and reads
    the table, so it keeps an ACCESS SHARE lock until ``commit()``, as a long
    report would.
    """

    def __init__(self, sandbox, name: str = "report") -> None:
        if sandbox.database != "postgresql":
            raise KitError(
                "Locks you can watch need PostgreSQL. Fix: make the sandbox with Sandbox.fresh(..., database='postgresql')."
            )
        database = sandbox.postgres_database()
        self.name = name
        self.connection = database.server.connect(database.name, application=name)
        self._thread: threading.Thread | None = None
        self.rows: list[tuple] | None = None
        self.error: str | None = None

    def hold(self, table: str) -> Session:
        """Begin a transaction that reads the table and stays open (the lock stays until commit)."""
        from psycopg import sql as pgsql

        self.connection.execute("BEGIN")
        self.connection.execute(pgsql.SQL("SELECT COUNT(*) FROM {}").format(pgsql.Identifier(table)))
        return self

    def query_in_background(self, sql: str) -> Session:
        """Run one query in a thread (a page of the site asking for data); it may wait behind a lock."""

        def run() -> None:
            try:
                cursor = self.connection.execute(sql)
                self.rows = cursor.fetchall() if cursor.description else []
            except Exception as error:  # shown to the learner as one line, not raised in a thread
                self.error = f"{type(error).__name__}: {error}"

        self._thread = threading.Thread(target=run, name=f"session-{self.name}", daemon=True)
        self._thread.start()
        return self

    def wait(self, timeout: float = DEFAULT_TIMEOUT) -> Session:
        """Wait for the background query to finish."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self

    def commit(self) -> None:
        """End the transaction: its locks go, and whoever waited for them goes on."""
        self.connection.execute("COMMIT")

    def close(self) -> None:
        """Close the session (rolling back anything still open)."""
        self.connection.close()

    def __repr__(self) -> str:
        return f"Session({self.name!r})"


@dataclass
class Background:
    """A kit command running in a thread; ``wait()`` returns its CommandResult."""

    description: str
    thread: threading.Thread
    outcome: list = field(default_factory=list)

    @property
    def done(self) -> bool:
        """Return True once the command has finished."""
        return not self.thread.is_alive()

    def wait(self, timeout: float | None = None) -> CommandResult | None:
        """Wait for the command (at most ``timeout`` seconds) and return its result, or None if still running."""
        self.thread.join(timeout)
        if self.outcome and isinstance(self.outcome[0], BaseException):
            raise self.outcome[0]
        return self.outcome[0] if self.outcome else None

    def __repr__(self) -> str:
        return f"Background({self.description!r}, {'done' if self.done else 'running'})"


def in_background(action: Callable[[], CommandResult], description: str = "command") -> Background:
    """Start a kit action (``lambda: sandbox.migrate(...)``) in a thread and return at once."""
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(action())
        except BaseException as error:  # handed to wait(), in the learner's thread
            outcome.append(error)

    thread = threading.Thread(target=run, name=f"kit-{description}", daemon=True)
    background = Background(description, thread, outcome)
    thread.start()
    return background


_LOCKS_SQL = """
SELECT a.application_name, a.state, c.relname, l.mode, l.granted, l.locktype,
       ARRAY(SELECT b.application_name FROM pg_stat_activity b
             WHERE b.pid = ANY (pg_blocking_pids(a.pid)) ORDER BY b.backend_start),
       a.query
FROM pg_locks l
JOIN pg_stat_activity a ON a.pid = l.pid
LEFT JOIN pg_class c ON c.oid = l.relation
LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
  AND ((l.locktype = 'relation' AND c.relkind IN ('r', 'p') AND n.nspname = 'public')
       -- CREATE INDEX CONCURRENTLY waits for older transactions to end, not for a table lock
       OR (NOT l.granted AND l.locktype IN ('virtualxid', 'transactionid')))
ORDER BY COALESCE(a.xact_start, a.query_start, a.backend_start), c.relname, l.mode
"""


def lock_table(sandbox) -> TableLike:
    """Return who holds or waits for a lock on the sandbox's tables now, from pg_locks and pg_stat_activity.

    One row per session, table and lock mode: the session's name
    (application_name), its state, the lock and whether it is granted, what
    it waits for, the sessions blocking it, and its query. Sessions are in the
    order they connected; no process ids or timings, so the table reads the
    same every time the same thing happens.
    """
    with sandbox.postgres_database().read_only() as reader:
        rows = reader.connection.execute(_LOCKS_SQL).fetchall()
    records = [
        {
            "session": name or "(unnamed)",
            "state": state,
            "table": table or "",
            "lock": _mode(mode),
            "granted": granted,
            "waiting_for": _waiting_for(table, mode, kind, blockers) if not granted else "",
            "blocked_by": ", ".join(blockers) if not granted else "",
            "query": _short(" ".join((query or "").split()), 80),
        }
        for name, state, table, mode, granted, kind, blockers, query in rows
    ]
    return make_table(records, LOCK_COLUMNS)


def _waiting_for(table: str | None, mode: str, kind: str, blockers: list[str]) -> str:
    """Say what a waiting session waits for: a table lock, or the end of another session's transaction."""
    if kind == "relation":
        return f"{_mode(mode)} on {table}"
    return f"the end of the transaction of {', '.join(blockers) or 'another session'}"


def _mode(mode: str) -> str:
    """Turn pg_locks' AccessExclusiveLock into the manual's ACCESS EXCLUSIVE."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", mode.removesuffix("Lock")).upper()


def wait_for_lock_wait(sandbox, session: str, timeout: float = 30.0) -> bool:
    """Wait until the named session waits for a lock; return False if it never does within timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        table = lock_table(sandbox)
        if not where(table, lambda row: row["session"] == session and not row["granted"]).empty:
            return True
        time.sleep(0.05)
    return False


@dataclass(frozen=True)
class Attempt:
    """One try of a migrate run with a lock_timeout."""

    number: int
    result: CommandResult

    @property
    def gave_up_waiting(self) -> bool:
        """Return True when PostgreSQL cancelled the migration because the lock did not come in time."""
        return "lock timeout" in self.result.stderr


@dataclass(frozen=True)
class Retries:
    """The attempts of ``migrate_with_lock_timeout``, the last one deciding."""

    lock_timeout: str
    attempts: list[Attempt]

    @property
    def ok(self) -> bool:
        """Return True when the last attempt applied the migrations."""
        return bool(self.attempts) and self.attempts[-1].result.ok

    def __str__(self) -> str:
        lines = [f"migrate with lock_timeout = {self.lock_timeout}:"]
        for attempt in self.attempts:
            if attempt.result.ok:
                lines.append(f"  attempt {attempt.number}: the lock came in time, the migration ran.")
            elif attempt.gave_up_waiting:
                lines.append(
                    f"  attempt {attempt.number}: gave up after {self.lock_timeout} waiting for the lock; "
                    "its transaction rolled back, nothing changed, and nobody queued behind it."
                )
            else:
                lines.append(f"  attempt {attempt.number}: failed: {attempt.result.message}")
        lines += ["", self.attempts[-1].result.terminal()] if self.attempts else []
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))


def migrate_with_lock_timeout(
    sandbox,
    app_label: str | None = None,
    target: str | None = None,
    *,
    lock_timeout: str = "1s",
    retries: int = 3,
    pause: float = 1.0,
    before_retry: Callable[[int], object] | None = None,
) -> Retries:
    """Run migrate with PostgreSQL's lock_timeout; when the lock does not come in time, wait and try again.

    A migration that cannot get its lock within ``lock_timeout`` is
    cancelled (and rolled back) instead of waiting while the site's queries
    queue up behind it. ``before_retry(n)`` runs before attempt n+1 (the
    lesson ends the report there, as a real one would end on its own).
    """
    if not re.fullmatch(r"\d+(ms|s)?", lock_timeout):
        raise KitError(f"lock_timeout {lock_timeout!r} is not a duration. Fix: write it like '500ms' or '2s'.")
    attempts = []
    for number in range(1, retries + 1):
        result = sandbox.migrate(app_label, target, env={"PGOPTIONS": f"-c lock_timeout={lock_timeout}"})
        attempts.append(Attempt(number, result))
        if result.ok or "lock timeout" not in result.stderr or number == retries:
            break
        if before_retry is not None:
            before_retry(number)
        time.sleep(pause)
    return Retries(lock_timeout, attempts)


# ----- the CONCURRENTLY fix ------------------------------------------------------------------------

_CONCURRENT = {"AddIndex": "AddIndexConcurrently", "RemoveIndex": "RemoveIndexConcurrently"}


def make_concurrent(sandbox, app_label: str, name: str) -> str:
    """Rewrite a migration so its AddIndex/RemoveIndex run CONCURRENTLY, with atomic = False; return its path.

    CREATE INDEX CONCURRENTLY takes SHARE UPDATE EXCLUSIVE instead of SHARE:
    the site keeps writing while the index builds. PostgreSQL refuses it
    inside a transaction, hence ``atomic = False`` (a failed build leaves an
    INVALID index to drop by hand, which is the price).
    """
    relative = _migration_file(sandbox, app_label, name)
    text = sandbox.read(relative)
    pattern = r"\bmigrations\.(AddIndex|RemoveIndex)\("
    if not re.search(pattern, text):
        raise KitError(
            f"{relative} has no AddIndex or RemoveIndex to build concurrently. Fix: declare the index in the "
            "model's Meta.indexes (models.Index(...)) and run makemigrations, then rewrite that migration."
        )
    used = sorted({_CONCURRENT[name] for name in re.findall(pattern, text)})
    text = re.sub(pattern, lambda m: f"{_CONCURRENT[m.group(1)]}(", text)
    line = f"from django.contrib.postgres.operations import {', '.join(used)}\n"
    text = text.replace("from django.db import migrations", line + "from django.db import migrations", 1)
    if not re.search(r"^\s+atomic\s*=", text, re.MULTILINE):
        text = re.sub(
            r"^(class Migration\(migrations\.Migration\):\n)",
            r"\1    # CONCURRENTLY cannot run inside a transaction.\n    atomic = False\n",
            text,
            count=1,
            flags=re.MULTILINE,
        )
    sandbox.write(relative, text)
    return relative


def _migration_file(sandbox, app_label: str, name: str) -> str:
    """Return the sandbox-relative path of the app's one migration whose name starts with ``name``."""
    folder = sandbox.file(f"{app_label}/migrations")
    found = sorted(p.name for p in folder.glob(f"{name}*.py")) if folder.is_dir() else []
    if len(found) != 1:
        problem = "no migration" if not found else f"{len(found)} migrations"
        raise KitError(
            f"{app_label} has {problem} starting with '{name}'. Fix: give a unique name such as 0004_topic_subject_idx."
        )
    return f"{app_label}/migrations/{found[0]}"
