"""Disposable copies of a Django project: make, reset, snapshot, restore, edit.

A sandbox is a folder under the workspace holding a whole Django project and
its SQLite database. The kit's own bookkeeping (origin, snapshots, the cached
migrated template database) lives beside it in ``.kit/`` so that the project
folder stays exactly what the learner would have on disk. Every copy goes
through ``widgets.copying``: symbolic links are copied as links and never
followed, and ``sandbox.notices`` names the ones that point outside.
"""

from __future__ import annotations

import ast
import errno
import fcntl
import importlib.metadata
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pandas as pd

from widgets.errors import EditError, KitError, SandboxNameError, SandboxPathError
from widgets.read import state as _state
from widgets.run import timeouts
from widgets.run.commands import DEFAULT_TIMEOUT, CommandResult
from widgets.run.runner import run_manage, run_probe, runner
from widgets.sandbox import copying, disk, installed_apps, locks, outside_paths, settings_origin, stand_in
from widgets.sandbox import postgres as _postgres
from widgets.sandbox.fingerprint import code_fingerprint
from widgets.sandbox.paths import REPO_ROOT, TEMPLATE_DIR, workspace_root
from widgets.sandbox.written import WrittenFile

__all__ = ["Sandbox", "PageResult", "validate_name"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_KIT = ".kit"
_MODULE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
# The template leaves out everything bulky and its databases; snapshots keep the sandbox whole but its caches.
_TEMPLATE_COPY = copying.Selection(databases=True)
_SNAPSHOT_COPY = copying.Selection(categories=frozenset({"caches"}))
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
#: Where a class shares the migrated template database (see _template_caches).
CACHE_ENV = "MIGRATION_KIT_CACHE"
# Migrating a copied project's stand-in database can take a while on a big project.
_SETUP_TIMEOUT = 600.0


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
    """Hash every file of a template (names and bytes), skipping databases and caches, following no link."""
    return copying.tree_digest(folder, _TEMPLATE_COPY)[:16]


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
        runner().prepare()
        sandbox = cls(name, _workspace(workspace))
        meta = {"origin": "template", "migrated": migrated, "settings": "djsandbox.settings", "database": "db.sqlite3"}
        if engine == "postgresql":
            meta |= {"engine": engine, "database": None, "postgres_database": sandbox._postgres_name()}
        with sandbox._lock("Sandbox.fresh()", make=True):
            sandbox._forget_old_database(keep=meta.get("postgres_database"))
            existed = sandbox._exists()
            outcome = f"The sandbox '{name}' was not {'remade' if existed else 'made'}"
            kept = "it is as it was" if existed else "nothing of it is left"
            with sandbox._undone_on_failure(existed), disk.refused(outcome, kept):
                staged = sandbox._stage_meta(meta)  # written first: a full disk fails here, before any change
                sandbox._reset(meta)
                staged.replace(sandbox._meta_file)
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
        settings: str | None = None,
        include: Iterable[str] = (),
        database: str | None = None,
        python: Path | str | None = None,
    ) -> Sandbox:
        """Copy an existing Django project, database included, into a new sandbox; the original is only read.

        ``settings`` is the dotted settings module (default: the one manage.py sets, such as
        ``mysite.settings.dev``). The copy leaves out, unless ``include`` names them: "venv"
        (.venv, venv, any folder holding pyvenv.cfg), "node_modules", "vcs" (.git, .hg, .svn,
        .bzr), "caches" (__pycache__, *.pyc, .pytest_cache, .mypy_cache, .ruff_cache, .tox) and
        "media" (a top-level media/ folder, and MEDIA_ROOT and STATIC_ROOT inside the project);
        reset() copies the same way. Links are copied as links and never followed.

        ``python`` is the interpreter of the project's own virtual environment
        (``~/code/mysite/.venv/bin/python``): the kit then runs the copy's commands
        with it, so the project's own dependencies are found.

        A project whose database is not a SQLite file inside its folder is refused with the
        fix, unless ``database="sqlite"``: then the copy runs on a SQLite stand-in of its own
        (see ``widgets.stand_in``), migrated to the migrations the original database has
        applied when the kit can read them, else to all of them (a project already on a SQLite
        file inside its folder keeps that copied file). ``sandbox.notices`` says in plain
        sentences what was left out, which database the sandbox uses and which links point
        outside it; ``sandbox.outside_links()`` lists those links.
        ``database="postgresql"`` moves the copy onto the workspace's PostgreSQL
        server (a project on a SQLite file inside its folder): the same migrations
        are applied there and the data is carried over with dumpdata and loaddata.
        """
        engine = _engine(database or "sqlite")
        source = Path(project).expanduser().resolve()
        interpreter = _interpreter(python)
        if not (source / "manage.py").is_file():
            raise KitError(f"There is no manage.py in '{source.name}'. Fix: pass the folder that holds manage.py.")
        if database not in (None, "sqlite", "postgresql"):
            raise KitError(
                f"database={database!r} is not an option. Fix: leave it out, or pass database='sqlite' or 'postgresql'."
            )
        include = _check_include(include)
        named, forced = _manage_settings(source)
        settings = _check_settings(source, settings or named, interpreter)
        name = name or re.sub(r"[^A-Za-z0-9_-]", "-", source.name)[:64].strip("-_") or "copy"
        sandbox = cls(name, _workspace(workspace))
        if sandbox.path.resolve() == source or source in sandbox.path.resolve().parents:
            raise KitError("That project is this sandbox itself. Fix: copy a project from outside the workspace.")
        if settings != named and forced:
            raise _forced_settings_error(settings)
        meta = {
            "origin": str(source),
            "migrated": False,
            "settings": settings,
            "project_settings": settings,
            "set_settings": settings != named,
            "database": None,
            "include": include,
            "leave_out": [],
            "notices": [],
        }
        if interpreter is not None:
            meta["python"] = interpreter
        with sandbox._lock("Sandbox.copy_of()", make=True):
            existed = sandbox._exists()
            failed = f"The project '{source.name}' was not copied"
            kept = f"the sandbox '{name}' is as it was" if existed else "no sandbox was made"
            with disk.refused(failed, kept), sandbox._undone_on_failure(existed):
                left_out = sandbox._reset_copy(meta)  # swapped in whole, or not at all
            # The copy is in place now: a failure from here on removes it whole.
            kept = f"the sandbox '{name}' was removed" if existed else "no sandbox was made"
            with disk.refused(failed, kept), sandbox._undone_on_failure(existed=False):
                sandbox._copy_project(meta, None if engine == "postgresql" else database, forced, left_out)
                if engine == "postgresql":
                    sandbox._forget_old_database()
                    meta |= {"engine": engine, "postgres_database": sandbox._postgres_name()}
                    sandbox._write_meta(meta)
                    sandbox._postgres_from_copy()
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
        """Put the sandbox back to its origin: the template or the copied project, copied the same way."""
        with self._lock("reset()"):
            with disk.refused(f"The sandbox '{self.name}' was not reset", "it is as it was"):
                self._reset(self._meta())
        return self

    def _reset(self, meta: dict) -> None:
        """Copy the origin in place of the project, all or nothing; raise OSError if the disk refuses."""
        if meta.get("engine") == "postgresql":
            self._reset_postgres(meta)
        elif meta["origin"] == "template":
            database = _migrated_template_db(self.workspace) if meta["migrated"] else None
            self._replace_project(TEMPLATE_DIR, _TEMPLATE_COPY, {"db.sqlite3": database} if database else {})
        else:
            self._reset_copy(meta)

    def _reset_copy(self, meta: dict) -> list[tuple[str, str]]:
        """Copy the origin project again as its meta says; return what the copy left out."""
        origin = Path(meta["origin"])
        if not (origin / "manage.py").is_file():
            raise KitError(
                f"The project this sandbox was copied from is gone ({origin.name}). Fix: make a new sandbox."
            )
        selection = copying.Selection(
            categories=frozenset(copying.CATEGORIES) - set(meta.get("include", ())),
            paths=frozenset(meta.get("leave_out", ())),
        )
        extra, databases = {}, {}
        if meta.get("settings") == stand_in.MODULE:
            extra[f"{stand_in.MODULE}.py"] = stand_in.module_text(meta["project_settings"])
            if self._stand_in_cache.is_file():
                databases[stand_in.DATABASE_FILE] = self._stand_in_cache
        with self._lock("reset()"):
            left_out = self._replace_project(origin, selection, databases, extra)
            outside_paths.rewrite(self.path, origin, meta.get("rewritten", []))  # what rewrite_outside_paths() did
            return left_out

    def delete(self) -> None:
        """Remove the sandbox, its snapshots and its bookkeeping."""
        with self._lock("delete()"):
            self._forget_old_database()
            error = self._remove()
            if error is not None:
                raise disk.workspace_error(error, f"The sandbox '{self.name}' was not deleted", "what is left stays")

    def _remove(self) -> OSError | None:
        """Remove the project and its bookkeeping; return the first thing the disk refused."""
        refusals = [disk.remove_tree(self.path), disk.remove_tree(self._kit)]
        return next((error for error in refusals if error is not None), None)

    # ----- snapshots ---------------------------------------------------------

    def snapshot(self, label: str) -> str:
        """Save the project files and database together under a label (replacing one of that label)."""
        validate_name(label, "Snapshot label")
        with self._lock("snapshot()"):
            kept = "the sandbox and its snapshots are as they were"
            with disk.refused(f"The snapshot '{label}' was not saved", kept):
                self._save(self._snapshots / label)
                if self.database == "postgresql":
                    self._postgres().save(label)
        return label

    def _save(self, target: Path) -> None:
        """Copy the project folder to target through a staging folder; on failure, leave target as it was."""
        staging = self._staging()
        try:
            copying.copy_tree(self.path, staging, _SNAPSHOT_COPY)
            target.parent.mkdir(parents=True, exist_ok=True)
        except BaseException:
            disk.remove_tree(staging)
            raise
        _swap_in(staging, target, self._staging_path())

    def restore(self, label: str) -> Sandbox:
        """Put the project files and database back as they were at a snapshot."""
        validate_name(label, "Snapshot label")
        source = self._snapshots / label
        if not source.is_dir():
            known = ", ".join(self.snapshots()) or "none yet"
            raise KitError(
                f"There is no snapshot called '{label}' (snapshots: {known}). Fix: take one with sandbox.snapshot('{label}')."
            )
        with self._lock("restore()"):
            with disk.refused(f"The snapshot '{label}' was not put back", "the sandbox is as it was"):
                self._replace_project(source, _SNAPSHOT_COPY)
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
        root = self.path.resolve()
        try:
            # resolve() follows links, so a path leading out through a link is refused like '../x'.
            candidate = (self.path / relative).resolve()
        except RuntimeError:  # a loop of links
            raise SandboxPathError(
                f"'{relative}' goes round a loop of links. Fix: use a path without links, such as 'boards/models.py'."
            ) from None
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

    def write(self, relative: str | Path, text: str) -> WrittenFile:
        """Write a whole file inside the sandbox, creating folders as needed."""
        path = self.file(relative)
        if path.is_dir():
            raise KitError(
                f"'{relative}' is a folder in the sandbox. Fix: give the path of a file, such as 'boards/models.py'."
            )
        with self._lock("write()"):
            with disk.refused(f"'{relative}' was not saved", "the file is as it was"):
                disk.write_atomic(path, text.encode("utf-8"))
        return WrittenFile(path, path.relative_to(self.path).as_posix(), len(text.splitlines()))

    def edit(self, relative: str | Path, old: str, new: str) -> WrittenFile:
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
        settings = self._installed_apps_file()
        if not self.file(settings).is_file():
            raise KitError(
                f"The settings module '{self.settings_module}' is imported from outside the sandbox, and the kit edits "
                f'only the sandbox\'s files. Fix: add "{label}" to INSTALLED_APPS in a settings file inside the project.'
            )
        try:
            edited = installed_apps.with_installed_app(self.read(settings), label)
        except ValueError as reason:
            raise KitError(f'In {settings}, {reason}. Fix: add "{label}" to INSTALLED_APPS by hand.') from None
        if edited is None:
            return False
        self.write(settings, edited)
        return True

    def _installed_apps_file(self, relative: str | None = None, depth: int = 0) -> str:
        """Return the settings file that assigns INSTALLED_APPS, following ``from .base import *`` lines."""
        relative = relative or self.settings_file
        text = self.read(relative) if self.file(relative).is_file() else ""
        if installed_apps.assigns_installed_apps(text) or depth > 4:
            return relative
        module = str(PurePosixPath(relative).with_suffix("")).replace("/", ".").removesuffix(".__init__")
        package = module if relative.endswith("__init__.py") else module.rpartition(".")[0]
        for star in re.findall(r"^from\s+(\.*[\w.]*)\s+import\s+\*", text, re.MULTILINE):
            found = _module_file(self.path, _absolute_module(star, package))
            if found and found != relative:
                candidate = self._installed_apps_file(found, depth + 1)
                if installed_apps.assigns_installed_apps(self.read(candidate)):
                    return candidate
        return relative

    # ----- commands ------------------------------------------------------------

    def manage(
        self, *args: str, input: str | None = None, timeout: float | None = None, env: dict[str, str] | None = None
    ) -> CommandResult:
        """Run ``python manage.py *args`` in the sandbox; on timeout or interrupt, put the sandbox back as it was.

        ``timeout`` (seconds) defaults to a limit that grows with the number of migrations.
        ``env`` adds environment variables for this command only (``PGOPTIONS`` for a lock_timeout, say).
        """
        timeout = timeouts.scaled(self.path, timeout)
        guarded = bool(args) and args[0] not in _READ_ONLY_COMMANDS
        command = args[0] if args else "manage.py"
        with self._lock(f"manage.py {command}"):
            if guarded:
                with disk.refused(f"{command} did not run", "the sandbox is unchanged"):
                    self._save(self._guard)
            meta = self._meta()
            extra = (self._command_env(args) or {}) | (env or {})
            try:
                result = run_manage(
                    self.path,
                    args,
                    input=input,
                    timeout=timeout,
                    settings=self.run_settings,
                    pass_settings=bool(meta.get("set_settings")),
                    python=meta.get("python"),
                    env=extra,
                )
            except KeyboardInterrupt:  # the stop button: the command is killed, so undo it as a timeout is
                if self.database == "postgresql":
                    self._postgres().stop_sessions(extra["PGAPPNAME"])
                if guarded:
                    outcome = f"{command} was interrupted but the sandbox was not put back"
                    with disk.refused(outcome, "it may hold part of what the command did"):
                        self._replace_project(self._guard, _SNAPSHOT_COPY)
                raise
            if result.timed_out and self.database == "postgresql":
                # The stopped command's session may still wait for a lock: end it, so PostgreSQL rolls it back.
                self._postgres().stop_sessions(extra["PGAPPNAME"])
            if result.timed_out and guarded:
                outcome = f"{command} was stopped after {timeout:g} s but the sandbox was not put back"
                with disk.refused(outcome, "it may hold part of what the command did"):
                    self._replace_project(self._guard, _SNAPSHOT_COPY)
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
        timeout: float | None = None,
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
        timeout: float | None = None,
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

    def shell(self, code: str, *, timeout: float | None = None) -> CommandResult:
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
        """Return the dotted settings module the sandbox's commands and probes use."""
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
        """Return the project's own settings file relative to the sandbox (a package's module or __init__.py).

        For a sandbox on a SQLite stand-in this is still the project's file, the one to edit:
        the stand-in module imports everything from it.
        """
        meta = self._meta()
        module = meta.get("project_settings") or meta["settings"]
        return _module_file(self.path, module) or module.replace(".", "/") + ".py"

    @property
    def notices(self) -> list[str]:
        """Return plain sentences on how this sandbox differs from its origin.

        What a copy left out and which database it runs on (said when it was copied), and
        which links point outside the sandbox or loop (checked now); empty for a fresh sandbox.
        """
        links = copying.links_sentence(self.outside_links())
        return [*self._meta().get("notices", []), *([links] if links else [])]

    def outside_links(self) -> list[copying.Link]:
        """Return the links in the sandbox that point outside it or to a folder above them; read-only.

        The kit copies them as links and never follows them (snapshots hold the link, not
        what it points to), and ``file``/``write`` refuse paths that lead outside through one.
        """
        return copying.outside_links(self.path) if self.path.is_dir() else []

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
        if self._graph_cache is not None and self._graph_cache[0] != key:
            cached_key, cached = self._graph_cache
            if cached_key[0] == key[0] and self.database != "postgresql":
                # Same code, another database (a migrate): without a squash only the applied flags change.
                recorded = self.applied_migrations()
                graph = _state.with_recorded(cached, set(zip(recorded["app"], recorded["name"], strict=True)))
                if graph is not None:
                    self._graph_cache = (key, graph)
        if self._graph_cache is None or self._graph_cache[0] != key:
            self._prepare_probe()
            self._graph_cache = (key, _state.migration_graph(self.path, self.run_settings, python=self.python))
        return self._graph_cache[1]

    def _fingerprint(self) -> tuple:
        """Return the code's fingerprint and the database's (its file's size and time, or PostgreSQL's)."""
        code = code_fingerprint(self.path)
        if self.database == "postgresql":
            return code, self._postgres().fingerprint()
        database = self.db_path
        db_stat = database.stat() if database.is_file() else None
        return code, db_stat and (db_stat.st_size, db_stat.st_mtime_ns, db_stat.st_ino)

    def plan(self, app_label: str, target: str, *, timeout: float | None = None) -> _state.Plan:
        """Return the plan ``migrate app_label target`` would run, each operation described; read-only."""
        self._prepare_probe()
        with timeouts.named(f"sandbox.plan({app_label!r}, {target!r}, timeout={{timeout}})"):
            return _state.plan(self.path, self.run_settings, app_label, target, python=self.python, timeout=timeout)

    def preview(self, app_label: str, target: str, *, sql_on: str | None = None, timeout: float | None = None) -> dict:
        """Return the plan with each step's SQL and the rows its drops lose, read in one process; read-only.

        ``sql_on="postgresql"`` gives each step's SQL as PostgreSQL would run it, even for a SQLite sandbox.
        """
        self._prepare_probe()
        other = self._other_database(sql_on) if sql_on else None
        with timeouts.named(f"sandbox.preview({app_label!r}, {target!r}, timeout={{timeout}})"):
            return _state.preview(
                self.path, self.run_settings, app_label, target, python=self.python, other=other, timeout=timeout
            )

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

    @property
    def _stand_in_cache(self) -> Path:
        return self._kit / "stand-in.sqlite3"

    def _meta(self) -> dict:
        if not self._meta_file.is_file():
            raise KitError(f"The sandbox '{self.name}' is gone. Fix: make it again with Sandbox.fresh('{self.name}').")
        return json.loads(self._meta_file.read_text(encoding="utf-8"))

    def _write_meta(self, meta: dict) -> None:
        """Replace the bookkeeping all at once (a full disk leaves the old file whole)."""
        disk.write_atomic(self._meta_file, json.dumps(meta, indent=2).encode("utf-8"))

    def _stage_meta(self, meta: dict) -> Path:
        """Write the bookkeeping to a file beside sandbox.json, for the caller to rename over it."""
        staged = self._kit / f"sandbox.json.{uuid.uuid4().hex[:8]}.tmp"
        disk.write_atomic(staged, json.dumps(meta, indent=2).encode("utf-8"))
        return staged

    def _exists(self) -> bool:
        return self._meta_file.is_file() and self.path.is_dir()

    @contextmanager
    def _undone_on_failure(self, existed: bool) -> Iterator[None]:
        """On failure, remove a sandbox this call was making, and any staged bookkeeping."""
        try:
            yield
        except BaseException:
            for staged in self._kit.glob("sandbox.json.*.tmp"):
                staged.unlink(missing_ok=True)
            if not existed:
                self._remove()
            raise

    def _lock(self, doing: str = "a change", *, make: bool = False):
        """Hold this sandbox against other threads and other processes (see locks.py)."""
        if make:  # the lock file lives in the bookkeeping folder
            with disk.refused(f"The sandbox '{self.name}' was not made", "nothing was written"):
                self._kit.mkdir(parents=True, exist_ok=True)
        return locks.lock_for(self._kit / "lock", self.name).hold(doing)

    def _staging_path(self) -> Path:
        return self.workspace / _KIT / "staging" / f"{self.name}-{uuid.uuid4().hex[:8]}"

    def _staging(self) -> Path:
        staging = self._staging_path()
        staging.parent.mkdir(parents=True, exist_ok=True)
        return staging

    def _copy_project(self, meta: dict, database: str | None, forced: bool, left_out: list[tuple[str, str]]) -> None:
        """With the origin copied in place, leave out MEDIA_ROOT and STATIC_ROOT and settle which database it uses."""
        answer = run_probe(self.path, meta["settings"], "database", python=meta.get("python"))
        roots = [] if "media" in meta["include"] else self._roots_inside(answer)
        if roots:
            meta["leave_out"] = roots
            left_out = self._reset_copy(meta)
        inside = self._inside(answer["name"], real=True) if "sqlite3" in answer["engine"] else None
        if inside is not None:
            meta["database"] = inside
            meta["notices"] = [copying.left_out_sentence(left_out)]
        elif database is None:
            raise _database_error(answer["engine"])
        else:
            if forced:
                raise _forced_settings_error(stand_in.MODULE)
            meta["notices"] = [copying.left_out_sentence(left_out), self._stand_in(meta, answer["engine"])]
        meta["notices"].append(outside_paths.sentence(self._outside_paths(meta)))
        meta["notices"] = [notice for notice in meta["notices"] if notice]
        self._write_meta(meta)

    def outside_paths(self) -> list[outside_paths.OutsidePath]:
        """Return the absolute paths the settings reach outside the sandbox (checked now); read-only.

        Settings values (MEDIA_ROOT, STATIC_ROOT, a log handler's filename, a data folder, ...),
        files the settings read when imported (a config or .env file) and the settings module
        itself when it is imported from outside. ``rewritable`` ones lie in the original
        project and are spelled out in a file of the sandbox: ``rewrite_outside_paths()``
        points them at the sandbox's copy. Empty for a sandbox made from the template.
        """
        return self._outside_paths(self._meta())

    def rewrite_outside_paths(self) -> list[str]:
        """Point every rewritable outside path at the sandbox's copy, in the sandbox's files; return the files changed.

        The original project's folder is replaced by the sandbox's wherever a file read by the
        settings spells it out (a config file, a settings module inside the project); reset()
        does it again. Paths elsewhere stay as they are: set them in the settings yourself.
        """
        meta = self._meta()
        files = sorted({item.written_in for item in self._outside_paths(meta) if item.written_in})
        with self._lock("rewrite_outside_paths()"):
            changed = outside_paths.rewrite(self.path, Path(meta["origin"]), files)
            meta["rewritten"] = sorted({*meta.get("rewritten", []), *changed})
            meta["notices"] = [n for n in meta.get("notices", []) if not n.startswith(outside_paths.SENTENCE_START)]
            meta["notices"].append(outside_paths.sentence(self._outside_paths(meta)))
            meta["notices"] = [notice for notice in meta["notices"] if notice]
            self._write_meta(meta)
        return changed

    def _outside_paths(self, meta: dict) -> list[outside_paths.OutsidePath]:
        """Ask the settings, in the sandbox, which absolute paths they reach, and keep those outside it."""
        if meta.get("origin") == "template":
            return []
        module = meta.get("project_settings") or meta["settings"]
        answer = run_probe(self.path, meta["settings"], "paths", module, python=meta.get("python"))
        return outside_paths.find(answer, self.path, Path(meta["origin"]))

    # ----- PostgreSQL (widgets/postgres.py does the work; imported only for PostgreSQL sandboxes) -------

    def _postgres(self, meta: dict | None = None):
        """Return the sandbox's PostgreSQL database, the workspace's server started if needed."""
        name = (meta or self._meta()).get("postgres_database")
        if name is None:
            raise KitError(f"The sandbox '{self.name}' uses SQLite. Fix: make it with database='postgresql'.")
        return _postgres.Database(_postgres.server(self.workspace), name)

    def _postgres_name(self) -> str:
        return _postgres.database_name(_postgres.server(self.workspace), self.name)

    def _write_postgres_settings(self, meta: dict | None = None) -> None:
        """Write (or refresh, if the server moved) the settings module that points Django at the database."""
        meta = meta or self._meta()
        database = self._postgres(meta)
        _postgres.write_settings_override(
            self.path, meta["settings"], database.django_settings(), database.server.reader
        )

    def _prepare_probe(self) -> None:
        if self.database == "postgresql":
            self._write_postgres_settings()

    def _reset_postgres(self, meta: dict) -> None:
        """Copy the project back (no SQLite file) and make its database again, from the migrated template if asked."""
        if meta["origin"] == "template":
            self._replace_project(TEMPLATE_DIR, _TEMPLATE_COPY)
            server = _postgres.server(self.workspace)
            template = _migrated_template_postgres(self.workspace, server) if meta["migrated"] else None
            self._postgres(meta).create(template=template)
            self._write_postgres_settings(meta)
            return
        self._reset_copy(meta)
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

    def _stand_in(self, meta: dict, engine: str) -> str:
        """Put the copy on its own SQLite database, migrated like the original if it can be read; say what was done."""
        try:
            recorded = run_probe(
                self.path, meta["settings"], "database", "recorded", timeout=30, python=meta.get("python")
            )
        except KitError as error:  # e.g. no answer in time: keep the sentence, not its fix, as the reason
            recorded = {"applied": None, "reason": str(error).split(" Fix:")[0]}
        meta.update(settings=stand_in.MODULE, set_settings=True, database=stand_in.DATABASE_FILE)
        self._write_meta(meta)
        self._reset_copy(meta)
        applied = recorded["applied"]
        if applied is None:
            result = self.manage("migrate", "--noinput", timeout=_SETUP_TIMEOUT)
        else:
            result = self.shell(stand_in.replay_code([tuple(key) for key in applied]), timeout=_SETUP_TIMEOUT)
        if not result.ok:
            raise KitError(
                f"The project's migrations do not run on SQLite ({result.message}). "
                f"Fix: this project needs its own {stand_in.engine_name(engine)} database to explore; the kit cannot stand in for it."
            )
        if self.db_path.is_file():
            shutil.copyfile(self.db_path, self._stand_in_cache)
        where = f"its own SQLite database ({stand_in.DATABASE_FILE}, through {stand_in.MODULE}.py)"
        instead = f"instead of the project's {stand_in.engine_name(engine)} one"
        if applied is None:
            return (
                f"This sandbox runs on {where} {instead}; the original could not be read "
                f"({recorded['reason'].rstrip('.')}), so every migration is applied."
            )
        return f"This sandbox runs on {where} {instead}, with the same {len(applied)} applied migrations as the original and no rows."

    def _roots_inside(self, answer: dict) -> list[str]:
        """Return MEDIA_ROOT and STATIC_ROOT relative to the copy when they are folders strictly inside it."""
        roots = {self._inside(answer.get(key) or "") for key in ("media_root", "static_root")}
        return sorted(root for root in roots if root and root != ".")

    def _inside(self, path: str, *, real: bool = False) -> str | None:
        """Return a path Django gave relative to the sandbox, or None if it is empty or lies outside.

        ``real`` follows links to where the file really is (a database reached through a link
        to elsewhere is outside); otherwise the path is taken as written, as a folder to leave out.
        """
        if not path:
            return None
        absolute = (self.path / path).resolve() if real else Path(os.path.normpath(self.path / path))
        try:
            return absolute.relative_to(self.path).as_posix()
        except ValueError:
            return None

    def _replace_project(
        self,
        source: Path,
        selection: copying.Selection,
        databases: dict[str, Path] | None = None,
        extra: dict[str, str] | None = None,
    ) -> list[tuple[str, str]]:
        """Copy source into a staging folder, then swap it in, so no half copy is ever the sandbox.

        ``databases`` maps a file name in the sandbox to a database to copy there; ``extra`` maps a
        file name to text to write there. Return what the copy left out.
        """
        staging = self._staging()
        try:
            left_out = copying.copy_tree(source, staging, selection)
            for name, database in (databases or {}).items():
                shutil.copyfile(database, _replaceable(staging / name))
            for name, text in (extra or {}).items():
                _replaceable(staging / name).write_text(text, encoding="utf-8")
        except BaseException:  # a full disk, say: no staging folder is left, the sandbox is as it was
            disk.remove_tree(staging)
            raise
        _swap_in(staging, self.path, self._staging_path())
        return left_out


