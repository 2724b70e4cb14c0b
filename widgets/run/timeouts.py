"""Time limits that grow with the project, and timeout sentences that name the argument to change.

No fixed limit may stop a read or a command that is still progressing on a big
project: a default limit is a base plus an allowance per migration file, and
every call that can time out takes ``timeout=`` (seconds) to set it outright.
"""

from __future__ import annotations

import os
import sysconfig
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from widgets.errors import ProbeTimeout
from widgets.run.commands import DEFAULT_TIMEOUT
from widgets.sandbox.fingerprint import code_files

__all__ = ["PER_MIGRATION", "installed_migration_files", "migration_files", "named", "scaled"]

#: Seconds each migration file adds to a default limit: rendering a state step and its SQL, with room to spare.
PER_MIGRATION = 0.5


def migration_files(project: Path) -> int:
    """Return how many migration files (not __init__.py) the project holds."""
    return sum(
        1
        for path in code_files(Path(project))
        if os.path.basename(os.path.dirname(path)) == "migrations" and not path.endswith("__init__.py")
    )


# Folders of an installed package that hold no app's migrations: not walked.
_NOT_APPS = {"__pycache__", "tests", "test", "locale", "static", "templates", "node_modules", "docs"}
# How deep under site-packages an app's migrations folder is looked for (django/contrib/auth/migrations is 4).
_DEPTH = 5


def installed_migration_files(python: str | None = None) -> int:
    """Return how many migration files the interpreter's installed packages hold, without starting it.

    Apps installed as packages (Django's own, all of pretix's) keep their
    migrations in site-packages, not in the project folder. Every installed
    package is counted, installed app or not: a limit may be too long, never
    too short. ``python`` is a virtual environment's interpreter (None: this one).
    """
    return sum(_migration_files_under(Path(folder), _DEPTH) for folder in _site_packages(python))


def _site_packages(python: str | None) -> list[str]:
    """Return the site-packages folders of an interpreter: this one's, or a virtual environment's next to it."""
    if python is None:
        return sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    prefix = Path(python).parent.parent
    found = [*prefix.glob("lib/python*/site-packages"), *prefix.glob("Lib/site-packages")]
    return sorted({str(folder) for folder in found})


def _migration_files_under(folder: Path, depth: int) -> int:
    """Return the migration files (not __init__.py) in the ``migrations`` folders at most ``depth`` levels down."""
    count = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if not entry.is_dir(follow_symlinks=False) or entry.name.startswith(".") or entry.name in _NOT_APPS:
            continue
        if entry.name == "migrations":
            names = os.listdir(entry.path)
            count += sum(1 for name in names if name.endswith(".py") and name != "__init__.py")
        elif depth > 1 and "." not in entry.name:  # a package folder, not foo-1.0.dist-info
            count += _migration_files_under(Path(entry.path), depth - 1)
    return count


def scaled(
    project: Path, timeout: float | None = None, base: float = DEFAULT_TIMEOUT, *, migrations: int | None = None
) -> float:
    """Return the timeout given, or the default for this project: ``base`` plus PER_MIGRATION per migration.

    ``migrations`` is how many there are when the caller knows better than the files in the folder
    (apps installed as packages keep theirs elsewhere); by default the folder's migration files are counted.
    """
    if timeout is not None:
        return float(timeout)
    return base + PER_MIGRATION * (migration_files(project) if migrations is None else migrations)


@contextmanager
def named(call: str) -> Iterator[None]:
    """Turn a probe's timeout into a sentence naming the call and its ``timeout=`` argument.

    ``call`` is the call as the learner writes it, with ``{timeout}`` where the
    suggested value goes, such as ``"rollback_preview(sandbox, 'core', 'zero', timeout={timeout})"``.
    """
    try:
        yield
    except ProbeTimeout as stopped:
        longer = max(60, round(stopped.seconds * 4, -1))
        # Still a ProbeTimeout, so a call further out (rollback_preview around sandbox.preview) names itself instead.
        raise ProbeTimeout(
            f"Reading the migration state ({stopped.probe}) took longer than {stopped.seconds:g} s and was stopped. "
            f"Fix: pass a longer time limit in seconds with timeout=, as in {call.format(timeout=f'{longer:g}')}.",
            probe=stopped.probe,
            seconds=stopped.seconds,
        ) from None
