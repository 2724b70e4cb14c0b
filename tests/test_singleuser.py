"""classroom/singleuser.py: each learner's server starts with the lessons in their home, their own work kept."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from widgets.sandbox.paths import REPO_ROOT

pytestmark = pytest.mark.processes("the single-user server is a process")

LESSONS = REPO_ROOT / "notebooks"


def load_singleuser():
    """Import classroom/singleuser.py, which JupyterHub runs as a script."""
    spec = importlib.util.spec_from_file_location("classroom_singleuser", REPO_ROOT / "classroom" / "singleuser.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def lesson_names() -> list[str]:
    return sorted(p.name for p in LESSONS.iterdir() if p.is_file() and not p.name.startswith("."))


def test_the_lessons_are_copied_into_an_empty_home(tmp_path: Path) -> None:
    copied = load_singleuser().copy_lessons(LESSONS, tmp_path)
    assert copied == lesson_names()
    for name in copied:
        assert (tmp_path / "notebooks" / name).read_bytes() == (LESSONS / name).read_bytes()


def test_a_lesson_the_learner_has_is_kept_and_the_missing_ones_are_copied(tmp_path: Path) -> None:
    mine = tmp_path / "notebooks" / "02-adding-the-views-field.ipynb"
    mine.parent.mkdir()
    mine.write_text("my own work", encoding="utf-8")
    singleuser = load_singleuser()
    copied = singleuser.copy_lessons(LESSONS, tmp_path)
    assert mine.name not in copied and sorted([*copied, mine.name]) == lesson_names()
    assert mine.read_text(encoding="utf-8") == "my own work"
    assert singleuser.copy_lessons(LESSONS, tmp_path) == [], "a second start copies nothing"


def test_a_course_of_the_teachers_own_is_copied_beside_the_lessons_with_what_its_checks_need(tmp_path: Path) -> None:
    course = tmp_path / "teacher" / "polls-course"
    (course / "tests").mkdir(parents=True)
    for name in ("01-polls.ipynb", "02-rename.ipynb", "notes.ipynb", "checks.py", "README.md", "tests/test_x.py"):
        (course / name).write_text(name, encoding="utf-8")
    (course / "course.toml").write_text('name = "polls-course"\nexercises = "checks.py"\n', encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    copied = load_singleuser().copy_course(course, home)
    assert copied == ["01-polls.ipynb", "02-rename.ipynb", "checks.py", "course.toml"]
    assert (home / "polls-course" / "02-rename.ipynb").read_text(encoding="utf-8") == "02-rename.ipynb"
    assert load_singleuser().copy_course(course, home) == [], "a second start copies nothing"
