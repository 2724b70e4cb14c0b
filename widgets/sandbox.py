"""Disposable copies of a Django project: make, reset, snapshot, restore, edit.

A sandbox is a folder under the workspace holding a whole Django project and
its SQLite database. The kit's own bookkeeping (origin, snapshots, the cached
migrated template database) lives beside it in ``.kit/`` so that the project
folder stays exactly what the learner would have on disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import pandas as pd

from . import postgres as _postgres
from . import state as _state
from . import worker
from .commands import DEFAULT_TIMEOUT, CommandResult, run_manage
from .errors import EditError, KitError, SandboxNameError, SandboxPathError
from .paths import TEMPLATE_DIR, workspace_root

__all__ = ["Sandbox", "PageResult", "validate_name"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_KIT = ".kit"
_SKIP_ALWAYS = ("__pycache__", "*.pyc", ".git", ".venv", "venv", "node_modules", ".pytest_cache", ".ipynb_checkpoints")
# Commands that only read: no guard snapshot is needed before them.
_READ_ONLY_COMMANDS = {
    "showmigrations",
    "sqlmigrate",
    "check",
    "diffsettings",
    "sqlflush",
    "sqlsequencereset",
    "inspectdb",
}
_DATABASE_FILES = ("*.sqlite3", "*.sqlite3-journal", "*.sqlite3-wal", "*.sqlite3-shm")
_LOCKS: dict[Path, threading.RLock] = {}


def validate_name(name: str, what: str = "Sandbox name") -> str:
    """Return the name if it is safe as one folder name; raise SandboxNameError otherwise."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        shown = repr(name) if isinstance(name, str) and name else "an empty name"
        raise SandboxNameError(
            f"{what} {shown} is not allowed. Fix: use 1 to 64 letters, digits, '-' or '_', "
            "starting with a letter or digit (for example 'views-lesson')."
        )
    return name


def _source_hash(folder: Path) -> str:
    """Hash every file of a template (names and bytes), skipping databases and caches."""
    digest = hashlib.sha256()
    for path in sorted(_files(folder, skip_databases=True)):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _files(folder: Path, *, skip_databases: bool) -> Iterator[Path]:
    patterns = _patterns(skip_databases)
    for path in folder.rglob("*"):
        parts = path.relative_to(folder).parts
        if path.is_file() and not any(fnmatch(part, pattern) for part in parts for pattern in patterns):
            yield path


def _patterns(skip_databases: bool) -> tuple[str, ...]:
    return _SKIP_ALWAYS + (_DATABASE_FILES if skip_databases else ())


def _ignore(skip_databases: bool):
    return shutil.ignore_patterns(*_patterns(skip_databases))


@dataclass(frozen=True)
class PageResult:
    """A page requested through Django's test client inside the sandbox."""

    url: str
    status: int
    html: str
    result: CommandResult

    @property
    def ok(self) -> bool:
        """Return True for a 2xx answer."""
        return 200 <= self.status < 300