def _workspace(workspace: Path | str | None) -> Path:
    root = Path(workspace).expanduser().resolve() if workspace is not None else workspace_root()
    with disk.refused(f"The workspace folder {root.name} could not be made", "nothing was written"):
        root.mkdir(parents=True, exist_ok=True)
    return root


def _swap_in(staging: Path, target: Path, trash: Path) -> None:
    """Rename a finished staging folder to target, moving any old target aside first; undo on failure."""
    if not target.exists():
        try:
            staging.rename(target)
        except BaseException:
            disk.remove_tree(staging)
            raise
        return
    target.rename(trash)
    try:
        staging.rename(target)
    except BaseException:
        trash.rename(target)
        disk.remove_tree(staging)
        raise
    disk.remove_tree(trash)


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


def _replaceable(path: Path) -> Path:
    """Return path after removing a link there, so writing to it can never follow the link."""
    if path.is_symlink():
        path.unlink()
    return path


def _manage_settings(project: Path) -> tuple[str | None, bool]:
    """Return the settings module manage.py sets and whether it forces it (``os.environ[...] = ``).

    Read like manage.py runs it: ``os.environ.setdefault("DJANGO_SETTINGS_MODULE", "x")``
    gives ("x", False); ``os.environ["DJANGO_SETTINGS_MODULE"] = "x"`` gives ("x", True).
    """
    text = (project / "manage.py").read_text(encoding="utf-8", errors="replace")
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None, False
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "setdefault"
            and len(node.args) == 2
            and _constant(node.args[0]) == "DJANGO_SETTINGS_MODULE"
            and isinstance(_constant(node.args[1]), str)
        ):
            return _constant(node.args[1]), False
        if (
            isinstance(node, ast.Assign)
            and isinstance(_constant(node.value), str)
            and any(
                isinstance(t, ast.Subscript) and _constant(t.slice) == "DJANGO_SETTINGS_MODULE" for t in node.targets
            )
        ):
            return _constant(node.value), True
    return None, False


