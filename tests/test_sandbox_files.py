"""A path inside a sandbox never leads out of it or round a loop of links, on every Python this machine has.

Python 3.13 changed ``Path.resolve()``: a loop of links no longer raises
RuntimeError, so ``widgets.sandbox.files.inside`` checks for the loop itself.
The check runs in each interpreter found (the kit's, and pyenv's 3.11 to 3.13)
with only the standard library, as the kit's file helpers need nothing else.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from widgets.errors import SandboxPathError
from widgets.sandbox import files
from widgets.sandbox.paths import REPO_ROOT

PYENV = Path.home() / ".pyenv" / "versions"
VERSIONS = ["3.11", "3.12", "3.13"]
PATHS = ["a/x.txt", "a", "out/x.txt", "../x", "boards/models.py", "boards/up/boards/models.py"]
EXPECTED = [
    "a/x.txt: 'a/x.txt' goes round a loop of links. Fix: use a path without links, such as 'boards/models.py'.",
    "a: 'a' goes round a loop of links. Fix: use a path without links, such as 'boards/models.py'.",
    "out/x.txt: 'out/x.txt' is outside the sandbox. Fix: use a path inside it, such as 'boards/models.py'.",
    "../x: '../x' is outside the sandbox. Fix: use a path inside it, such as 'boards/models.py'.",
    "boards/models.py: inside at boards/models.py",
    "boards/up/boards/models.py: inside at boards/models.py",
]
# Run by each interpreter: print what inside() says for each path of a project holding every kind of link.
CHECK = """
import sys
from pathlib import Path
from widgets.errors import SandboxPathError
from widgets.sandbox import files
project = Path(sys.argv[1]).resolve()
for relative in sys.argv[2:]:
    try:
        print(f"{relative}: inside at {files.inside(project, relative).relative_to(project).as_posix()}")
    except SandboxPathError as error:
        print(f"{relative}: {error}")
"""


def interpreter(version: str) -> Path | None:
    """Return pyenv's newest interpreter of a version, or the kit's own if it is that version."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return Path(sys.executable)
    found = sorted(PYENV.glob(f"{version}.*/bin/python{version}"))
    return found[-1] if found else None


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Return a project folder with a loop of links (a -> b -> a), a link out, and a link to a parent folder."""
    root = tmp_path / "project"
    (root / "boards").mkdir(parents=True)
    (root / "boards" / "models.py").write_text("", encoding="utf-8")
    os.symlink("b", root / "a")
    os.symlink("a", root / "b")
    os.symlink(tmp_path, root / "out")
    os.symlink("..", root / "boards" / "up")
    return root


def said(project: Path, relative: str) -> str:
    """Return what inside() says for one path, in this interpreter, as the CHECK script prints it."""
    try:
        return f"{relative}: inside at {files.inside(project, relative).relative_to(project).as_posix()}"
    except SandboxPathError as error:
        return f"{relative}: {error}"


def test_a_loop_of_links_and_a_link_out_are_refused_here(project: Path) -> None:
    assert [said(project, relative) for relative in PATHS] == EXPECTED


@pytest.mark.parametrize("version", VERSIONS)
def test_a_loop_of_links_and_a_link_out_are_refused_on_every_python(project: Path, version: str) -> None:
    python = interpreter(version)
    if python is None:
        pytest.skip(f"No Python {version} on this machine (looked in {PYENV}).")
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO_ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [str(python), "-c", CHECK, str(project), *PATHS],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=project.parent,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == EXPECTED
