"""Database backends: a sandbox's SQLite file or its PostgreSQL database, behind one small interface.

Each backend says where the data is (``path``/``name``), makes it from the
template or from a copied project, saves and restores it with a snapshot,
fingerprints it for the caches, and gives commands and probes their settings.
The PostgreSQL server itself is ``widgets.sandbox.postgres``.
"""

from __future__ import annotations

import abc
import sys
from pathlib import Path

from widgets.errors import KitError
from widgets.read import state as _state
from widgets.read.table import records
from widgets.run.result import CommandResult
from widgets.run.runner import run_manage
from widgets.sandbox import files, postgres, templates
from widgets.sandbox.paths import TEMPLATE_DIR
from widgets.sandbox.workspace import Place

__all__ = [
    "IN_A_BROWSER",
    "Backend",
    "PostgresBackend",
    "SqliteBackend",
    "engine",
    "forget_old_database",
    "of",
    "other_database",
    "postgres_name",
]

#: Why a browser cannot give a PostgreSQL sandbox, and how to get one: one sentence.
IN_A_BROWSER = (
    "PostgreSQL is a server that a browser tab cannot run, so this needs the installed kit: "
    "`git clone` the kit's repository and run `make lab` (see its README), or use your class's JupyterHub."
)
_ENGINES = {"sqlite": "sqlite", "sqlite3": "sqlite", "postgresql": "postgresql", "postgres": "postgresql"}


def engine(database: str) -> str:
    """Return 'sqlite' or 'postgresql' for what the learner asked for; refuse anything else."""
    if database not in _ENGINES:
        raise KitError(f"The kit has no database called {database!r}. Fix: use database='sqlite' or 'postgresql'.")
    if _ENGINES[database] == "postgresql" and sys.platform == "emscripten":
        raise KitError(IN_A_BROWSER)
    return _ENGINES[database]


def of(place: Place, meta: dict) -> Backend:
    """Return the backend a sandbox's bookkeeping names."""
    return PostgresBackend(place, meta) if meta.get("engine") == "postgresql" else SqliteBackend(place, meta)


class Backend(abc.ABC):
    """What the facade asks of a sandbox's database: where it is, make it, snapshot it, fingerprint it, settings."""

    engine = ""

    def __init__(self, place: Place, meta: dict) -> None:
        self.place = place
        self.meta = meta

    @property
    @abc.abstractmethod
    def name(self) -> str | None:
        """Return the database's name on a server, or None for a file."""

    @abc.abstractmethod
    def path(self) -> Path:
        """Return the database file inside the sandbox; refuse if the data is not in a file."""

    @abc.abstractmethod
    def source(self) -> Path | postgres.Database:
        """Return what the state readers read."""

    @abc.abstractmethod
    def database(self) -> postgres.Database:
        """Return the PostgreSQL database; refuse if there is none."""

    @abc.abstractmethod
    def settings(self) -> str:
        """Return the settings module commands and probes run with."""

    @abc.abstractmethod
    def from_template(self, migrated: bool) -> None:
        """Copy the template in place of the project, with its database migrated if asked."""

    @abc.abstractmethod
    def from_copy(self) -> None:
        """Settle the database of a project just copied in place (from its original again)."""

    @abc.abstractmethod
    def save(self, label: str) -> None:
        """Save what the project folder's snapshot does not hold, under a label."""

    @abc.abstractmethod
    def restore(self, label: str) -> None:
        """Put back what save() kept under a label."""

    @abc.abstractmethod
    def fingerprint(self) -> tuple | None:
        """Return a value that changes whenever the data changes."""

    @abc.abstractmethod
    def command_env(self, args: tuple[str, ...]) -> dict[str, str] | None:
        """Return the environment a command needs beyond the kit's."""

    @abc.abstractmethod
    def prepare_probe(self) -> None:
        """Make the sandbox ready for a probe."""

    @abc.abstractmethod
    def stop_sessions(self, application: str) -> None:
        """End what a stopped command left running on the database."""

    def command_options(self) -> dict:
        """Return how the runner runs the sandbox's commands: ``settings``, ``pass_settings`` and ``python``."""
        return {
            "settings": self.settings(),
            "pass_settings": bool(self.meta.get("set_settings")),
            "python": self.meta.get("python"),
        }

    def _no_postgres(self) -> KitError:
        return KitError(f"The sandbox '{self.place.name}' uses SQLite. Fix: make it with database='postgresql'.")