def _constant(node: ast.AST) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _check_settings(project: Path, module: str | None, python: str | None = None) -> str:
    """Return the settings module if it is a dotted name of a module in the project or importable there; raise KitError otherwise."""
    if module is None:
        raise KitError(
            "manage.py does not say which settings module to use. "
            "Fix: name it, as in Sandbox.copy_of(path, settings='mysite.settings')."
        )
    if not isinstance(module, str) or not _MODULE.fullmatch(module):
        raise KitError(f"{module!r} is not a dotted module name. Fix: pass one such as settings='mysite.settings.dev'.")
    if _module_file(project, module) is None and settings_origin.importable_file(project, module, python) is None:
        path = module.replace(".", "/")
        raise KitError(
            f"The settings module '{module}' is not in the project (no {path}.py or {path}/__init__.py), "
            "and the project's Python cannot import it. Fix: pass the dotted name of its settings file, relative "
            "to manage.py, as settings='mysite.settings.dev', or the project's own interpreter as "
            "python='~/code/mysite/.venv/bin/python'."
        )
    return module


_module_file = settings_origin.module_file


def _absolute_module(name: str, package: str) -> str:
    """Return the absolute module an import names, e.g. ('.base', 'mysite.settings') -> 'mysite.settings.base'."""
    dots = len(name) - len(name.lstrip("."))
    if not dots:
        return name
    parts = package.split(".")
    base = parts[: len(parts) - (dots - 1)] if dots > 1 else parts
    return ".".join([*base, *([name[dots:]] if name[dots:] else [])])


