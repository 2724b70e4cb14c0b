"""Shared fixtures (a private workspace per test session, sandboxes in it) and
checks around the whole run, notebooks included: nothing leaks into the repository.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

# MIGRATION_KIT_NO_PANDAS=1 runs the tests as the browser does: pandas and numpy cannot be imported, so the
# kit's tables are its own Table values. The finder goes in before the kit is first imported.
NO_PANDAS_ENV = "MIGRATION_KIT_NO_PANDAS"
HIDDEN_MODULES = ("pandas", "numpy")


class _Hidden:
    """A sys.meta_path finder that refuses pandas and numpy, as a Python without them would."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HIDDEN_MODULES:
            raise ModuleNotFoundError(f"No module named {name!r} (hidden by {NO_PANDAS_ENV})", name=name)
        return None


if os.environ.get(NO_PANDAS_ENV):
    if any(name.split(".")[0] in HIDDEN_MODULES for name in sys.modules):
        raise RuntimeError(f"{NO_PANDAS_ENV} is set but pandas or numpy is already imported: it cannot be hidden.")
    sys.meta_path.insert(0, _Hidden())

from widgets import Sandbox  # noqa: E402
from widgets.run.commands import run_manage  # noqa: E402
from widgets.run.runner import RUNNER_ENV, RUNNERS, processes_available  # noqa: E402
from widgets.sandbox.paths import REPO_ROOT, TEMPLATE_DIR, WORKSPACE_ENV  # noqa: E402
from widgets.sandbox.templates import CACHE_ENV  # noqa: E402

SHOP = Path(__file__).parent / "projects" / "shop"
# Notebooks kept as test data (tests/test_old_lessons.py runs them itself): not collected by the suite's nbval.
collect_ignore = ["fixtures"]
# What a real checkout holds besides the code (none of it can live in git as such).
SHOP_CLUTTER = {
    ".venv/pyvenv.cfg": "home = /usr/bin\n",
    ".venv/lib/python3.11/site-packages/left_behind.py": "VALUE = 1\n",
    "env/pyvenv.cfg": "home = /usr/bin\n",
    "env/bin/activate": "# a virtual environment under another name\n",
    "node_modules/left-pad/index.js": "module.exports = (s) => s;\n",
    ".git/HEAD": "ref: refs/heads/main\n",
    "catalog/__pycache__/models.cpython-311.pyc": "not really bytecode",
    "var/uploads/products/cover.txt": "an uploaded file\n",
    "staticfiles/admin/site.css": "body {}\n",
}
BIG = 2 * 1024 * 1024


def tree_digest(folder: Path) -> str:
    """Return a hash of every file's path and bytes under a folder."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def write_shop_clutter(folder: Path, outside: Path) -> None:
    """Add virtual environments, node_modules, .git, caches, uploads, a link loop and a link to outside."""
    for relative, text in SHOP_CLUTTER.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text)
    outside.mkdir()
    (outside / "big.bin").write_bytes(os.urandom(BIG))
    (outside / "logo.txt").write_text("served from outside the project\n")
    os.symlink(outside, folder / "media")  # absolute, to a folder outside
    os.symlink("..", folder / "catalog" / "up")  # relative, to the project itself: a loop


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test under both runners: the process runner and the in-process one (the browser's).

    Where no process can start (Pyodide), only the in-process runner is there to test.
    """
    if "kit_runner" in metafunc.fixturenames:
        runners = [name for name in RUNNERS if name != "process" or processes_available()]
        metafunc.parametrize("kit_runner", runners, indirect=True)