class SqliteBackend(Backend):
    """A SQLite file inside the sandbox (``db.sqlite3``, or wherever the copied project keeps it)."""

    engine = "sqlite"

    @property
    def name(self) -> str | None:
        """Return the database's name on a server: None, a file has none."""
        return None

    def path(self) -> Path:
        """Return the database file inside the sandbox (it may not exist yet)."""
        return files.inside(self.place.path, self.meta.get("database") or "db.sqlite3")

    def source(self) -> Path:
        """Return what the state readers read."""
        return self.path()

    def database(self) -> postgres.Database:
        """Refuse: a SQLite sandbox has no PostgreSQL database."""
        raise self._no_postgres()

    def settings(self) -> str:
        """Return the settings module commands and probes run with."""
        return self.meta["settings"]

    def from_template(self, migrated: bool) -> None:
        """Copy the template in place of the project, with the migrated template database if asked."""
        database = templates.migrated_template_db(self.place.workspace) if migrated else None
        self.place.replace_project(TEMPLATE_DIR, templates.TEMPLATE_COPY, {"db.sqlite3": database} if database else {})

    def from_copy(self) -> None:
        """Nothing to do: the copied project's file came with it."""

    def save(self, label: str) -> None:
        """Nothing to do: the file is saved with the project folder."""

    def restore(self, label: str) -> None:
        """Nothing to do: the file comes back with the project folder."""

    def fingerprint(self) -> tuple | None:
        """Return the file's size, time and inode, or None if there is no file yet."""
        database = self.path()
        db_stat = database.stat() if database.is_file() else None
        return db_stat and (db_stat.st_size, db_stat.st_mtime_ns, db_stat.st_ino)

    def command_env(self, args: tuple[str, ...]) -> dict[str, str] | None:
        """Return what a command needs beyond the kit's environment: nothing."""
        return None

    def prepare_probe(self) -> None:
        """Nothing to do: a probe reads the project's own settings."""

    def stop_sessions(self, application: str) -> None:
        """Nothing to do: a SQLite file has no sessions that outlive a command."""