def _check_include(include: Iterable[str]) -> list[str]:
    """Return the categories to keep in a copy, refusing any the copy does not leave out."""
    include = [include] if isinstance(include, str) else list(include)
    unknown = [kind for kind in include if kind not in copying.CATEGORIES]
    if unknown:
        choices = ", ".join(repr(kind) for kind in copying.CATEGORIES)
        raise KitError(
            f"include={tuple(include)!r} names {unknown[0]!r}, which a copy never leaves out. Fix: choose from {choices}."
        )
    return sorted(set(include))


def _database_error(engine: str) -> KitError:
    """Return the refusal for a project whose default database is not a SQLite file inside it."""
    if "sqlite3" in engine:
        return KitError(
            "This project's SQLite database lives outside its folder, so a copy would still write to the original. "
            "Fix: copy it with Sandbox.copy_of(path, database='sqlite') to explore it on a fresh SQLite database "
            "inside the sandbox, or put its DATABASES NAME inside the project folder (e.g. BASE_DIR / 'db.sqlite3')."
        )
    return KitError(
        f"This project's database is {stand_in.engine_name(engine)} ({engine}), and the kit explores SQLite databases only. "
        "Fix: copy it with Sandbox.copy_of(path, database='sqlite') to explore it on a fresh SQLite database "
        "inside the sandbox; the original database is never written."
    )


