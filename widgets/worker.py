"""The fast path for Django commands: a pre-warmed zygote forks one fresh child per command.

Every command still runs in its own process (models are reloaded after an edit),
but that process is forked from a long-lived zygote (``_zygote.py``, a
subprocess of the kernel, never the kernel itself) that has already imported
Django's heavy modules without reading any settings. The child gets the same
argv, working folder, environment and stdio as ``python manage.py ...`` would,
so stdout, stderr and the exit code are the bare command's. Anything the fast
path cannot take (another interpreter, an environment Python reads only at
start-up, a missing or crashed zygote) returns None and the caller runs the
plain subprocess instead.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

__all__ = ["DISABLE_ENV", "Worker", "enabled", "prewarm", "run", "shutdown", "worker", "zygote_pid"]

ZYGOTE = Path(__file__).with_name("_zygote.py")
# Set to 0 to run every command as a plain subprocess (benchmarks compare both).
DISABLE_ENV = "MIGRATION_KIT_WORKER"
# Variables Python reads only at start-up; a child of a zygote started with other values would differ.
_STARTUP_ENV = re.compile(r"PYTHON\w*|LANG|LANGUAGE|LC_\w+|TZ")
_READY_TIMEOUT = 30.0
# The zygote answers with the pid right after forking; wait long on a busy machine, since giving
# up and running the command plainly could run a command the zygote did start a second time.
_REPLY_TIMEOUT = 60.0
# After a timeout kill, how long to wait for pipes to close before giving up on stragglers.
_KILL_GRACE = 5.0
_MAX_STARTS = 3

Outcome = tuple[str, str, int, bool]


def startup_env(env: dict[str, str]) -> dict[str, str]:
    """Return the part of an environment that Python reads only when it starts."""
    return {key: value for key, value in env.items() if _STARTUP_ENV.fullmatch(key)}


class Worker:
    """One zygote process and the control socket to it."""

    def __init__(self, env: dict[str, str]) -> None:
        self.startup = startup_env(env)
        zygote_env = {k: v for k, v in env.items() if k != "DJANGO_SETTINGS_MODULE"}
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            self.process = subprocess.Popen(
                [sys.executable, str(ZYGOTE), str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                env=zygote_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # a kernel interrupt must not reach it
            )
        self.ready: bool | None = None  # unknown until the zygote says "ready" (or fails to)

    def wait_ready(self) -> bool:
        """Wait for the zygote to finish its imports; return False (and stop it) if it never does."""
        if self.ready is None:
            self.control.settimeout(_READY_TIMEOUT)
            try:
                self.ready = self.control.recv(16) == b"ready"
            except OSError:
                self.ready = False
            self.control.settimeout(None)
            if not self.ready:
                self.close()
        return self.ready

    def alive(self) -> bool:
        """Return True while the zygote process runs."""
        return self.process.poll() is None

    def close(self) -> None:
        """Stop the zygote: closing the control socket makes it exit."""
        self.control.close()
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def run(self, argv: list[str], cwd: Path, input: str | None, timeout: float, env: dict[str, str]) -> Outcome | None:
        """Run ``argv`` (interpreter first) in a forked child; return None if the zygote could not start it."""
        started = self._start(argv[1:], cwd, input is not None, env)
        if started is None:
            return None
        pid, stdin, stdout, stderr, status = started
        data = input.encode("utf-8", "replace") if input is not None else b""
        out, err, wait_status, timed_out = _communicate(pid, stdin, data, stdout, stderr, status, timeout)
        exit_code = os.waitstatus_to_exitcode(wait_status) if wait_status is not None else -1
        return _text(out), _text(err), exit_code, timed_out

    def _start(self, argv: list[str], cwd: Path, with_input: bool, env: dict[str, str]):
        """Hand the request and the child's stdio to the zygote; return the pid and our pipe ends."""
        if with_input:
            stdin_child, stdin = os.pipe()
        else:
            stdin_child, stdin = os.open(os.devnull, os.O_RDONLY), None
        stdout, stdout_child = os.pipe()
        stderr, stderr_child = os.pipe()
        status, status_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        request = json.dumps({"argv": argv, "cwd": str(cwd), "env": env}).encode()
        try:
            socket.send_fds(self.control, [request], [stdin_child, stdout_child, stderr_child, status_child.fileno()])
        except OSError:
            pass  # the zygote is gone: the reply below is empty
        finally:  # close our copies first, so a zygote that dies gives EOF at once
            for fd in (stdin_child, stdout_child, stderr_child):
                os.close(fd)
            status_child.close()
        try:
            status.settimeout(_REPLY_TIMEOUT)
            reply = status.recv(64)
            status.settimeout(None)
        except OSError:
            reply = b""
        if not reply:
            self.close()  # dead or wedged: the next command starts a new zygote
        if not reply.startswith(b"pid "):
            for fd in (stdin, stdout, stderr):
                if fd is not None:
                    os.close(fd)
            status.close()
            return None
        return int(reply.split()[1]), stdin, stdout, stderr, status


