"""The process runner: Django in a process of its own, as a terminal runs it (the installed edition).

Each command is ``[python, "manage.py", ...]`` in the project folder, an
argument list with a timeout and no stdin unless answers are given, forked
from a warm zygote where it can be (``widgets.run.worker``), under the kit's
limits, with bounded output; nothing it starts outlives it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from widgets.errors import ProbeTimeout, StateError
from widgets.run import worker
from widgets.run._probe import MARKER
from widgets.run.commands import DEFAULT_TIMEOUT, CommandResult, run_manage, run_process
from widgets.run.diagnose import diagnose, last_line
from widgets.run.env import child_env
from widgets.run.runner import probe_answer

__all__ = ["PROBE", "PROBE_OUTPUT_LIMIT", "ProcessRunner"]

PROBE = Path(__file__).with_name("_probe.py")
# A probe prints one JSON line that grows with the graph (about 2 MB for 5,000 migrations): keep far more
# of its output than of a command's, yet still a bound, in case the project's own code floods it.
PROBE_OUTPUT_LIMIT = 32 * 1024 * 1024


class ProcessRunner:
    """Run manage.py and the probes in child processes."""

    name = "process"

    def prepare(self) -> None:
        """Start the zygote now, so Django's imports overlap whatever the kernel does next."""
        worker.prewarm()

    def prepare_project(self, project: Path, settings_module: str, *, python: str | None = None) -> None:
        """Start, in the background, a warm zygote with the project's Django set up, as its first probe would."""
        worker.prewarm_project(Path(project), settings_module, self._probe_env(settings_module), python)

    def manage(self, project: Path, args: Sequence[str], **options) -> CommandResult:
        """Run ``python manage.py *args`` in ``project`` in a child process; never hang."""
        return run_manage(Path(project), args, **options)

    def probe(
        self,
        project: Path,
        settings_module: str,
        *args: str,
        timeout: float = DEFAULT_TIMEOUT,
        python: str | None = None,
        input: str | None = None,
    ) -> dict:
        """Run ``_probe.py`` in the project (with its own interpreter, if given) and return its JSON answer.

        ``input`` goes to the probe's stdin (a connection it may use, kept off the command line).
        Raise StateError on failure.
        """
        project = Path(project)
        env = self._probe_env(settings_module)
        argv = [python or sys.executable, str(PROBE), *args]
        stdout, stderr, exit_code, timed_out = run_process(
            argv, project, input, timeout, env, settings=settings_module, limit=PROBE_OUTPUT_LIMIT
        )
        if timed_out:
            raise ProbeTimeout(
                f"Reading the migration state ({args[0]}) took longer than {timeout:g} s and was stopped. "
                "Fix: pass a longer time limit in seconds with timeout= to the call that read it.",
                probe=args[0],
                seconds=timeout,
            )
        line = next((line for line in stdout.splitlines() if line.startswith(MARKER)), None)
        if line is None:
            found = diagnose(args, stdout, stderr, exit_code, project)  # a limit met, say
            if found:
                raise StateError(str(found))
            said = last_line(stderr) or f"exit code {exit_code}"
            raise StateError(
                f"Django could not start to read the migration state ({said}). "
                "Fix: run sandbox.manage('check') to see the whole error."
            )
        return probe_answer(json.loads(line[len(MARKER) :]), project, args)

    @staticmethod
    def _probe_env(settings_module: str) -> dict[str, str]:
        """Return a probe's environment: the kit's, the project's settings and a read-only session name."""
        return child_env() | {"DJANGO_SETTINGS_MODULE": settings_module, "PGAPPNAME": "migration kit (read-only)"}
