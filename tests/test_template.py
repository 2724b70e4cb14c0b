"""The template project is sound, and git keeps what the kit generates out of the repository."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from widgets.sandbox.paths import REPO_ROOT, TEMPLATE_DIR


def test_the_template_passes_check(fresh_sandbox):
    result = fresh_sandbox.manage("check")
    assert result.ok, result.terminal()
    assert result.stdout == "System check identified no issues (0 silenced).\n"


def test_the_template_models_match_its_migrations(fresh_sandbox):
    result = fresh_sandbox.manage("makemigrations", "--check", "--dry-run")
    assert result.ok, result.terminal()
    assert result.stdout == "No changes detected\n"


def test_the_template_holds_no_database():
    assert not list(TEMPLATE_DIR.rglob("*.sqlite3")), "a database was left in sandbox_project/"


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30)


@pytest.fixture(scope="module")
def git_checkout() -> None:
    if shutil.which("git") is None or _git("rev-parse", "--is-inside-work-tree").stdout.strip() != "true":
        pytest.skip("not a git checkout")


@pytest.mark.parametrize(
    "path",
    [
        "workspace/",
        "workspace/views-lesson/db.sqlite3",
        "db.sqlite3",
        "sandbox_project/db.sqlite3",
        "sandbox_project/db.sqlite3-journal",
        ".venv/",
        ".venv/bin/python",
    ],
)
def test_git_ignores_what_the_kit_generates(git_checkout, path):
    # --no-index: test the ignore rules themselves, whether or not the path exists.
    assert _git("check-ignore", "-q", "--no-index", path).returncode == 0, f"git does not ignore {path}"


@pytest.mark.parametrize("path", ["sandbox_project/manage.py", "widgets/sandbox/facade.py", "pyproject.toml"])
def test_git_does_not_ignore_the_kit_itself(git_checkout, path):
    assert _git("check-ignore", "-q", "--no-index", path).returncode == 1


def test_git_tracks_no_workspace_database_or_venv(git_checkout):
    tracked = _git("ls-files").stdout.splitlines()
    offending = [
        p for p in tracked if p.startswith(("workspace/", ".venv/")) or p.endswith((".sqlite3", ".sqlite3-journal"))
    ]
    assert offending == []
