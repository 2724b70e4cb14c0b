"""The fault catalogue: every test in test_faults.py registers the fault it reproduces.

Each entry says what the learner sees (the kit's sentence, with ``…`` where it
names things) and what is kept. The tests check every message against its
entry, so the table ``scripts/faults_table.py`` writes into docs/faults.md is
what the tests have seen; a test checks that the file is up to date.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

FAULTS: list[Fault] = []
HEADER = """# What the learner sees when things break

Learners break things on purpose, kernels die, disks fill. For each fault
below the kit gives one plain sentence with the fix (`…` stands for the names
and numbers it fills in), and keeps what the last column says. Every row is
reproduced by a test in `tests/test_faults.py`, in real sandboxes and real
processes; the template project and another sandbox are checked to be
byte-for-byte unchanged after each one.

This file is generated from those tests: run `python scripts/faults_table.py`
after changing one.

| fault | what the learner sees | what is kept |
|---|---|---|
"""


@dataclass(frozen=True)
class Fault:
    """One row of the catalogue."""

    fault: str
    sees: tuple[str, ...]
    kept: str
    test: str


def fault(name: str, *, sees: str | tuple[str, ...], kept: str) -> Callable:
    """Register the fault a test reproduces; the test's messages must match ``sees``."""

    def register(test: Callable) -> Callable:
        entry = Fault(name, (sees,) if isinstance(sees, str) else tuple(sees), kept, test.__name__)
        earlier = getattr(test, "faults", [])
        # Stacked decorators apply bottom-up: put this one first, in the file's order.
        FAULTS.insert(FAULTS.index(earlier[0]) if earlier else len(FAULTS), entry)
        test.faults = [entry, *earlier]
        return test

    return register


def matches(template: str, message: str) -> bool:
    """Return True if the message is the template with each ``…`` filled in."""
    pattern = "(.*?)".join(re.escape(part) for part in template.split("…"))
    return re.fullmatch(pattern, message, re.DOTALL) is not None


def table() -> str:
    """Return docs/faults.md: the header and one row per fault, in the order of the tests."""
    rows = [f"| {f.fault} | {'<br>'.join(_cell(s) for s in f.sees)} | {_cell(f.kept)} |" for f in FAULTS]
    return HEADER + "\n".join(rows) + "\n" + IN_PROCESS


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# What holds differently when Django runs inside the kernel (widgets/run/inprocess.py): written by hand, since
# these are limits of one interpreter, which the tests marked `processes` skip under that runner.
IN_PROCESS = """
## When Django runs inside the kernel (the browser, `MIGRATION_KIT_RUNNER=inprocess`)

In the browser there are no processes, so the in-process runner runs each
command inside the kernel. Every row above holds the same way except these:

| fault | under the in-process runner |
|---|---|
| A command runs longer than its timeout | Nothing can stop it from outside: the command runs to its end and `timeout=` is not enforced. In an installed kernel the stop button (an interrupt) stops it between two Python steps and the sandbox is put back as before the command; in the browser, restart the kernel and reset the sandbox. |
| Learner code takes all the memory, writes a huge file, or starts processes | The kit's memory, file-size and process limits are not applied: the browser tab's own limits hold (WebAssembly memory, the tab's storage quota), and starting a process fails with `OSError` in Pyodide. |
| A command prints hundreds of megabytes | The same as in a process: at most the first and last 1 MB of each stream is kept. |
| The kernel dies mid-command (a tab reload) | No process is left behind, since none was started; the sandbox is as the command left it, and SQLite rolls back a half-done change when it next opens the file. |
| `models.py`, a migration or `settings.py` changes between commands | The next command sees it: the project's modules are purged and Django is set up again whenever the code's fingerprint changes. |
"""
