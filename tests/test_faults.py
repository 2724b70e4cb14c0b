"""Nothing breaks it: every fault a learner, a kernel or a disk can cause, reproduced for real.

Each test carries a ``@fault`` entry (tests/fault_catalogue.py): the sentence
the learner sees and what is kept. The test checks every message against it,
and that the template project and another sandbox are byte-for-byte unchanged.
``scripts/faults_table.py`` writes docs/faults.md from these entries.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import project_digest, tree_digest
from fault_catalogue import FAULTS, fault, matches, table

from widgets import (
    DatabaseFileError,
    KitError,
    Sandbox,
    SandboxBusyError,
    SandboxNameError,
    SandboxPathError,
    StateError,
    WorkspaceError,
)
from widgets.run import worker
from widgets.run.bounded import LIMIT
from widgets.sandbox import locks
from widgets.sandbox.paths import REPO_ROOT, TEMPLATE_DIR

DOC = REPO_ROOT / "docs" / "faults.md"
FULL_FIX = (
    "Fix: free some space, for example delete sandboxes you no longer need (Sandbox.open('name').delete()) "
    "or their snapshots, then try again."
)
READ_ONLY_FIX = (
    "Fix: point the environment variable MIGRATION_KIT_WORKSPACE at a folder you can write to "
    "(for example ~/migration-workspace), then restart the kernel."
)
DAMAGED_FIX = (
    "Fix: put back a snapshot taken before (sandbox.restore('label')) or start over with sandbox.reset(); "
    "a damaged file cannot be repaired in place."
)
LOCKED = (
    "The database is locked: another program is writing to it (another notebook's command, a database browser, "
    "or a shell with an open transaction), so …. Fix: wait for it to finish, or commit or roll back in that "
    "program (or close it), then try again."
)
BOARDS = "SELECT COUNT(*) AS n FROM boards_board"


@pytest.fixture
def says(request: pytest.FixtureRequest):
    """Return a check that a message is one plain sentence with the fix, as the test's catalogue entry says."""
    templates = [t for entry in request.function.faults for t in entry.sees]
    seen: set[str] = set()

    def check(message: str) -> None:
        assert "\n" not in message and "Traceback" not in message, message
        assert "Fix:" in message, message
        matching = [t for t in templates if matches(t, message)]
        assert matching, f"{message!r} matches none of the catalogue's {templates!r}"
        seen.update(matching)

    yield check
    unchecked = [t for t in templates if "Fix:" in t and t not in seen]
    assert not unchecked, f"the catalogue promises messages the test never saw: {unchecked}"


