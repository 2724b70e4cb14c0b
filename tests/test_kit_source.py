"""A new course's requirements.txt installs the same kit: its git repository at the commit in use."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from widgets.lessons import kit_source


def git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A git checkout with one commit, as a teacher's clone of the kit would be."""
    folder = tmp_path / "kit"
    folder.mkdir()
    git(folder, "init", "-q")
    (folder / "README.md").write_text("kit\n")
    git(folder, "add", "README.md")
    git(folder, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "first")
    return folder


@pytest.mark.parametrize(
    ("remote", "url"),
    [
        ("https://github.com/ORG/django-migrations-kit.git", "https://github.com/ORG/django-migrations-kit.git"),
        ("git@github.com:ORG/django-migrations-kit.git", "https://github.com/ORG/django-migrations-kit.git"),
        ("ssh://git@gitlab.example.edu/class/kit.git", "https://gitlab.example.edu/class/kit.git"),
    ],
)
def test_a_clone_with_a_reachable_origin_is_pinned_at_its_commit(clone: Path, remote: str, url: str) -> None:
    git(clone, "remote", "add", "origin", remote)
    assert kit_source._from_checkout(clone) == (url, git(clone, "rev-parse", "HEAD"))


def test_a_clone_without_a_remote_or_with_a_local_one_is_not_guessed(clone: Path, tmp_path: Path) -> None:
    assert kit_source._from_checkout(clone) is None
    git(clone, "remote", "add", "origin", str(tmp_path / "elsewhere"))
    assert kit_source._from_checkout(clone) is None
    assert kit_source._from_checkout(tmp_path) is None  # not a checkout at all


def test_without_a_source_the_file_says_what_to_write() -> None:
    assert all(line.startswith("# ") for line in kit_source.UNKNOWN.splitlines())
    assert "git+https://" in kit_source.UNKNOWN


def test_the_requirement_is_one_pip_accepts() -> None:
    from packaging.requirements import Requirement

    text = kit_source.requirement()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    for line in lines:
        parsed = Requirement(line)
        assert parsed.name == kit_source.DISTRIBUTION and parsed.url.startswith("git+https://")
    assert lines or text == kit_source.UNKNOWN