def _forced_settings_error(settings: str) -> KitError:
    """Return the refusal for a manage.py that would override the settings module the kit must pass."""
    return KitError(
        f"manage.py sets DJANGO_SETTINGS_MODULE with os.environ[...] = ..., so the sandbox's commands could not use {settings}. "
        "Fix: copy a project whose manage.py uses os.environ.setdefault(...), as django-admin startproject writes it."
    )


def _template_caches(workspace: Path) -> list[Path]:
    """Return the folders that may hold the migrated template database, shared ones first.

    A class on one server shares one: ``MIGRATION_KIT_CACHE`` if set, else
    ``.kit-cache/`` beside the template when it is writable; each workspace's
    own cache is the fallback.
    """
    shared = os.environ.get(CACHE_ENV)
    return [Path(shared).expanduser() if shared else REPO_ROOT / ".kit-cache", workspace / _KIT / "cache"]


def _migrated_template_db(workspace: Path) -> Path:
    """Return a database with every template migration applied, built once per template and Django version."""
    name = f"template-{_source_hash(TEMPLATE_DIR)}-django-{_django_version()}.sqlite3"
    folders = _template_caches(workspace)
    for folder in folders:
        if (folder / name).is_file():
            return folder / name
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            lock = open(folder / f"{name}.lock", "a+b")  # noqa: SIM115 - held while building
        except OSError:
            continue  # not writable here (a teacher's read-only cache): try the next one
        with lock:
            # One builder at a time: thirty learners starting together wait for the first one's database.
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (folder / name).is_file():
                _build_template_db(folder, name)
            return folder / name
    raise KitError(
        "No cache folder for the template database is writable. Fix: set MIGRATION_KIT_CACHE to a writable folder."
    )


