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

A caller that names the sandbox's settings module gets more: a *warm* zygote
for that sandbox, forked from the first one, that has already run
``django.setup()`` for the sandbox's current code and loaded its migration
files. Commands fork from it and start in milliseconds, whatever the size of
the project. It remembers the code it was set up with (every ``.py`` file's
name, size and modification time), so an edit to settings, models or an
existing migration makes a new one, while a migration file that
``makemigrations`` adds keeps it (see ``still_valid``); a kernel keeps at most ``MAX_WARM`` of them and closes those
idle for ``IDLE_SECONDS``. If set-up fails (a syntax error in models.py, say),
the command runs from the cold zygote and shows Django's own error.
"""

from __future__ import annotations

import atexit
import hashlib
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

from widgets.run.bounded import LIMIT, BoundedOutput, decode
from widgets.run.env import child_env
from widgets.sandbox.fingerprint import code_files, code_fingerprint, still_valid

__all__ = [
    "DISABLE_ENV",
    "Worker",
    "WarmWorker",
    "code_files",
    "code_fingerprint",
    "enabled",
    "prewarm",
    "run",
    "shutdown",
    "still_valid",
    "warm_pids",
    "worker",
    "zygote_pid",
]

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
# Warm zygotes a kernel keeps (the sandboxes in use), and how long an unused one lives.
MAX_WARM = 3
IDLE_SECONDS = 300.0
# Folders whose files never change a sandbox's code as Django sees it.

Outcome = tuple[str, str, int, bool]


def startup_env(env: dict[str, str]) -> dict[str, str]:
    """Return the part of an environment that Python reads only when it starts."""
    return {key: value for key, value in env.items() if _STARTUP_ENV.fullmatch(key)}


class _Server:
    """A zygote that forks commands on request: the cold one, or a warm one for one sandbox."""

    control: socket.socket
    python: str

    def alive(self) -> bool:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def run(
        self, argv: list[str], cwd: Path, input: str | None, timeout: float, env: dict[str, str], limit: int = LIMIT
    ) -> Outcome | None:
        """Run ``argv`` (interpreter first) in a forked child; return None if the zygote could not start it.

        ``limit`` bounds the bytes kept of each of stdout and stderr (see bounded.py).
        """
        if self.python != argv[0]:
            return None  # another interpreter's zygote would run the wrong Python
        started = self._start(argv[1:], cwd, input is not None, env)
        if started is None:
            return None
        pid, stdin, stdout, stderr, status = started
        data = input.encode("utf-8", "replace") if input is not None else b""
        out, err, wait_status, timed_out = _communicate(pid, stdin, data, stdout, stderr, status, timeout, limit)
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
        reply = _reply(status)
        if not reply:
            self.close()  # dead or wedged: the next command starts a new zygote
        if not reply.startswith(b"pid "):
            for fd in (stdin, stdout, stderr):
                if fd is not None:
                    os.close(fd)
            status.close()
            return None
        return int(reply.split()[1]), stdin, stdout, stderr, status


def _reply(status: socket.socket) -> bytes:
    """Wait for the zygote's answer on a status socket; empty if it never comes."""
    try:
        status.settimeout(_REPLY_TIMEOUT)
        reply = status.recv(64)
        status.settimeout(None)
    except OSError:
        reply = b""
    return reply