def _communicate(
    pid: int, stdin: int | None, data: bytes, stdout: int, stderr: int, status: socket.socket, timeout: float
) -> tuple[bytes, bytes, int | None, bool]:
    """Feed stdin, collect stdout and stderr, and wait for the exit status; kill the group on timeout."""
    chunks: dict[int, list[bytes]] = {stdout: [], stderr: []}
    wait_status = None
    timed_out = False
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        for fd in (stdout, stderr):
            selector.register(fd, selectors.EVENT_READ)
        selector.register(status, selectors.EVENT_READ)
        if stdin is not None:
            os.set_blocking(stdin, False)
            if data:
                selector.register(stdin, selectors.EVENT_WRITE)
            else:
                os.close(stdin)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if timed_out:
                    break  # something outside the child's group still holds a pipe open
                _kill_group(pid)
                timed_out = True
                deadline = time.monotonic() + _KILL_GRACE
                continue
            for key, _ in selector.select(remaining):
                if key.fd == stdin:
                    data = _feed(selector, stdin, data)
                elif key.fileobj is status:
                    wait_status = _exit_status(status.recv(64), wait_status)
                    selector.unregister(status)
                else:
                    chunk = os.read(key.fd, 65536)
                    if chunk:
                        chunks[key.fd].append(chunk)
                    else:
                        selector.unregister(key.fd)
        for key in list(selector.get_map().values()):
            if key.fd == stdin:
                os.close(stdin)
    for fd in (stdout, stderr):
        os.close(fd)
    status.close()
    return b"".join(chunks[stdout]), b"".join(chunks[stderr]), wait_status, timed_out


def _feed(selector: selectors.BaseSelector, stdin: int, data: bytes) -> bytes:
    """Write what the pipe takes; close it once everything is written or the child stopped reading."""
    try:
        data = data[os.write(stdin, data[:65536]) :]
    except BrokenPipeError:
        data = b""
    except BlockingIOError:
        return data
    if not data:
        selector.unregister(stdin)
        os.close(stdin)
    return data


def _exit_status(reply: bytes, previous: int | None) -> int | None:
    """Read the zygote's ``exit S`` message (None if the zygote died first)."""
    return int(reply.split()[1]) if reply.startswith(b"exit ") else previous


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _text(data: bytes) -> str:
    """Decode as subprocess does in text mode: UTF-8 with replacement, universal newlines."""
    return data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")


# ----- one zygote per kernel process ---------------------------------------------

_LOCK = threading.Lock()
_worker: Worker | None = None
_owner = 0
_starts = 0


def enabled() -> bool:
    """Return True unless the fast path is switched off by ``MIGRATION_KIT_WORKER=0``."""
    return os.environ.get(DISABLE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def worker(env: dict[str, str], *, wait: bool = True) -> Worker | None:
    """Return this process's zygote, starting it if needed; None if it cannot serve this environment."""
    global _worker, _owner, _starts
    with _LOCK:
        if _worker is not None and (_owner != os.getpid() or not _worker.alive()):
            _worker = None  # inherited through fork, or crashed: start a new one
        if _worker is None:
            if _starts >= _MAX_STARTS:
                return None
            _starts += 1
            try:
                _worker, _owner = Worker(env), os.getpid()
            except OSError:
                return None
        if _worker.startup != startup_env(env) or (wait and not _worker.wait_ready()):
            return None
        return _worker


def prewarm() -> None:
    """Start the zygote now without waiting, so Django's imports overlap whatever the kernel does next."""
    from .commands import child_env  # commands imports this module; import it only when called

    if enabled():
        worker(child_env(), wait=False)


def run(argv: list[str], cwd: Path, input: str | None, timeout: float, env: dict[str, str]) -> Outcome | None:
    """Run ``argv`` through the zygote; return None when the caller should run a plain subprocess."""
    if not enabled() or len(argv) < 2 or argv[0] != sys.executable or argv[1].startswith("-"):
        return None
    if not Path(cwd).is_dir():
        return None  # let the plain subprocess raise its usual error
    fast = worker(env)
    return fast.run([str(arg) for arg in argv], Path(cwd), input, timeout, env) if fast is not None else None


def zygote_pid() -> int | None:
    """Return the pid of this process's zygote, or None if none runs (for memory measurements)."""
    with _LOCK:
        running = _worker is not None and _owner == os.getpid() and _worker.alive()
        return _worker.process.pid if running else None


@atexit.register
def shutdown() -> None:
    """Stop this process's zygote, if it started one."""
    global _worker, _starts
    with _LOCK:
        if _worker is not None and _owner == os.getpid():
            _worker.close()
        _worker, _starts = None, 0  # a deliberate stop is not a crash: allow fresh starts
