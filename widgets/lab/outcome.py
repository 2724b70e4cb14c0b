"""What one panel action did, as a value: its command line, success, one sentence, the terminal's text.

Pure: the session builds and reads outcomes without touching a sandbox; the
executor makes them from a command's result.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: importing them at run time would load the runner
    from widgets.read.state import Plan
    from widgets.run.prompts import Prompt
    from widgets.run.result import CommandResult

__all__ = ["Outcome", "command_line", "failed", "from_result", "kit_step"]


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


def from_result(action: str, result: CommandResult, plan: Plan | None = None) -> Outcome:
    """Wrap a command's result; a plan, if given, is printed above the command."""
    terminal = result.terminal() if plan is None else f"{plan}\n\n{result.terminal()}"
    return Outcome(action, result.command, result.ok, result.message, terminal, result, plan)


def kit_step(action: str, command: str, message: str) -> Outcome:
    """Describe a step the kit does itself (reset, snapshot): no manage.py involved."""
    return Outcome(action, command, True, message, f"$ {command}\n[i] {message}")


def failed(action: str, message: str) -> Outcome:
    """Describe an action that stopped with one sentence for the learner."""
    return Outcome(action, action, False, message, f"[!] {message}")
