"""Say in one sentence what the disk refused (full, read-only, gone), what was kept, and the fix.

Sandbox operations copy through staging folders and swap them in at the end,
so a refusal leaves things as they were; these helpers clean up after a
refusal and turn the OSError into a WorkspaceError the learner can act on.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from widgets.errors import WorkspaceError

__all__ = ["FULL_FIX", "refused", "remove_tree", "workspace_error", "write_atomic"]

_WORKSPACE_FIX = (
    "point the environment variable MIGRATION_KIT_WORKSPACE at a folder you can write to "
    "(for example ~/migration-workspace), then restart the kernel."
)
FULL_FIX = (
    "free some space, for example delete sandboxes you no longer need (Sandbox.open('name').delete()) "
    "or their snapshots, then try again."
)


def workspace_error(error: OSError, outcome: str, kept: str) -> WorkspaceError:
    """Return 'outcome: cause (kept). Fix: ...' for an OSError raised while changing the workspace."""
    cause, fix = _cause(_errno(error), error)
    return WorkspaceError(f"{outcome}: {cause} ({kept}). Fix: {fix}")


def _errno(error: OSError) -> int | None:
    """Return the error number, also from shutil.copytree's Error, which only keeps messages."""
    if error.errno is not None:
        return error.errno
    found = re.search(r"\[Errno (\d+)\]", str(error))
    return int(found.group(1)) if found else None


def _cause(number: int | None, error: OSError) -> tuple[str, str]:
    if number in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full", FULL_FIX
    if number == errno.EROFS:
        return "the workspace is on a read-only disk", _WORKSPACE_FIX
    if number in (errno.EACCES, errno.EPERM):
        return "the workspace folder may not be written to", _WORKSPACE_FIX
    if number == errno.ENOENT:
        # A class reset, say: the lesson's setup cell (Sandbox.fresh) makes the sandbox again.
        return "a folder it needed was removed meanwhile", "run the lesson's setup cell again (Sandbox.fresh(name))."
    reason = os.strerror(number) if number else (str(error) or type(error).__name__)
    return (
        f"the system refused it ({reason})",
        "check that the workspace folder exists and can be written to, then try again.",
    )


@contextmanager
def refused(outcome: str, kept: str) -> Iterator[None]:
    """Turn an OSError inside the block into a WorkspaceError naming the outcome and what was kept."""
    try:
        yield
    except OSError as error:
        raise workspace_error(error, outcome, kept) from error


def remove_tree(path: Path) -> OSError | None:
    """Remove a folder as far as possible; return the first refusal (what is already gone is fine)."""
    refusals: list[OSError] = []

    def note(_function, _path, error) -> None:
        error = error[1] if isinstance(error, tuple) else error  # onerror gives exc_info, onexc the error
        if not isinstance(error, FileNotFoundError):
            refusals.append(error)

    handler = {"onexc": note} if sys.version_info >= (3, 12) else {"onerror": note}
    shutil.rmtree(path, **handler)
    return refusals[0] if refusals else None


def write_atomic(path: Path, data: bytes) -> None:
    """Replace a file's bytes all at once: write a hidden temporary file beside it, then rename it over.

    If anything fails (a full disk, say), the file keeps its old bytes, the
    temporary file is removed, and so are the folders made for it.
    """
    made = _missing_folders(path.parent)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(temporary, "wb") as handle:
            handle.write(data)
        if path.exists():
            shutil.copymode(path, temporary)  # manage.py stays executable
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        if made:
            remove_tree(made[-1])  # the outermost folder this call made
        raise


def _missing_folders(folder: Path) -> list[Path]:
    """Return the folders that do not exist yet on the way to folder, innermost first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing
