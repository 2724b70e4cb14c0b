"""Every numbered lesson has the same skeleton: what you will learn, setup, steps, what just happened, exercises, summary."""

from __future__ import annotations

import pytest

from widgets.lessons.course_tools import skeleton_problems
from widgets.sandbox.paths import REPO_ROOT

LESSONS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def test_every_numbered_lesson_is_checked():
    numbers = [path.name[:2] for path in LESSONS]
    assert {"01", "02", "03", "04", "05", "06", "11"} <= set(numbers)


@pytest.mark.parametrize("path", LESSONS, ids=[p.name for p in LESSONS])
def test_the_lesson_follows_the_skeleton(path):
    """The same check a course's lessons pass (python -m widgets.course test)."""
    assert skeleton_problems(path) == []
