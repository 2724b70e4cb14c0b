"""The environment Django runs with: what the kit's own variables leave out, one list for every runner."""

from __future__ import annotations

import os

__all__ = ["DROP_FROM_ENV", "HASH_SEED", "child_env"]

#: The hash seed of every Django child the kit starts (sqlmigrate's order of set-ordered statements follows it).
HASH_SEED = "0"

# Variables that would make the child load some other project or write .pyc
# files that could outlive an edit made within the same second.
DROP_FROM_ENV = ("DJANGO_SETTINGS_MODULE", "PYTHONSTARTUP", "PYTHONINSPECT")


def child_env() -> dict[str, str]:
    """Return the environment for a Django child process."""
    env = {key: value for key, value in os.environ.items() if key not in DROP_FROM_ENV}
    env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
    # Django orders some SQL by iterating sets of strings (the unique_together pairs an
    # AlterUniqueTogether drops or adds, those a rebuilt SQLite table creates again), so
    # sqlmigrate's text depends on the hash seed. One seed for every child makes a preview,
    # a kept step and a later sqlmigrate say the same text; a seed the user chose is kept.
    env.setdefault("PYTHONHASHSEED", HASH_SEED)
    return env
