"""A pre-warmed parent that forks one fresh child per command (the kit's fast path).

Run by ``widgets/worker.py`` as ``python _zygote.py FD``, where FD is one end of
a SOCK_SEQPACKET socket pair. It imports Django's heavy modules once, without
ever reading settings, so nothing about any sandbox is cached here. Then, for
each request, it forks a child that becomes exactly what ``python SCRIPT ARGS``
would be in the sandbox: own session, stdio on the pipes the kit passed, the
kit's environment, ``sys.path[0]`` the script's folder, the script run as
``__main__``. The zygote stays single-threaded, so forking is safe.

Protocol, one datagram each: the kernel sends a JSON request with four file
descriptors (stdin, stdout, stderr, a status socket); the zygote answers on the
status socket ``pid N`` once the child runs and ``exit S`` (the raw wait status)
when it is reaped. ``ready`` on the control socket says the imports are done.

A request of kind ``warm`` comes with two descriptors instead (a new control
socket and a status socket): the zygote forks a *warm* zygote for one sandbox,
which runs ``django.setup()`` with that sandbox's settings and loads its
migration files, then serves requests on the new socket exactly as this one
does. Its children skip Django's start-up: a command costs a fork. The kernel
makes a new warm zygote whenever the sandbox's code changes. Whatever set-up
printed is printed again by each child, so the output stays the bare command's.

When the kernel goes (its socket closes, or SIGTERM arrives), a zygote kills
every child's process group before it exits: nothing outlives the kernel.
Stdlib only above ``main``: this file runs outside the kit's package.
"""

import atexit
import gc
import importlib
import importlib.machinery
import importlib.util
import json
import os
import selectors
import signal
import socket
import sys
import threading
import types


def _load_guard():
    """Load the kit's _guard.py (resource limits) from beside this file, leaving sys.path alone."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_guard.py")
    spec = importlib.util.spec_from_file_location("_migration_kit_guard", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_guard = _load_guard()

# Modules that import without settings (checked at start-up: settings must
# stay unconfigured and the app registry empty, or the zygote refuses to run).
PRELOAD = (
    "django.core.management",
    "django.core.management.sql",
    "django.core.management.commands.check",
    "django.core.management.commands.makemigrations",
    "django.core.management.commands.migrate",
    "django.core.management.commands.showmigrations",
    "django.core.management.commands.sqlmigrate",
    "django.core.management.commands.squashmigrations",
    "django.core.management.commands.optimizemigration",
    "django.core.management.commands.shell",
    "django.core.management.commands.startapp",
    "django.core.management.commands.loaddata",
    "django.core.management.commands.dumpdata",
    "django.core.management.commands.flush",
    "django.core.management.commands.sqlflush",
    "django.core.management.commands.inspectdb",
    "django.db.models",
    "django.db.migrations.autodetector",
    "django.db.migrations.executor",
    "django.db.migrations.loader",
    "django.db.migrations.questioner",
    "django.db.migrations.writer",
    "django.db.backends.sqlite3.base",
    "django.db.backends.sqlite3.schema",
    "django.db.backends.sqlite3.introspection",
    "django.db.backends.sqlite3.operations",
    "django.db.backends.sqlite3.features",
    "django.db.backends.sqlite3.creation",
    "django.contrib.admin",
    "django.contrib.admin.apps",
    "django.contrib.auth.apps",
    "django.contrib.auth.checks",
    "django.contrib.auth.management",
    "django.contrib.auth.hashers",
    "django.contrib.auth.password_validation",
    "django.contrib.contenttypes.apps",
    "django.contrib.contenttypes.management",
    "django.contrib.sessions.apps",
    "django.contrib.messages.apps",
    "django.contrib.staticfiles.apps",
    "django.middleware.security",
    "django.middleware.common",
    "django.middleware.csrf",
    "django.middleware.clickjacking",
    "django.contrib.sessions.middleware",
    "django.contrib.messages.middleware",
    "django.template.backends.django",
    "django.template.defaulttags",
    "django.template.loader_tags",
    "django.views.generic",
    "django.shortcuts",
    "django.core.serializers.json",
    "django.core.handlers.wsgi",
    "django.test",
    "sqlite3",
)


def preload() -> None:
    """Import Django's heavy modules; refuse to serve if any of them touched settings."""
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # A module that needs settings is simply left to the child.
            pass
    from django.apps import apps
    from django.conf import settings

    if settings.configured or apps.apps_ready or apps.loading or threading.active_count() != 1:
        raise SystemExit("the zygote's imports configured Django or started a thread")


