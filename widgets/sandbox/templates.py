"""Template databases: the template project migrated once, shared by every fresh sandbox.

A fresh sandbox copies the template's files and a database with every
template migration already applied, built once per template and Django
version (SQLite) or per template and server (PostgreSQL), so ``fresh()``
costs a copy, not a migrate.
"""

from __future__ import annotations

import errno
import importlib.metadata
import os
import uuid
from pathlib import Path

from widgets.errors import KitError
from widgets.run.result import DEFAULT_TIMEOUT
from widgets.run.runner import run_manage
from widgets.sandbox import browser_storage, copying, disk, locks, postgres
from widgets.sandbox.paths import REPO_ROOT, TEMPLATE_DIR
from widgets.sandbox.workspace import KIT

__all__ = ["CACHE_ENV", "TEMPLATE_COPY", "migrated_template_db", "migrated_template_postgres"]

#: Where a class shares the migrated template database (see _template_caches).
CACHE_ENV = "MIGRATION_KIT_CACHE"
#: The template leaves out everything bulky and its databases.
TEMPLATE_COPY = copying.Selection(databases=True)


def _source_hash(folder: Path) -> str:
    """Hash every file of a template (names and bytes), skipping databases and caches, following no link."""
    return copying.tree_digest(folder, TEMPLATE_COPY)[:16]


def _template_caches(workspace: Path) -> list[Path]:
    """Return the folders that may hold the migrated template database, shared ones first.

    A class on one server shares one: ``MIGRATION_KIT_CACHE`` if set, else
    ``.kit-cache/`` beside the template when it is writable; each workspace's
    own cache is the fallback. In a browser, beside the template is memory that a
    page reload empties, while the workspace is kept in IndexedDB: the workspace's
    cache is the only one there, so a second visit copies the database instead of
    migrating the template again.
    """
    shared = os.environ.get(CACHE_ENV)
    own = workspace / KIT / "cache"
    if not shared and browser_storage.active():
        # Only the workspace's: a database found or built beside the template would be gone after a reload.
        return [own]
    return [Path(shared).expanduser() if shared else REPO_ROOT / ".kit-cache", own]


def migrated_template_db(workspace: Path) -> Path:
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
            locks.flock(lock, locks.LOCK_EX)
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
        copying.copy_tree(TEMPLATE_DIR, build, TEMPLATE_COPY)
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


def migrated_template_postgres(workspace: Path, server) -> str:
    """Return a database with every template migration applied, built once per template version and server."""
    name = f"{server.prefix}kit_template_{_source_hash(TEMPLATE_DIR)}"
    if server.exists(name):
        return name
    build_name = f"{server.prefix}kit_build_{uuid.uuid4().hex[:12]}"
    build = workspace / KIT / "staging" / f"template-build-{uuid.uuid4().hex[:8]}"
    copying.copy_tree(TEMPLATE_DIR, build, TEMPLATE_COPY)
    database = postgres.Database(server, build_name)
    try:
        database.create()
        postgres.write_settings_override(build, "djsandbox.settings", database.django_settings(), server.reader)
        env = {"DJANGO_SETTINGS_MODULE": postgres.OVERRIDE_MODULE, "PGAPPNAME": "manage.py migrate"}
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
