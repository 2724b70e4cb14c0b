"""What the MigrationLab buttons do, as plain functions: call the sandbox, return values.

Nothing here knows about ipywidgets, so every action can be run and tested
without a browser or a kernel. The panel only wires buttons to these.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field, replace

from widgets.errors import KitError
from widgets.read.state import MigrationGraph, Plan
from widgets.run.commands import DEFAULT_TIMEOUT, CommandResult
from widgets.run.prompts import DEFAULT_VALUE_KINDS, Prompt
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
    "same_question",
    "showmigrations",
    "snapshot",
    "sql_side_by_side",
    "sqlmigrate",
    "targets",
]

CHECKPOINT = "checkpoint"
_UNDO_DEPTH = 5


@dataclass(frozen=True)
class Outcome:
    """What one panel action did: its command line, success, one sentence, terminal text."""

    action: str
    command: str
    ok: bool
    message: str
    terminal: str
    result: CommandResult | None = None
    plan: Plan | None = None
    notes: list[str] = field(default_factory=list)
    html: str = ""  # a richer view of the same answer, for the panel (the SQL side by side)

    @property
    def prompt(self) -> Prompt | None:
        """Return the question Django asked, if the command stopped on one."""
        return self.result.prompt if self.result is not None else None


def command_line(*args: str) -> str:
    """Return ``python manage.py *args`` as the learner would type it."""
    return shlex.join(["python", "manage.py", *args])


def _from_result(action: str, result: CommandResult, plan: Plan | None = None) -> Outcome:
    """Wrap a command's result; a plan, if given, is printed above the command."""
    terminal = result.terminal() if plan is None else f"{plan}\n\n{result.terminal()}"
    return Outcome(action, result.command, result.ok, result.message, terminal, result, plan)


def _kit_step(action: str, command: str, message: str) -> Outcome:
    """Describe a step the kit does itself (reset, snapshot): no manage.py involved."""
    return Outcome(action, command, True, message, f"$ {command}\n[i] {message}")


# ----- choices offered by the panel ------------------------------------------------


def app_labels(graph: MigrationGraph) -> list[str]:
    """Return the project's own app labels that have migrations (Django's apps left out)."""
    return graph.app_labels(include_contrib=False)


def targets(graph: MigrationGraph, app_label: str) -> list[str]:
    """Return the targets ``migrate app_label`` accepts: its migrations, then ``zero``."""
    return [*graph.migrations_of(app_label), "zero"]


def default_target(graph: MigrationGraph, app_label: str) -> str:
    """Return the app's leaf node (its latest migration), or ``zero`` if it has none."""
    leaves = graph.leaf_nodes.get(app_label) or []
    return leaves[-1] if leaves else "zero"


# ----- commands --------------------------------------------------------------------


