"""Shared fixtures: a private workspace per test session and sandboxes in it."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from widgets import Sandbox
from widgets.paths import TEMPLATE_DIR, WORKSPACE_ENV


def tree_digest(folder: Path) -> str:
    """Return a hash of every file's path and bytes under a folder."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="session", autouse=True)
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Give the whole test session its own workspace, never the repository's."""
    root = tmp_path_factory.mktemp("workspace")
    patcher = pytest.MonkeyPatch()
    patcher.setenv(WORKSPACE_ENV, str(root))
    yield root
    patcher.undo()


@pytest.fixture(scope="session", autouse=True)
def template_untouched() -> None:
    """Fail the session if anything wrote into the template project."""
    before = tree_digest(TEMPLATE_DIR)
    yield
    assert tree_digest(TEMPLATE_DIR) == before, "the template project sandbox_project/ was modified"


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