@pytest.fixture(autouse=True)
def kit_runner(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Choose the runner for this test; a test marked ``processes`` is skipped under the in-process runner."""
    name = getattr(request, "param", os.environ.get(RUNNER_ENV) or "process")
    marker = request.node.get_closest_marker("processes")
    if name == "inprocess" and marker is not None:
        pytest.skip(f"needs processes ({marker.args[0] if marker.args else 'starts Django in a process'})")
    monkeypatch.setenv(RUNNER_ENV, name)
    return name


def _git_status() -> str | None:
    """Return `git status --porcelain`, or None outside a git checkout."""
    try:
        done = subprocess.run(
            ["git", "status", "--porcelain"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def pytest_sessionstart(session: pytest.Session) -> None:
    """Remember the template and the git status before anything runs."""
    session.config._kit_before = (tree_digest(TEMPLATE_DIR), _git_status())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if the template changed or the run left files in the git tree."""
    digest, status = session.config._kit_before
    problems = []
    if tree_digest(TEMPLATE_DIR) != digest:
        problems.append("sandbox_project/ changed during the tests")
    # Only in `make test`: while someone edits files by hand, the tree changes anyway.
    after = _git_status() if os.environ.get("KIT_CHECK_GIT_TREE") == "1" else None
    if status is not None and after is not None and after != status:
        problems.append(f"the tests changed the git tree:\n{after}")
    if problems:
        session.config.pluginmanager.get_plugin("terminalreporter").write_line("\n".join(problems), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session", autouse=True)
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Give the whole test session its own workspace and template cache, never the repository's.

    Not under pytest's own temporary folder: pytest makes that private again
    whenever a run starts, and the embedded PostgreSQL server (run as its own
    user when the tests run as root) must reach its data folder inside.
    """
    root = Path(tempfile.mkdtemp(prefix="kit-tests-")).resolve()
    patcher = pytest.MonkeyPatch()
    patcher.setenv(WORKSPACE_ENV, str(root))
    patcher.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("template-cache")))
    yield root
    patcher.undo()
    if "widgets.sandbox.postgres" in sys.modules:
        sys.modules["widgets.sandbox.postgres"].release(root)
    shutil.rmtree(root, ignore_errors=True)


def _name(request: pytest.FixtureRequest) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", request.node.name)[:50].strip("-_") or "test"


@pytest.fixture
def fresh_sandbox(request: pytest.FixtureRequest) -> Sandbox:
    """Return a sandbox copied from the template with no database yet."""
    sandbox = Sandbox.fresh(f"f-{_name(request)}", migrated=False)
    yield sandbox
    sandbox.delete()


@pytest.fixture
def sandbox(request: pytest.FixtureRequest) -> Sandbox:
    """Return a sandbox copied from the template with every migration applied."""
    sandbox = Sandbox.fresh(f"m-{_name(request)}")
    yield sandbox
    sandbox.delete()


@pytest.fixture(scope="module")
def author_book(request: pytest.FixtureRequest) -> Sandbox:
    """Build the Author/Book sandbox once per test file (one author, one book) and keep it as the snapshot 'built'."""
    from widgets import scenarios

    sandbox = Sandbox.fresh(f"author-book-{request.module.__name__.removeprefix('test_')}"[:50])
    scenarios.create_author_book(sandbox)
    scenarios.populate_author_book(sandbox)
    sandbox.snapshot("built")
    yield sandbox
    sandbox.delete()


def project_digest(folder: Path) -> str:
    """Return a hash of a project's files, leaving out its database."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix != ".sqlite3"):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="session")
def shop_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the shop project (tests/projects/shop) with a database: data loaded, orders 0002 unapplied."""
    folder = tmp_path_factory.mktemp("shop-built") / "shop"
    shutil.copytree(SHOP, folder)
    code = (
        "from django.core.management import call_command\n"
        "call_command('migrate', 'auth', verbosity=0)\n"
        "call_command('migrate', 'orders', '0001', verbosity=0)\n"
        "call_command('loaddata', 'shop', verbosity=0)"
    )
    result = run_manage(folder, ["shell", "--no-imports", "-c", code], timeout=120)
    assert result.ok, result.terminal()
    return folder


@pytest.fixture
def shop(shop_project: Path, tmp_path: Path) -> Path:
    """Return a private copy of the shop with the clutter of a real checkout and a link to tmp/srv-media."""
    folder = tmp_path / "shop"
    shutil.copytree(shop_project, folder, symlinks=True)
    write_shop_clutter(folder, tmp_path / "srv-media")
    return folder


@pytest.fixture(scope="session")
def bystander() -> Sandbox:
    """Return a migrated sandbox that no test touches, to prove the others leave it alone."""
    sandbox = Sandbox.fresh("bystander")
    yield sandbox
    sandbox.delete()


@pytest.fixture
def untouched(bystander: Sandbox):
    """Return a check that the template and the bystander sandbox are byte-for-byte as before."""
    before = (tree_digest(TEMPLATE_DIR), tree_digest(bystander.path))

    def check() -> None:
        assert tree_digest(TEMPLATE_DIR) == before[0], "the template project was modified"
        assert tree_digest(bystander.path) == before[1], "another sandbox was modified"

    return check


def _postgres_reason() -> str | None:
    from widgets.sandbox import postgres

    return postgres.available()


@pytest.fixture(scope="session")
def postgres_server(workspace: Path):
    """Return the session workspace's PostgreSQL server (embedded, started once); skip where it cannot run."""
    reason = _postgres_reason()
    if reason is not None:
        pytest.skip(f"PostgreSQL sandboxes cannot run on this machine: {reason}")
    from widgets.sandbox import postgres

    return postgres.server(workspace)


@pytest.fixture
def pg_sandbox(request: pytest.FixtureRequest, postgres_server) -> Sandbox:
    """Return a migrated sandbox whose database is PostgreSQL."""
    sandbox = Sandbox.fresh(f"pg-{_name(request)}", database="postgresql")
    yield sandbox
    sandbox.delete()


def _psql(sandbox: Sandbox, sql: str) -> list[list[str]]:
    """Run one query with PostgreSQL's own psql (the binary pgserver ships), as a superuser; rows as text."""
    from widgets.sandbox import postgres

    server = postgres.server(sandbox.workspace)
    done = subprocess.run(
        [str(postgres.program("psql")), "-X", "-At", "-P", "null=NULL", "-F", "\t", "-h", server.params["host"]]
        + ["-p", str(server.params["port"]), "-U", "postgres", "-d", sandbox.database_name, "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [line.split("\t") for line in done.stdout.splitlines() if line]


@pytest.fixture
def psql():
    """Return a function that runs one query with psql, to check the kit's readers against PostgreSQL itself."""
    return _psql
