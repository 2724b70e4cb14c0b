"""The environment Django runs with: what the kit's own variables leave out, one list for every runner."""

from __future__ import annotations

import os

__all__ = ["DROP_FROM_ENV", "child_env"]

# Variables that would make the child load some other project or write .pyc
# files that could outlive an edit made within the same second.
DROP_FROM_ENV = ("DJANGO_SETTINGS_MODULE", "PYTHONSTARTUP", "PYTHONINSPECT")


def child_env() -> dict[str, str]:
    """Return the environment for a Django child process."""
    env = {key: value for key, value in os.environ.items() if key not in DROP_FROM_ENV}
    env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
    return env