class Zygote:
    """Fork a child per request and report its pid and wait status."""

    def __init__(self, control: socket.socket, *, before_fork=None, replay=(b"", b""), extra_env=None) -> None:
        self.control = control
        self.waiting: dict[int, socket.socket] = {}
        self.warm: set[int] = set()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        self.selector = selectors.DefaultSelector()
        self.before_fork = before_fork
        self.replay = replay  # what set-up printed on stdout and stderr, printed again by each child
        self.extra_env = extra_env or {}

    def serve(self) -> None:
        """Answer requests until the kernel closes its end of the control socket, then stop every child."""
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes select through the wakeup fd
        signal.set_wakeup_fd(self.wake_w)
        self.selector.register(self.control, selectors.EVENT_READ)
        self.selector.register(self.wake_r, selectors.EVENT_READ)
        try:
            self.control.send(b"ready")
            while True:
                for key, _ in self.selector.select():
                    if key.fileobj is self.control and not self.accept():
                        return
                    if key.fileobj == self.wake_r:
                        os.read(self.wake_r, 4096)
                        self.reap()
        finally:
            self.stop_children()

    def stop_children(self) -> None:
        """Kill every command's process group, and ask warm zygotes to do the same with theirs."""
        for pid in list(self.waiting):
            try:
                if pid in self.warm:
                    os.kill(pid, signal.SIGTERM)
                else:
                    os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def accept(self) -> bool:
        """Take one request and fork its child; return False when the kernel has gone."""
        try:
            data, fds, _flags, _addr = socket.recv_fds(self.control, 1 << 20, 4)
        except InterruptedError:
            return True
        if not data:
            return False
        status = socket.socket(fileno=fds[-1])
        try:
            request = json.loads(data)
            if self.before_fork is not None:
                self.before_fork(request)
            pid = os.fork()
        except Exception as exc:
            for fd in fds[:-1]:
                os.close(fd)
            status.send(f"error {exc}".encode())
            status.close()
            return True
        if pid == 0:
            if request.get("kind") == "warm":
                self.become_warm(request, fds[0], status)
            self.become_child(request, fds[:3], status)
        for fd in fds[:-1]:
            os.close(fd)
        self.waiting[pid] = status
        if request.get("kind") == "warm":
            self.warm.add(pid)
        status.send(f"pid {pid}".encode())
        return True

    def reap(self) -> None:
        """Report the wait status of every child that has ended."""
        while True:
            try:
                pid, wait_status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.warm.discard(pid)
            status = self.waiting.pop(pid, None)
            if status is not None:
                try:
                    status.send(f"exit {wait_status}".encode())
                except OSError:  # The kernel stopped listening (it gave up); nothing to tell.
                    pass
                status.close()

    def _forget_parent_state(self, status: socket.socket) -> None:
        """Drop the zygote's sockets, pipes and handlers in a freshly forked child."""
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        self.selector.close()
        self.control.close()
        status.close()
        for other in self.waiting.values():
            other.close()
        os.close(self.wake_r)
        os.close(self.wake_w)

    def become_child(self, request: dict, stdio: list[int], status: socket.socket) -> None:
        """Drop the zygote's state and run the request's script; never return."""
        try:
            self._forget_parent_state(status)
            os.setsid()
            _die_with_parent(signal.SIGKILL)
            for target, fd in enumerate(stdio):
                os.dup2(fd, target)
                os.close(fd)
            os.chdir(request["cwd"])
            os.environ.clear()
            os.environ.update(request["env"])
            for name, value in self.extra_env.items():
                os.environ.setdefault(name, value)
            _guard.apply_limits()  # memory, file size, processes: as a plain command gets them
            _replay(self.replay)
        except BaseException:
            os._exit(127)
        os._exit(run_script(request["argv"]))

    def become_warm(self, request: dict, control_fd: int, status: socket.socket) -> None:
        """Set Django up for one sandbox, then serve its commands as a zygote of its own; never return."""
        control = socket.socket(fileno=control_fd)
        try:
            self._forget_parent_state(status)
            _die_with_parent(signal.SIGTERM)
            os.chdir(request["cwd"])
            os.environ.clear()
            os.environ.update(request["env"])
            replay, extra_env = warm_up(request["cwd"], request["env"])
        except BaseException as exc:
            try:
                control.send(f"failed {type(exc).__name__}: {exc}".encode()[:4000])
            except OSError:
                pass
            os._exit(0)
        try:
            Zygote(control, before_fork=_before_command, replay=replay, extra_env=extra_env).serve()
        finally:
            os._exit(0)


