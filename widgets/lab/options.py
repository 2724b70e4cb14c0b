"""The options each panel action takes, under the command's own names, and the command line they make.

Django's options keep Django's spelling with ``_`` for ``-`` (``dry_run`` is
``--dry-run``, ``check`` is ``--check``); the positional arguments keep the
names Django's parser gives them (``app_label``, ``migration_name``). The
panel adds a few words of its own (``target``, ``side_by_side``, ``answers``).
Pure: nothing here runs a command.
"""

from __future__ import annotations

from collections.abc import Mapping

from widgets.errors import KitError

__all__ = ["ACTIONS", "FLAGS", "accepted", "check_options", "flags"]

#: Every action the panel offers, by name (buttons and the editor's and question's own).
ACTIONS = (
    "makemigrations",
    "migrate",
    "showmigrations",
    "sqlmigrate",
    "reset",
    "snapshot",
    "restore",
    "undo",
    "save",
    "revert",
    "answer",
)

#: Each command's own options, by name, and the flag manage.py reads for it.
FLAGS: dict[str, dict[str, str]] = {
    "makemigrations": {
        "name": "--name",
        "dry_run": "--dry-run",
        "empty": "--empty",
        "merge": "--merge",
        "check": "--check",
        "update": "--update",
        "scriptable": "--scriptable",
        "no_header": "--no-header",
        "noinput": "--noinput",
        "verbosity": "--verbosity",
    },
    "migrate": {
        "fake": "--fake",
        "fake_initial": "--fake-initial",
        "plan": "--plan",
        "check": "--check",
        "prune": "--prune",
        "run_syncdb": "--run-syncdb",
        "noinput": "--noinput",
        "database": "--database",
        "verbosity": "--verbosity",
    },
    "showmigrations": {"list": "--list", "plan": "--plan", "database": "--database", "verbosity": "--verbosity"},
    "sqlmigrate": {"backwards": "--backwards", "database": "--database", "verbosity": "--verbosity"},
}
# Options that take a value; every other flag is on or off.
_VALUED = {"name", "database", "verbosity"}

# The positional arguments, as Django's parser names them, then the panel's own words.
_OWN = {
    "makemigrations": ("app_label", "answers"),
    "migrate": ("app_label", "migration_name", "target", "confirmed"),
    "showmigrations": ("app_label",),
    "sqlmigrate": ("app_label", "migration_name", "name", "side_by_side"),
    "save": ("text",),
    "answer": ("choice", "value"),
}


def accepted(action: str) -> tuple[str, ...]:
    """Return every option ``action`` takes, positional arguments first."""
    return (*_OWN.get(action, ()), *FLAGS.get(action, {}))


def check_options(action: str, options: Mapping[str, object]) -> None:
    """Refuse an unknown action, or an option the action does not take, in one sentence."""
    if action not in ACTIONS:
        raise KitError(f"The panel has no action called '{action}'. Fix: use one of {', '.join(ACTIONS)}.")
    allowed = accepted(action)
    unknown = [name for name in options if name not in allowed]
    if unknown:
        takes = f"use one of {', '.join(allowed)}" if allowed else "call it with no options"
        raise KitError(f"{action} takes no option '{unknown[0]}'. Fix: {takes}.")
    both = [pair for pair in (("migration_name", "target"), ("migration_name", "name")) if set(pair) <= set(options)]
    if both:
        raise KitError(f"{action} got both {both[0][0]} and {both[0][1]}, which mean the same. Fix: give one of them.")


def flags(action: str, options: Mapping[str, object]) -> tuple[str, ...]:
    """Return the command-line flags for the command's own options that are set, in Django's order."""
    made: list[str] = []
    for name, flag in FLAGS.get(action, {}).items():
        value = options.get(name)
        if name in _VALUED:
            made += [flag, str(value)] if value not in (None, "") else []
        elif value:
            made.append(flag)
    return tuple(made)
