"""What the MigrationLab buttons do against a sandbox: call its public methods, return outcomes.

Nothing here knows about ipywidgets. The executor (``widgets.lab.executor``)
calls these to carry out the session's effects; the pure parts they used to
hold (outcomes, Django's questions, what the graph offers) live in
``widgets.lab.outcome``, ``widgets.lab.questions`` and ``widgets.lab.travel``
and are named here too, so old imports keep working.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from widgets.errors import KitError
from widgets.lab.outcome import Outcome, command_line, from_result, kit_step
from widgets.lab.questions import answers_for, rejected_answer, same_question
from widgets.lab.travel import app_labels, default_target, needs_confirmation, targets, unapplies
from widgets.read.state import Plan
from widgets.run.result import DEFAULT_TIMEOUT
from widgets.sandbox.facade import Sandbox

__all__ = [
    "ModelsFile",
    "Outcome",
    "UndoStack",
    "answers_for",
    "app_labels",
    "command_line",
    "default_target",
    "makemigrations",
    "migrate",
    "needs_confirmation",
    "rejected_answer",
    "reset",
    "restore",
    "restore_undo",
    "same_question",
    "showmigrations",
    "snapshot",
    "sql_side_by_side",
    "sqlmigrate",
    "targets",
    "unapplies",
    "write_models",
]

CHECKPOINT = "checkpoint"
_UNDO_DEPTH = 5


# ----- commands --------------------------------------------------------------------


def makemigrations(
    sandbox: Sandbox,
    app_label: str,
    *,
    name: str | None = None,
    dry_run: bool = False,
    answers: Sequence[str] | None = None,
    flags: Sequence[str] = (),
    timeout: float = DEFAULT_TIMEOUT,
) -> Outcome:
    """Run makemigrations for one app; ``answers`` go to Django's questions, ``flags`` are its other options."""
    name = (name or "").strip() or None
    if name is not None and not name.isidentifier():
        raise KitError(
            f"'{name}' cannot be a migration name. Fix: use letters, digits and '_' only, e.g. 'topic_views'."
        )
    args = ["makemigrations", app_label, *(["--name", name] if name else []), *(["--dry-run"] if dry_run else [])]
    stdin = None if answers is None else "".join(f"{line}\n" for line in answers)
    result = sandbox.manage(*args, *flags, input=stdin, timeout=timeout)
    return from_result("makemigrations", result)


def migrate(
    sandbox: Sandbox,
    app_label: str,
    target: str,
    *,
    plan: Plan | None = None,
    flags: Sequence[str] = (),
    timeout: float = DEFAULT_TIMEOUT,
) -> Outcome:
    """Run ``migrate app_label target``, printing the plan above Django's output.

    On PostgreSQL the plan comes with each step's locks and risk warnings,
    read before anything runs (a rollback's are in its preview already).
    """
    risks = _forward_risks(sandbox, app_label, target, plan)
    result = sandbox.manage("migrate", app_label, target, *flags, timeout=timeout)
    outcome = from_result("migrate", result, plan)
    if risks:
        outcome = replace(outcome, terminal=f"{plan}\n\n{risks}\n\n{result.terminal()}")
    return outcome


def _forward_risks(sandbox: Sandbox, app_label: str, target: str, plan: Plan | None) -> str:
    """Return the risk report of a forwards plan on a PostgreSQL sandbox, or '' (SQLite, rollback, nothing)."""
    if sandbox.database != "postgresql" or plan is None or plan.direction != "forwards":
        return ""
    from widgets.run.risks import risk_report  # squawk and PostgreSQL only: a SQLite panel never loads them

    try:
        return str(risk_report(sandbox, app_label, target))
    except KitError as error:  # a missing linter must not stop the migration itself
        return f"[i] No risk warnings: {error}"


def showmigrations(
    sandbox: Sandbox, app_label: str | None = None, *, flags: Sequence[str] = (), timeout: float = DEFAULT_TIMEOUT
) -> Outcome:
    """Run showmigrations for one app, or every app when none is given."""
    result = sandbox.manage("showmigrations", *([app_label] if app_label else []), *flags, timeout=timeout)
    return from_result("showmigrations", result)


def sqlmigrate(
    sandbox: Sandbox,
    app_label: str,
    name: str,
    *,
    backwards: bool = False,
    flags: Sequence[str] = (),
    timeout: float = DEFAULT_TIMEOUT,
) -> Outcome:
    """Run sqlmigrate to show the SQL of one migration, forwards or backwards; ``flags`` are its other options."""
    if not name or name == "zero":
        raise KitError("sqlmigrate needs a migration, not zero. Fix: pick a migration name such as 0001_initial.")
    shown = ["--backwards"] if backwards and "--backwards" not in flags else []
    result = sandbox.manage("sqlmigrate", *shown, *flags, app_label, name, timeout=timeout)
    return from_result("sqlmigrate", result)


