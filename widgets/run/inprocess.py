"""The in-process runner: Django inside this interpreter, for the browser, where no process can start.

It runs the project's own ``manage.py`` with ``runpy`` and the probes by
calling them, with the streams, stdin, ``input()``, the working folder and the
environment swapped for the call and put back after. Django is set up once per
project, settings module and code fingerprint: when any of them changes, the
project's modules are purged from ``sys.modules``, the app registry, settings,
connections and Django's caches are reset, and the next command sets Django up
afresh, so an edit to ``models.py`` or a migration file is seen at once. No
bytecode is written. What cannot hold in one interpreter (a timeout that stops
a command, limits on memory and processes) is listed in docs/faults.md.
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import importlib
import io
import json
import os
import runpy
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path

from widgets.errors import KitError
from widgets.run import bounded
from widgets.run.env import DROP_FROM_ENV
from widgets.run.result import DEFAULT_TIMEOUT, CommandResult, command_result
from widgets.run.runner import probe_answer
from widgets.sandbox.fingerprint import code_fingerprint

__all__ = ["InProcessRunner"]

# Caches that Django's own test tools clear when these settings change (django.test.signals).
_CACHED_SETTINGS = (
    "CACHES",
    "TEMPLATES",
    "ROOT_URLCONF",
    "DATABASE_ROUTERS",
    "STORAGES",
    "STATICFILES_DIRS",
    "STATICFILES_FINDERS",
    "LANGUAGES",
    "LANGUAGE_CODE",
    "SERIALIZATION_MODULES",
    "AUTH_PASSWORD_VALIDATORS",
)


class InProcessRunner:
    """Run manage.py and the probes in this interpreter, one call at a time."""

    name = "inprocess"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._loaded: tuple[str, str, str] | None = None  # (project folder, settings module, code fingerprint)
        self._folder: str | None = None  # the project folder on sys.path

    def prepare(self) -> None:
        """Do nothing: Django is imported by the first command, in this interpreter."""

    def prepare_project(self, project: Path, settings_module: str, *, python: str | None = None) -> None:
        """Do nothing: the project's Django starts in this interpreter, at its first command."""

    def manage(
        self,
        project: Path,
        args: Sequence[str],
        *,
        input: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        settings: str | None = None,
        pass_settings: bool = False,
        python: str | None = None,
        env: dict[str, str] | None = None,
        warm: bool = True,
    ) -> CommandResult:
        """Run the project's ``manage.py *args`` here and return its result, as the process runner would."""
        project, args = Path(project), tuple(str(arg) for arg in args)
        _refuse_other_python(python)
        chosen = (env or {}).get("DJANGO_SETTINGS_MODULE") or (settings if pass_settings else None)
        chosen = chosen or manage_py_settings(project) or settings
        started = time.perf_counter()
        with self._lock, self._django(project, chosen, env):
            stdout, stderr, exit_code = _run_manage_py(project, args, input)
        return command_result(project, args, stdout, stderr, exit_code, time.perf_counter() - started, False, timeout)

    def probe(
        self,
        project: Path,
        settings_module: str,
        *args: str,
        timeout: float = DEFAULT_TIMEOUT,
        python: str | None = None,
        input: str | None = None,
    ) -> dict:
        """Run one probe command here and return its answer, as JSON would carry it; raise StateError."""
        from widgets.run import _probe

        project = Path(project)
        _refuse_other_python(python)
        env = {"PGAPPNAME": "migration kit (read-only)"}
        with self._lock, self._django(project, settings_module, env), _swapped_streams(input) as (out, _err):
            with _probe_patches():
                answer = _probe.answer(list(args))
            # A probe's answer crosses JSON in a process; the same here, so both runners give the same values.
            answer = json.loads(json.dumps(answer, default=str))
        del out
        return probe_answer(answer, project, args)

    # ----- Django for one project at a time -------------------------------------------------

    @contextlib.contextmanager
    def _django(self, project: Path, settings: str | None, env: dict[str, str] | None) -> Iterator[None]:
        """Make Django this project's for the call: its settings, its fresh code, its folder and environment."""
        extra = dict(env or {})
        extra["DJANGO_SETTINGS_MODULE"] = settings or ""
        # Django refuses its ORM under a running event loop (a kernel's, Pyodide's); calls here are synchronous.
        extra["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        with _environment(extra), _working_folder(project), _no_bytecode():
            self._load(project, settings or "")
            try:
                yield
            finally:
                # As a process ends: the next command may find the database file replaced (a restore, a reset).
                _close_connections()
                if not _django_ready():
                    self._loaded = None  # a failed set-up: start clean next time

    def _load(self, project: Path, settings: str) -> None:
        """Reset Django when the project, its settings module or its code changed since the last call."""
        key = (str(project), settings, code_fingerprint(project))
        if key == self._loaded:
            return
        folders = {str(project)} | ({self._folder} if self._folder else set())
        _purge_modules(folders)
        # The project's folder first, before Django's caches are cleared: clearing them may load the settings.
        if self._folder in sys.path:
            sys.path.remove(self._folder)
        sys.path.insert(0, str(project))
        self._folder = str(project)
        importlib.invalidate_caches()  # a file written within the same second is seen
        _reset_django()
        self._loaded = key


def manage_py_settings(project: Path) -> str | None:
    """Return the settings module a project's manage.py sets by default, read from its text."""
    import ast

    try:
        tree = ast.parse((Path(project) / "manage.py").read_text())
    except (OSError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", "") == "setdefault"
            and len(node.args) == 2
            and all(isinstance(arg, ast.Constant) for arg in node.args)
            and node.args[0].value == "DJANGO_SETTINGS_MODULE"
        ):
            return str(node.args[1].value)
    return None


def _refuse_other_python(python: str | None) -> None:
    """Refuse a project that runs with an interpreter of its own: only the process runner can start one."""
    if python and os.path.realpath(python) != os.path.realpath(sys.executable):
        raise KitError(
            f"This sandbox runs with its own Python ({python}), which the in-process runner cannot start. "
            "Fix: set MIGRATION_KIT_RUNNER=process, or copy the project without python=."
        )


def _run_manage_py(project: Path, args: tuple[str, ...], input: str | None) -> tuple[str, str, int]:
    """Run manage.py as ``__main__`` with these arguments; return (stdout, stderr, exit code)."""
    script = project / "manage.py"
    with _swapped_streams(input) as (out, err), _argv(["manage.py", *args]):
        try:
            runpy.run_path(str(script), run_name="__main__")
            exit_code = 0
        except SystemExit as stop:
            exit_code = _exit_code(stop, err)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # what Python prints for an uncaught exception, from manage.py down
            err.write(_traceback_from(exc, str(script)))
            exit_code = 1
    return out.text(), err.text(), exit_code


def _exit_code(stop: SystemExit, err: _Stream) -> int:
    """Return the exit code a process would have for this SystemExit (a message goes to stderr, code 1)."""
    if stop.code is None:
        return 0
    if isinstance(stop.code, int):
        return stop.code
    err.write(f"{stop.code}\n")
    return 1


def _traceback_from(exc: BaseException, script: str) -> str:
    """Format a traceback as the interpreter would, leaving out this runner's own frames."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != script:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))


class _Stream(io.TextIOBase):
    """A text stream that keeps at most ``bounded.LIMIT`` bytes: the start and the end, as the process runner."""

    def __init__(self) -> None:
        self._kept = bounded.BoundedOutput(bounded.LIMIT)

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._kept.append(text.encode("utf-8", "replace"))
        return len(text)

    def isatty(self) -> bool:
        return False

    def text(self) -> str:
        return bounded.decode(self._kept.value())


@contextlib.contextmanager
def _swapped_streams(input: str | None) -> Iterator[tuple[_Stream, _Stream]]:
    """Swap stdin, stdout, stderr and ``input()`` for the call: answers in, bounded text out."""
    out, err, stdin = _Stream(), _Stream(), io.StringIO(input or "")

    def answer(prompt: object = "") -> str:
        # A kernel replaces input() with its own box; a command here reads the answers it was given, as a process.
        out.write(str(prompt))
        line = stdin.readline()
        if not line:
            raise EOFError("EOF when reading a line")
        return line.rstrip("\n")

    saved = sys.stdin, sys.stdout, sys.stderr, builtins.input
    sys.stdin, sys.stdout, sys.stderr, builtins.input = stdin, out, err, answer
    try:
        yield out, err
    finally:
        sys.stdin, sys.stdout, sys.stderr, builtins.input = saved


@contextlib.contextmanager
def _argv(argv: list[str]) -> Iterator[None]:
    saved = sys.argv
    sys.argv = argv
    try:
        yield
    finally:
        sys.argv = saved


@contextlib.contextmanager
def _environment(extra: dict[str, str]) -> Iterator[None]:
    """Set these variables (and drop the kit's own settings module) for the call, then put them back."""
    # Django's settings set TZ (and call time.tzset) when they load: put the kernel's own back afterwards.
    keys = set(extra) | set(DROP_FROM_ENV) | {"TZ"}
    saved = {key: os.environ.get(key) for key in keys}
    for key in DROP_FROM_ENV:
        os.environ.pop(key, None)
    os.environ.update({key: value for key, value in extra.items() if value})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if hasattr(time, "tzset"):
            time.tzset()


@contextlib.contextmanager
def _working_folder(folder: Path) -> Iterator[None]:
    saved = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(saved)


@contextlib.contextmanager
def _no_bytecode() -> Iterator[None]:
    """Write no .pyc: one written within the same second as an edit could outlive it."""
    saved = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        yield
    finally:
        sys.dont_write_bytecode = saved


@contextlib.contextmanager
def _probe_patches() -> Iterator[None]:
    """Let a probe seal Django's connection and read the recorder from the file, then undo it."""
    from django.conf import settings
    from django.db import connections
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.migrations.recorder import MigrationRecorder

    ensure_connection = BaseDatabaseWrapper.__dict__["ensure_connection"]
    applied = MigrationRecorder.__dict__["applied_migrations"]
    databases = copy.deepcopy(settings.DATABASES) if _settings_loadable() else None
    try:
        yield
    finally:
        BaseDatabaseWrapper.ensure_connection = ensure_connection
        MigrationRecorder.applied_migrations = applied
        connections.close_all()
        if databases is not None:
            _restore_databases(settings.DATABASES, databases)


def _settings_loadable() -> bool:
    """Load the settings now if they can be (so a probe's changes to DATABASES can be undone)."""

    from django.db import connections

    try:
        connections.settings  # noqa: B018 - loads the settings and fills in DATABASES' defaults, as Django does
    except Exception:  # a broken settings module: the probe reports it
        return False
    return True


def _restore_databases(current: dict, saved: dict) -> None:
    """Put DATABASES back in place: Django's connections share its inner dicts, so change them, not the mapping."""
    for alias, entry in saved.items():
        if alias in current:
            current[alias].clear()
            current[alias].update(entry)


def _close_connections() -> None:
    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()


def _django_ready() -> bool:
    if "django.apps" not in sys.modules:
        return True  # nothing was set up, so nothing is half set up
    from django.apps import apps

    return apps.ready


def _inside(module: object, folders: set[str]) -> bool:
    """Tell whether a module's file (or package folder) lies in one of these folders."""
    places = [getattr(module, "__file__", None) or "", *list(getattr(module, "__path__", None) or [])]
    return any(place and any(place.startswith(folder + os.sep) for folder in folders) for place in places)


def _purge_modules(folders: set[str]) -> None:
    """Drop the modules imported from these project folders from sys.modules."""
    for name in [name for name, module in list(sys.modules.items()) if _inside(module, folders)]:
        del sys.modules[name]


def _reset_django() -> None:
    """Forget the project Django was set up for: registry, settings, connections and caches; keep Django's own models."""
    if "django.apps" not in sys.modules:
        return
    from asgiref.local import Local
    from django.apps import apps
    from django.conf import settings
    from django.core.management import get_commands
    from django.db import connections
    from django.urls import clear_url_caches
    from django.utils.functional import empty

    connections.close_all()
    if apps.ready:
        apps.clear_cache()  # expires every model's cached relations, Django's own models' included
    # Models whose module is gone: purged now, or a models.py whose import failed half-way (a model without
    # on_delete, say), which left the models defined before the error registered.
    for models in apps.all_models.values():
        for key in [key for key, model in models.items() if model.__module__ not in sys.modules]:
            del models[key]
    _forget_admin_registrations()
    apps.app_configs = {}
    apps.apps_ready = apps.models_ready = apps.ready = apps.loading = False
    apps._pending_operations.clear()
    apps.clear_cache()
    settings._wrapped = empty
    # Django's handler keeps the DATABASES it configured (_settings) under a cached property: forget both.
    connections._settings = None
    connections.__dict__.pop("settings", None)
    connections._connections = Local(connections.thread_critical)
    get_commands.cache_clear()
    clear_url_caches()
    _clear_setting_caches()


def _forget_admin_registrations() -> None:
    if "django.contrib.admin.sites" not in sys.modules:
        return
    from django.contrib.admin.sites import all_sites

    for site in all_sites:
        for model in [model for model in site._registry if model.__module__ not in sys.modules]:
            del site._registry[model]


def _clear_setting_caches() -> None:
    """Clear the caches Django's test tools clear when a setting changes, with Django's own receivers."""
    from django.core.signals import setting_changed
    from django.test import signals  # noqa: F401 - connects those receivers

    for setting in _CACHED_SETTINGS:
        with contextlib.suppress(Exception):  # settings that do not load yet: the next set-up reports it
            setting_changed.send(sender=None, setting=setting, value=None, enter=False)
