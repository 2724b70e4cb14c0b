"""A SQLite stand-in for a copied project whose own database the kit must not use.

``Sandbox.copy_of(path, database="sqlite")`` explores a project whose default
database is not SQLite, or is a SQLite file outside the project, on a database
of its own. The copy gets one extra module, ``kit_sqlite_settings.py``, that
imports every setting of the project's settings module and then replaces
DATABASES with SQLite files inside the sandbox. The sandbox passes that module
as DJANGO_SETTINGS_MODULE to its commands and probes (manage.py's
``os.environ.setdefault`` leaves it in place), so the project's own database
is never opened for writing. The new database is migrated to the migrations
the original database has applied when the kit can read them, else to every
migration; its rows start empty.
"""

from __future__ import annotations

__all__ = ["DATABASE_FILE", "MODULE", "engine_name", "module_text", "replay_code"]

MODULE = "kit_sqlite_settings"
DATABASE_FILE = "kit-db.sqlite3"

_ENGINES = {"postgresql": "PostgreSQL", "mysql": "MySQL", "oracle": "Oracle", "sqlite3": "SQLite"}


def engine_name(engine: str) -> str:
    """Return a database engine's usual name, e.g. 'PostgreSQL' for django.db.backends.postgresql."""
    for key, name in _ENGINES.items():
        if key in engine:
            return name
    return engine


def module_text(settings_module: str) -> str:
    """Return the source of the settings module that puts a project on SQLite files inside its folder."""
    return f'''"""Written by the migrations kit: every setting of {settings_module}, with DATABASES on SQLite.

The kit runs this sandbox's commands with DJANGO_SETTINGS_MODULE={MODULE}, so the
project's own database is never used. Each alias gets a SQLite file in this folder.
"""

from pathlib import Path as _Path

from {settings_module} import *  # noqa: F403

_HERE = _Path(__file__).resolve().parent
DATABASES = {{
    _alias: {{
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _HERE / ("{DATABASE_FILE}" if _alias == "default" else f"kit-db-{{_alias}}.sqlite3"),
    }}
    for _alias in DATABASES  # noqa: F405
}}
'''


# Runs in `manage.py shell`: migrate a fresh database to the applied set read from the original.
_REPLAY = """\
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

applied = {tuple(key) for key in %r}
loader = MigrationLoader(connection)
# With nothing applied yet, a squash stands for the migrations it replaces.
squash_of = {old: new for new, migration in loader.replacements.items() for old in migration.replaces}
targets = {squash_of.get(key, key) for key in applied} & set(loader.graph.nodes)
needed = set()
for target in targets:
    needed.update(loader.graph.forwards_plan(target)[:-1])
# Migrating to each target nothing else needs applies the rest as dependencies, forwards only.
for app_label, name in sorted(targets - needed):
    call_command("migrate", app_label, name, interactive=False, verbosity=0)
"""


def replay_code(applied: list[tuple[str, str]]) -> str:
    """Return shell code that migrates a fresh database to the given applied (app_label, name) set."""
    return _REPLAY % sorted([list(key) for key in applied])