def sql_side_by_side(sandbox: Sandbox, app_label: str, name: str) -> Outcome:
    """Show one migration's SQL, forwards and backwards, on SQLite and on PostgreSQL side by side."""
    if not name or name == "zero":
        raise KitError("sqlmigrate needs a migration, not zero. Fix: pick a migration name such as 0001_initial.")
    from widgets.run.compare import compare_sql  # starts the workspace's PostgreSQL server: only when asked

    comparison = compare_sql(sandbox, app_label, name)
    message = f"The SQL of {app_label}.{comparison.name} on SQLite and on PostgreSQL, side by side."
    return Outcome(
        "sqlmigrate",
        f"sqlmigrate {app_label} {comparison.name} on SQLite and PostgreSQL",
        True,
        message,
        str(comparison),
        html=comparison._repr_html_(),
    )


def reset(sandbox: Sandbox) -> Outcome:
    """Put the sandbox back to its origin (files and database)."""
    sandbox.reset()
    return kit_step("reset", "sandbox.reset()", "The sandbox is back to where it started: files and database.")


def snapshot(sandbox: Sandbox, label: str = CHECKPOINT) -> Outcome:
    """Save the sandbox's files and database under a label."""
    sandbox.snapshot(label)
    return kit_step("snapshot", f"sandbox.snapshot({label!r})", f"Saved the files and database as '{label}'.")


def restore(sandbox: Sandbox, label: str = CHECKPOINT) -> Outcome:
    """Put the files and database back as they were at a snapshot."""
    sandbox.restore(label)
    return kit_step("restore", f"sandbox.restore({label!r})", f"Files and database are back to snapshot '{label}'.")


# ----- the model editor's file, and undo ---------------------------------------------


def write_models(sandbox: Sandbox, app_label: str, text: str, action: str = "save") -> Outcome:
    """Write an app's models.py: the learner's text (``save``) or its last good version (``revert``)."""
    relative = f"{app_label}/models.py"
    sandbox.write(relative, text)
    if action == "revert":
        return kit_step("revert", f"revert {relative}", f"{relative} is back to its last version that Django accepted.")
    return kit_step("save", f"save {relative}", f"Saved {relative}.")


def restore_undo(sandbox: Sandbox, label: str, before: str) -> Outcome:
    """Restore the snapshot taken before the action described by ``before``."""
    sandbox.restore(label)
    return kit_step("undo", f"undo: {before}", f"Undid '{before}': files and database are as they were before it.")


class ModelsFile:
    """An app's ``models.py`` in a sandbox, remembering its last version Django accepted."""

    def __init__(self, sandbox: Sandbox, app_label: str) -> None:
        self.sandbox = sandbox
        self.app_label = app_label
        self.relative = f"{app_label}/models.py"
        self.last_good = self.read()

    def read(self) -> str:
        """Return the file's text on disk now."""
        return self.sandbox.read(self.relative)

    def write(self, text: str) -> Outcome:
        """Write the learner's text to disk (checking comes from the command that follows)."""
        return write_models(self.sandbox, self.app_label, text)

    def accept(self) -> None:
        """Remember the file on disk as the last good version (it passed makemigrations)."""
        self.last_good = self.read()

    def revert(self) -> Outcome:
        """Put the last good version back on disk."""
        return write_models(self.sandbox, self.app_label, self.last_good, "revert")


class UndoStack:
    """Snapshots taken automatically before state-changing actions, newest last."""

    def __init__(self, sandbox: Sandbox, *, depth: int = _UNDO_DEPTH) -> None:
        self.sandbox = sandbox
        self.depth = depth
        self._entries: list[tuple[str, str]] = []
        self._counter = 0

    def push(self, before: str) -> str:
        """Snapshot the sandbox before an action described by ``before``; return the label."""
        label = f"panel-undo-{self._counter % self.depth}"
        self._counter += 1
        self.sandbox.snapshot(label)
        self._entries = [e for e in self._entries if e[0] != label][-(self.depth - 1) :] + [(label, before)]
        return label

    def pop(self) -> Outcome:
        """Restore the snapshot taken before the last state-changing action."""
        if not self._entries:
            raise KitError("There is nothing to undo yet. Fix: undo works after an action that changes the sandbox.")
        label, before = self._entries.pop()
        return restore_undo(self.sandbox, label, before)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def last(self) -> str | None:
        """Return the description of the action undo would take back, if any."""
        return self._entries[-1][1] if self._entries else None
