"""What a manage.py command did: its result, built the same way by every runner (no process started here)."""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from widgets.run.diagnose import Diagnosis, diagnose, last_line
from widgets.run.prompts import Prompt, find_prompt

__all__ = ["DEFAULT_TIMEOUT", "CommandResult", "command_result", "stable_text"]

DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class CommandResult:
    """The outcome of one ``manage.py`` command, as a terminal would have shown it."""

    args: tuple[str, ...]
    stdout: str
    stderr: str
    exit_code: int
    duration: float = field(compare=False)
    timed_out: bool = False
    prompt: Prompt | None = None
    diagnosis: Diagnosis | None = None
    timeout: float | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        """Return True when the command finished with exit code 0 and asked nothing."""
        return self.exit_code == 0 and not self.timed_out and self.prompt is None

    @property
    def command(self) -> str:
        """Return the command line as the learner would type it."""
        return " ".join(_quote(arg) for arg in ["python", "manage.py", *self.args])

    @property
    def output(self) -> str:
        """Return stdout and stderr together, as a terminal interleaves them."""
        return "\n".join(part.rstrip("\n") for part in (self.stdout, self.stderr) if part.strip())

    @property
    def message(self) -> str:
        """Return the one plain sentence a learner needs, or an empty string on success."""
        if self.timed_out:
            longer = f"{max(60, round((self.timeout or 60) * 4, -1)):g}"
            again = ", ".join([*(repr(arg) for arg in self.args), f"timeout={longer}"])
            return (
                f"The command did not finish within {self.timeout:g} s and was stopped. "
                "Fix: run it again with a longer time limit in seconds, timeout= on the call that ran it "
                f"(for example sandbox.manage({again}); in the lab panel MigrationLab(sandbox, timeout={longer})), "
                "or look for a loop in the code it runs."
            )
        if self.prompt is not None:
            return f"Django asked a question: {self.prompt.question.splitlines()[0]} Fix: {self.prompt.fix}"
        if self.diagnosis is not None:
            return str(self.diagnosis)
        if self.exit_code != 0:
            # Some commands report their failure on stdout and leave stderr empty.
            reason = last_line(self.stderr) or last_line(self.stdout) or "it printed nothing."
            return f"The command failed (exit code {self.exit_code}): {reason}"
        return ""

    def terminal(self) -> str:
        """Return the command and its output as a terminal shows them, tracebacks folded."""
        lines = [f"$ {self.command}"]
        if self.stdout.strip():
            lines.append(self.stdout.rstrip("\n"))
        if self.stderr.strip():
            lines.append(self._stderr_for_display())
        if self.message:
            lines.append(f"[{'!' if not self.ok else 'i'}] {self.message}")
        return "\n".join(lines)

    def _stderr_for_display(self) -> str:
        """Fold a traceback the kit has explained into its last line."""
        explained = self.prompt is not None or self.diagnosis is not None
        if explained and "Traceback (most recent call last)" in self.stderr:
            return f"{last_line(self.stderr)}\n(full traceback in result.stderr)"
        return self.stderr.rstrip("\n")

    def __str__(self) -> str:
        return self.terminal()

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(self.terminal())


def _quote(arg: str) -> str:
    """Quote like shlex, but keep multi-line code readable inside single quotes."""
    if "\n" in arg and "'" not in arg:
        return f"'{arg}'"
    return shlex.quote(arg)


def command_result(
    project: Path,
    args: tuple[str, ...],
    stdout: str,
    stderr: str,
    exit_code: int,
    duration: float,
    timed_out: bool,
    timeout: float,
) -> CommandResult:
    """Build a command's result the same way for every runner: stable text, a prompt or a diagnosis."""
    stdout, stderr = stable_text(stdout, project), stable_text(stderr, project)
    prompt = find_prompt(stdout, stderr) if exit_code != 0 else None
    diagnosis = None if (prompt or timed_out) else diagnose(args, stdout, stderr, exit_code, project)
    return CommandResult(args, stdout, stderr, exit_code, duration, timed_out, prompt, diagnosis, timeout)


_ADDRESS = re.compile(r" at 0x[0-9a-f]+>")


def stable_text(text: str, project: Path) -> str:
    """Make output the same on every run: sandbox paths relative, object addresses dropped."""
    for root in {str(project), str(project.resolve())}:
        text = text.replace(root + os.sep, "").replace(root, ".")
    return _ADDRESS.sub(">", text)
