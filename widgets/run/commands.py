"""Run ``manage.py`` in a subprocess and describe what happened.

Django never runs in the notebook kernel: models load once per process, so
after an edit to ``models.py`` only a fresh process sees the truth.
"""

from __future__ import annotations

import functools
import os
import re
import selectors
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from widgets.run import _guard, bounded, worker
from widgets.run.diagnose import Diagnosis, diagnose, last_line
from widgets.run.env import child_env
from widgets.run.prompts import Prompt, find_prompt

__all__ = [
    "CommandResult",
    "DEFAULT_TIMEOUT",
    "child_env",
    "command_result",
    "run_manage",
    "run_process",
    "stable_text",
]

DEFAULT_TIMEOUT = 60.0
# After a timeout kill, how long to wait for the pipes to close before giving up on stragglers.
_KILL_GRACE = 5.0


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


def run_manage(
    project: Path,
    args: list[str] | tuple[str, ...],
    *,
    input: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    settings: str | None = None,
    pass_settings: bool = False,
    python: str | None = None,
    env: dict[str, str] | None = None,
    warm: bool = True,
) -> CommandResult:
    """Run ``python manage.py *args`` in ``project`` and return its result; never hang.

    ``settings`` (the project's settings module) lets the command fork from a
    warm zygote that has already set Django up for this project's code; with
    ``pass_settings`` it is also passed as DJANGO_SETTINGS_MODULE (a copy on a
    stand-in database, say), otherwise manage.py chooses, as in a terminal.
    ``python`` is the interpreter to run (the project's own virtual
    environment, say); the kit's own Python by default. ``warm=False`` runs it
    from the plain zygote (a copy that lives a second needs no warm Django).
    ``env`` adds variables to the kit's environment (the session name and
    lock_timeout of a PostgreSQL sandbox's command, say).
    """
    project = Path(project)
    args = tuple(str(arg) for arg in args)
    full_env = child_env() | ({"DJANGO_SETTINGS_MODULE": settings} if settings and pass_settings else {}) | (env or {})
    started = time.perf_counter()
    argv = [python or sys.executable, "manage.py", *args]
    warm_for = settings if warm else None
    stdout, stderr, exit_code, timed_out = run_process(argv, project, input, timeout, full_env, settings=warm_for)
    return command_result(project, args, stdout, stderr, exit_code, time.perf_counter() - started, timed_out, timeout)


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


def run_process(
    argv: list[str],
    cwd: Path,
    input: str | None,
    timeout: float,
    env: dict[str, str] | None = None,
    *,
    settings: str | None = None,
    limit: int = bounded.LIMIT,
) -> tuple[str, str, int, bool]:
    """Run argv in its own process group and return (stdout, stderr, exit code, timed out).

    At most ``limit`` bytes of each stream are kept (the start and the end); the
    process runs under the kit's resource limits, and nothing it started
    outlives it, nor the kernel.
    """
    env = env if env is not None else child_env()
    # Forked from a pre-warmed zygote (warm for this project when settings is known); None: run it plainly.
    fast = worker.run(argv, cwd, input, timeout, env, settings=settings, limit=limit)
    if fast is not None:
        return fast
    with subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        # Limits and PR_SET_PDEATHSIG; only stdlib calls on objects made before the fork.
        preexec_fn=functools.partial(_guard.child_setup, os.getpid(), _guard.limits(env)),
    ) as process:
        reaper = _guard.reaper()
        reaper.watch(process.pid)  # if the kernel dies, the reaper ends the whole group
        try:
            stdout, stderr, timed_out = _pump(process, input, timeout, limit)
        finally:
            _kill_group(process)  # what the command left running in its group
            process.wait()
            reaper.forget(process.pid)
    return bounded.decode(stdout), bounded.decode(stderr), process.returncode, timed_out


def _pump(process: subprocess.Popen, input: str | None, timeout: float, limit: int) -> tuple[bytes, bytes, bool]:
    """Feed stdin and collect stdout and stderr, bounded, until both close; kill the group on timeout.

    Once the process has exited, what it left in its group is killed, so a
    background child holding the pipes cannot keep the command running.
    """
    outputs = {
        process.stdout.fileno(): bounded.BoundedOutput(limit),
        process.stderr.fileno(): bounded.BoundedOutput(limit),
    }
    data = input.encode("utf-8", "replace") if input is not None else b""
    deadline = time.monotonic() + timeout
    timed_out = exited = False
    with selectors.DefaultSelector() as selector:
        for fd in outputs:
            selector.register(fd, selectors.EVENT_READ)
        if process.stdin is not None:
            if data:
                os.set_blocking(process.stdin.fileno(), False)
                selector.register(process.stdin.fileno(), selectors.EVENT_WRITE)
            else:
                process.stdin.close()
        while any(key.fd in outputs for key in selector.get_map().values()):
            if not exited and process.poll() is not None:
                exited = True
                _kill_group(process)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if timed_out:
                    break  # something outside the group still holds a pipe open
                _kill_group(process)
                timed_out, deadline = True, time.monotonic() + _KILL_GRACE
                continue
            # Wake up now and then to notice the exit of a process whose children hold the pipes.
            for key, _ in selector.select(min(remaining, 0.2)):
                if key.fd in outputs:
                    chunk = os.read(key.fd, 65536)
                    if chunk:
                        outputs[key.fd].append(chunk)
                    else:
                        selector.unregister(key.fd)
                else:
                    data = _feed(selector, process.stdin, data)
    if process.stdin is not None and not process.stdin.closed:
        process.stdin.close()
    stdout, stderr = outputs.values()
    return stdout.value(), stderr.value(), timed_out


def _feed(selector: selectors.BaseSelector, stdin, data: bytes) -> bytes:
    """Write what the pipe takes; close it once all is written or the process stopped reading."""
    try:
        data = data[os.write(stdin.fileno(), data[:65536]) :]
    except BrokenPipeError:
        data = b""
    except BlockingIOError:
        return data
    if not data:
        selector.unregister(stdin.fileno())
        stdin.close()
    return data


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


_ADDRESS = re.compile(r" at 0x[0-9a-f]+>")


def stable_text(text: str, project: Path) -> str:
    """Make output the same on every run: sandbox paths relative, object addresses dropped."""
    for root in {str(project), str(project.resolve())}:
        text = text.replace(root + os.sep, "").replace(root, ".")
    return _ADDRESS.sub(">", text)