@pytest.fixture(params=["zygote", "plain"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test on both ways of starting a command: forked from the zygote, and a plain subprocess."""
    if request.param == "plain":
        monkeypatch.setenv(worker.DISABLE_ENV, "0")
    else:
        monkeypatch.delenv(worker.DISABLE_ENV, raising=False)
    return request.param


def boards(sandbox: Sandbox) -> int:
    return int(sandbox.query(BOARDS)["n"][0])


def integrity(database: Path) -> str:
    with contextlib.closing(sqlite3.connect(database)) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0]


def alive(pid: int) -> bool:
    """Return True if the process exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def processes_in(folder: Path) -> list[int]:
    """Return the live processes whose working folder is inside folder."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cwd = Path(os.readlink(entry / "cwd"))
            except OSError:
                continue
            if (cwd == folder or folder in cwd.parents) and alive(int(entry.name)):
                found.append(int(entry.name))
    return found


def children_of(pid: int) -> list[int]:
    """Return the processes whose parent is pid."""
    found = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            if int(entry.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.parent.name))
    return found


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def peak_memory_growth(action) -> int:
    """Run action and return how far this process's peak resident memory rose above where it was (bytes)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current size
    except OSError:
        pytest.skip("this system does not let a process reset its peak memory (/proc/self/clear_refs)")

    def peak() -> int:
        line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("VmHWM"))
        return int(line.split()[1]) * 1024

    before = peak()
    action()
    return peak() - before


# ----- links ----------------------------------------------------------------------------------

LINKS = (
    "Copied as links and never followed: …; snapshots and resets keep only the links, "
    "and sandbox.write refuses any path that leads outside through one."
)
OUTSIDE = "'…' is outside the sandbox. Fix: use a path inside it, such as 'boards/models.py'."


def bookkeeping(sandbox: Sandbox) -> Path:
    """Return the kit's folder for a sandbox: its snapshots and the guard copy taken before a command."""
    return sandbox.workspace / ".kit" / "sandboxes" / sandbox.name


def regular_files(folder: Path) -> int:
    """Return how many regular files are under folder, entering no link."""
    return sum(
        len([f for f in files if not os.path.islink(os.path.join(root, f))]) for root, _, files in os.walk(folder)
    )


@fault(
    "A link inside a sandbox to one of its parent folders (a loop)",
    sees=LINKS,
    kept="the link itself, in every snapshot, guard copy and restore; nothing is copied twice",
)
def test_a_link_to_a_parent_folder_is_copied_as_a_link(sandbox, untouched):
    made = sandbox.shell("import os\nos.symlink('..', 'boards/up')")  # as a learner's own code would
    assert made.ok, made.message
    files = regular_files(sandbox.path)
    (notice,) = sandbox.notices
    assert matches(LINKS, notice) and "boards/up -> .. (a loop to a folder above it)" in notice
    sandbox.snapshot("with-loop")
    assert sandbox.migrate("boards", "0001").ok  # guarded: the guard copy holds the loop as a link
    assert (bookkeeping(sandbox) / "before-command" / "boards" / "up").is_symlink()
    sandbox.restore("with-loop")
    assert os.readlink(sandbox.path / "boards" / "up") == ".."
    assert regular_files(bookkeeping(sandbox) / "snapshots" / "with-loop") == files == regular_files(sandbox.path)
    assert sandbox.file("boards/up/manage.py") == sandbox.path / "manage.py"  # inside: allowed
    assert not sandbox.applied_migrations().empty and integrity(sandbox.db_path) == "ok"
    sandbox.reset()  # the template has no such link
    assert not (sandbox.path / "boards" / "up").is_symlink() and sandbox.notices == []
    untouched()


@fault(
    "A link to a folder outside the sandbox (`uploads -> /srv/media`)",
    sees=(LINKS, OUTSIDE),
    kept="the outside folder, unread and unchanged: copy_of, snapshots, guard copies, restores and resets "
    "hold the link only",
)
def test_a_link_outside_is_left_alone_and_named(tmp_path, says, untouched):
    outside = tmp_path / "srv-media"
    outside.mkdir()
    (outside / "big.bin").write_bytes(os.urandom(8 * 1024 * 1024))
    (outside / "logo.txt").write_text("the original\n")
    before = tree_digest(outside)
    project = tmp_path / "site"
    shutil.copytree(TEMPLATE_DIR, project)
    os.symlink(outside, project / "uploads")
    copy = Sandbox.copy_of(project, "linked-out")
    try:
        assert os.readlink(copy.path / "uploads") == str(outside)
        (notice,) = copy.notices
        assert matches(LINKS, notice) and f"uploads -> {outside} (outside)" in notice
        copy.snapshot("start")
        assert copy.migrate().ok  # guarded by a copy of the sandbox: the link, not the folder
        copy.restore("start")
        copy.reset()
        assert os.readlink(copy.path / "uploads") == str(outside)
        for attempt in (lambda: copy.write("uploads/logo.txt", "changed"), lambda: copy.read("uploads/logo.txt")):
            with pytest.raises(SandboxPathError) as error:
                attempt()
            says(str(error.value))
        kit = copy.workspace / ".kit" / "sandboxes" / copy.name
        for folder in (copy.path, kit / "snapshots" / "start", kit / "before-command"):
            assert (folder / "uploads").is_symlink()
            assert not [p for p in folder.rglob("*") if not p.is_symlink() and p.name == "big.bin"]
    finally:
        copy.delete()
    assert tree_digest(outside) == before
    untouched()


# ----- commands and processes -----------------------------------------------------------

CUT = "[... … of output cut ...]"
FLOOD = (
    "import sys\nprint('first line')\n"
    "for i in range(2500):\n    sys.stdout.write(('x' * 30 + '\\n') * 1000)\n    sys.stderr.write(('y' * 30 + '\\n') * 1000)\n"
    "print('last line')\nsys.stderr.write('last error line\\n')"
)


@pytest.mark.processes("output is bounded per process stream")
@fault(
    "A command prints hundreds of megabytes (a `print` in a long loop)",
    sees=CUT,
    kept="the kernel's memory: at most the first and last 1 MB of each stream, and the exit code",
)
def test_a_flood_of_output_is_cut_in_the_middle(sandbox, path, untouched):
    results = []
    growth = peak_memory_growth(lambda: results.append(sandbox.shell(FLOOD)))
    (result,) = results
    assert result.ok, result.message
    for stream, first, last in (
        (result.stdout, "first line\n", "last line\n"),
        (result.stderr, "y", "last error line\n"),
    ):
        assert len(stream.encode()) <= LIMIT + 100
        assert stream.startswith(first) and stream.endswith(last)
        (cut,) = [line for line in stream.splitlines() if line.startswith("[...")]
        assert matches(CUT, cut)
    # 2 x 77.5 MB went through the kernel: it may hold a few copies of the 4 MB it keeps, never the flood.
    assert growth < 48 * 1024 * 1024, f"the kernel grew by {growth / 2**20:.0f} MB"
    untouched()


KERNEL = """
import sys
from widgets import Sandbox
Sandbox.open(sys.argv[1]).shell(sys.argv[2], timeout=250)
"""
LONG_COMMAND = (
    "import os, subprocess, time\nchild = subprocess.Popen(['sleep', '300'])\n"
    "open('running.txt', 'w').write(f'{os.getpid()} {child.pid}')\ntime.sleep(300)"
)


@pytest.mark.processes("kills a kernel process")
@fault(
    "Another notebook runs a command in the same sandbox",
    sees=(
        "This sandbox is busy in another notebook (process … has been running manage.py shell in it for … s). "
        "Fix: wait for that to finish and run this cell again, or give this notebook a sandbox of its own "
        "(Sandbox.fresh('…-2'))."
    ),
    kept="everything: the other notebook's command runs on; this one waited 3 s and changed nothing",
)
@fault(
    "The kernel dies mid-command (SIGKILL, out of memory, a restart)",
    sees="no message: the next kernel opens the sandbox and carries on at once",
    kept="the sandbox as the command left it (a consistent database); no process left running, "
    "zygotes and grandchildren included; no lock left",
)
def test_a_killed_kernel_leaves_nothing_running_and_nothing_locked(
    sandbox, path, tmp_path, monkeypatch, says, untouched
):
    script = tmp_path / "kernel.py"
    script.write_text(KERNEL)
    kernel = subprocess.Popen([sys.executable, str(script), sandbox.name, LONG_COMMAND], env=dict(os.environ))
    try:
        assert wait_until(lambda: (sandbox.path / "running.txt").is_file(), 120), "the command never started"
        command, grandchild = (int(n) for n in (sandbox.path / "running.txt").read_text().split())
        started = set(processes_in(sandbox.path)) | set(children_of(kernel.pid)) | {command, grandchild}
        # The sandbox is busy: this notebook waits briefly, then is told so.
        monkeypatch.setattr(locks, "BUSY_WAIT", 1.0)
        before = time.monotonic()
        with pytest.raises(SandboxBusyError) as busy:
            sandbox.write("notes.txt", "written while busy")
        assert time.monotonic() - before >= 1.0
        says(str(busy.value))
        assert str(kernel.pid) in str(busy.value)
        assert not (sandbox.path / "notes.txt").exists()
    finally:
        kernel.kill()
        kernel.wait()
    assert wait_until(lambda: not any(alive(pid) for pid in started), 10), [p for p in started if alive(p)]
    assert processes_in(sandbox.path) == []
    # The dead kernel's lock went with it: this notebook carries on at once.
    sandbox.write("notes.txt", "written after")
    assert sandbox.showmigrations("boards").ok
    assert integrity(sandbox.db_path) == "ok"
    untouched()


@pytest.mark.processes("a timeout stops a command only in a process of its own")
@fault(
    "A command runs longer than its timeout (an endless loop)",
    sees=(
        "The command did not finish within … s and was stopped. "
        "Fix: run it again with a longer time limit in seconds, timeout= on the call that ran it (for example "
        "sandbox.manage(…, timeout=…); in the lab panel MigrationLab(sandbox, timeout=…)), "
        "or look for a loop in the code it runs."
    ),
    kept="the sandbox as before the command, files and database; no process left (its whole group is killed)",
)
def test_a_timeout_stops_the_group_and_puts_the_sandbox_back(sandbox, says, untouched):
    files = project_digest(sandbox.path)
    code = (
        "import os, subprocess, time\nfrom boards.models import Board\nBoard.objects.create(name='half')\n"
        "child = subprocess.Popen(['sleep', '300'])\nprint(os.getpid(), child.pid, flush=True)\ntime.sleep(300)"
    )
    result = sandbox.shell(code, timeout=3)
    assert result.timed_out
    says(result.message)
    assert wait_until(lambda: not any(alive(int(pid)) for pid in result.stdout.split()), 10)
    assert project_digest(sandbox.path) == files and boards(sandbox) == 0
    untouched()


@pytest.mark.processes("interrupts a command's process")
@fault(
    "The learner interrupts the kernel during a command (the stop button)",
    sees="KeyboardInterrupt, as for any cell",
    kept="the sandbox as before the command, files and database; no process left (its whole group is killed)",
)
def test_an_interrupt_stops_the_command_and_puts_the_sandbox_back(sandbox, path, untouched):
    files = project_digest(sandbox.path)
    code = (
        "import os, subprocess, time\nfrom boards.models import Board\nBoard.objects.create(name='half')\n"
        "child = subprocess.Popen(['sleep', '300'])\nopen('running.txt', 'w').write(f'{os.getpid()} {child.pid}')\n"
        "time.sleep(300)"
    )
    running, pids = sandbox.path / "running.txt", []

    def interrupt() -> None:  # what Jupyter's stop button does: SIGINT to the kernel
        if wait_until(lambda: running.is_file() and running.read_text(), 60):
            pids.extend(int(pid) for pid in running.read_text().split())
            os.kill(os.getpid(), signal.SIGINT)

    stopper = threading.Thread(target=interrupt)
    stopper.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            sandbox.shell(code, timeout=120)
    finally:
        stopper.join()
    assert len(pids) == 2 and wait_until(lambda: not any(alive(pid) for pid in pids), 10)
    assert project_digest(sandbox.path) == files and boards(sandbox) == 0
    untouched()


# ----- runaway code: resource limits -----------------------------------------------------


@pytest.mark.processes("memory limits apply to a process of its own")
@fault(
    "Learner code takes all the memory",
    sees=(
        "The command ran out of memory: the kit lets each command use at most … (the kit's memory limit). "
        "Fix: work on less data at once (smaller batches, QuerySet.iterator()); if the project really needs "
        "more, set MIGRATION_KIT_MEMORY_LIMIT=8G before starting Jupyter."
    ),
    kept="the machine and the kernel (the limit stops the command; 4 GB by default); the sandbox",
)
def test_the_memory_limit_stops_a_runaway_command(sandbox, path, monkeypatch, says, untouched):
    monkeypatch.setenv("MIGRATION_KIT_MEMORY_LIMIT", "512M")
    # bytes(n) asks for zeroed pages it never touches: without the limit it would simply succeed.
    code = "print(open('/proc/self/limits').read())\ndata = bytes(1024 ** 3)\nprint('not stopped')"
    result = sandbox.shell(code)
    assert re.search(r"Max address space\s+536870912\s", result.stdout) and "not stopped" not in result.stdout
    assert result.diagnosis is not None and result.diagnosis.code == "memory_limit"
    says(result.message)
    assert "at most 512 MB" in result.message
    untouched()


@pytest.mark.processes("file size limits apply to a process of its own")
@fault(
    "Learner code writes a huge file",
    sees=(
        "The command tried to write a file larger than … (the kit's file-size limit) and was stopped. "
        "Fix: write less, or into several files; if the project really needs bigger files, "
        "set MIGRATION_KIT_FILE_LIMIT=4G before starting Jupyter."
    ),
    kept="the disk (1 GB per file by default); the file stays, cut at the limit",
)
def test_the_file_size_limit_stops_a_runaway_write(sandbox, monkeypatch, says, untouched):
    monkeypatch.setenv("MIGRATION_KIT_FILE_LIMIT", "1M")
    result = sandbox.shell("with open('big.bin', 'wb') as f:\n    f.write(b'x' * 3_000_000)")
    assert result.diagnosis is not None and result.diagnosis.code == "file_size_limit", result.stderr
    says(result.message)
    assert (sandbox.path / "big.bin").stat().st_size == 1024**2
    untouched()


@pytest.mark.processes("process limits apply to a process of its own")
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to an unused user, whose process count starts at 0")
@fault(
    "Learner code starts processes in a loop (a fork bomb)",
    sees=(
        "The command could not start another process: the kit allows … processes at a time (the process limit). "
        "Fix: look for code that starts processes in a loop; if the project really needs more, "
        "set MIGRATION_KIT_PROCESS_LIMIT higher before starting Jupyter."
    ),
    kept="the machine (4096 processes by default; root is exempt, so the test drops to nobody); "
    "every process started is ended with the command",
)
def test_the_process_limit_stops_a_fork_bomb(sandbox, monkeypatch, says, untouched):
    monkeypatch.setenv("MIGRATION_KIT_PROCESS_LIMIT", "8")
    # RLIMIT_NPROC counts the user's processes, and root is exempt: become an unused user first.
    code = (
        "import os, time\nos.setgid(65534)\nos.setuid(65534)\n"
        "for n in range(64):\n    pid = os.fork()\n    if pid == 0:\n        time.sleep(60)\n        os._exit(0)\n"
        "    print(pid, flush=True)"
    )
    result = sandbox.shell(code)
    assert result.diagnosis is not None and result.diagnosis.code == "process_limit", result.stderr
    says(result.message)
    forked = [int(pid) for pid in result.stdout.split()]
    assert 0 < len(forked) < 8
    assert wait_until(lambda: not any(alive(pid) for pid in forked), 10)  # they end with the command
    untouched()


# ----- the database file -------------------------------------------------------------------

HOLD = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
for mode in ("IMMEDIATE", "EXCLUSIVE"):
    db.execute(f"BEGIN {mode}")
    db.execute("UPDATE django_migrations SET name = name")  # a write transaction, as a database browser holds
    print(mode, flush=True)
    sys.stdin.readline()
    db.execute("ROLLBACK")
"""


@pytest.mark.processes("locks the database from another process")
@fault(
    "Another program holds a write transaction on the database (a DB browser, another notebook)",
    sees=(LOCKED.replace("so …", "so Django waited, then gave up; nothing was changed"), LOCKED),
    kept="the database as it was; reading still works while the other program only writes (not while it commits)",
)
def test_a_database_locked_by_another_process(sandbox, says, untouched):
    applied = sandbox.applied_migrations()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(sandbox.db_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline() == "IMMEDIATE\n"
        assert sandbox.state().applied.equals(applied)  # readers are not blocked by a writer
        result = sandbox.migrate("boards", "0001")
        assert result.diagnosis is not None and result.diagnosis.code == "database_locked", result.stderr
        says(result.message)
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.stdout.readline() == "EXCLUSIVE\n"
        with pytest.raises(DatabaseFileError) as error:
            sandbox.state()  # a commit in progress blocks readers too
        says(str(error.value))
    finally:
        holder.kill()
        holder.wait()
    assert sandbox.applied_migrations().equals(applied)
    assert sandbox.migrate("boards", "0001").ok  # the fix: once the other program lets go
    untouched()


def garbage(database: Path) -> None:
    database.write_bytes(b"this is not a database " * 4000)


def damaged_pages(database: Path) -> None:
    data = bytearray(database.read_bytes())
    data[4096:] = b"\xa5" * (len(data) - 4096)  # every page after the first, where sqlite_master lives
    database.write_bytes(bytes(data))


@fault(
    "The database file is damaged (garbage bytes, or pages overwritten)",
    sees=("The database file… is damaged (SQLite says: …). " + DAMAGED_FIX,),
    kept="the damaged file as it is (the kit never writes to it), the project files and the snapshots",
)
@pytest.mark.parametrize("damage", [garbage, damaged_pages], ids=["garbage", "damaged-pages"])
def test_a_damaged_database_file(sandbox, damage, says, untouched):
    sandbox.snapshot("good")
    damage(sandbox.db_path)
    broken = sandbox.db_path.read_bytes()
    with pytest.raises(DatabaseFileError) as error:
        sandbox.state()
    says(str(error.value))
    result = sandbox.migrate()
    assert result.diagnosis is not None and result.diagnosis.code == "database_damaged", result.stderr
    says(result.message)
    assert sandbox.db_path.read_bytes() == broken
    sandbox.restore("good")  # the fix the sentence gives
    assert integrity(sandbox.db_path) == "ok" and not sandbox.applied_migrations().empty
    untouched()


@fault(
    "The database file is empty (0 bytes)",
    sees="There is no database yet. Fix: run migrate first (sandbox.migrate()).",
    kept="everything: SQLite and Django take an empty file for an empty database, and migrate fills it",
)
def test_an_empty_database_file(sandbox, says, untouched):
    sandbox.db_path.write_bytes(b"")
    assert sandbox.applied_migrations().empty and sandbox.tables().empty and sandbox.schema().empty
    with pytest.raises(KitError) as error:
        sandbox.query(BOARDS)
    says(str(error.value))
    assert sandbox.migrate().ok
    assert boards(sandbox) == 0
    untouched()


@fault(
    "The folder that holds the database is gone (settings point at it)",
    sees=(
        "The folder '…' that should hold the database … is gone. Fix: make it again (sandbox.write('…/.keep', '')) "
        "and run migrate, or start over with sandbox.reset().",
        "Django cannot open the SQLite database file: the folder in DATABASES['default']['NAME'] is missing or "
        "not writable. Fix: recreate that folder (or correct NAME in settings.py), then check the connection with "
        "python manage.py dbshell and run migrate.",
    ),
    kept="the project files; the copied project it came from",
)
def test_a_missing_database_folder(tmp_path, says, untouched):
    project = tmp_path / "site"
    shutil.copytree(TEMPLATE_DIR, project)
    settings = project / "djsandbox" / "settings.py"
    settings.write_text(settings.read_text().replace('BASE_DIR / "db.sqlite3"', 'BASE_DIR / "data" / "db.sqlite3"'))
    (project / "data").mkdir()
    copy = Sandbox.copy_of(project, "missing-folder")
    try:
        assert copy.migrate().ok
        shutil.rmtree(copy.path / "data")
        with pytest.raises(DatabaseFileError) as error:
            copy.applied_migrations()
        says(str(error.value))
        says(copy.migrate().message)
        copy.write("data/.keep", "")  # the fix the sentence gives
        assert copy.migrate().ok and not copy.applied_migrations().empty
    finally:
        copy.delete()
    untouched()


HALF_DONE = """
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA cache_size = 1")  # spill to the file at once, so the journal is live when we die
db.execute("BEGIN")
for n in range(2000):
    db.execute("INSERT INTO boards_board (name, description) VALUES (?, ?)", (f"b{n}", "x" * 90))
os.kill(os.getpid(), 9)
"""


@fault(
    "A command was killed in the middle of a database change",
    sees=(
        "The database … holds a change left half-done by a command that was stopped (its rollback journal is "
        "still beside it), and a read-only reader may not undo it. Fix: run any command, such as "
        "sandbox.showmigrations(): SQLite undoes the half-done change when it next opens the file."
    ),
    kept="the database as before the change: SQLite rolls it back from its journal",
)
def test_a_change_left_half_done(sandbox, says, untouched):
    subprocess.run([sys.executable, "-c", HALF_DONE, str(sandbox.db_path)], check=False)
    assert Path(f"{sandbox.db_path}-journal").is_file()
    with pytest.raises(DatabaseFileError) as error:
        sandbox.tables()
    says(str(error.value))
    assert sandbox.showmigrations().ok  # the fix the sentence gives
    assert boards(sandbox) == 0 and integrity(sandbox.db_path) == "ok"
    untouched()


# ----- the disk: read-only and full ------------------------------------------------------------


def mount(*args: str) -> None:
    """Run mount (as root); skip the test with the reason where this system does not allow it."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small or read-only file system needs root and mount (root ignores chmod)")
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"this system does not allow mounting here: {done.stderr.strip()}")


