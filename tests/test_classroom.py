"""A shared server: two users' sandboxes with the same name never touch each other."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from widgets import Sandbox
from widgets.sandbox.paths import WORKSPACE_ENV, workspace_root

LESSON = "lesson"


def tree_digest(folder: Path) -> str:
    """Return a hash of every file's path and bytes under a folder (empty if it is gone)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def homes(tmp_path: Path) -> tuple[Path, Path]:
    """Return the workspace roots of two users, Alice and Bob, as a JupyterHub would give them."""
    return tmp_path / "alice" / "migration-kit", tmp_path / "bob" / "migration-kit"


@pytest.fixture
def pair(homes: tuple[Path, Path]) -> tuple[Sandbox, Sandbox]:
    """Make a migrated sandbox called 'lesson' in each user's workspace."""
    alice_root, bob_root = homes
    return Sandbox.fresh(LESSON, workspace=alice_root), Sandbox.fresh(LESSON, workspace=bob_root)


def test_same_name_lives_in_each_users_own_workspace(pair: tuple[Sandbox, Sandbox], homes: tuple[Path, Path]) -> None:
    """Put each user's sandbox, database included, under that user's workspace root."""
    alice, bob = pair
    assert alice.path != bob.path
    assert alice.path.is_relative_to(homes[0]) and bob.path.is_relative_to(homes[1])
    assert alice.db_path.is_relative_to(homes[0]) and bob.db_path.is_relative_to(homes[1])
    assert Sandbox.names(workspace=homes[0]) == Sandbox.names(workspace=homes[1]) == [LESSON]


def test_one_users_work_leaves_the_other_byte_identical(
    pair: tuple[Sandbox, Sandbox], homes: tuple[Path, Path]
) -> None:
    """Edit, migrate, snapshot, reset and delete Alice's sandbox; Bob's workspace does not change by one byte."""
    alice, bob = pair
    bob.snapshot("mine")
    bob_before = tree_digest(homes[1])

    alice.snapshot("start")
    alice.edit("boards/models.py", "class Topic(models.Model):\n", "class Topic(models.Model):\n    views = 1\n")
    assert alice.migrate("boards", "zero").ok
    assert tree_digest(homes[1]) == bob_before
    assert "boards" not in set(alice.applied_migrations()["app"])
    assert "boards" in set(bob.applied_migrations()["app"])
    assert "views = 1" not in bob.read("boards/models.py")
    assert alice.snapshots() == ["start"] and bob.snapshots() == ["mine"]

    alice.restore("start")
    alice.reset()
    alice.delete()
    assert not alice.path.exists()
    assert tree_digest(homes[1]) == bob_before
    assert bob.migrate("boards", "0001_initial").ok


def test_deleting_a_users_workspace_resets_only_that_user(
    pair: tuple[Sandbox, Sandbox], homes: tuple[Path, Path]
) -> None:
    """Remove Alice's whole workspace, as a teacher's reset does; her next fresh sandbox works, Bob's is untouched."""
    alice, bob = pair
    bob_before = tree_digest(homes[1])
    shutil.rmtree(homes[0])
    again = Sandbox.fresh(LESSON, workspace=homes[0])
    assert "0002_post" in set(again.applied_migrations()["name"])
    assert tree_digest(homes[1]) == bob_before


def test_teachers_reset_loop_puts_every_sandbox_back(
    pair: tuple[Sandbox, Sandbox], homes: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run docs/classroom.md's reset loop for each user: sandboxes back to the template, snapshots kept."""
    for sandbox in pair:
        sandbox.snapshot("mine")
        assert sandbox.migrate("boards", "zero").ok
    for root in homes:
        monkeypatch.setenv(WORKSPACE_ENV, str(root))
        for name in Sandbox.names():
            Sandbox.open(name).reset()
    for sandbox in pair:
        assert "0002_post" in set(sandbox.applied_migrations()["name"])
        assert sandbox.snapshots() == ["mine"]


def test_workspace_variable_is_honoured(homes: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Make sandboxes under MIGRATION_KIT_WORKSPACE when no workspace is passed."""
    alice_root, bob_root = homes
    monkeypatch.setenv(WORKSPACE_ENV, str(alice_root))
    assert workspace_root() == alice_root.resolve()
    alice = Sandbox.fresh(LESSON, migrated=False)
    monkeypatch.setenv(WORKSPACE_ENV, str(bob_root))
    bob = Sandbox.fresh(LESSON, migrated=False)
    assert alice.path == alice_root.resolve() / LESSON
    assert bob.path == bob_root.resolve() / LESSON
    assert Sandbox.open(LESSON).path == bob.path


def test_workspace_variable_expands_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Expand '~' in MIGRATION_KIT_WORKSPACE so one server-wide setting serves every user."""
    monkeypatch.setenv("HOME", str(tmp_path / "carol"))
    monkeypatch.setenv(WORKSPACE_ENV, "~/migration-kit")
    assert workspace_root() == (tmp_path / "carol" / "migration-kit").resolve()
