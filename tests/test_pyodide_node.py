"""Python under Pyodide in Node: pytest from local wheels runs a test file there, with Django and the kit's wheel.

The wheels are the static site's (make lite) plus pytest, pluggy and iniconfig
(lite/wheels-test.txt); scripts/pyodide_node.mjs refuses every network request.
This is the seam for running a core set of the kit's tests inside Pyodide.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lite_site import TEST_WHEELS, build_site, pyodide_node

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


def test_failures_reach_the_exit_code(built, tmp_path: Path):
    """A failing test inside Pyodide makes the Node process exit 1, as pytest would."""
    (tmp_path / "test_fails.py").write_text("def test_fails():\n    assert 1 == 2\n")
    result = pyodide_node(["--wheels", str(TEST_WHEELS), "-m", "pytest", "-q", "test_fails.py"], cwd=tmp_path)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    assert "1 failed" in result.stdout
