"""PostgreSQL for sandboxes: one server per workspace, one database per sandbox, read-only readers.

The server is embedded: ``pgserver`` (PyPI) ships PostgreSQL 16 in its wheel.
It is started the first time a kernel needs it, with its data in
``<workspace>/.kit/postgres``, and it stops when the last kernel that used it
exits (pgserver counts the kernels in a file beside the data, and each kernel
stops it at exit if it was the last; kernels that died without saying so are
forgotten the next time one starts). Set ``MIGRATION_KIT_POSTGRES`` to a
connection URI (``postgresql://user@host:5432/postgres``, a role allowed to
create databases) to use a PostgreSQL server of your own instead.

A sandbox's database is a plain PostgreSQL database. Making one from the
migrated template, taking a snapshot and restoring one are each a
``CREATE DATABASE ... TEMPLATE ...``: a file-level copy inside the server.
Django reaches it through a small settings module written into the sandbox
(``kit_postgres_settings.py``) that imports the project's own settings and
replaces ``DATABASES``; the kit runs commands with ``DJANGO_SETTINGS_MODULE``
pointing at it, and so can a learner in a terminal.

Nothing here is imported on SQLite-only paths: psycopg and pgserver load
when the first PostgreSQL sandbox is used.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from widgets.errors import KitError
from widgets.read.state import column_row

__all__ = [
    "ENGINE",
    "OVERRIDE_MODULE",
    "SERVER_ENV",
    "Database",
    "PostgresError",
    "Server",
    "available",
    "database_name",
    "program",
    "release",
    "server",
    "settings_override",
    "write_settings_override",
]

ENGINE = "django.db.backends.postgresql"
SERVER_ENV = "MIGRATION_KIT_POSTGRES"
OVERRIDE_MODULE = "kit_postgres_settings"
READER_ROLE = "kit_reader"
# What the kit's own sessions call themselves in pg_stat_activity.
KIT_APPLICATION = "migration kit"
_ADMIN_DB = "postgres"
_LOCK = threading.Lock()
_SERVERS: dict[str, Server] = {}


class PostgresError(KitError):
    """Report a PostgreSQL problem in one plain sentence with its fix."""


def available() -> str | None:
    """Return None when PostgreSQL sandboxes can run here, else the reason they cannot."""
    if os.environ.get(SERVER_ENV):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset; pgserver copes
            import pgserver  # noqa: F401
        import psycopg  # noqa: F401
    except ImportError as error:
        if sys.version_info >= (3, 13) and error.name == "pgserver":
            # pgserver publishes wheels up to Python 3.12 only, so the kit does not ask for it on 3.13+.
            return (
                "the embedded PostgreSQL server (pgserver) has no build for this Python yet; use Python 3.11 "
                f"or 3.12, or set {SERVER_ENV} to a PostgreSQL server of your own"
            )
        return f"the embedded PostgreSQL server is not installed ({error}); run make setup"
    if os.name != "posix":
        return "the embedded PostgreSQL server runs on Linux and macOS only"
    return None


@dataclass(frozen=True)
class Server:
    """A running PostgreSQL server the kit may create databases on."""

    params: dict = field(hash=False)  # libpq keywords: host, port, user, password, dbname (the admin database)
    embedded: bool
    reader: str | None = None  # a role that can only read, when the kit could make one
    prefix: str = ""  # prepended to database names on a shared server

    def connect(self, dbname: str | None = None, *, read_only: bool = False, application: str = KIT_APPLICATION):
        """Open a psycopg connection (autocommit), read-only through the reader role and the session's default."""
        import psycopg

        params = {**self.params, "dbname": dbname or self.params.get("dbname") or _ADMIN_DB}
        if read_only:
            if self.reader:
                params["user"] = self.reader
            params["options"] = "-c default_transaction_read_only=on"
        params["application_name"] = application
        try:
            return psycopg.connect(**params, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as error:
            raise PostgresError(
                f"PostgreSQL refused the connection to database {params['dbname']!r} ({_first_line(error)}). "
                "Fix: make the sandbox again with Sandbox.fresh(..., database='postgresql')."
            ) from error

    def admin(self, sql: str, *identifiers: str) -> None:
        """Run one statement on the admin database, identifiers quoted in place of {} markers."""
        import psycopg
        from psycopg import sql as pgsql

        statement = pgsql.SQL(sql).format(*[pgsql.Identifier(i) for i in identifiers])
        with self.connect() as connection:
            try:
                connection.execute(statement)
            except psycopg.errors.ObjectInUse as error:
                raise PostgresError(
                    f"PostgreSQL cannot copy or drop a database while another session uses it ({_first_line(error)}). "
                    "Fix: close the other sessions first (for example report.close() in the lock lesson)."
                ) from error

    def exists(self, dbname: str) -> bool:
        """Return True when the server has a database by that name."""
        with self.connect() as connection:
            return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone() is not None

    def django_database(self, dbname: str) -> dict:
        """Return the DATABASES['default'] entry that points Django at one database of this server."""
        entry = {"ENGINE": ENGINE, "NAME": dbname}
        keys = {"user": "USER", "password": "PASSWORD", "host": "HOST", "port": "PORT"}
        entry.update({django: str(self.params[libpq]) for libpq, django in keys.items() if self.params.get(libpq)})
        return entry


def server(workspace: Path) -> Server:
    """Return the workspace's PostgreSQL server, starting the embedded one if it is not running."""
    key = str(Path(workspace).resolve())
    with _LOCK:
        known = _SERVERS.get(key)
        if known is not None and (not known.embedded or _still_running(Path(key))):
            return known
        reason = available()
        if reason is not None:
            raise PostgresError(f"PostgreSQL sandboxes cannot run here: {reason}.")
        configured = os.environ.get(SERVER_ENV)
        made = _system_server(configured, key) if configured else _embedded_server(Path(key))
        _SERVERS[key] = made
        return made


def _system_server(uri: str, workspace: str) -> Server:
    """Describe the server named by MIGRATION_KIT_POSTGRES; databases get a per-workspace prefix."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = {k: v for k, v in conninfo_to_dict(uri).items() if v not in (None, "")}
    except Exception as error:
        raise PostgresError(
            f"{SERVER_ENV} is not a PostgreSQL connection URI ({error}). "
            "Fix: set it like postgresql://user@localhost:5432/postgres."
        ) from None
    prefix = "kit" + hashlib.sha256(workspace.encode()).hexdigest()[:6] + "_"
    probe = Server(params, embedded=False, prefix=prefix)
    return Server(params, embedded=False, reader=_reader_role(probe), prefix=prefix)


def _embedded_server(workspace: Path) -> Server:
    """Start (or join) the embedded server whose data lives in <workspace>/.kit/postgres."""
    data = workspace / ".kit" / "postgres"
    data.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset; pgserver copes
        import pgserver
        from pgserver.postgres_server import PostgresServer

        _forget_dead_kernels(data, PostgresServer)
        handle = _start(pgserver, PostgresServer, data)
    info = handle.get_postmaster_info()
    params = {"host": str(info.socket_dir), "port": info.port, "user": "postgres", "dbname": _ADMIN_DB}
    probe = Server(params, embedded=True)
    _tune_for_lessons(probe)
    return Server(params, embedded=True, reader=_reader_role(probe))


# A lesson server holds throw-away data: skipping disk syncs makes CREATE and DROP DATABASE several times faster.
_LESSON_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def _tune_for_lessons(server: Server) -> None:
    """Switch the embedded server's durability off (its data is disposable) and reload its settings."""
    with server.connect() as connection:
        current = dict(
            connection.execute("SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", (list(_LESSON_SETTINGS),))
        )
        if current == _LESSON_SETTINGS:
            return
        for name, value in _LESSON_SETTINGS.items():
            connection.execute(f"ALTER SYSTEM SET {name} = {value}")
        connection.execute("SELECT pg_reload_conf()")


def _start(pgserver, server_class, data: Path):
    """Start or join the server; try again if a folder above the data lost its permissions meanwhile.

    As root, pgserver runs PostgreSQL as its own user and opens the folders
    above the data to it just before starting; a tool that makes its own
    folders private again at that moment (pytest does, for /tmp/pytest-of-*)
    makes pg_ctl fail with "Permission denied". Once running, PostgreSQL
    works inside its data folder and no longer needs them.
    """
    for attempt in range(3):
        server_class._instances.pop(data.resolve(), None)  # a handle whose server died is no use
        try:
            return pgserver.get_server(data, cleanup_mode="stop")
        except Exception as error:  # initdb or pg_ctl failed: say so once, with the log's last line
            if attempt < 2 and "Permission denied" in _pgserver_log(error):
                continue
            log = data / "log"
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.is_file() else []
            raise PostgresError(
                f"The embedded PostgreSQL server did not start ({type(error).__name__}: {error}; {' '.join(tail)}). "
                f"Fix: delete the folder .kit/postgres in the workspace and try again, or set {SERVER_ENV}."
            ) from error
    raise AssertionError("unreachable")


def _pgserver_log(error: Exception) -> str:
    """Return what a failed pg_ctl or initdb printed (pgserver keeps it on the CalledProcessError)."""
    return f"{error} {getattr(error, 'stderr', '') or ''} {getattr(error, 'output', '') or ''}"


def release(workspace: Path) -> None:
    """Stop using the workspace's embedded server now; it stops if no other kernel uses it."""
    key = str(Path(workspace).resolve())
    with _LOCK:
        known = _SERVERS.pop(key, None)
    if known is None or not known.embedded:
        return
    from pgserver.postgres_server import PostgresServer

    handle = PostgresServer._instances.get((Path(key) / ".kit" / "postgres").resolve())
    if handle is not None:
        handle.cleanup()


def program(name: str) -> Path:
    """Return the path of one of the embedded server's programs (psql, pg_dump, ...)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver._commands import POSTGRES_BIN_PATH
    return POSTGRES_BIN_PATH / name


def _forget_dead_kernels(data: Path, server_class) -> None:
    """Drop kernels that died without stopping from pgserver's count, so the last live one stops the server."""
    handles = data / ".handle_pids.json"
    if not handles.is_file():
        return
    import psutil

    with server_class._lock:
        try:
            pids = json.loads(handles.read_text())
        except ValueError:
            pids = []
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))