def _stop(*_args) -> None:
    """End serve() on SIGTERM, so its cleanup runs."""
    raise SystemExit(0)


def _die_with_parent(signum: int) -> None:
    """Ask Linux to send signum when the parent dies (a second line of defence behind the socket's EOF)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signum, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:  # not Linux: the parent's own cleanup still stops its children
        pass


def _replay(replay) -> None:
    """Print again what the warm zygote's set-up printed, as a fresh process would have."""
    out, err = replay
    for fd, data in ((1, out), (2, err)):
        while data:
            data = data[os.write(fd, data) :]


def warm_up(cwd: str, env: dict) -> tuple[tuple[bytes, bytes], dict]:
    """Run django.setup() and load the migration files as manage.py would; return what it printed."""
    import tempfile

    sys.path.insert(0, cwd)  # manage.py's folder, as python puts it first
    saved = (os.dup(1), os.dup(2))
    captured = (tempfile.TemporaryFile(), tempfile.TemporaryFile())
    try:
        for fd, file in zip((1, 2), captured, strict=True):
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(file.fileno(), fd)
        import django

        django.setup()
        from django.core.management import get_commands
        from django.db.migrations.loader import MigrationLoader

        get_commands()
        MigrationLoader(None, ignore_no_migrations=True)  # imports every migration file
        _import_backend()
        _close_connections()
        sys.stdout.flush()
        sys.stderr.flush()
        # Keep the collector away from what set-up built: a child that scanned it would copy every page.
        # No collection first: set-up leaves little garbage (pretix: 903 objects), and one cost 0.14 s.
        gc.freeze()
    finally:
        for fd, copy in zip((1, 2), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)
        sys.path.remove(cwd)
    if threading.active_count() != 1:
        raise RuntimeError("the project started a thread while setting up; forking it would be unsafe")
    printed = []
    for file in captured:
        file.seek(0)
        printed.append(file.read())
        file.close()
    # Django's settings set TZ for the process; a fresh process would have it in its environment too.
    extra = {"TZ": os.environ["TZ"]} if "TZ" in os.environ and "TZ" not in env else {}
    return (printed[0], printed[1]), extra


def _import_backend() -> None:
    """Import the default database's backend (psycopg for PostgreSQL) without connecting."""
    try:
        from django.db import connections

        connections["default"].ops  # noqa: B018 - creating the wrapper imports the backend
    except Exception:  # a broken DATABASES setting fails again, and visibly, in the command
        pass


_PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_probe.py")
_checks_warm = False  # True once this warm zygote has run the system checks


