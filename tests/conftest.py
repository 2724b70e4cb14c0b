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

from widgets import Sandbox
from widgets.paths import REPO_ROOT, TEMPLATE_DIR, WORKSPACE_ENV


def tree_digest(folder: Path) -> str:
    """Return a hash of every file's path and bytes under a folder."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


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
def workspace() -> Path:
    """Give the whole test session its own workspace, never the repository's; remove it at the end.

    Not under pytest's own temporary folder: pytest makes that private again
    whenever a run starts, and the embedded PostgreSQL server (run as its own
    user when the tests run as root) must reach its data folder inside.
    """
    root = Path(tempfile.mkdtemp(prefix="kit-tests-")).resolve()
    patcher = pytest.MonkeyPatch()
    patcher.setenv(WORKSPACE_ENV, str(root))
    yield root
    patcher.undo()
    if "widgets.postgres" in sys.modules:
        sys.modules["widgets.postgres"].release(root)
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


def project_digest(folder: Path) -> str:
    """Return a hash of a project's files, leaving out its database."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix != ".sqlite3"):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


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
    from widgets import postgres

    return postgres.available()


@pytest.fixture(scope="session")
def postgres_server(workspace: Path):
    """Return the session workspace's PostgreSQL server (embedded, started once); skip where it cannot run."""
    reason = _postgres_reason()
    if reason is not None:
        pytest.skip(f"PostgreSQL sandboxes cannot run on this machine: {reason}")
    from widgets import postgres

    return postgres.server(workspace)


@pytest.fixture
def pg_sandbox(request: pytest.FixtureRequest, postgres_server) -> Sandbox:
    """Return a migrated sandbox whose database is PostgreSQL."""
    sandbox = Sandbox.fresh(f"pg-{_name(request)}", database="postgresql")
    yield sandbox
    sandbox.delete()


def _psql(sandbox: Sandbox, sql: str) -> list[list[str]]:
    """Run one query with PostgreSQL's own psql (the binary pgserver ships), as a superuser; rows as text."""
    from widgets import postgres

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
