"""The Sandbox: a disposable copy of a Django project, each role handed to its module in this package.

workspace (folders, locks), lifecycle, project_copy (copy_of), snapshots (and the guard), files
(never outside the sandbox), backends (SQLite, PostgreSQL), templates, readings (graph, plans, previews).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path

from widgets.read import state as _state
from widgets.read.table import TableLike
from widgets.run import timeouts
from widgets.run.result import CommandResult
from widgets.run.runner import runner
from widgets.sandbox import (
    backends,
    copying,
    files,
    lifecycle,
    manage_args,
    outside_paths,
    project_copy,
    readings,
    snapshots,
)
from widgets.sandbox import postgres as _postgres
from widgets.sandbox.manage_args import PageResult
from widgets.sandbox.templates import CACHE_ENV as _CACHE_ENV
from widgets.sandbox.workspace import Place, validate_name
from widgets.sandbox.workspace import names as workspace_names
from widgets.sandbox.workspace import root as workspace_root_of
from widgets.sandbox.written import WrittenFile

__all__ = ["Sandbox", "PageResult", "validate_name"]


def __getattr__(name: str):
    """Give CACHE_ENV, moved to widgets.sandbox.templates in 0.2, with a DeprecationWarning (until 0.3)."""
    if name != "CACHE_ENV":
        raise AttributeError(f"module 'widgets.sandbox.facade' has no attribute '{name}'")
    warnings.warn("CACHE_ENV moved. Fix: import it from widgets.sandbox.templates.", DeprecationWarning, 2)
    return _CACHE_ENV


class Sandbox:
    """A disposable copy of a Django project with its own SQLite database."""

    def __init__(self, name: str, workspace: Path) -> None:
        self.name = validate_name(name)
        self.workspace = Path(workspace).resolve()
        self.path = self.workspace / name
        self._place = Place(self.name, self.workspace)
        self._readings = readings.Readings(self._place)

    # ----- making and finding sandboxes -------------------------------------

    @classmethod
    def fresh(
        cls, name: str, *, migrated: bool = True, workspace: Path | str | None = None, database: str = "sqlite"
    ) -> Sandbox:
        """Make (or remake) a sandbox from the template; migrated unless told otherwise.

        ``database="postgresql"`` gives the sandbox a database of its own on
        the workspace's PostgreSQL server (started on demand) instead of a
        SQLite file.
        """
        engine = backends.engine(database)
        # Start Django's pre-warmed worker now, so its imports overlap the learner's next cell.
        runner().prepare()
        sandbox = cls(name, workspace_root_of(workspace))
        lifecycle.fresh(Place(sandbox.name, sandbox.workspace), engine, migrated=migrated)
        return sandbox

    @classmethod
    def open(cls, name: str, *, workspace: Path | str | None = None) -> Sandbox:
        """Return an existing sandbox (a copied project's Django starting in the background); KitError if none."""
        sandbox = cls(name, workspace_root_of(workspace))
        lifecycle.must_exist(Place(sandbox.name, sandbox.workspace))
        sandbox._readings.warm_up()
        return sandbox

    @classmethod
    def copy_of(
        cls,
        project: Path | str,
        name: str | None = None,
        *,
        workspace: Path | str | None = None,
        settings: str | None = None,
        include: Iterable[str] = (),
        database: str | None = None,
        python: Path | str | None = None,
    ) -> Sandbox:
        """Copy an existing Django project, database included, into a new sandbox; the original is only read.

        ``settings``: the dotted settings module (default: manage.py's), in the project or importable by
        ``python``, the project's own interpreter (``~/code/mysite/.venv/bin/python``), which then runs its
        commands. Left out unless ``include`` names them: "venv", "node_modules", "vcs", "caches", "media"
        (also MEDIA_ROOT and STATIC_ROOT inside the project); links are copied as links, never followed.
        A database that is not a SQLite file inside the project is refused with the fix, unless
        ``database="sqlite"`` (a migrated SQLite stand-in) or ``"postgresql"`` (the workspace's server).
        ``sandbox.notices`` says what was left out, which database it uses and what points outside it
        (``outside_links()``, ``outside_paths()``, ``rewrite_outside_paths()``); reset() copies the same way.
        """
        return project_copy.copy_of(
            cls, project, name, workspace, settings=settings, include=include, database=database, python=python
        )

    @classmethod
    def names(cls, *, workspace: Path | str | None = None) -> list[str]:
        """Return the names of the sandboxes in the workspace."""
        return workspace_names(workspace_root_of(workspace))

    def reset(self) -> Sandbox:
        """Put the sandbox back to its origin: the template or the copied project, copied the same way."""
        lifecycle.reset(self._place)
        return self

    def delete(self) -> None:
        """Remove the sandbox, its snapshots and its bookkeeping."""
        lifecycle.delete(self._place)

    # ----- snapshots ---------------------------------------------------------

    def snapshot(self, label: str) -> str:
        """Save the project files and database together under a label (replacing one of that label)."""
        return snapshots.snapshot(self._place, label)

    def restore(self, label: str) -> Sandbox:
        """Put the project files and database back as they were at a snapshot."""
        snapshots.restore(self._place, label)
        return self

    def snapshots(self) -> list[str]:
        """Return the labels of the saved snapshots."""
        return snapshots.labels(self._place)

    # ----- files ---------------------------------------------------------------

    def file(self, relative: str | Path) -> Path:
        """Return the absolute path of a file inside the sandbox; refuse any path outside it."""
        return files.inside(self.path, relative)

    def read(self, relative: str | Path) -> str:
        """Return the text of a file inside the sandbox."""
        return files.read(self, relative)

    def write(self, relative: str | Path, text: str) -> WrittenFile:
        """Write a whole file inside the sandbox, creating folders as needed."""
        return files.write(self, relative, text)

    def edit(self, relative: str | Path, old: str, new: str) -> WrittenFile:
        """Replace the one occurrence of ``old`` with ``new``; refuse if it is missing or repeated."""
        return files.edit(self, relative, old, new)

    def add_installed_app(self, label: str) -> bool:
        """Add an app label to INSTALLED_APPS in settings.py; return False if it was there."""
        return files.add_installed_app(self, label)

    # ----- commands ------------------------------------------------------------

    def manage(
        self, *args: str, input: str | None = None, timeout: float | None = None, env: dict[str, str] | None = None
    ) -> CommandResult:
        """Run ``python manage.py *args`` (``env``: extra variables); on timeout or interrupt, put the sandbox back."""
        timeout = timeouts.scaled(self.path, timeout)  # by default, a limit that grows with the migrations
        return snapshots.run_guarded(self._place, args, input=input, timeout=timeout, env=env)

    @property
    def command_options(self) -> dict:
        """Return how the runner runs this sandbox's commands: ``settings``, ``pass_settings`` and ``python``."""
        return self._readings.backend().command_options()

    def locked(self, doing: str = "a change") -> AbstractContextManager[None]:
        """Hold the sandbox while a block runs, against other commands and changes from any kernel."""
        return self._place.lock(doing)

    def copy_to(self, folder: Path) -> None:
        """Copy the project folder and its database to a new folder, as a snapshot copies them."""
        self._place.save(folder)

    def makemigrations(
        self,
        *app_labels: str,
        name: str | None = None,
        dry_run: bool = False,
        merge: bool = False,
        empty: bool = False,
        answers: list[str] | None = None,
        timeout: float | None = None,
    ) -> CommandResult:
        """Run makemigrations; ``answers`` are fed to Django's questions, one per line."""
        args = manage_args.makemigrations(app_labels, name=name, dry_run=dry_run, merge=merge, empty=empty)
        return self.manage(*args, input=manage_args.stdin(answers), timeout=timeout)

    def migrate(
        self,
        app_label: str | None = None,
        target: str | None = None,
        *,
        fake: bool = False,
        plan: bool = False,
        timeout: float | None = None,
        env: dict[str, str] | None = None,
    ) -> CommandResult:
        """Run migrate, for every app, one app, or one app to a target (``zero`` included)."""
        args = manage_args.migrate(app_label, target, fake=fake, plan=plan)
        return self.manage(*args, timeout=timeout, env=env)

    def showmigrations(self, *app_labels: str) -> CommandResult:
        """Run showmigrations for every app or the ones named."""
        return self.manage("showmigrations", *app_labels)

    def sqlmigrate(self, app_label: str, name: str, *, backwards: bool = False) -> CommandResult:
        """Run sqlmigrate to show the SQL of one migration, forwards or backwards."""
        return self.manage("sqlmigrate", *(["--backwards"] if backwards else []), app_label, name)

    def startapp(self, label: str) -> CommandResult:
        """Run startapp to create a new app folder inside the sandbox."""
        return self.manage(*manage_args.startapp(label))

    def shell(self, code: str, *, timeout: float | None = None) -> CommandResult:
        """Run Python code in ``manage.py shell`` (Django set up, models importable)."""
        return self.manage("shell", "--no-imports", "-c", code, timeout=timeout)

    def get(self, url: str) -> PageResult:
        """Request a page with Django's test client inside the sandbox and return status and HTML."""
        return manage_args.get(self.shell, url)

    # ----- read-only state -------------------------------------------------------

    @property
    def settings_module(self) -> str:
        """Return the dotted settings module the sandbox's commands and probes use."""
        return self._place.meta()["settings"]

    @property
    def run_settings(self) -> str:
        """Return the settings module commands run with: the project's own, or the kit's PostgreSQL override."""
        return self._readings.backend().settings()

    @property
    def database(self) -> str:
        """Return the database engine of the sandbox: 'sqlite' or 'postgresql'."""
        return self._readings.backend().engine

    @property
    def database_name(self) -> str | None:
        """Return the PostgreSQL database's name, or None for a SQLite sandbox."""
        return self._readings.backend().name

    @property
    def python(self) -> str | None:
        """Return the interpreter that runs this sandbox's Django (its project's own), or None for the kit's."""
        return self._place.meta().get("python")

    @property
    def settings_file(self) -> str:
        """Return the project's own settings file relative to the sandbox (a package's module or __init__.py).

        For a sandbox on a SQLite stand-in this is still the project's file, the one to edit:
        the stand-in module imports everything from it.
        """
        return files.settings_file(self.path, self._place.meta())

    @property
    def notices(self) -> list[str]:
        """Return plain sentences on how this sandbox differs from its origin (empty for a fresh sandbox).

        What a copy left out and its database (said when copied); links outside or looping (checked now)."""
        links = copying.links_sentence(self.outside_links())
        return [*self._place.meta().get("notices", []), *([links] if links else [])]

    def outside_links(self) -> list[copying.Link]:
        """Return the links in the sandbox that point outside it or to a folder above them; read-only.

        Copied as links, never followed (snapshots too); ``file``/``write`` refuse paths through one."""
        return copying.outside_links(self.path) if self.path.is_dir() else []

    def outside_paths(self) -> list[outside_paths.OutsidePath]:
        """Return the absolute paths the settings (values, files they read, the module) reach outside; read-only."""
        return project_copy.find_outside_paths(self._place, self._place.meta())

    def rewrite_outside_paths(self) -> list[str]:
        """Point every outside path spelled out in the sandbox's files at its copy; return the files changed."""
        return project_copy.rewrite_outside_paths(self._place)

    @property
    def db_path(self) -> Path:
        """Return the path of the SQLite database file (it may not exist yet)."""
        return self._readings.backend().path()

    def applied_migrations(self) -> TableLike:
        """Return the ``django_migrations`` rows: id, app, name, applied; read-only."""
        return _state.applied_migrations(self._readings.backend().source())

    def schema(self) -> TableLike:
        """Return one row per column of every table, foreign keys included; read-only."""
        return _state.schema(self._readings.backend().source())

    def tables(self) -> TableLike:
        """Return every table with its row count; read-only."""
        return _state.tables(self._readings.backend().source())

    def state(self) -> _state.State:
        """Return applied migrations, schema and row counts together; read-only."""
        return _state.read_state(self._readings.backend().source())

    def query(self, sql: str, params: tuple = ()) -> TableLike:
        """Run one SELECT on a read-only connection to the sandbox database (placeholders: ? on SQLite, %s on PostgreSQL)."""
        return _state.query(self._readings.backend().source(), sql, params)

    def migration_graph(self) -> _state.MigrationGraph:
        """Return Django's migration graph: nodes, edges, leaf nodes, conflicts; read-only (cached per fingerprint)."""
        return self._readings.migration_graph()

    def plan(self, app_label: str, target: str, *, timeout: float | None = None) -> _state.Plan:
        """Return the plan ``migrate app_label target`` would run, each operation described; read-only."""
        return self._readings.plan(app_label, target, timeout=timeout)

    def preview(self, app_label: str, target: str, *, sql_on: str | None = None, timeout: float | None = None) -> dict:
        """Return the plan with each step's SQL and the rows its drops lose, read in one process; read-only.

        ``sql_on="postgresql"`` gives each step's SQL as PostgreSQL would run it, even for a SQLite sandbox.
        """
        return self._readings.preview(app_label, target, sql_on=sql_on, timeout=timeout)

    def states(self, *, timeout: float | None = None) -> dict:
        """Return the schema after each migration of the whole plan (the time machine's reading), kept per code."""
        return self._readings.states(timeout=timeout)

    def sql_compare(self, app_label: str, name: str) -> dict:
        """Return one migration's SQL, forwards and backwards, on SQLite and on PostgreSQL; read-only."""
        return self._readings.sql_compare(app_label, name)

    def prepare_probe(self) -> None:
        """Make the sandbox ready for a probe: on PostgreSQL, write the settings that point Django at its database."""
        self._readings.backend().prepare_probe()

    def postgres_database(self) -> _postgres.Database:
        """Return the sandbox's PostgreSQL database (its server started if needed); refuse a SQLite sandbox."""
        return self._readings.backend().database()

    def __repr__(self) -> str:
        return f"Sandbox({self.name!r})"