def unmount(target: Path) -> None:
    subprocess.run(["umount", "-l", str(target)], check=True)


@contextlib.contextmanager
def read_only(target: Path) -> Iterator[Path]:
    """Make a file or folder read-only for everyone, root included: a read-only bind mount over itself."""
    mount("--bind", str(target), str(target))
    try:
        mount("-o", "remount,bind,ro", str(target))
        yield target
    finally:
        unmount(target)


@fault(
    "The workspace is on a read-only disk",
    sees="…: the workspace is on a read-only disk (…). " + READ_ONLY_FIX,
    kept="everything as it was; reading the state and read-only commands (showmigrations) still work",
)
def test_a_read_only_workspace(tmp_path, says, untouched):
    workspace = tmp_path / "workspace"
    box = Sandbox.fresh("on-read-only", workspace=workspace)
    box.snapshot("start")
    before = tree_digest(workspace)
    with read_only(workspace):
        assert box.showmigrations("boards").ok and not box.state().applied.empty
        for attempt in (
            lambda: box.migrate("boards", "0001"),
            lambda: box.snapshot("again"),
            lambda: box.restore("start"),
            lambda: box.write("boards/models.py", "# changed\n"),
            lambda: Sandbox.fresh("another", workspace=workspace),
        ):
            with pytest.raises(WorkspaceError) as error:
                attempt()
            says(str(error.value))
        assert tree_digest(workspace) == before
    untouched()


