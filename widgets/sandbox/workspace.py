"""Where a sandbox lives: its project folder and its bookkeeping, locks, staging and swap-in.

A sandbox is a folder under the workspace holding a whole Django project. The
kit's own bookkeeping (origin, snapshots, the guard copy) lives beside it in
``.kit/sandboxes/<name>/`` so that the project folder stays exactly what the
learner would have on disk. Every change of a whole folder is copied into a
staging folder first and swapped in, so no half copy is ever the sandbox.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from widgets.errors import KitError, SandboxNameError
from widgets.sandbox import copying, disk, locks
from widgets.sandbox.paths import workspace_root

__all__ = ["KIT", "SNAPSHOT_COPY", "Place", "names", "replaceable", "root", "swap_in", "validate_name"]

#: The workspace's folder for the kit's own bookkeeping, beside the sandboxes.
KIT = ".kit"
#: How snapshots and the guard copy a sandbox: whole, but its caches.
SNAPSHOT_COPY = copying.Selection(categories=frozenset({"caches"}))
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def validate_name(name: str, what: str = "Sandbox name") -> str:
    """Return the name if it is safe as one folder name; raise SandboxNameError otherwise."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        shown = repr(name) if isinstance(name, str) and name else "an empty name"
        raise SandboxNameError(
            f"{what} {shown} is not allowed. Fix: use 1 to 64 letters, digits, '-' or '_', "
            "starting with a letter or digit (for example 'views-lesson')."
        )
    return name


def root(workspace: Path | str | None) -> Path:
    """Return the workspace folder (the configured one if None), made if missing."""
    folder = Path(workspace).expanduser().resolve() if workspace is not None else workspace_root()
    with disk.refused(f"The workspace folder {folder.name} could not be made", "nothing was written"):
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def names(workspace: Path) -> list[str]:
    """Return the names of the sandboxes in a workspace folder."""
    return sorted(
        p.parent.name
        for p in workspace.glob(f"{KIT}/sandboxes/*/sandbox.json")
        if (workspace / p.parent.name / "manage.py").is_file()
    )