def makemigrations(
    sandbox: Sandbox,
    app_label: str,
    *,
    name: str | None = None,
    dry_run: bool = False,
    answers: list[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Outcome:
    """Run makemigrations for one app; ``answers`` go to Django's questions."""
    name = (name or "").strip() or None
    if name is not None and not name.isidentifier():
        raise KitError(
            f"'{name}' cannot be a migration name. Fix: use letters, digits and '_' only, e.g. 'topic_views'."
        )
    result = sandbox.makemigrations(app_label, name=name, dry_run=dry_run, answers=answers, timeout=timeout)
    return _from_result("makemigrations", result)


def needs_confirmation(plan: Plan) -> bool:
    """Return True when the plan unapplies migrations: the learner must confirm first."""
    return plan.direction == "backwards"


def unapplies(graph: MigrationGraph, app_label: str, target: str) -> bool | None:
    """Return True when ``migrate app_label target`` goes backwards, as Django's executor decides; no process.

    To ``zero``, an app goes back when any of its migrations is applied; to an
    applied migration, when one of its children in the same app is applied;
    to an unapplied one it goes forwards. None when the graph does not know
    the target (a prefix, a replaced migration): then only a plan can tell.
    """
    nodes = graph.nodes[graph.nodes["app_label"] == app_label]
    applied = set(nodes.loc[nodes["applied"], "name"])
    if target == "zero":
        return bool(applied)
    if target not in set(nodes["name"]):
        return None
    if target not in applied:
        return False
    children = {child for (parent, child) in graph.edge_set() if parent == (app_label, target)}
    return any(app == app_label and name in applied for app, name in children)


def migrate(
    sandbox: Sandbox, app_label: str, target: str, *, plan: Plan | None = None, timeout: float = DEFAULT_TIMEOUT
) -> Outcome:
    """Run ``migrate app_label target``, printing the plan above Django's output.

    On PostgreSQL the plan comes with each step's locks and risk warnings,
    read before anything runs (a rollback's are in its preview already).
    """
    risks = _forward_risks(sandbox, app_label, target, plan)
    result = sandbox.migrate(app_label, target, timeout=timeout)
    outcome = _from_result("migrate", result, plan)
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


def showmigrations(sandbox: Sandbox, app_label: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> Outcome:
    """Run showmigrations for one app, or every app when none is given."""
    result = sandbox.manage("showmigrations", *([app_label] if app_label else []), timeout=timeout)
    return _from_result("showmigrations", result)


def sqlmigrate(
    sandbox: Sandbox, app_label: str, name: str, *, backwards: bool = False, timeout: float = DEFAULT_TIMEOUT
) -> Outcome:
    """Run sqlmigrate to show the SQL of one migration, forwards or backwards."""
    if not name or name == "zero":
        raise KitError("sqlmigrate needs a migration, not zero. Fix: pick a migration name such as 0001_initial.")
    result = sandbox.manage("sqlmigrate", *(["--backwards"] if backwards else []), app_label, name, timeout=timeout)
    return _from_result("sqlmigrate", result)


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
    return _kit_step("reset", "sandbox.reset()", "The sandbox is back to where it started: files and database.")


def snapshot(sandbox: Sandbox, label: str = CHECKPOINT) -> Outcome:
    """Save the sandbox's files and database under a label."""
    sandbox.snapshot(label)
    return _kit_step("snapshot", f"sandbox.snapshot({label!r})", f"Saved the files and database as '{label}'.")


def restore(sandbox: Sandbox, label: str = CHECKPOINT) -> Outcome:
    """Put the files and database back as they were at a snapshot."""
    sandbox.restore(label)
    return _kit_step("restore", f"sandbox.restore({label!r})", f"Files and database are back to snapshot '{label}'.")


# ----- Django's questions ------------------------------------------------------------


def answers_for(prompt: Prompt, choice: int | str, value: str | None = None) -> list[str]:
    """Return the stdin lines for one question: the choice, then a typed default if it needs one."""
    if prompt.is_yes_no:
        return ["y" if str(choice).lower() in ("y", "yes", "1", "true") else "n"]
    choice = str(choice).strip()
    if choice == "1" and prompt.kind in DEFAULT_VALUE_KINDS:
        value = (value or "").strip()
        if not value:
            raise KitError(
                "Django needs a default value for the existing rows. Fix: type one as Python, e.g. 0 or timezone.now."
            )
        return [choice, value]
    return [choice]


def same_question(first: Prompt | None, second: Prompt | None) -> bool:
    """Return True when Django asked the same question again (the last answer was refused)."""
    if first is None or second is None:
        return False
    return first.question.splitlines()[0] == second.question.splitlines()[0]


def rejected_answer(prompt: Prompt) -> str:
    """Return Django's complaint about a typed default, e.g. a SyntaxError, or ''."""
    complaints = re.findall(r"^>>> (.+)$", prompt.question, re.MULTILINE)
    return complaints[-1].strip() if complaints else ""


# ----- the model editor's file, and undo ---------------------------------------------


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
        self.sandbox.write(self.relative, text)
        return _kit_step("save", f"save {self.relative}", f"Saved {self.relative}.")

    def accept(self) -> None:
        """Remember the file on disk as the last good version (it passed makemigrations)."""
        self.last_good = self.read()

    def revert(self) -> Outcome:
        """Put the last good version back on disk."""
        self.sandbox.write(self.relative, self.last_good)
        return _kit_step(
            "revert", f"revert {self.relative}", f"{self.relative} is back to its last version that Django accepted."
        )


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
        self.sandbox.restore(label)
        return _kit_step("undo", f"undo: {before}", f"Undid '{before}': files and database are as they were before it.")

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def last(self) -> str | None:
        """Return the description of the action undo would take back, if any."""
        return self._entries[-1][1] if self._entries else None