def _build_template_db(folder: Path, name: str) -> None:
    """Migrate a copy of the template and move its database into the cache folder atomically."""
    build = folder / f"build-{uuid.uuid4().hex[:8]}"
    try:
        copying.copy_tree(TEMPLATE_DIR, build, _TEMPLATE_COPY)
        result = run_manage(build, ["migrate", "--noinput"], timeout=DEFAULT_TIMEOUT)
        if result.diagnosis is not None and result.diagnosis.code == "disk_full":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # said by the caller, with what it kept
        if not result.ok:
            raise KitError(f"The template project does not migrate cleanly. {result.message}")
        (build / "db.sqlite3").rename(folder / name)  # same filesystem: a reader never sees half a file
    finally:
        disk.remove_tree(build)


def _django_version() -> str:
    """Return the installed Django's version: the template's migrations depend on it."""
    try:
        return importlib.metadata.version("django")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _migrated_template_postgres(workspace: Path, server) -> str:
    """Return a database with every template migration applied, built once per template version and server."""
    name = f"{server.prefix}kit_template_{_source_hash(TEMPLATE_DIR)}"
    if server.exists(name):
        return name
    build_name = f"{server.prefix}kit_build_{uuid.uuid4().hex[:12]}"
    build = workspace / _KIT / "staging" / f"template-build-{uuid.uuid4().hex[:8]}"
    copying.copy_tree(TEMPLATE_DIR, build, _TEMPLATE_COPY)
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
        disk.remove_tree(build)
    return name
