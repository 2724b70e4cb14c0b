"""The one seam through which the kit runs Django: a runner runs manage.py commands and probes.

Two runners keep the same contract. The process runner starts Django in a
process of its own (a fork of a warm zygote, under limits, with no stdin), as a
terminal would. The in-process runner calls manage.py and the probes inside
this interpreter, for the browser, where no process can start.
``MIGRATION_KIT_RUNNER=process|inprocess`` chooses; by default, ``process``
where processes can be started and ``inprocess`` where they cannot.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from widgets.errors import KitError, StateError, unknown_app_error
from widgets.run.diagnose import diagnose
from widgets.run.result import DEFAULT_TIMEOUT, CommandResult
from widgets.sandbox import database_file

__all__ = [
    "RUNNER_ENV",
    "RUNNERS",
    "Runner",
    "probe_answer",
    "processes_available",
    "run_manage",
    "run_probe",
    "runner",
]

RUNNER_ENV = "MIGRATION_KIT_RUNNER"
RUNNERS = ("process", "inprocess")


class Runner(Protocol):
    """Run Django for a project folder: manage.py commands that return results, probes that return values."""

    name: str

    def prepare(self) -> None:
        """Start, without waiting, whatever makes the first command fast (the process runner's zygote)."""
        ...

    def prepare_project(self, project: Path, settings_module: str, *, python: str | None = None) -> None:
        """Start, without waiting, Django set up for one project, so its first probe or command skips the start."""
        ...

    def manage(
        self,
        project: Path,
        args: Sequence[str],
        *,
        input: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        settings: str | None = None,
        pass_settings: bool = False,
        python: str | None = None,
        env: dict[str, str] | None = None,
        warm: bool = True,
    ) -> CommandResult:
        """Run ``manage.py *args`` in ``project`` and return what it printed, its exit code and a diagnosis."""
        ...

    def probe(
        self,
        project: Path,
        settings_module: str,
        *args: str,
        timeout: float = DEFAULT_TIMEOUT,
        python: str | None = None,
        input: str | None = None,
    ) -> dict:
        """Run one probe command (graph, plan, preview, sql_compare, database, states) and return its answer."""
        ...


def processes_available() -> bool:
    """Tell whether this interpreter can start processes (not in a browser's WebAssembly Python)."""
    return sys.platform not in ("emscripten", "wasi")


def runner_name() -> str:
    """Return the runner chosen by MIGRATION_KIT_RUNNER, or the default for this interpreter."""
    chosen = os.environ.get(RUNNER_ENV, "").strip().lower()
    if not chosen:
        return "process" if processes_available() else "inprocess"
    if chosen not in RUNNERS:
        raise KitError(f"{RUNNER_ENV}={chosen!r} is not a runner. Fix: set it to process or inprocess, or unset it.")
    if chosen == "process" and not processes_available():
        raise KitError(
            f"{RUNNER_ENV}=process, but this Python cannot start processes (it runs in a browser). "
            f"Fix: unset {RUNNER_ENV}, or set it to inprocess."
        )
    return chosen


_INSTANCES: dict[str, Runner] = {}


def runner() -> Runner:
    """Return the runner in use: one instance per kind, chosen anew on each call (tests switch it)."""
    name = runner_name()
    if name not in _INSTANCES:
        if name == "process":
            from widgets.run.process import ProcessRunner

            _INSTANCES[name] = ProcessRunner()
        else:
            from widgets.run.inprocess import InProcessRunner

            _INSTANCES[name] = InProcessRunner()
    return _INSTANCES[name]


def run_manage(project: Path, args: Sequence[str], **options) -> CommandResult:
    """Run ``manage.py *args`` in ``project`` with the runner in use."""
    return runner().manage(Path(project), args, **options)


def run_probe(project: Path, settings_module: str, *args: str, **options) -> dict:
    """Run one probe command in ``project`` with the runner in use and return its answer; raise StateError."""
    return runner().probe(Path(project), settings_module, *args, **options)


def probe_answer(answer: dict, project: Path, args: tuple[str, ...]) -> dict:
    """Return a probe's answer, or raise its failure as one plain sentence (the same diagnoses as commands)."""
    if "error" not in answer:
        return answer
    error = answer["error"]
    if error["type"] == "UnknownApp":
        raise unknown_app_error(error["message"], error["known"])
    if error["type"] in ("UnknownTarget", "AmbiguousTarget"):
        app, target = args[1], error["message"]
        problem = (
            "has no migration called"
            if error["type"] == "UnknownTarget"
            else "has more than one migration starting with"
        )
        choices = ", ".join(["zero", *error["known"]])
        raise StateError(
            f"App '{app}' {problem} '{target}'. Fix: choose one of {choices} (a unique prefix such as 0001 works)."
        )
    problem = database_file.file_error(error.get("sqlite") or "", error["message"], "")
    if problem is not None:  # the probe reads the database through a read-only connection, as readers do
        raise StateError(str(problem))
    found = diagnose(args, "", error["traceback"], 1, project)
    if found:
        raise StateError(str(found))
    raise StateError(
        f"Django could not load the project ({error['type']}: {error['message']}). "
        "Fix: run python manage.py check to see the full error."
    )