@fault(
    "The database file may not be written to",
    sees=(
        "The database file or its folder may not be written to, so Django could not change anything. "
        "Fix: make them writable again (chmod u+w), or move the workspace to a writable disk by setting "
        "MIGRATION_KIT_WORKSPACE before starting Jupyter."
    ),
    kept="the database as it was",
)
def test_a_read_only_database_file(sandbox, says, untouched):
    before = sandbox.db_path.read_bytes()
    with read_only(sandbox.db_path):
        result = sandbox.migrate("boards", "0001")
        assert result.diagnosis is not None and result.diagnosis.code == "read_only", result.stderr
        says(result.message)
    assert sandbox.db_path.read_bytes() == before
    untouched()


class SmallDisk:
    """A 4 MB tmpfs as a workspace, with a sandbox on it, that tests fill up to a few kilobytes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.workspace = root / "workspace"
        self.filler = root / "filler"

    def free(self) -> int:
        stat = os.statvfs(self.root)
        return stat.f_bavail * stat.f_frsize

    def fill(self, leave: int) -> None:
        """Take all the free space but ``leave`` bytes."""
        with open(self.filler, "ab") as handle:
            handle.write(b"\0" * max(self.free() - leave, 0))

    def staging(self) -> list[Path]:
        return list((self.workspace / ".kit" / "staging").glob("*"))


@pytest.fixture(scope="module")
def small_disk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmallDisk]:
    root = tmp_path_factory.mktemp("small-disk")
    mount("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(root))
    try:
        disk = SmallDisk(root)
        Sandbox.fresh("full", workspace=disk.workspace).snapshot("start")
        yield disk
    finally:
        unmount(root)


@pytest.fixture
def full(small_disk: SmallDisk) -> Iterator[tuple[SmallDisk, Sandbox]]:
    """Return the small disk and its sandbox, put back to its start; the disk is emptied afterwards."""
    box = Sandbox.open("full", workspace=small_disk.workspace)
    box.restore("start")
    yield small_disk, box
    small_disk.filler.unlink(missing_ok=True)
    assert small_disk.staging() == [], "a staging folder was left behind"


@fault(
    "The disk fills up during Sandbox.fresh",
    sees="The sandbox '…' was not made: the disk is full (nothing of it is left). " + FULL_FIX,
    kept="the workspace as it was: no half sandbox, no staging folder",
)
def test_disk_full_during_fresh(full, says, untouched):
    disk, _ = full
    names = Sandbox.names(workspace=disk.workspace)
    disk.fill(leave=64 * 1024)
    with pytest.raises(WorkspaceError) as error:
        Sandbox.fresh("another", workspace=disk.workspace)
    says(str(error.value))
    assert not (disk.workspace / "another").exists()
    assert not (disk.workspace / ".kit" / "sandboxes" / "another").exists()
    assert Sandbox.names(workspace=disk.workspace) == names
    untouched()


@fault(
    "The disk fills up during a snapshot",
    sees="The snapshot '…' was not saved: the disk is full (the sandbox and its snapshots are as they were). "
    + FULL_FIX,
    kept="the sandbox and its snapshots as they were; no half snapshot",
)
def test_disk_full_during_snapshot(full, says, untouched):
    disk, box = full
    files, snapshots = tree_digest(box.path), box.snapshots()
    disk.fill(leave=64 * 1024)
    with pytest.raises(WorkspaceError) as error:
        box.snapshot("start")  # replacing the good one must not lose it
    says(str(error.value))
    assert tree_digest(box.path) == files and box.snapshots() == snapshots
    assert tree_digest(bookkeeping(box) / "snapshots" / "start") == files
    untouched()


@fault(
    "The disk fills up while a snapshot is put back",
    sees="The snapshot '…' was not put back: the disk is full (the sandbox is as it was). " + FULL_FIX,
    kept="the sandbox as it was before the restore, and the snapshot",
)
def test_disk_full_during_restore(full, says, untouched):
    disk, box = full
    box.write("boards/notes.txt", "changed since the snapshot\n")
    files = tree_digest(box.path)
    disk.fill(leave=64 * 1024)
    with pytest.raises(WorkspaceError) as error:
        box.restore("start")
    says(str(error.value))
    assert tree_digest(box.path) == files
    untouched()


@fault(
    "The disk fills up during Sandbox.copy_of",
    sees="The project '…' was not copied: the disk is full (no sandbox was made). " + FULL_FIX,
    kept="the learner's project untouched; no half sandbox",
)
def test_disk_full_during_copy_of(full, tmp_path, says, untouched):
    disk, box = full
    project = tmp_path / "mysite"
    shutil.copytree(box.path, project)
    original = tree_digest(project)
    disk.fill(leave=64 * 1024)
    with pytest.raises(WorkspaceError) as error:
        Sandbox.copy_of(project, "copied", workspace=disk.workspace)
    says(str(error.value))
    assert not (disk.workspace / "copied").exists()
    assert not (disk.workspace / ".kit" / "sandboxes" / "copied").exists()
    assert tree_digest(project) == original
    untouched()


@fault(
    "The disk fills up while a file is saved",
    sees="'…' was not saved: the disk is full (the file is as it was). " + FULL_FIX,
    kept="the file's old text, whole",
)
def test_disk_full_during_write(full, says, untouched):
    disk, box = full
    before = box.read("boards/models.py")
    disk.fill(leave=8 * 1024)
    with pytest.raises(WorkspaceError) as error:
        box.write("boards/models.py", before + "# " + "x" * 200_000 + "\n")
    says(str(error.value))
    assert box.read("boards/models.py") == before
    assert not list(box.path.glob("boards/.*.tmp"))
    untouched()


@fault(
    "The disk is full when a command starts",
    sees="… did not run: the disk is full (the sandbox is unchanged). " + FULL_FIX,
    kept="the sandbox and its database as they were",
)
def test_disk_full_before_a_command(full, says, untouched):
    disk, box = full
    files = tree_digest(box.path)
    disk.fill(leave=64 * 1024)
    with pytest.raises(WorkspaceError) as error:
        box.migrate("boards", "0001")
    says(str(error.value))
    assert tree_digest(box.path) == files
    untouched()


@pytest.mark.processes("fills the disk from a command's process")
@fault(
    "The disk fills up in the middle of a command",
    sees=(
        "The disk is full, so the command stopped part-way: SQLite undoes the database change it was making "
        "(at the latest when a command next opens the database), but a file it was writing may be cut short. "
        + FULL_FIX
    ),
    kept="the database as before the change, consistent, once the next command has opened it",
)
def test_disk_full_during_a_command(full, says, untouched):
    disk, box = full
    free = disk.free()
    box.snapshot("measure")  # the command's own guard copy takes this much
    guard = free - disk.free()
    disk.fill(leave=guard + 256 * 1024)
    code = (
        "from boards.models import Board\n"
        "Board.objects.bulk_create([Board(name=f'b{n}', description='x' * 100_000) for n in range(60)])"
    )
    result = box.shell(code)
    assert result.diagnosis is not None and result.diagnosis.code == "disk_full", result.stderr
    says(result.message)
    disk.filler.unlink()
    shutil.rmtree(bookkeeping(box) / "snapshots" / "measure")
    assert box.showmigrations("boards").ok  # opens the database: SQLite rolls back what is left half-done
    assert boards(box) == 0 and integrity(box.db_path) == "ok"
    untouched()


# ----- faults the kit already refused before this catalogue ---------------------------------------


@fault(
    "A sandbox name that could escape the workspace",
    sees=(
        "Sandbox name '…' is not allowed. Fix: use 1 to 64 letters, digits, '-' or '_', "
        "starting with a letter or digit (for example 'views-lesson')."
    ),
    kept="the workspace: nothing is written",
)
@pytest.mark.parametrize("name", ["../outside", "a/b", ".kit", "x" * 65])
def test_a_bad_sandbox_name(name, workspace, says, untouched):
    before = sorted(p.name for p in workspace.iterdir())
    with pytest.raises(SandboxNameError) as error:
        Sandbox.fresh(name)
    says(str(error.value))
    assert sorted(p.name for p in workspace.iterdir()) == before
    untouched()


@fault(
    "A file path outside the sandbox",
    sees="'…' is outside the sandbox. Fix: use a path inside it, such as 'boards/models.py'.",
    kept="every file outside the sandbox, unread and unwritten",
)
@pytest.mark.parametrize("where", ["../bystander/manage.py", "/etc/passwd", "boards/../../bystander/db.sqlite3"])
def test_a_path_outside_the_sandbox(sandbox, where, says, untouched):
    for attempt in (lambda: sandbox.read(where), lambda: sandbox.write(where, "x")):
        with pytest.raises(SandboxPathError) as error:
            attempt()
        says(str(error.value))
    untouched()


@fault(
    "A query that tries to change the database",
    sees=(
        "SQLite refused the query (attempt to write a readonly database): sandbox.query() only reads. "
        "Fix: change data through Django, with sandbox.shell(...) or a migration."
    ),
    kept="the database, byte for byte (readers open it read-only)",
)
def test_a_query_that_writes(sandbox, says, untouched):
    before = sandbox.db_path.read_bytes()
    for sql in ("DELETE FROM django_migrations", "DROP TABLE boards_board"):
        with pytest.raises(KitError) as error:
            sandbox.query(sql)
        says(str(error.value))
    assert sandbox.db_path.read_bytes() == before
    untouched()


@fault(
    "An app label that does not exist",
    sees=(
        "There is no installed app called '…'. Fix: check the spelling of the app label (the folder name, "
        "e.g. 'boards'); showmigrations lists the installed apps.",
        "There is no app with migrations called '…'. Fix: did you mean '…'? apps with migrations: ….",
    ),
    kept="the database (nothing ran)",
)
def test_an_unknown_app(sandbox, says, untouched):
    applied = sandbox.applied_migrations()
    says(sandbox.migrate("bords").message)
    with pytest.raises(StateError) as error:
        sandbox.plan("bords", "zero")
    says(str(error.value))
    assert sandbox.applied_migrations().equals(applied)
    untouched()


@fault(
    "A migrate target that does not exist",
    sees=(
        "App '…' has no migration called '…'. Fix: pick a name from showmigrations … "
        "(a unique prefix such as 0001 works), or 'zero' to unapply them all.",
        "App '…' has no migration called '…'. Fix: choose one of … (a unique prefix such as 0001 works).",
    ),
    kept="the database (nothing ran)",
)
def test_an_unknown_target(sandbox, says, untouched):
    applied = sandbox.applied_migrations()
    says(sandbox.migrate("boards", "0009").message)
    with pytest.raises(StateError) as error:
        sandbox.plan("boards", "0009")
    says(str(error.value))
    assert sandbox.applied_migrations().equals(applied)
    untouched()


# ----- the catalogue itself -------------------------------------------------------------------------


def test_every_fault_test_is_in_the_catalogue():
    tests = {name for name, value in globals().items() if name.startswith("test_") and callable(value)}
    catalogued = {f.test for f in FAULTS}
    assert tests - catalogued == {"test_every_fault_test_is_in_the_catalogue", "test_docs_faults_md_is_up_to_date"}
    assert catalogued <= tests


def test_docs_faults_md_is_up_to_date():
    assert DOC.read_text(encoding="utf-8") == table(), "run: python scripts/faults_table.py"
