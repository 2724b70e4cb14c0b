"""What can be wrong with the SQLite file itself, each said once: locked, damaged, half-done, gone.

The state readers (read-only connections) and the diagnoses of commands
(Django's own connection) meet the same faults; both take their sentence from
here, so a learner reads the same words wherever the fault shows.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from widgets.errors import DatabaseFileError

__all__ = [
    "BUSY_TIMEOUT",
    "DAMAGED",
    "LOCKED_CAUSE",
    "LOCKED_FIX",
    "damaged",
    "file_error",
    "folder_gone",
    "locked",
    "reader_error",
]

# How long a reader waits for another program's write to end before saying the database is locked.
BUSY_TIMEOUT = 2.0
LOCKED_CAUSE = (
    "The database is locked: another program is writing to it (another notebook's command, a database "
    "browser, or a shell with an open transaction)"
)
LOCKED_FIX = "wait for it to finish, or commit or roll back in that program (or close it), then try again."
DAMAGED = (
    "put back a snapshot taken before (sandbox.restore('label')) or start over with sandbox.reset(); "
    "a damaged file cannot be repaired in place."
)


def locked(what_happened: str) -> str:
    """Return the locked-database sentence, saying what happened because of it."""
    return f"{LOCKED_CAUSE}, so {what_happened}. Fix: {LOCKED_FIX}"


def damaged(name: str, said: str) -> str:
    """Return the damaged-file sentence for a database file name and SQLite's own words."""
    return f"The database file{_called(name)} is damaged (SQLite says: {said}). Fix: {DAMAGED}"


def _called(name: str) -> str:
    return f" {name}" if name else ""


def folder_gone(db_path: Path) -> DatabaseFileError:
    """Return the error for a database whose folder no longer exists."""
    folder = db_path.parent.name
    return DatabaseFileError(
        f"The folder '{folder}' that should hold the database {db_path.name} is gone. Fix: make it again "
        f"(sandbox.write('{folder}/.keep', '')) and run migrate, or start over with sandbox.reset()."
    )


def reader_error(error: sqlite3.Error, db_path: Path) -> DatabaseFileError | None:
    """Return the sentence for a fault of the file itself met by a reader; None for a fault of the query."""
    return file_error(getattr(error, "sqlite_errorname", "") or "", str(error), db_path.name)


def file_error(code: str, error: str, name: str) -> DatabaseFileError | None:
    """Return the sentence for SQLite's error code (e.g. SQLITE_BUSY) met on a read-only connection."""
    if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return DatabaseFileError(locked("nothing was read"))
    if code == "SQLITE_NOTADB" or code.startswith("SQLITE_CORRUPT"):
        return DatabaseFileError(damaged(name, str(error)))
    if code == "SQLITE_READONLY_ROLLBACK":
        return DatabaseFileError(
            f"The database{_called(name)} holds a change left half-done by a command that was stopped (its rollback "
            "journal is still beside it), and a read-only reader may not undo it. Fix: run any "
            "command, such as sandbox.showmigrations(): SQLite undoes the half-done change when it next opens the file."
        )
    if code.startswith(("SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_PERM", "SQLITE_AUTH")):
        return DatabaseFileError(
            f"SQLite cannot read the database file{_called(name)} ({error}). Fix: check that it is a file you may read, "
            "or start over with sandbox.reset()."
        )
    return None
