"""Run ``manage.py`` in a subprocess and describe what happened.

Django never runs in the notebook kernel: models load once per process, so
after an edit to ``models.py`` only a fresh process sees the truth.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import worker
from .diagnose import Diagnosis, diagnose, last_line
from .prompts import Prompt, find_prompt

__all__ = ["CommandResult", "DEFAULT_TIMEOUT", "child_env", "run_manage", "run_process", "stable_text"]

DEFAULT_TIMEOUT = 60.0

# Variables that would make the child load some other project or write .pyc
# files that could outlive an edit made within the same second.
_DROP_FROM_ENV = ("DJANGO_SETTINGS_MODULE", "PYTHONSTARTUP", "PYTHONINSPECT")


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
            return (
                f"The command did not finish within {self.timeout:g} s and was stopped. "
                "Fix: run it again with a longer timeout, or look for a loop in the code it runs."
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


def child_env() -> dict[str, str]:
    """Return the environment for a Django child process."""
    env = {key: value for key, value in os.environ.items() if key not in _DROP_FROM_ENV}
    env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
    return env


def run_manage(
    project: Path,
    args: list[str] | tuple[str, ...],
    *,
    input: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    settings: str | None = None,
    python: str | None = None,
    env: dict[str, str] | None = None,
) -> CommandResult:
    """Run ``python manage.py *args`` in ``project`` and return its result; never hang.

    ``settings`` (the project's settings module) lets the command fork from a
    warm zygote that has already set Django up for this project's code.
    ``python`` is the interpreter to run (the project's own virtual
    environment, say); the kit's own Python by default. ``env`` adds
    variables to the kit's environment (the settings module of a PostgreSQL
    sandbox, say).
    """
    project = Path(project)
    args = tuple(str(arg) for arg in args)
    started = time.perf_counter()
    argv = [python or sys.executable, "manage.py", *args]
    full_env = child_env() | env if env else None
    stdout, stderr, exit_code, timed_out = run_process(argv, project, input, timeout, full_env, settings=settings)
    duration = time.perf_counter() - started
    stdout, stderr = stable_text(stdout, project), stable_text(stderr, project)
    prompt = find_prompt(stdout, stderr) if exit_code != 0 else None
    diagnosis = None if (prompt or timed_out) else diagnose(args, stdout, stderr, exit_code, project)
    return CommandResult(args, stdout, stderr, exit_code, duration, timed_out, prompt, diagnosis, timeout)


def run_process(
    argv: list[str],
    cwd: Path,
    input: str | None,
    timeout: float,
    env: dict[str, str] | None = None,
    *,
    settings: str | None = None,
) -> tuple[str, str, int, bool]:
    """Run argv in its own process group and return (stdout, stderr, exit code, timed out)."""
    env = env if env is not None else child_env()
    # Forked from a pre-warmed zygote (warm for this project when settings is known); None: run it plainly.
    fast = worker.run(argv, cwd, input, timeout, env, settings=settings)
    if fast is not None:
        return fast
    with subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            stdout, stderr = process.communicate()
            return stdout, stderr, process.returncode, True
    return stdout, stderr, process.returncode, False


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


_ADDRESS = re.compile(r" at 0x[0-9a-f]+>")


def stable_text(text: str, project: Path) -> str:
    """Make output the same on every run: sandbox paths relative, object addresses dropped."""
    for root in {str(project), str(project.resolve())}:
        text = text.replace(root + os.sep, "").replace(root, ".")
    return _ADDRESS.sub(">", text)