def _still_running(workspace: Path) -> bool:
    """Return True while the embedded server of a workspace runs (its postmaster.pid names a live process)."""
    pid_file = workspace / ".kit" / "postgres" / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


def _reader_role(server: Server) -> str | None:
    """Make (once) a role that can read every table and see every session but change nothing; None if not allowed."""
    import psycopg

    statements = [
        f"CREATE ROLE {READER_ROLE} LOGIN",
        f"GRANT pg_read_all_data, pg_read_all_stats TO {READER_ROLE}",
        f"ALTER ROLE {READER_ROLE} SET default_transaction_read_only = on",
    ]
    try:
        with server.connect() as connection:
            known = connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (READER_ROLE,)).fetchone()
            for statement in statements[1:] if known else statements:
                connection.execute(statement)
    except psycopg.errors.DuplicateObject:
        return READER_ROLE  # another kernel made it at the same moment
    except psycopg.Error:
        return None  # not allowed on this server: read-only transactions alone guard the readers
    return READER_ROLE


def database_name(server: Server, sandbox: str, suffix: str = "") -> str:
    """Return the database name for a sandbox (plus a suffix), within PostgreSQL's 63 bytes."""
    name = f"{server.prefix}{sandbox}{suffix}"
    if len(name) <= 63:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:10]
    return f"{name[:52]}_{digest}"


