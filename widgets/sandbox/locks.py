"""One writer per sandbox, across threads and across notebooks.

Two kernels may open the same sandbox (two notebooks, or one notebook opened
twice). A lock file in the sandbox's bookkeeping folder, held with
``fcntl.flock`` around every command and every change, makes them take turns;
threads of one kernel take turns on an in-process lock first. Linux drops a
flock when its process dies, however it dies, so a killed kernel never leaves
the sandbox locked. The holder writes its pid, what it is doing and since when
into the file, for the message the other notebook gets.
"""

from __future__ import annotations

import errno
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from widgets.errors import SandboxBusyError

try:
    from fcntl import LOCK_EX, LOCK_NB, flock
except ImportError:  # Pyodide has no flock: one kernel per tab, its files in that kernel's memory, no one to wait for
    LOCK_EX, LOCK_NB = 2, 4

    def flock(fd, operation: int) -> None:
        """Take no lock: nothing else can open these files."""


__all__ = ["BUSY_WAIT", "LOCK_EX", "SandboxLock", "flock", "lock_for"]

# How long a second notebook waits for the sandbox before it is told the sandbox is busy.
BUSY_WAIT = 3.0
_POLL = 0.05
_LOCKS: dict[Path, SandboxLock] = {}
_LOCKS_GUARD = threading.Lock()


def lock_for(path: Path, name: str) -> SandboxLock:
    """Return this process's lock for a sandbox's lock file (one object per file)."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(Path(path), SandboxLock(Path(path), name))


class SandboxLock:
    """A re-entrant lock held by one thread of one process at a time."""

    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self.name = name
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    @contextmanager
    def hold(self, doing: str, wait: float | None = None) -> Iterator[None]:
        """Hold the sandbox while doing something; raise SandboxBusyError if another process keeps it."""
        with self._thread_lock:  # threads of this kernel simply wait their turn
            if self._depth == 0:
                self._fd = self._acquire(doing, BUSY_WAIT if wait is None else wait)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._release()

    def _acquire(self, doing: str, wait: float) -> int | None:
        """Take the file lock, waiting up to ``wait`` seconds; return its descriptor (None if unlockable)."""
        deadline = time.monotonic() + wait
        while True:
            fd = _open(self.path)
            if fd is None:
                return None  # a read-only workspace: nothing here can change, so nothing to guard
            try:
                flock(fd, LOCK_EX | LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                if time.monotonic() >= deadline:
                    raise self._busy() from None
                time.sleep(_POLL)
                continue
            if _same_file(fd, self.path):
                _write_holder(fd, doing)
                return fd
            os.close(fd)  # the file was deleted (with its sandbox) while we waited: lock the new one

    def _release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)  # no holder any more
        except OSError:
            pass
        os.close(fd)  # closing drops the flock

    def _busy(self) -> SandboxBusyError:
        """Build the message for a sandbox another process holds, naming it from the lock file."""
        holder = _read_holder(self.path)
        if holder:
            seconds = max(0, round(time.time() - holder.get("since", time.time())))
            who = f"process {holder.get('pid', '?')} has been running {holder.get('doing', 'a command')} in it for {seconds} s"
        else:
            who = "another process is using it"
        return SandboxBusyError(
            f"This sandbox is busy in another notebook ({who}). Fix: wait for that to finish and run this cell "
            f"again, or give this notebook a sandbox of its own (Sandbox.fresh('{self.name}-2'))."
        )


def _open(path: Path) -> int | None:
    """Open (creating if needed) the lock file; fall back to read-only on a read-only disk.

    Return None when there is nothing to lock: the sandbox's folder is gone (the
    operation then says so itself) or the disk is read-only with no lock file.
    """
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno not in (errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT):
            raise
    try:
        return os.open(path, os.O_RDONLY)  # flock works on a descriptor opened for reading
    except OSError:
        return None


def _same_file(fd: int, path: Path) -> bool:
    """Return True if the descriptor is still the file at path (not one deleted meanwhile)."""
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except OSError:
        return False


def _write_holder(fd: int, doing: str) -> None:
    """Record who holds the lock, for the other notebook's message."""
    record = json.dumps({"pid": os.getpid(), "doing": doing, "since": time.time()}).encode()
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, record, 0)
    except OSError:
        pass  # read-only, or the disk is full: the lock still holds, only the message is vaguer


def _read_holder(path: Path) -> dict:
    try:
        holder = json.loads(path.read_bytes() or b"{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}