class Worker(_Server):
    """One zygote process and the control socket to it."""

    def __init__(self, env: dict[str, str], python: str | None = None) -> None:
        self.startup = startup_env(env)
        self.python = python or sys.executable
        zygote_env = {k: v for k, v in env.items() if k != "DJANGO_SETTINGS_MODULE"}
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            self.process = subprocess.Popen(
                [self.python, str(ZYGOTE), str(theirs.fileno())],
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

    def spawn_warm(self, cwd: Path, env: dict[str, str], fingerprint: str) -> WarmWorker | str:
        """Ask the zygote for a warm zygote set up for one sandbox; return it, or why it could not start."""
        control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        status, status_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        request = json.dumps({"kind": "warm", "cwd": str(cwd), "env": env}).encode()
        try:
            socket.send_fds(self.control, [request], [theirs.fileno(), status_child.fileno()])
        except OSError:
            pass
        finally:
            theirs.close()
            status_child.close()
        reply = _reply(status)
        if not reply.startswith(b"pid "):
            control.close()
            status.close()
            if not reply:
                self.close()
            return "the zygote did not answer"
        warm = WarmWorker(control, status, int(reply.split()[1]), fingerprint, self.python)
        answer = warm.wait_ready()
        if answer != "ready":
            warm.close()
            return answer
        return warm


class WarmWorker(_Server):
    """A zygote that has set Django up for one sandbox's code; its children skip Django's start-up."""

    def __init__(self, control: socket.socket, status: socket.socket, pid: int, fingerprint: str, python: str) -> None:
        self.control, self.status, self.pid, self.fingerprint = control, status, pid, fingerprint
        self.python = python
        self.files: dict[str, tuple[int, int, int]] = {}  # the code it was set up with
        self.used = time.monotonic()

    def wait_ready(self) -> str:
        """Wait for set-up to finish; return 'ready' or the reason it failed."""
        self.control.settimeout(_REPLY_TIMEOUT)
        try:
            answer = self.control.recv(4096).decode("utf-8", "replace")
        except OSError:
            answer = ""
        self.control.settimeout(None)
        return answer or "set-up ended without a word"

    def alive(self) -> bool:
        """Return True until the zygote reports the warm process's exit."""
        if self.control.fileno() < 0:
            return False
        self.status.setblocking(False)
        try:
            ended = self.status.recv(64) is not None  # any message, or EOF, means it is gone
        except BlockingIOError:
            ended = False
        except OSError:
            ended = True
        self.status.setblocking(True)
        return not ended

    def close(self) -> None:
        """Stop the warm zygote: closing its control socket makes it stop its children and exit."""
        self.control.close()
        self.status.close()


def _communicate(
    pid: int,
    stdin: int | None,
    data: bytes,
    stdout: int,
    stderr: int,
    status: socket.socket,
    timeout: float,
    limit: int = LIMIT,
) -> tuple[bytes, bytes, int | None, bool]:
    """Feed stdin, collect stdout and stderr, and wait for the exit status; kill the group on timeout.

    Each stream keeps at most its first and last ``limit / 2`` bytes (BoundedOutput), so a
    flood of output never grows the kernel. Once the child has exited, whatever
    it left running in its process group is killed: nothing outlives a command.
    """
    chunks = {stdout: BoundedOutput(limit), stderr: BoundedOutput(limit)}
    wait_status = None
    timed_out = False
    deadline = time.monotonic() + timeout
    try:
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
                        # The child is gone (or the zygote is): end what it left in its group, such as a
                        # background process still holding our pipes. The group's id cannot have been
                        # reused while any member lives, and a fresh reuse needs a whole cycle of pids.
                        _kill_group(pid)
                    else:
                        chunk = os.read(key.fd, 65536)
                        if chunk:
                            chunks[key.fd].append(chunk)
                        else:
                            selector.unregister(key.fd)
            for key in list(selector.get_map().values()):
                if key.fd == stdin:
                    os.close(stdin)
    except BaseException:
        # Interrupted (the notebook's stop button): the command must not run on unseen.
        _kill_group(pid)
        for fd in (stdout, stderr):
            os.close(fd)
        status.close()
        raise
    for fd in (stdout, stderr):
        os.close(fd)
    status.close()
    return chunks[stdout].value(), chunks[stderr].value(), wait_status, timed_out


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


_text = decode  # UTF-8 with replacement and universal newlines, as subprocess's text mode


# ----- one zygote per kernel process ---------------------------------------------

_LOCK = threading.Lock()
_WARM_LOCK = threading.Lock()
_workers: dict[str, Worker] = {}  # interpreter -> its zygote (the kit's own Python first)
_owner = 0
_starts: dict[str, int] = {}
_warm: dict[tuple, WarmWorker] = {}  # (cwd, settings, environment) -> warm zygote, least recently used first
_failed: set[tuple] = set()  # set-ups that failed for this code: run those commands cold
_janitor: threading.Thread | None = None


def enabled() -> bool:
    """Return True unless the fast path is switched off by ``MIGRATION_KIT_WORKER=0``."""
    return os.environ.get(DISABLE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def worker(env: dict[str, str], *, wait: bool = True, python: str | None = None) -> Worker | None:
    """Return this process's zygote for an interpreter (the kit's own by default), starting it if needed.

    Return None if it cannot serve this environment.
    """
    global _owner
    python = python or sys.executable
    with _LOCK:
        if _owner != os.getpid():
            _workers.clear()  # inherited through fork: start new ones
            _owner = os.getpid()
        current = _workers.get(python)
        if current is not None and not current.alive():
            current = _workers.pop(python)  # crashed: start a new one
            current = None
        if current is None:
            if _starts.get(python, 0) >= _MAX_STARTS:
                return None
            _starts[python] = _starts.get(python, 0) + 1
            try:
                current = _workers[python] = Worker(env, python)
            except OSError:
                return None
        if current.startup != startup_env(env) or (wait and not current.wait_ready()):
            return None
        return current


def prewarm() -> None:
    """Start the zygote now without waiting, so Django's imports overlap whatever the kernel does next."""
    if enabled():
        worker(child_env(), wait=False)


def prewarm_project(cwd: Path, settings: str, env: dict[str, str], python: str | None = None) -> None:
    """Start making the warm zygote of one project in the background, unless the fast path is switched off.

    A real project's Django takes seconds to start (pretix: 2.5 s, and 1 s more
    to import its migrations): started when a sandbox is opened, it is set up
    while the learner reads the next cell, and the first reading forks from it.
    """
    if not enabled():
        return
    python = python or sys.executable

    def warm_up() -> None:
        fast = worker(env, python=python)
        if fast is not None and Path(cwd).is_dir():
            _warm_for(fast, Path(cwd), settings, env)

    threading.Thread(target=warm_up, name="migration-kit-prewarm", daemon=True).start()


def run(
    argv: list[str],
    cwd: Path,
    input: str | None,
    timeout: float,
    env: dict[str, str],
    *,
    settings: str | None = None,
    limit: int = LIMIT,
) -> Outcome | None:
    """Run ``argv`` through a zygote; return None when the caller should run a plain subprocess.

    With ``settings`` (the sandbox's settings module), the command forks from
    a warm zygote set up for the sandbox's current code. ``limit`` bounds the
    bytes kept of each output stream.
    """
    if not enabled() or len(argv) < 2 or not os.path.isabs(str(argv[0])) or str(argv[1]).startswith("-"):
        return None
    if not Path(cwd).is_dir():
        return None  # let the plain subprocess raise its usual error
    fast = worker(env, python=str(argv[0]))
    if fast is None:
        return None
    argv = [str(arg) for arg in argv]
    warm = _warm_for(fast, Path(cwd), settings, env) if settings else None
    outcome = warm.run(argv, Path(cwd), input, timeout, env, limit) if warm is not None else None
    return outcome if outcome is not None else fast.run(argv, Path(cwd), input, timeout, env, limit)


def _warm_for(fast: Worker, cwd: Path, settings: str, env: dict[str, str]) -> WarmWorker | None:
    """Return the warm zygote for this sandbox's current code, making it if needed; None to run cold."""
    # libpq reads PG* variables when a connection opens, in the child: they do not call for another set-up.
    rest = tuple(sorted((k, v) for k, v in env.items() if k != "DJANGO_SETTINGS_MODULE" and not k.startswith("PG")))
    key = (fast.python, str(cwd.resolve()), settings, hashlib.sha256(repr(rest).encode()).hexdigest())
    files = code_files(cwd)
    fingerprint = hashlib.sha256(repr(sorted(files.items())).encode()).hexdigest()
    # One set-up at a time: two threads asking for the same sandbox share the first one's.
    with _WARM_LOCK:
        warm = _warm.get(key)
        if warm is not None and (not still_valid(warm.files, files) or not warm.alive()):
            with _LOCK:
                del _warm[key]
            warm.close()
            warm = None
        if warm is None:
            if (key, fingerprint) in _failed:
                return None
            made = fast.spawn_warm(cwd, {**env, "DJANGO_SETTINGS_MODULE": settings}, fingerprint)
            if isinstance(made, str):
                _failed.add((key, fingerprint))
                return None
            warm = made
            warm.files = files
        warm.used = time.monotonic()
        with _LOCK:
            _warm.pop(key, None)
            _warm[key] = warm  # last: the most recently used
            evicted = [_warm.pop(k) for k in list(_warm)[: max(len(_warm) - MAX_WARM, 0)]]
    for old in evicted:
        old.close()
    _start_janitor()
    return warm


def _start_janitor() -> None:
    """Start the thread that closes warm zygotes left idle, once per process."""
    global _janitor
    with _LOCK:
        if _janitor is not None and _janitor.is_alive():
            return
        _janitor = threading.Thread(target=_close_idle_forever, name="migration-kit-janitor", daemon=True)
        _janitor.start()


def _close_idle_forever() -> None:
    while True:
        time.sleep(min(IDLE_SECONDS / 4, 30.0))
        close_idle()


def close_idle(max_idle: float | None = None) -> int:
    """Close the warm zygotes unused for ``max_idle`` seconds (IDLE_SECONDS by default); return how many."""
    limit = IDLE_SECONDS if max_idle is None else max_idle
    now = time.monotonic()
    with _LOCK:
        idle = [k for k, w in _warm.items() if now - w.used >= limit]
        closing = [_warm.pop(k) for k in idle]
    for warm in closing:
        warm.close()
    return len(closing)


def warm_pids() -> list[int]:
    """Return the pids of this process's warm zygotes (for memory measurements and tests)."""
    with _LOCK:
        return [w.pid for w in _warm.values()]


def zygote_pid(python: str | None = None) -> int | None:
    """Return the pid of this process's zygote for an interpreter, or None if none runs (for measurements)."""
    with _LOCK:
        current = _workers.get(python or sys.executable) if _owner == os.getpid() else None
        return current.process.pid if current is not None and current.alive() else None


@atexit.register
def shutdown() -> None:
    """Stop this process's warm zygotes and its zygote, if it started them."""
    with _LOCK:
        mine = _owner == os.getpid()
        closing = [*_warm.values(), *_workers.values()] if mine else []
        _warm.clear()
        _failed.clear()
        _workers.clear()
        _starts.clear()  # a deliberate stop is not a crash: allow fresh starts
    for each in closing:
        each.close()
