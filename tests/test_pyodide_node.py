"""Python under Pyodide in Node: pytest from local wheels runs a test file there, with Django and the kit's wheel.

The wheels are the static site's (make lite) plus pytest, pluggy and iniconfig
(lite/wheels-test.txt); scripts/pyodide_node.mjs refuses every network request.
The kit's own core tests (CORE_TESTS: sandbox, in-process runner, readers, session) run there too,
with the in-process runner and no pandas, as in the browser.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from lite_site import TEST_WHEELS, build_site, pyodide_node

REPO = Path(__file__).resolve().parent.parent
# The kit's own core tests, run inside Pyodide with the in-process runner and no pandas: the sandbox, the
# runner, the readers (state, diff, rollback preview) and the session.
CORE_TESTS = [
    "tests/test_sandbox.py",
    "tests/test_sandbox_files.py",
    "tests/test_inprocess.py",
    "tests/test_state.py",
    "tests/test_diff.py",
    "tests/test_rollback.py",
    "tests/test_session.py",
]
# Why a core test may be skipped inside Pyodide: it needs a process, Graphviz to draw a picture, or another
# Python installed beside this one.
EXPECTED_SKIPS = re.compile(
    r"needs processes|processes can start|needs a process|needs Graphviz|No Python 3\.\d+ on this machine"
)

INSIDE = """\
import io
import importlib.util
import sys
from pathlib import Path


def test_runs_in_pyodide():
    assert sys.platform == "emscripten" and sys.version_info >= (3, 14)


def test_kit_template_beside_its_package():
    root = Path(importlib.util.find_spec("widgets").origin).resolve().parent.parent
    assert (root / "sandbox_project" / "manage.py").is_file()


def test_django_migrates_sqlite():
    import django
    from django.conf import settings
    from django.core.management import call_command

    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    )
    django.setup()
    out = io.StringIO()
    call_command("migrate", stdout=out, no_color=True)
    assert django.VERSION[:2] == (5, 2)
    assert "Applying auth.0001_initial... OK" in out.getvalue()
"""


@pytest.fixture(scope="module")
def built() -> None:
    if shutil.which("node") is None:
        pytest.skip("No node on PATH: running Python under Pyodide in Node needs Node.js 20 or later.")
    try:
        build_site()
    except RuntimeError as error:
        pytest.fail(str(error))


@pytest.mark.processes("starts Node; what runs inside is the same under either runner here")
def test_pytest_runs_inside_pyodide(built, tmp_path: Path):
    """pytest installed from local wheels collects and passes a test file inside Pyodide; nothing is written back."""
    (tmp_path / "test_inside.py").write_text(INSIDE)
    result = pyodide_node(
        ["--load", "django-migrations-kit", "--wheels", str(TEST_WHEELS), "-m", "pytest", "-q", "test_inside.py"],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "3 passed" in result.stdout, result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["test_inside.py"]


@pytest.mark.processes("starts Node; what runs inside is the same under either runner here")
def test_failures_reach_the_exit_code(built, tmp_path: Path):
    """A failing test inside Pyodide makes the Node process exit 1, as pytest would."""
    (tmp_path / "test_fails.py").write_text("def test_fails():\n    assert 1 == 2\n")
    result = pyodide_node(["--wheels", str(TEST_WHEELS), "-m", "pytest", "-q", "test_fails.py"], cwd=tmp_path)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    assert "1 failed" in result.stdout


@pytest.mark.processes("starts Node; inside, the kit uses the in-process runner whichever runs here")
def test_the_kits_core_tests_pass_inside_pyodide(built):
    """The sandbox, runner, reader and session tests pass in Pyodide: in-process runner, no pandas, no process.

    The repository is mounted read-only in spirit: Python writes no bytecode, pytest keeps no cache, and
    the workspace lives in Pyodide's own memory file system.
    """
    result = pyodide_node(
        [
            "--load",
            "django-migrations-kit",
            "--wheels",
            str(TEST_WHEELS),
            "--env",
            "MIGRATION_KIT_RUNNER=inprocess",
            "--env",
            "MIGRATION_KIT_WORKSPACE=/tmp/kit-workspace",
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-o",
            "addopts=",
            *CORE_TESTS,
        ],
        cwd=REPO,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    summary = output.strip().splitlines()[-1]
    assert re.search(r"\b\d+ passed\b", summary) and "failed" not in summary and "error" not in summary, summary
    skips = [line for line in output.splitlines() if line.startswith("SKIPPED")]
    unexpected = [line for line in skips if not EXPECTED_SKIPS.search(line)]
    assert not unexpected, unexpected


def succeeded(args: list[str], cwd: Path) -> str:
    """Run Python in Pyodide under Node with the site's wheels; fail unless it exits 0; return what it printed."""
    result = pyodide_node(args, cwd=cwd)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


