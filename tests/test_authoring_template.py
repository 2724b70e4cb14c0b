"""A new lesson made from the authoring guide's template runs, stores its outputs and passes nbval."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys

import nbformat
import pytest

from widgets import Sandbox
from widgets import exercises as check
from widgets.sandbox.paths import REPO_ROOT

TEMPLATE = REPO_ROOT / "docs" / "lesson-template.ipynb"


def _notebooks_script():
    """Load scripts/notebooks.py, the one way lessons are executed and stored."""
    spec = importlib.util.spec_from_file_location("kit_notebooks", REPO_ROOT / "scripts" / "notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_lesson_made_from_the_template_passes_nbval(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    lesson = tmp_path / "12-my-lesson.ipynb"
    shutil.copyfile(TEMPLATE, lesson)
    workspace = tmp_path / "workspace"
    monkeypatch.setenv("MIGRATION_KIT_WORKSPACE", str(workspace))
    _notebooks_script().execute(lesson, workspace)
    book = nbformat.read(lesson, as_version=4)
    assert "widgets" not in book.metadata, "widget state is stripped"
    assert all(cell.outputs for cell in book.cells if cell.cell_type == "code" and "check." in cell.source)
    env = {**os.environ, "MIGRATION_KIT_WORKSPACE": str(tmp_path / "again")}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", "--nbval"]
    command += ["--nbval-current-env", "--nbval-sanitize-with", str(REPO_ROOT / "tests" / "nbval-sanitize.cfg")]
    ran = subprocess.run([*command, str(lesson)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout[-3000:]
    assert " passed" in ran.stdout and "failed" not in ran.stdout


def test_the_templates_exercise_fails_until_it_is_done() -> None:
    sandbox = Sandbox.fresh("00-lesson-template")
    assert sandbox.migrate("tracker", "zero").ok
    verdict = check.exercise("00-template-forward", sandbox=sandbox)
    assert not verdict and "tracker still has" in verdict.message
    assert sandbox.migrate("tracker").ok
    assert check.exercise("00-template-forward", sandbox=sandbox)
