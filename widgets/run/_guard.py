"""Guard the processes the kit starts: resource limits, death with their parent, and a reaper.

Every command the kit runs (forked from a zygote or started plainly) calls
``apply_limits()`` before it runs the learner's code, so a runaway loop meets
a limit with a name (memory, file size, processes) instead of freezing the
machine. ``Reaper`` ends the process groups of plain commands when the kernel
that started them dies, SIGKILL included.

Stdlib only: ``_zygote.py`` runs outside the kit's package and loads this file
by its path; ``python _guard.py reap`` runs the reaper.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

try:
    import resource
except ImportError:  # Pyodide under Node has no resource module; there the kit starts no process to limit
    resource = None

__all__ = ["LIMIT_ENV", "Reaper", "apply_limits", "child_setup", "die_with_parent", "limits", "reaper"]

# Each limit can be changed (or switched off with 0) before Jupyter starts, e.g. MIGRATION_KIT_MEMORY_LIMIT=8G.
LIMIT_ENV = {
    "memory": "MIGRATION_KIT_MEMORY_LIMIT",
    "file size": "MIGRATION_KIT_FILE_LIMIT",
    "processes": "MIGRATION_KIT_PROCESS_LIMIT",
}
# Generous for real projects; they only stop code that has run away.
_DEFAULTS = {"memory": 4 * 1024**3, "file size": 1024**3, "processes": 4096}
# Looked up by name: Pyodide's resource module has none of these, and there the kit starts no process to limit.
_RESOURCES = {
    name: getattr(resource, constant, None)
    for name, constant in (("memory", "RLIMIT_AS"), ("file size", "RLIMIT_FSIZE"), ("processes", "RLIMIT_NPROC"))
}
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
_PR_SET_PDEATHSIG = 1


def limits(environ: dict[str, str] | None = None) -> dict[str, int | None]:
    """Return each limit in bytes (processes: a count), None when switched off."""
    environ = os.environ if environ is None else environ
    return {name: _parse(environ.get(LIMIT_ENV[name]), default) for name, default in _DEFAULTS.items()}


def _parse(text: str | None, default: int) -> int | None:
    """Read '4G', '512M', '4096', or '0' / 'off' (no limit); anything else means the default."""
    if text is None or not text.strip():
        return default
    if text.strip().lower() in ("off", "none", "unlimited"):
        return None
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = text[-1:] if text[-1:] in ("K", "M", "G", "T") else ""
    number = text[: len(text) - len(unit)]
    try:
        value = int(float(number) * _UNITS[unit])
    except ValueError:
        return default
    return value if value > 0 else None


def apply_limits(chosen: dict[str, int | None] | None = None) -> None:
    """Lower this process's limits to the kit's (never raise one); no core files in the sandbox.

    ``chosen`` is what ``limits()`` returns; by default, read from this process's environment.
    """
    if resource is None:
        return
    for name, value in (limits() if chosen is None else chosen).items():
        if value is not None and _RESOURCES[name] is not None:
            _lower(_RESOURCES[name], value)
    _lower(resource.RLIMIT_CORE, 0)  # a crash must not drop a core file into the learner's project


def _lower(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    if soft != resource.RLIM_INFINITY and soft <= value:
        return  # already as strict or stricter
    try:
        resource.setrlimit(which, (value, hard))
    except (ValueError, OSError):
        pass  # a platform without this limit: the others still hold


def _load_prctl():
    """Return libc's prctl, loaded once in the parent (so a freshly forked child needs no import)."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (ImportError, OSError, AttributeError):  # not Linux
        return None


_PRCTL = _load_prctl()


def die_with_parent(signum: int) -> None:
    """Ask Linux to send ``signum`` to this process when the thread that started it ends."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0)


def child_setup(parent: int, chosen: dict[str, int | None]) -> None:
    """Prepare a plain command's child between fork and exec: limits, and death with the kernel.

    ``chosen`` is read from the command's environment in the parent, so the child only makes system calls.
    """
    apply_limits(chosen)
    die_with_parent(signal.SIGKILL)
    if os.getppid() != parent:  # the kernel died before prctl took effect
        os.kill(os.getpid(), signal.SIGKILL)


class Reaper:
    """A small process that kills the registered process groups once the kernel is gone.

    PR_SET_PDEATHSIG ends a command's first process with the kernel, but not what
    that process started. The reaper holds the read end of a pipe from the
    kernel: when the kernel dies, however it dies, the pipe closes, and the
    reaper kills every process group still registered.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._owner = 0

    def watch(self, group: int) -> None:
        """Register a process group to kill if the kernel dies."""
        self._send(f"+{group}\n")

    def forget(self, group: int) -> None:
        """Unregister a process group that has ended."""
        self._send(f"-{group}\n")

    def pid(self) -> int | None:
        """Return the reaper's pid, or None if none runs (for tests)."""
        with self._lock:
            running = self._process is not None and self._owner == os.getpid() and self._process.poll() is None
            return self._process.pid if running else None

    def _send(self, line: str) -> None:
        with self._lock:
            for _attempt in range(2):
                process = self._running()
                if process is None:
                    return
                try:
                    process.stdin.write(line.encode())
                    process.stdin.flush()
                    return
                except OSError:
                    self._process = None  # it died: start another and say it again

    def _running(self) -> subprocess.Popen | None:
        if self._process is not None and self._owner == os.getpid() and self._process.poll() is None:
            return self._process
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-S", os.path.abspath(__file__), "reap"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # a kernel interrupt must not reach it
            )
        except OSError:
            self._process = None
        self._owner = os.getpid()
        return self._process


_REAPER = Reaper()


def reaper() -> Reaper:
    """Return this kernel's reaper."""
    return _REAPER


def reap(stream) -> None:
    """Read +GROUP and -GROUP lines until the kernel is gone, then kill the groups left."""
    groups: set[int] = set()
    for line in stream:
        sign, number = line[:1], line[1:].strip()
        if number.isdigit():
            (groups.add if sign == b"+" else groups.discard)(int(number))
    for group in groups:
        try:
            os.killpg(group, signal.SIGKILL)
        except OSError:
            pass


if __name__ == "__main__" and sys.argv[1:] == ["reap"]:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    reap(sys.stdin.buffer)