# ----- a sandbox's database ----------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    """One sandbox's database on a server, and the copies the kit keeps of it."""

    server: Server
    name: str

    def django_settings(self) -> dict:
        """Return the DATABASES['default'] entry for Django."""
        return self.server.django_database(self.name)

    def create(self, template: str | None = None) -> None:
        """Make the database afresh: empty, or a copy of a template database."""
        self.server.admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)
        if template is None:
            self.server.admin("CREATE DATABASE {}", self.name)
        else:
            self.server.admin("CREATE DATABASE {} TEMPLATE {}", self.name, template)

    def copy_name(self, label: str) -> str:
        """Return the name of the copy kept for a snapshot label."""
        digest = hashlib.sha256(f"{self.name}\0{label}".encode()).hexdigest()[:20]
        return f"{self.server.prefix}kit_snapshot_{digest}"

    def save(self, label: str) -> None:
        """Copy the database aside under a snapshot label (replacing an older copy)."""
        copy = self.copy_name(label)
        self.server.admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", copy)
        self.server.admin("CREATE DATABASE {} TEMPLATE {}", copy, self.name)

    def restore(self, label: str) -> bool:
        """Put the database back from a snapshot's copy; return False if there is no such copy."""
        copy = self.copy_name(label)
        if not self.server.exists(copy):
            return False
        self.create(template=copy)
        return True

    def drop(self, labels: list[str] = ()) -> None:
        """Drop the database and the copies kept for the given snapshot labels."""
        for name in [self.name, *(self.copy_name(label) for label in labels)]:
            self.server.admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)

    def stop_sessions(self, application: str) -> None:
        """End the sessions on this database that call themselves ``application`` (a command the kit stopped)."""
        with self.server.connect() as connection:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
                (self.name, application),
            )

    @contextmanager
    def read_only(self) -> Iterator[PostgresReader]:
        """Open a read-only session (reader role, read-only transactions) for the state readers."""
        connection = self.server.connect(self.name, read_only=True)
        try:
            yield PostgresReader(connection)
        finally:
            connection.close()

    def fingerprint(self) -> tuple:
        """Return what changes whenever a migration is recorded or unrecorded."""
        with self.read_only() as reader:
            if "django_migrations" not in reader.table_names():
                return ()
            return tuple(reader.rows("SELECT COUNT(*), COALESCE(MAX(id), 0), MIN(id) FROM django_migrations")[1][0])