class PostgresBackend(Backend):
    """A database of the sandbox's own on the workspace's PostgreSQL server, with a settings override module."""

    engine = "postgresql"

    @property
    def name(self) -> str | None:
        """Return the PostgreSQL database's name."""
        return self.meta.get("postgres_database")

    def path(self) -> Path:
        """Refuse: the data is not in a file."""
        raise KitError(
            f"The sandbox '{self.place.name}' keeps its data in PostgreSQL, not in a file. "
            "Fix: read it with sandbox.query(...), or sandbox.database_name for psql."
        )

    def source(self) -> postgres.Database:
        """Return what the state readers read."""
        return self.database()

    def database(self) -> postgres.Database:
        """Return the sandbox's PostgreSQL database, the workspace's server started if needed."""
        if self.name is None:
            raise self._no_postgres()
        return postgres.Database(postgres.server(self.place.workspace), self.name)

    def settings(self) -> str:
        """Return the kit's override module, which points the project's settings at the database."""
        return postgres.OVERRIDE_MODULE

    def write_settings(self) -> None:
        """Write (or refresh, if the server moved) the settings module that points Django at the database."""
        database = self.database()
        postgres.write_settings_override(
            self.place.path, self.meta["settings"], database.django_settings(), database.server.reader
        )

    def from_template(self, migrated: bool) -> None:
        """Copy the template's files back and make the database again, from the migrated template if asked."""
        self.place.replace_project(TEMPLATE_DIR, templates.TEMPLATE_COPY)
        server = postgres.server(self.place.workspace)
        template = templates.migrated_template_postgres(self.place.workspace, server) if migrated else None
        self.database().create(template=template)
        self.write_settings()

    def from_copy(self) -> None:
        """Give a copied project the same migrations and data on PostgreSQL as in its SQLite file."""
        applied = _state.applied_migrations(files.inside(self.place.path, self.meta.get("database") or "db.sqlite3"))
        self.database().create()
        self.write_settings()
        env = {"DJANGO_SETTINGS_MODULE": self.settings(), "PGAPPNAME": "manage.py migrate"}
        for app_label, name in _latest_per_app(applied):
            self._checked_run(["migrate", "--noinput", app_label, name], env)
        dump = self.place.kit / "copy-data.json"
        sqlite_args = [
            "dumpdata",
            "--natural-foreign",
            "--natural-primary",
            "-e",
            "contenttypes",
            "-e",
            "auth.permission",
        ]
        result = run_manage(
            self.place.path,
            [*sqlite_args, "-o", str(dump)],
            settings=self.meta["settings"],
            python=self.meta.get("python"),
        )
        if not result.ok:
            raise KitError(f"The copy's data could not be read for PostgreSQL. {result.message}")
        try:
            self._checked_run(["loaddata", str(dump)], env)
        finally:
            dump.unlink(missing_ok=True)

    def _checked_run(self, args: list[str], env: dict[str, str]) -> CommandResult:
        """Run a command the kit needs to succeed; raise KitError with Django's reason if it does not."""
        result = run_manage(self.place.path, args, settings=self.settings(), python=self.meta.get("python"), env=env)
        if not result.ok:
            raise KitError(f"The kit could not run {result.command} on PostgreSQL. {result.message}")
        return result

    def save(self, label: str) -> None:
        """Copy the database under the snapshot's label."""
        self.database().save(label)

    def restore(self, label: str) -> None:
        """Put the database back as it was at a snapshot; raise KitError if its copy is gone."""
        if not self.database().restore(label):
            raise KitError(
                f"The database copy of snapshot '{label}' is gone (the server was reset). "
                f"Fix: take the snapshot again with sandbox.snapshot('{label}')."
            )
        self.write_settings()

    def fingerprint(self) -> tuple:
        """Return the database's fingerprint as PostgreSQL reports it."""
        return self.database().fingerprint()

    def command_env(self, args: tuple[str, ...]) -> dict[str, str]:
        """Return what a command needs beyond the kit's environment: the settings and a session name."""
        self.write_settings()
        # libpq reads PGAPPNAME: pg_stat_activity then names the session after the command.
        return {
            "DJANGO_SETTINGS_MODULE": self.settings(),
            "PGAPPNAME": f"manage.py {args[0] if args else ''}".strip(),
        }

    def prepare_probe(self) -> None:
        """Write the settings module, so a probe sees column types as PostgreSQL names them."""
        self.write_settings()

    def stop_sessions(self, application: str) -> None:
        """End a stopped command's sessions, so PostgreSQL rolls back what they did and frees their locks."""
        self.database().stop_sessions(application)


def postgres_name(place: Place) -> str:
    """Return the name a sandbox's database gets on the workspace's PostgreSQL server."""
    return postgres.database_name(postgres.server(place.workspace), place.name)


def forget_old_database(place: Place, keep: str | None = None) -> None:
    """Drop the PostgreSQL database (and its snapshot copies) an earlier sandbox of this name had, unless kept."""
    old = place.old_meta()
    if old is not None and old.get("engine") == "postgresql" and old.get("postgres_database") not in (None, keep):
        database = postgres.Database(postgres.server(place.workspace), old["postgres_database"])
        database.drop(place.snapshot_labels())


def other_database(workspace: Path, vendor: str, current: str) -> dict | None:
    """Return the read-only connection a probe needs to collect SQL for another engine, if any."""
    if engine(vendor) != "postgresql" or current == "postgresql":
        return None
    server = postgres.server(workspace)
    entry = server.django_database(server.params.get("dbname") or "postgres")
    if server.reader:
        entry |= {"USER": server.reader, "PASSWORD": ""}
    return {"postgresql": entry}


def _latest_per_app(applied) -> list[tuple[str, str]]:
    """Return each app's last recorded migration (by name), the targets that reproduce a history."""
    latest: dict[str, str] = {}
    for row in records(applied):
        latest[row["app"]] = max(latest.get(row["app"], row["name"]), row["name"])
    return sorted(latest.items())