@dataclass(frozen=True)
class Place:
    """One sandbox's folders on disk: the project and its bookkeeping (``sandbox.json``, lock, snapshots)."""

    name: str
    workspace: Path

    @property
    def path(self) -> Path:
        """Return the project folder."""
        return self.workspace / self.name

    @property
    def kit(self) -> Path:
        """Return the bookkeeping folder."""
        # Under sandboxes/, so a sandbox called "cache" or "staging" cannot share the kit's own folders.
        return self.workspace / KIT / "sandboxes" / self.name

    @property
    def meta_file(self) -> Path:
        """Return the bookkeeping file: origin, settings, database."""
        return self.kit / "sandbox.json"

    @property
    def guard(self) -> Path:
        """Return the folder holding the copy taken before a command that may change the sandbox."""
        return self.kit / "before-command"

    @property
    def snapshots(self) -> Path:
        """Return the folder holding one folder per snapshot label."""
        return self.kit / "snapshots"

    @property
    def stand_in_cache(self) -> Path:
        """Return where a copy's migrated SQLite stand-in database is kept for reset()."""
        return self.kit / "stand-in.sqlite3"

    def snapshot_labels(self) -> list[str]:
        """Return the labels of the saved snapshots."""
        return sorted(p.name for p in self.snapshots.glob("*") if p.is_dir()) if self.snapshots.is_dir() else []

    def meta(self) -> dict:
        """Return the bookkeeping; raise KitError if the sandbox is gone."""
        if not self.meta_file.is_file():
            raise KitError(f"The sandbox '{self.name}' is gone. Fix: make it again with Sandbox.fresh('{self.name}').")
        return json.loads(self.meta_file.read_text(encoding="utf-8"))

    def old_meta(self) -> dict | None:
        """Return the bookkeeping an earlier sandbox of this name left, or None."""
        return json.loads(self.meta_file.read_text(encoding="utf-8")) if self.meta_file.is_file() else None

    def write_meta(self, meta: dict) -> None:
        """Replace the bookkeeping all at once (a full disk leaves the old file whole)."""
        disk.write_atomic(self.meta_file, json.dumps(meta, indent=2).encode("utf-8"))

    def stage_meta(self, meta: dict) -> Path:
        """Write the bookkeeping to a file beside sandbox.json, for the caller to rename over it."""
        staged = self.kit / f"sandbox.json.{uuid.uuid4().hex[:8]}.tmp"
        disk.write_atomic(staged, json.dumps(meta, indent=2).encode("utf-8"))
        return staged

    def exists(self) -> bool:
        """Return True if both the project and its bookkeeping are there."""
        return self.meta_file.is_file() and self.path.is_dir()

    @contextmanager
    def undone_on_failure(self, existed: bool) -> Iterator[None]:
        """On failure, remove a sandbox this call was making, and any staged bookkeeping."""
        try:
            yield
        except BaseException:
            for staged in self.kit.glob("sandbox.json.*.tmp"):
                staged.unlink(missing_ok=True)
            if not existed:
                self.remove()
            raise

    def lock(self, doing: str = "a change", *, make: bool = False) -> AbstractContextManager[None]:
        """Hold this sandbox against other threads and other processes (see locks.py)."""
        if make:  # the lock file lives in the bookkeeping folder
            with disk.refused(f"The sandbox '{self.name}' was not made", "nothing was written"):
                self.kit.mkdir(parents=True, exist_ok=True)
        return locks.lock_for(self.kit / "lock", self.name).hold(doing)

    def remove(self) -> OSError | None:
        """Remove the project and its bookkeeping; return the first thing the disk refused."""
        refusals = [disk.remove_tree(self.path), disk.remove_tree(self.kit)]
        return next((error for error in refusals if error is not None), None)

    def staging_path(self) -> Path:
        """Return a new, unused path in the workspace's staging folder."""
        return self.workspace / KIT / "staging" / f"{self.name}-{uuid.uuid4().hex[:8]}"

    def staging(self) -> Path:
        """Return a new staging path whose parent folder exists."""
        staging = self.staging_path()
        staging.parent.mkdir(parents=True, exist_ok=True)
        return staging

    def save(self, target: Path) -> None:
        """Copy the project folder to target through a staging folder; on failure, leave target as it was."""
        staging = self.staging()
        try:
            copying.copy_tree(self.path, staging, SNAPSHOT_COPY)
            target.parent.mkdir(parents=True, exist_ok=True)
        except BaseException:
            disk.remove_tree(staging)
            raise
        swap_in(staging, target, self.staging_path())

    def replace_project(
        self,
        source: Path,
        selection: copying.Selection,
        databases: dict[str, Path] | None = None,
        extra: dict[str, str] | None = None,
    ) -> list[tuple[str, str]]:
        """Copy source into a staging folder, then swap it in, so no half copy is ever the sandbox.

        ``databases`` maps a file name in the sandbox to a database to copy there; ``extra`` maps a
        file name to text to write there. Return what the copy left out.
        """
        staging = self.staging()
        try:
            left_out = copying.copy_tree(source, staging, selection)
            for name, database in (databases or {}).items():
                shutil.copyfile(database, replaceable(staging / name))
            for name, text in (extra or {}).items():
                replaceable(staging / name).write_text(text, encoding="utf-8")
        except BaseException:  # a full disk, say: no staging folder is left, the sandbox is as it was
            disk.remove_tree(staging)
            raise
        swap_in(staging, self.path, self.staging_path())
        return left_out


def swap_in(staging: Path, target: Path, trash: Path) -> None:
    """Rename a finished staging folder to target, moving any old target aside first; undo on failure."""
    if not target.exists():
        try:
            staging.rename(target)
        except BaseException:
            disk.remove_tree(staging)
            raise
        return
    target.rename(trash)
    try:
        staging.rename(target)
    except BaseException:
        trash.rename(target)
        disk.remove_tree(staging)
        raise
    disk.remove_tree(trash)


def replaceable(path: Path) -> Path:
    """Return path after removing a link there, so writing to it can never follow the link."""
    if path.is_symlink():
        path.unlink()
    return path
