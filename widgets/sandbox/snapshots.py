"""Snapshots and the guard: the project folder and its database saved together, and put back.

A snapshot is a copy under a label; the guard is the copy taken before every
command that may change the sandbox, put back when the command is stopped
(a timeout, the stop button) so a half-run migration never stays behind.
"""

from __future__ import annotations

from widgets.errors import KitError
from widgets.run.result import CommandResult
from widgets.run.runner import run_manage
from widgets.sandbox import backends, disk
from widgets.sandbox.workspace import SNAPSHOT_COPY, Place, validate_name

__all__ = ["READ_ONLY_COMMANDS", "labels", "restore", "run_guarded", "snapshot"]

#: Commands that only read: no guard copy is needed before them.
READ_ONLY_COMMANDS = frozenset(
    {"showmigrations", "sqlmigrate", "check", "diffsettings", "sqlflush", "sqlsequencereset", "inspectdb"}
)


def snapshot(place: Place, label: str) -> str:
    """Save the project files and database together under a label (replacing one of that label)."""
    validate_name(label, "Snapshot label")
    with place.lock("snapshot()"):
        kept = "the sandbox and its snapshots are as they were"
        with disk.refused(f"The snapshot '{label}' was not saved", kept):
            place.save(place.snapshots / label)
            backends.of(place, place.meta()).save(label)
    return label


def restore(place: Place, label: str) -> None:
    """Put the project files and database back as they were at a snapshot."""
    validate_name(label, "Snapshot label")
    source = place.snapshots / label
    if not source.is_dir():
        known = ", ".join(labels(place)) or "none yet"
        raise KitError(
            f"There is no snapshot called '{label}' (snapshots: {known}). Fix: take one with sandbox.snapshot('{label}')."
        )
    with place.lock("restore()"):
        with disk.refused(f"The snapshot '{label}' was not put back", "the sandbox is as it was"):
            place.replace_project(source, SNAPSHOT_COPY)
        backends.of(place, place.meta()).restore(label)


def labels(place: Place) -> list[str]:
    """Return the labels of the saved snapshots."""
    return place.snapshot_labels()


def run_guarded(
    place: Place, args: tuple[str, ...], *, input: str | None, timeout: float, env: dict[str, str] | None
) -> CommandResult:
    """Run ``manage.py *args`` through the runner; on timeout or interrupt, put the sandbox back as it was."""
    guarded = bool(args) and args[0] not in READ_ONLY_COMMANDS
    command = args[0] if args else "manage.py"
    with place.lock(f"manage.py {command}"):
        if guarded:
            with disk.refused(f"{command} did not run", "the sandbox is unchanged"):
                place.save(place.guard)
        backend = backends.of(place, place.meta())
        extra = (backend.command_env(args) or {}) | (env or {})
        try:
            result = run_manage(place.path, args, input=input, timeout=timeout, env=extra, **backend.command_options())
        except KeyboardInterrupt:  # the stop button: the command is killed, so undo it as a timeout is
            backend.stop_sessions(extra.get("PGAPPNAME", ""))
            if guarded:
                outcome = f"{command} was interrupted but the sandbox was not put back"
                with disk.refused(outcome, "it may hold part of what the command did"):
                    place.replace_project(place.guard, SNAPSHOT_COPY)
            raise
        if result.timed_out:
            # The stopped command's session may still wait for a lock: end it, so PostgreSQL rolls it back.
            backend.stop_sessions(extra.get("PGAPPNAME", ""))
        if result.timed_out and guarded:
            outcome = f"{command} was stopped after {timeout:g} s but the sandbox was not put back"
            with disk.refused(outcome, "it may hold part of what the command did"):
                place.replace_project(place.guard, SNAPSHOT_COPY)
    return result