def _before_command(request: dict) -> None:
    """Before forking a command's child: warm the system checks at the first manage.py command; close connections.

    The kit's probes run no checks, and on a big project the checks cost as much
    as Django's start (pretix: 1.4 s), so a warm zygote set up for a reading
    does not pay them; the first command that runs them warms them here, once,
    and every later child finds their imports and caches (URLconf, templates) ready.
    """
    global _checks_warm
    argv = request.get("argv") or []  # the script first, as run_script takes it
    script = os.path.abspath(os.path.join(request.get("cwd", ""), argv[0])) if argv else ""
    if not _checks_warm and request.get("kind") != "warm" and script != _PROBE:
        _checks_warm = True
        _warm_checks()
    _close_connections()


def _warm_checks() -> None:
    """Run the system checks once, so their imports and caches (URLconf, templates) are ready in every child."""
    saved = (os.dup(1), os.dup(2))
    quiet = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in (1, 2):  # the child's own checks say whatever the checks have to say
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(quiet, fd)
        from django.core import checks

        checks.run_checks()
    except Exception:  # a failing check fails again, and visibly, in the command that runs it
        pass
    finally:
        for fd, copy in zip((1, 2), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)
        os.close(quiet)
    if threading.active_count() != 1:
        raise RuntimeError("the project started a thread in its system checks; forking it would be unsafe")
    gc.freeze()


def _close_connections() -> None:
    """Close Django's database connections: a forked child must never share one."""
    if "django.db" in sys.modules:
        sys.modules["django.db"].connections.close_all()


def run_script(argv: list[str]) -> int:
    """Run ``argv[0]`` as ``__main__`` the way ``python SCRIPT ARGS`` does; return its exit code."""
    script = os.path.abspath(argv[0])
    sys.argv = list(argv)
    sys.path.insert(0, os.path.dirname(os.path.realpath(script)))
    if "random" in sys.modules:
        sys.modules["random"].seed()  # a fresh process would not share the zygote's sequence
    code = _main_code(script)
    if isinstance(code, int):
        return code
    module = types.ModuleType("__main__")
    loader = importlib.machinery.SourceFileLoader("__main__", script)
    module.__dict__.update(__file__=script, __cached__=None, __loader__=loader, __builtins__=__builtins__)
    sys.modules["__main__"] = module
    interrupted = False
    try:
        exec(code, module.__dict__)
        exit_code = 0
    except SystemExit as stop:
        exit_code = _system_exit_code(stop)
    except BaseException as error:
        error.__traceback__ = error.__traceback__.tb_next  # hide this function's frame, as python would
        sys.excepthook(type(error), error, error.__traceback__)
        exit_code, interrupted = 1, isinstance(error, KeyboardInterrupt)
    exit_code = _finish(exit_code)
    if interrupted:  # python ends an interrupted script by SIGINT, so its parent sees the signal
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    return exit_code


def _main_code(script: str):
    """Compile the script, or print what Python prints when it cannot; return code or exit code."""
    try:
        with open(script, "rb") as handle:
            source = handle.read()
    except OSError as error:
        sys.stderr.write(f"{sys.executable}: can't open file {script!r}: [Errno {error.errno}] {error.strerror}\n")
        return 2
    try:
        return compile(source, script, "exec", dont_inherit=True)
    except SyntaxError as error:
        error.__traceback__ = None  # python shows no frames for a script that does not compile
        sys.excepthook(type(error), error, None)
        return 1


def _system_exit_code(stop: SystemExit) -> int:
    """Turn SystemExit into an exit code as the interpreter does."""
    code = stop.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write(f"{code}\n")
    except Exception:
        pass
    return 1


def _finish(exit_code: int) -> int:
    """Join threads, run atexit handlers and flush, as interpreter shutdown does."""
    try:
        threading._shutdown()
    except Exception:
        pass
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            exit_code = exit_code or 120
    return exit_code


def main() -> None:
    """Preload Django and serve requests on the inherited control socket."""
    control = socket.socket(fileno=int(sys.argv[1]))
    del sys.path[0]  # this file's folder; each child puts its script's folder back
    preload()
    gc.collect()
    gc.freeze()  # children then share the preloaded modules' pages instead of copying them
    Zygote(control).serve()


if __name__ == "__main__":
    main()