@pytest.mark.processes("starts Node; what runs inside is the same under either runner here")
def test_the_standard_library_runs_from_bytecode_built_with_the_site(built, tmp_path: Path):
    """Modules the kernel and a lesson import load from the site's .pyc; tracebacks still show their source."""
    code = (
        "import asyncio, inspect, sqlite3\n"
        "print('FILES', asyncio.__file__, sqlite3.__file__)\n"
        "print('LINES', inspect.getsource(asyncio.run).splitlines()[0])\n"
    )
    out = succeeded(["-c", code], tmp_path)
    assert "FILES /lib/python314.zip/asyncio/__init__.pyc /lib/python314.zip/sqlite3/__init__.pyc" in out, out
    assert "LINES def run(main, *, debug=None, loop_factory=None):" in out, out


STARTUP = """\
import sys
sys.path[:] = ["", *[entry for entry in sys.path if entry != sys.path[0]]]  # the kernel's: "" first, as Pyodide sets it
import colorsys  # a first import while the kernel starts: the working directory is hidden
hidden = "" not in sys.path and any(type(f).__name__ == "type" and f.__name__ == "StartupImports" for f in sys.meta_path)
streams = sys.stdout, sys.stderr
import pyodide_kernel
sys.stdout, sys.stderr = streams
import helper_next_to_the_notebook  # the kernel is up: the working directory is back, and first
print("HIDDEN", hidden, "BACK", sys.path[0] == "", helper_next_to_the_notebook.WHERE)
print("FINDERS", [f.__name__ for f in sys.meta_path if isinstance(f, type)])
"""


@pytest.mark.processes("starts Node; what runs inside is the same under either runner here")
def test_the_kernel_starts_without_looking_in_the_notebooks_folder(built, tmp_path: Path):
    """While the kernel starts, the site's sitecustomize hides the working directory; then notebooks' modules import."""
    (tmp_path / "helper_next_to_the_notebook.py").write_text("WHERE = 'the notebook folder'\n")
    (tmp_path / "start.py").write_text(STARTUP)
    out = succeeded(["--load", "pyodide-kernel,ipykernel,piplite", "start.py"], tmp_path)
    assert "HIDDEN True BACK True the notebook folder" in out, out
    assert "StartupImports" not in out.split("FINDERS")[1], out


@pytest.mark.processes("starts Node; what runs inside is the same under either runner here")
def test_completion_works_with_the_stubs_the_site_keeps(built, tmp_path: Path):
    """jedi (Tab in the notebook) still completes the standard library and Django once third-party stubs are gone."""
    code = (
        "import jedi\n"
        "print('OS', [c.name for c in jedi.Interpreter('import os\\nos.pa', [{}]).complete()])\n"
        "print('DJANGO', [c.name for c in jedi.Interpreter('from django.db import models\\nmodels.CharF', [{}]).complete()])\n"
    )
    out = succeeded(["--load", "jedi,django", "-c", code], tmp_path)
    assert "'path'" in out.split("OS")[1].splitlines()[0], out
    assert "DJANGO ['CharField']" in out, out