class Sandbox:
    """A disposable copy of a Django project with its own SQLite database."""

    def __init__(self, name: str, workspace: Path) -> None:
        self.name = validate_name(name)
        self.workspace = Path(workspace).resolve()
        self.path = self.workspace / name
        # Under sandboxes/, so a sandbox called "cache" or "staging" cannot share the kit's own folders.
        self._kit = self.workspace / _KIT / "sandboxes" / name
        self._graph_cache: tuple[tuple, _state.MigrationGraph] | None = None

    # ----- making and finding sandboxes -------------------------------------

    @classmethod
    def fresh(
        cls,
        name: str,
        *,
        migrated: bool = True,
        workspace: Path | str | None = None,
        database: str = "sqlite",
    ) -> Sandbox:
        """Make (or remake) a sandbox from the template; migrated unless told otherwise.

        ``database="postgresql"`` gives the sandbox a database of its own on
        the workspace's PostgreSQL server (started on demand) instead of a
        SQLite file.
        """
        engine = _engine(database)
        # Start Django's pre-warmed worker now, so its imports overlap the learner's next cell.
        worker.prewarm()
        sandbox = cls(name, _workspace(workspace))
        meta = {"origin": "template", "migrated": migrated, "settings": "djsandbox.settings", "database": "db.sqlite3"}
        if engine == "postgresql":
            meta |= {"engine": engine, "database": None, "postgres_database": sandbox._postgres_name()}
        sandbox._forget_old_database(keep=meta.get("postgres_database"))
        sandbox._write_meta(meta)
        sandbox.reset()
        return sandbox

    @classmethod
    def open(cls, name: str, *, workspace: Path | str | None = None) -> Sandbox:
        """Return an existing sandbox; raise KitError if there is none by that name."""
        sandbox = cls(name, _workspace(workspace))
        if not (sandbox.path / "manage.py").is_file() or not sandbox._meta_file.is_file():
            raise KitError(
                f"There is no sandbox called '{name}' in this workspace. Fix: make it with Sandbox.fresh('{name}')."
            )
        return sandbox

    @classmethod
    def copy_of(
        cls,
        project: Path | str,
        name: str | None = None,
        *,
        workspace: Path | str | None = None,
        python: Path | str | None = None,
        database: str = "sqlite",
    ) -> Sandbox:
        """Copy an existing Django project, database included, into a new sandbox.

        ``python`` is the interpreter of the project's own virtual environment
        (``~/code/mysite/.venv/bin/python``): the kit then runs the copy's
        commands with it, so the project's own dependencies are found.
        ``database="postgresql"`` moves the copy onto the workspace's
        PostgreSQL server: the same migrations are applied there and the data
        is carried over with ``dumpdata`` and ``loaddata``.
        """
        engine = _engine(database)
        source = Path(project).expanduser().resolve()
        interpreter = _interpreter(python)
        if not (source / "manage.py").is_file():
            raise KitError(f"There is no manage.py in '{source.name}'. Fix: pass the folder that holds manage.py.")
        name = name or re.sub(r"[^A-Za-z0-9_-]", "-", source.name)[:64].strip("-_") or "copy"
        sandbox = cls(name, _workspace(workspace))
        if sandbox.path.resolve() == source or source in sandbox.path.resolve().parents:
            raise KitError("That project is this sandbox itself. Fix: copy a project from outside the workspace.")
        sandbox._forget_old_database()
        meta = {"origin": str(source), "migrated": False, "settings": _settings_module(source), "database": None}
        if interpreter is not None:
            meta["python"] = interpreter
        sandbox._write_meta(meta)
        sandbox.reset()
        try:
            meta["database"] = sandbox._database_inside()
            if engine == "postgresql":
                meta |= {"engine": engine, "postgres_database": sandbox._postgres_name()}
                sandbox._write_meta(meta)
                sandbox._postgres_from_copy()
        except KitError:
            sandbox.delete()
            raise
        sandbox._write_meta(meta)
        return sandbox

    @classmethod
    def names(cls, *, workspace: Path | str | None = None) -> list[str]:
        """Return the names of the sandboxes in the workspace."""
        root = _workspace(workspace)
        return sorted(
            p.parent.name
            for p in root.glob(f"{_KIT}/sandboxes/*/sandbox.json")
            if (root / p.parent.name / "manage.py").is_file()
        )

    def reset(self) -> Sandbox:
        """Put the sandbox back to its origin: the template or the copied project."""
        meta = self._meta()
        with self._lock():
            if meta.get("engine") == "postgresql":
                self._reset_postgres(meta)
            elif meta["origin"] == "template":
                database = _migrated_template_db(self.workspace) if meta["migrated"] else None
                self._replace_project(TEMPLATE_DIR, skip_databases=True, database=database)
            else:
                origin = Path(meta["origin"])
                if not (origin / "manage.py").is_file():
                    raise KitError(
                        f"The project this sandbox was copied from is gone ({origin.name}). Fix: make a new sandbox."
                    )
                self._replace_project(origin, skip_databases=False)
        return self

    def delete(self) -> None:
        """Remove the sandbox, its snapshots and its bookkeeping."""
        with self._lock():
            self._forget_old_database()
            shutil.rmtree(self.path, ignore_errors=True)
            shutil.rmtree(self._kit, ignore_errors=True)

    # ----- snapshots ---------------------------------------------------------

    def snapshot(self, label: str) -> str:
        """Save the project files and database together under a label (replacing one of that label)."""
        validate_name(label, "Snapshot label")
        with self._lock():
            self._save(self._snapshots / label)
            if self.database == "postgresql":
                self._postgres().save(label)
        return label

    def _save(self, target: Path) -> None:
        """Copy the project folder to target through a staging folder."""
        with self._lock():
            staging = self._staging()
            shutil.copytree(self.path, staging, ignore=_ignore(False))
            if target.exists():
                shutil.rmtree(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            staging.rename(target)

    def restore(self, label: str) -> Sandbox:
        """Put the project files and database back as they were at a snapshot."""
        validate_name(label, "Snapshot label")
        source = self._snapshots / label
        if not source.is_dir():
            known = ", ".join(self.snapshots()) or "none yet"
            raise KitError(
                f"There is no snapshot called '{label}' (snapshots: {known}). Fix: take one with sandbox.snapshot('{label}')."
            )
        with self._lock():
            self._replace_project(source, skip_databases=False)
            if self.database == "postgresql":
                if not self._postgres().restore(label):
                    raise KitError(
                        f"The database copy of snapshot '{label}' is gone (the server was reset). "
                        f"Fix: take the snapshot again with sandbox.snapshot('{label}')."
                    )
                self._write_postgres_settings()
        return self

    def snapshots(self) -> list[str]:
        """Return the labels of the saved snapshots."""
        return sorted(p.name for p in self._snapshots.glob("*") if p.is_dir()) if self._snapshots.is_dir() else []

    # ----- files ---------------------------------------------------------------

    def file(self, relative: str | Path) -> Path:
        """Return the absolute path of a file inside the sandbox; refuse any path outside it."""
        candidate = (self.path / relative).resolve()
        root = self.path.resolve()
        if candidate != root and root not in candidate.parents:
            raise SandboxPathError(
                f"'{relative}' is outside the sandbox. Fix: use a path inside it, such as 'boards/models.py'."
            )
        return candidate

    def read(self, relative: str | Path) -> str:
        """Return the text of a file inside the sandbox."""
        path = self.file(relative)
        if not path.is_file():
            raise KitError(
                f"There is no file '{relative}' in the sandbox. Fix: check the path (for example 'boards/models.py')."
            )
        return path.read_text(encoding="utf-8")

    def write(self, relative: str | Path, text: str) -> Path:
        """Write a whole file inside the sandbox, creating folders as needed."""
        path = self.file(relative)
        if path.is_dir():
            raise KitError(
                f"'{relative}' is a folder in the sandbox. Fix: give the path of a file, such as 'boards/models.py'."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock():
            path.write_text(text, encoding="utf-8")
        return path

    def edit(self, relative: str | Path, old: str, new: str) -> Path:
        """Replace the one occurrence of ``old`` with ``new``; refuse if it is missing or repeated."""
        text = self.read(relative)
        count = text.count(old)
        if count != 1:
            problem = "was not found" if count == 0 else f"was found {count} times"
            advice = (
                "copy it exactly from sandbox.read(...), spaces included"
                if count == 0
                else "include more of the surrounding lines so it is unique"
            )
            raise EditError(f"The text to replace {problem} in {relative}. Fix: {advice}.")
        return self.write(relative, text.replace(old, new, 1))

    def add_installed_app(self, label: str) -> bool:
        """Add an app label to INSTALLED_APPS in settings.py; return False if it was there."""
        if not label.isidentifier():
            raise KitError(
                f"'{label}' is not a valid app label. Fix: use the app's folder name, a Python identifier such as 'app'."
            )
        settings = self.settings_file
        text = self.read(settings)
        match = re.search(r"INSTALLED_APPS\s*=\s*\[(.*?)\]", text, re.DOTALL)
        if match is None:
            raise KitError(f'INSTALLED_APPS is not a plain list in {settings}. Fix: add "{label}" to it by hand.')
        if re.search(rf"""["']{re.escape(label)}(\.apps\.\w+)?["']""", match.group(1)):
            return False
        body = match.group(1).rstrip()
        separator = "" if body.endswith(",") or not body.strip() else ","
        replacement = f'INSTALLED_APPS = [{body}{separator}\n    "{label}",\n]'
        self.write(settings, text[: match.start()] + replacement + text[match.end() :])
        return True

    # ----- commands ------------------------------------------------------------

    def manage(
        self, *args: str, input: str | None = None, timeout: float = DEFAULT_TIMEOUT, env: dict[str, str] | None = None
    ) -> CommandResult:
        """Run ``python manage.py *args`` in the sandbox; on timeout, put the sandbox back as it was.

        ``env`` adds environment variables for this command only (``PGOPTIONS`` for a lock_timeout, say).
        """
        guarded = bool(args) and args[0] not in _READ_ONLY_COMMANDS
        with self._lock():
            env = (self._command_env(args) or {}) | (env or {}) or None
            if guarded:
                self._save(self._guard)
            result = run_manage(
                self.path, args, input=input, timeout=timeout, settings=self.run_settings, python=self.python, env=env
            )
            if result.timed_out and self.database == "postgresql":
                # The stopped command's session may still wait for a lock: end it, so PostgreSQL rolls it back.
                self._postgres().stop_sessions(env["PGAPPNAME"])
            if result.timed_out and guarded:
                self._replace_project(self._guard, skip_databases=False)
        return result

    def _command_env(self, args: tuple[str, ...]) -> dict[str, str] | None:
        """Return what a command needs beyond the kit's environment: on PostgreSQL, the settings and a session name."""
        if self.database != "postgresql":
            return None
        self._write_postgres_settings()
        # libpq reads PGAPPNAME: pg_stat_activity then names the session after the command.
        return {
            "DJANGO_SETTINGS_MODULE": self.run_settings,
            "PGAPPNAME": f"manage.py {args[0] if args else ''}".strip(),
        }

    def makemigrations(
        self,
        *app_labels: str,
        name: str | None = None,
        dry_run: bool = False,
        merge: bool = False,
        empty: bool = False,
        answers: list[str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> CommandResult:
        """Run makemigrations; ``answers`` are fed to Django's questions, one per line."""
        args = ["makemigrations", *app_labels]
        args += ["--name", name] if name else []
        args += ["--dry-run"] if dry_run else []
        args += ["--merge"] if merge else []
        args += ["--empty"] if empty else []
        return self.manage(*args, input=_stdin(answers), timeout=timeout)

    def migrate(
        self,
        app_label: str | None = None,
        target: str | None = None,
        *,
        fake: bool = False,
        plan: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        env: dict[str, str] | None = None,
    ) -> CommandResult:
        """Run migrate, for every app, one app, or one app to a target (``zero`` included)."""
        if target is not None and app_label is None:
            raise KitError("A target needs an app label. Fix: call sandbox.migrate('boards', '0002').")
        args = ["migrate", *([app_label] if app_label else []), *([target] if target else [])]
        args += ["--fake"] if fake else []
        args += ["--plan"] if plan else []
        return self.manage(*args, timeout=timeout, env=env)

    def showmigrations(self, *app_labels: str) -> CommandResult:
        """Run showmigrations for every app or the ones named."""
        return self.manage("showmigrations", *app_labels)

    def sqlmigrate(self, app_label: str, name: str, *, backwards: bool = False) -> CommandResult:
        """Run sqlmigrate to show the SQL of one migration, forwards or backwards."""
        return self.manage("sqlmigrate", *(["--backwards"] if backwards else []), app_label, name)

    def startapp(self, label: str) -> CommandResult:
        """Run startapp to create a new app folder inside the sandbox."""
        if not label.isidentifier():
            raise KitError(f"'{label}' is not a valid app name. Fix: use a Python identifier such as 'app'.")
        return self.manage("startapp", label)

    def shell(self, code: str, *, timeout: float = DEFAULT_TIMEOUT) -> CommandResult:
        """Run Python code in ``manage.py shell`` (Django set up, models importable)."""
        return self.manage("shell", "--no-imports", "-c", code, timeout=timeout)

    def get(self, url: str) -> PageResult:
        """Request a page with Django's test client inside the sandbox and return status and HTML."""
        code = (
            "import json\nfrom django.test import Client\n"
            f"response = Client().get({url!r})\n"
            "print('@@page@@' + json.dumps({'status': response.status_code, 'html': response.content.decode()}))"
        )
        result = self.shell(code)
        line = next((line for line in result.stdout.splitlines() if line.startswith("@@page@@")), None)
        if line is None:
            raise KitError(f"The page {url} could not be rendered. {result.message}")
        page = json.loads(line[len("@@page@@") :])
        return PageResult(url, page["status"], page["html"], result)

    # ----- read-only state -------------------------------------------------------

    @property
    def settings_module(self) -> str:
        """Return the dotted settings module the project uses (the one settings_file edits)."""
        return self._meta()["settings"]

    @property
    def run_settings(self) -> str:
        """Return the settings module commands run with: the project's own, or the kit's PostgreSQL override."""
        return _postgres.OVERRIDE_MODULE if self.database == "postgresql" else self.settings_module

    @property
    def database(self) -> str:
        """Return the database engine of the sandbox: 'sqlite' or 'postgresql'."""
        return self._meta().get("engine", "sqlite")

    @property
    def database_name(self) -> str | None:
        """Return the PostgreSQL database's name, or None for a SQLite sandbox."""
        return self._meta().get("postgres_database")

    @property
    def python(self) -> str | None:
        """Return the interpreter that runs this sandbox's Django (its project's own), or None for the kit's."""
        return self._meta().get("python")

    @property
    def settings_file(self) -> str:
        """Return the settings module's path relative to the sandbox."""
        return self.settings_module.replace(".", "/") + ".py"

    @property
    def db_path(self) -> Path:
        """Return the path of the SQLite database file (it may not exist yet)."""
        if self.database == "postgresql":
            raise KitError(
                f"The sandbox '{self.name}' keeps its data in PostgreSQL, not in a file. "
                "Fix: read it with sandbox.query(...), or sandbox.database_name for psql."
            )
        return self.file(self._meta().get("database") or "db.sqlite3")

    def _source(self):
        """Return what the state readers read: the SQLite file, or the PostgreSQL database."""
        return self._postgres() if self.database == "postgresql" else self.db_path

    def applied_migrations(self) -> pd.DataFrame:
        """Return the ``django_migrations`` rows: id, app, name, applied; read-only."""
        return _state.applied_migrations(self._source())

    def schema(self) -> pd.DataFrame:
        """Return one row per column of every table, foreign keys included; read-only."""
        return _state.schema(self._source())

    def tables(self) -> pd.DataFrame:
        """Return every table with its row count; read-only."""
        return _state.tables(self._source())

    def state(self) -> _state.State:
        """Return applied migrations, schema and row counts together; read-only."""
        return _state.read_state(self._source())

    def query(self, sql: str, params: tuple = ()) -> pd.DataFrame:
        """Run one SELECT on a read-only connection to the sandbox database (placeholders: ? on SQLite, %s on PostgreSQL)."""
        return _state.query(self._source(), sql, params)

    def migration_graph(self) -> _state.MigrationGraph:
        """Return Django's migration graph: nodes, edges, leaf nodes, conflicts; read-only.

        The graph is read again only when a Python file or the database changed since the last
        read, so refreshing every view after an action that changed neither costs no process.
        """
        key = self._fingerprint()
        if self._graph_cache is None or self._graph_cache[0] != key:
            self._prepare_probe()
            self._graph_cache = (key, _state.migration_graph(self.path, self.run_settings, python=self.python))
        return self._graph_cache[1]

    def _fingerprint(self) -> tuple:
        """Return the name, size and modification time of every .py file and of the database."""
        entries = []
        for folder, dirs, files in os.walk(self.path):
            dirs[:] = [d for d in dirs if d not in ("__pycache__", "node_modules", ".git")]
            for name in files:
                if name.endswith(".py"):
                    stat = os.stat(os.path.join(folder, name))
                    entries.append((os.path.join(folder, name), stat.st_size, stat.st_mtime_ns, stat.st_ino))
        if self.database == "postgresql":
            return tuple(sorted(entries)), self._postgres().fingerprint()
        database = self.db_path
        db_stat = database.stat() if database.is_file() else None
        return tuple(sorted(entries)), db_stat and (db_stat.st_size, db_stat.st_mtime_ns, db_stat.st_ino)

    def plan(self, app_label: str, target: str) -> _state.Plan:
        """Return the plan ``migrate app_label target`` would run, each operation described; read-only."""
        self._prepare_probe()
        return _state.plan(self.path, self.run_settings, app_label, target, python=self.python)

    def preview(self, app_label: str, target: str, *, sql_on: str | None = None) -> dict:
        """Return the plan with each step's SQL and the rows its drops lose, read in one process; read-only.

        ``sql_on="postgresql"`` gives each step's SQL as PostgreSQL would run it, even for a SQLite sandbox.
        """
        self._prepare_probe()
        other = self._other_database(sql_on) if sql_on else None
        return _state.preview(self.path, self.run_settings, app_label, target, python=self.python, other=other)

    def sql_compare(self, app_label: str, name: str) -> dict:
        """Return one migration's SQL, forwards and backwards, on SQLite and on PostgreSQL; read-only."""
        self._prepare_probe()
        other = self._other_database("postgresql")
        return _state.sql_compare(self.path, self.run_settings, app_label, name, python=self.python, other=other)

    def _other_database(self, vendor: str) -> dict | None:
        """Return the read-only connection a probe needs to collect SQL for another engine, if any."""
        if _engine(vendor) != "postgresql" or self.database == "postgresql":
            return None
        server = _postgres.server(self.workspace)
        entry = server.django_database(server.params.get("dbname") or "postgres")
        if server.reader:
            entry |= {"USER": server.reader, "PASSWORD": ""}
        return {"postgresql": entry}

    def __repr__(self) -> str:
        return f"Sandbox({self.name!r})"

    # ----- internals ---------------------------------------------------------------

    @property
    def _meta_file(self) -> Path:
        return self._kit / "sandbox.json"

    @property
    def _guard(self) -> Path:
        return self._kit / "before-command"

    @property
    def _snapshots(self) -> Path:
        return self._kit / "snapshots"

    def _meta(self) -> dict:
        if not self._meta_file.is_file():
            raise KitError(f"The sandbox '{self.name}' is gone. Fix: make it again with Sandbox.fresh('{self.name}').")
        return json.loads(self._meta_file.read_text(encoding="utf-8"))

    def _write_meta(self, meta: dict) -> None:
        self._kit.mkdir(parents=True, exist_ok=True)
        self._meta_file.write_text(json.dumps(meta, indent=2), encoding="utf-8")

    def _lock(self) -> threading.RLock:
        return _LOCKS.setdefault(self.path, threading.RLock())

    def _staging(self) -> Path:
        staging = self.workspace / _KIT / "staging" / f"{self.name}-{uuid.uuid4().hex[:8]}"
        staging.parent.mkdir(parents=True, exist_ok=True)
        return staging

    def _replace_project(self, source: Path, *, skip_databases: bool, database: Path | None = None) -> None:
        """Copy source into a staging folder, then swap it in, so no half copy is ever the sandbox."""
        staging = self._staging()
        shutil.copytree(source, staging, ignore=_ignore(skip_databases))
        if database is not None:
            shutil.copyfile(database, staging / "db.sqlite3")
        if self.path.exists():
            trash = self._staging()
            self.path.rename(trash)
            staging.rename(self.path)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            staging.rename(self.path)

    # ----- PostgreSQL (widgets/postgres.py does the work; imported only for PostgreSQL sandboxes) -------

    def _postgres(self):
        """Return the sandbox's PostgreSQL database, the workspace's server started if needed."""
        name = self.database_name
        if name is None:
            raise KitError(f"The sandbox '{self.name}' uses SQLite. Fix: make it with database='postgresql'.")
        return _postgres.Database(_postgres.server(self.workspace), name)

    def _postgres_name(self) -> str:
        return _postgres.database_name(_postgres.server(self.workspace), self.name)

    def _write_postgres_settings(self) -> None:
        """Write (or refresh, if the server moved) the settings module that points Django at the database."""
        database = self._postgres()
        _postgres.write_settings_override(
            self.path, self.settings_module, database.django_settings(), database.server.reader
        )

    def _prepare_probe(self) -> None:
        if self.database == "postgresql":
            self._write_postgres_settings()

    def _reset_postgres(self, meta: dict) -> None:
        """Copy the project back (no SQLite file) and make its database again, from the migrated template if asked."""
        if meta["origin"] == "template":
            self._replace_project(TEMPLATE_DIR, skip_databases=True)
            server = _postgres.server(self.workspace)
            template = _migrated_template_postgres(self.workspace, server) if meta["migrated"] else None
            self._postgres().create(template=template)
            self._write_postgres_settings()
            return
        origin = Path(meta["origin"])
        if not (origin / "manage.py").is_file():
            raise KitError(
                f"The project this sandbox was copied from is gone ({origin.name}). Fix: make a new sandbox."
            )
        self._replace_project(origin, skip_databases=False)
        self._postgres_from_copy()

    def _postgres_from_copy(self) -> None:
        """Give a copied project the same migrations and data on PostgreSQL as in its SQLite file."""
        applied = _state.applied_migrations(self._copied_sqlite())
        self._postgres().create()
        self._write_postgres_settings()
        env = {"DJANGO_SETTINGS_MODULE": self.run_settings, "PGAPPNAME": "manage.py migrate"}
        for app_label, name in _latest_per_app(applied):
            _checked_run(self, ["migrate", "--noinput", app_label, name], env)
        dump = self._kit / "copy-data.json"
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
            self.path, [*sqlite_args, "-o", str(dump)], settings=self.settings_module, python=self.python
        )
        if not result.ok:
            raise KitError(f"The copy's data could not be read for PostgreSQL. {result.message}")
        try:
            _checked_run(self, ["loaddata", str(dump)], env)
        finally:
            dump.unlink(missing_ok=True)

    def _copied_sqlite(self) -> Path:
        """Return the copied project's SQLite file inside the sandbox."""
        return self.file(self._meta().get("database") or "db.sqlite3")

    def _forget_old_database(self, keep: str | None = None) -> None:
        """Drop the PostgreSQL database (and its snapshot copies) an earlier sandbox of this name had, unless kept."""
        if not self._meta_file.is_file():
            return
        old = json.loads(self._meta_file.read_text(encoding="utf-8"))
        if old.get("engine") == "postgresql" and old.get("postgres_database") not in (None, keep):
            database = _postgres.Database(_postgres.server(self.workspace), old["postgres_database"])
            database.drop(self.snapshots())

    def _database_inside(self) -> str:
        """Return the copied project's SQLite file relative to it; refuse one that lives elsewhere."""
        answer = _state.run_probe(self.path, self.settings_module, "database", python=self.python)
        if "sqlite3" not in answer["engine"]:
            raise KitError(
                "This project does not use SQLite. Fix: the kit explores SQLite projects only; point it at a copy that does."
            )
        database = Path(answer["name"])
        database = database if database.is_absolute() else self.path / database
        try:
            return database.resolve().relative_to(self.path.resolve()).as_posix()
        except ValueError:
            raise KitError(
                "This project's SQLite database lives outside its folder, so a copy would still write to the original. "
                "Fix: copy a project whose DATABASES NAME is inside the project folder (e.g. BASE_DIR / 'db.sqlite3')."
            ) from None


def _workspace(workspace: Path | str | None) -> Path:
    root = Path(workspace).expanduser().resolve() if workspace is not None else workspace_root()
    root.mkdir(parents=True, exist_ok=True)
    return root


def _interpreter(python: Path | str | None) -> str | None:
    """Return the absolute path of a project's own Python, or None for the kit's; refuse one that is missing."""
    if python is None:
        return None
    path = Path(python).expanduser()
    path = path if path.is_absolute() else Path.cwd() / path
    if not path.is_file() or not os.access(path, os.X_OK):
        raise KitError(
            f"There is no Python interpreter at '{python}'. "
            "Fix: pass the project's own, such as python='~/code/mysite/.venv/bin/python'."
        )
    # Not resolved: a virtual environment's python is a link, and resolving it would leave the environment.
    return str(path)


def _engine(database: str) -> str:
    """Return 'sqlite' or 'postgresql' for what the learner asked for; refuse anything else."""
    engines = {"sqlite": "sqlite", "sqlite3": "sqlite", "postgresql": "postgresql", "postgres": "postgresql"}
    if database not in engines:
        raise KitError(f"The kit has no database called {database!r}. Fix: use database='sqlite' or 'postgresql'.")
    return engines[database]


def _latest_per_app(applied: pd.DataFrame) -> list[tuple[str, str]]:
    """Return each app's last recorded migration (by name), the targets that reproduce a history."""
    return sorted(applied.groupby("app")["name"].max().items()) if not applied.empty else []


def _checked_run(sandbox: Sandbox, args: list[str], env: dict[str, str]) -> CommandResult:
    """Run a command the kit needs to succeed; raise KitError with Django's reason if it does not."""
    result = run_manage(sandbox.path, args, settings=sandbox.run_settings, python=sandbox.python, env=env)
    if not result.ok:
        raise KitError(f"The kit could not run {result.command} on PostgreSQL. {result.message}")
    return result


def _stdin(answers: list[str] | None) -> str | None:
    return None if answers is None else "".join(f"{line}\n" for line in answers)


def _settings_module(project: Path) -> str:
    """Return the settings module manage.py sets, e.g. 'djsandbox.settings'."""
    text = (project / "manage.py").read_text(encoding="utf-8", errors="replace")
    match = re.search(r"""DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([\w.]+)['"]""", text)
    if match is None:
        raise KitError(
            "manage.py does not say which settings module to use. Fix: copy a project made by django-admin startproject."
        )
    return match.group(1)


def _migrated_template_db(workspace: Path) -> Path:
    """Return a database with every template migration applied, built once per template version."""
    cache = workspace / _KIT / "cache" / f"template-{_source_hash(TEMPLATE_DIR)}.sqlite3"
    if cache.is_file():
        return cache
    build = workspace / _KIT / "staging" / f"template-build-{uuid.uuid4().hex[:8]}"
    shutil.copytree(TEMPLATE_DIR, build, ignore=_ignore(True))
    try:
        result = run_manage(build, ["migrate", "--noinput"], timeout=DEFAULT_TIMEOUT)
        if not result.ok:
            raise KitError(f"The template project does not migrate cleanly. {result.message}")
        cache.parent.mkdir(parents=True, exist_ok=True)
        staged = build / "db.sqlite3"
        staged.rename(cache)  # same filesystem: atomic, so a reader never sees half a file
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return cache


def _migrated_template_postgres(workspace: Path, server) -> str:
    """Return a database with every template migration applied, built once per template version and server."""
    name = f"{server.prefix}kit_template_{_source_hash(TEMPLATE_DIR)}"
    if server.exists(name):
        return name
    build_name = f"{server.prefix}kit_build_{uuid.uuid4().hex[:12]}"
    build = workspace / _KIT / "staging" / f"template-build-{uuid.uuid4().hex[:8]}"
    shutil.copytree(TEMPLATE_DIR, build, ignore=_ignore(True))
    database = _postgres.Database(server, build_name)
    try:
        database.create()
        _postgres.write_settings_override(build, "djsandbox.settings", database.django_settings(), server.reader)
        env = {"DJANGO_SETTINGS_MODULE": _postgres.OVERRIDE_MODULE, "PGAPPNAME": "manage.py migrate"}
        result = run_manage(build, ["migrate", "--noinput"], timeout=DEFAULT_TIMEOUT, env=env)
        if not result.ok:
            raise KitError(f"The template project does not migrate cleanly on PostgreSQL. {result.message}")
        # Renamed only once complete, so a reader never copies half a template; another kernel may have won.
        if not server.exists(name):
            try:
                server.admin("ALTER DATABASE {} RENAME TO {}", build_name, name)
            except Exception:
                if not server.exists(name):
                    raise
    finally:
        database.drop()
        shutil.rmtree(build, ignore_errors=True)
    return name
