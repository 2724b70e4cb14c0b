"""Errors the kit raises: each carries one plain sentence that says the fix."""

from __future__ import annotations

import difflib
import os
import traceback

__all__ = [
    "KitError",
    "SandboxNameError",
    "SandboxPathError",
    "EditError",
    "StateError",
    "SandboxBusyError",
    "WorkspaceError",
    "DatabaseFileError",
    "ProbeTimeout",
    "unknown_app_error",
]


# Set to 1 to see a kit error's whole traceback in Jupyter, as a developer of the kit would.
TRACEBACK_ENV = "MIGRATION_KIT_TRACEBACK"


class KitError(Exception):
    """Report a learner-facing problem in one plain sentence with its fix."""

    def _render_traceback_(self) -> list[str]:
        """Show the sentence alone in Jupyter (IPython calls this), not a traceback the learner need not read."""
        if os.environ.get(TRACEBACK_ENV, "").strip() in {"1", "true", "yes"}:
            return "".join(traceback.format_exception(self)).splitlines()
        return [f"{type(self).__name__}: {self}"]


class SandboxNameError(KitError, ValueError):
    """Refuse a sandbox name that could escape the workspace or confuse a shell."""


class SandboxPathError(KitError, ValueError):
    """Refuse a file path that points outside the sandbox."""


class EditError(KitError, ValueError):
    """Refuse an edit whose text to replace is missing or ambiguous."""


class StateError(KitError, RuntimeError):
    """Report that Django could not load the sandbox to read its migration state."""


class ProbeTimeout(StateError):
    """Report that reading the migration state was stopped at its time limit, naming the argument to raise it."""

    def __init__(self, message: str, *, probe: str = "", seconds: float = 0.0) -> None:
        super().__init__(message)
        self.probe = probe
        self.seconds = seconds


class SandboxBusyError(KitError):
    """Report that another process (another notebook) is running a command in the sandbox."""


class WorkspaceError(KitError):
    """Report that the disk refused a change (full, read-only, gone), and what was kept."""


class DatabaseFileError(KitError):
    """Report that the SQLite file cannot be read: locked, damaged, or its folder gone."""


def unknown_app_error(app_label: str, known: list[str]) -> StateError:
    """Build the message for an app label that has no migrations, with the closest match."""
    close = difflib.get_close_matches(app_label, known, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return StateError(
        f"There is no app with migrations called '{app_label}'. Fix: {hint}apps with migrations: {', '.join(known)}."
    )