class PostgresReader:
    """The state readers' questions, answered from PostgreSQL's catalogue on a read-only session."""

    def __init__(self, connection) -> None:
        self.connection = connection

    def table_names(self) -> list[str]:
        """Return the tables of the public schema (Django's), sorted by name."""
        rows = self.connection.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname"
        )
        return [name for (name,) in rows]

    def columns(self, table: str) -> list[dict]:
        """Return a table's columns: type as PostgreSQL names it, null, default, primary key, foreign key."""
        rows = self.connection.execute(_COLUMNS_SQL, (table,)).fetchall()
        return [column_row(table, *row) for row in rows]

    def count(self, table: str) -> int:
        """Return the number of rows in a table."""
        from psycopg import sql as pgsql

        query = pgsql.SQL("SELECT COUNT(*) FROM {}").format(pgsql.Identifier(table))
        return int(self.connection.execute(query).fetchone()[0])

    def applied_rows(self) -> list[tuple]:
        """Return django_migrations as (id, app, name, applied) with applied as naive UTC, like SQLite stores it."""
        return self.connection.execute(
            "SELECT id, app, name, applied AT TIME ZONE 'UTC' FROM django_migrations ORDER BY id"
        ).fetchall()

    def rows(self, sql: str, params: tuple = ()) -> tuple[list[str], list[tuple]]:
        """Run one query and return its column names and rows; PostgreSQL's refusal becomes a KitError."""
        import psycopg

        try:
            cursor = self.connection.execute(sql, params or None)
        except psycopg.errors.ReadOnlySqlTransaction as error:
            raise PostgresError(
                f"The kit reads the database read-only, so PostgreSQL refused this ({_first_line(error)}). "
                "Fix: change data through Django, for example with sandbox.shell(...)."
            ) from error
        except psycopg.errors.InsufficientPrivilege as error:
            raise PostgresError(
                f"The kit's read-only role may not do that ({_first_line(error)}). "
                "Fix: change data through Django, for example with sandbox.shell(...)."
            ) from error
        except psycopg.Error as error:
            raise PostgresError(
                f"PostgreSQL refused the query ({_first_line(error)}). "
                "Fix: check the table and column names in sandbox.tables(); parameters are written %s."
            ) from error
        columns = [d.name for d in cursor.description or ()]
        return columns, cursor.fetchall() if cursor.description else []


# One row per column, in table order, with its primary key and single-column foreign key.
_COLUMNS_SQL = """
SELECT a.attname,
       format_type(a.atttypid, a.atttypmod),
       a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid),
       EXISTS (SELECT 1 FROM pg_constraint p
               WHERE p.conrelid = c.oid AND p.contype = 'p' AND a.attnum = ANY (p.conkey)),
       (SELECT rc.relname FROM pg_constraint f JOIN pg_class rc ON rc.oid = f.confrelid
        WHERE f.conrelid = c.oid AND f.contype = 'f' AND f.conkey = ARRAY[a.attnum] LIMIT 1),
       (SELECT ra.attname FROM pg_constraint f
        JOIN pg_attribute ra ON ra.attrelid = f.confrelid AND ra.attnum = f.confkey[1]
        WHERE f.conrelid = c.oid AND f.contype = 'f' AND f.conkey = ARRAY[a.attnum] LIMIT 1)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE c.relname = %s
ORDER BY a.attnum
"""


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


# ----- the settings override -------------------------------------------------------------------

_OVERRIDE = '''"""Written by the migration kit: this sandbox runs on PostgreSQL.

Everything comes from the project's own settings ({base}) except DATABASES.
Run Django with it: DJANGO_SETTINGS_MODULE={module} python manage.py migrate
"""

from {base} import *  # noqa: F401,F403

DATABASES = {{"default": {database}}}
# The role the kit's read-only state readers use (None: read-only transactions only).
KIT_READ_ONLY_USER = {reader!r}
'''


def settings_override(base_settings: str, database: dict, reader: str | None) -> str:
    """Return the text of the settings module that points a project at a PostgreSQL database."""
    if not re.fullmatch(r"[A-Za-z_][\w.]*", base_settings):
        raise KitError(f"'{base_settings}' is not a settings module name. Fix: check DJANGO_SETTINGS_MODULE.")
    return _OVERRIDE.format(base=base_settings, module=OVERRIDE_MODULE, database=json.dumps(database), reader=reader)


def write_settings_override(project: Path, base_settings: str, database: dict, reader: str | None) -> bool:
    """Write the override module into a project unless it already says the same; return True if written."""
    path = Path(project) / f"{OVERRIDE_MODULE}.py"
    text = settings_override(base_settings, database, reader)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True
