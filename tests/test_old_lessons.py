"""A lesson written against 0.1 keeps running in 0.2: old names work and warn, naming their replacement."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import nbformat
import pytest

from widgets import exercises as check
from widgets.sandbox.paths import REPO_ROOT

POLLS = REPO_ROOT / "tests" / "fixtures" / "old-lessons" / "polls-data-migration.ipynb"


def test_answer_is_still_judges_an_answer_and_warns_that_it_shows_it() -> None:
    with pytest.warns(DeprecationWarning, match=r"answer in the notebook.*check\.exercise\(exercise_id, answer\)"):
        right = check.answer_is(" Three ", "three", hint="count them")
    with pytest.warns(DeprecationWarning):
        wrong = check.answer_is(4, 3, hint="count them")
    with pytest.warns(DeprecationWarning):
        unfinished = check.answer_is(..., 3, hint="count them")
    assert right and str(right) == "✔ Well done: 'three' is right."
    assert not wrong and wrong.message == "4 is not it. Hint: count them"
    assert not unfinished and unfinished.message == "replace the ... with your answer. Hint: count them"


def test_answer_is_warns_at_the_line_of_the_lesson_that_calls_it() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check.answer_is(1, 1, hint="")
    assert [w.filename for w in caught] == [__file__]


def _stream_outputs(path) -> str:
    book = nbformat.read(path, as_version=4)
    return "".join(o.get("text", "") for c in book.cells if c.cell_type == "code" for o in c.outputs)


def test_the_polls_lesson_written_for_0_1_passes_nbval_twice_with_its_warnings_stored(tmp_path) -> None:
    """The stored outputs show each deprecation; nbval compares them with a real run, twice in one workspace."""
    stored = _stream_outputs(POLLS)
    assert "DeprecationWarning: check.answer_is writes the right answer in the notebook" in stored
    assert "DeprecationWarning: widgets.scenarios moved to widgets.lessons.scenarios" in stored
    environment = {**os.environ, "MIGRATION_KIT_WORKSPACE": str(tmp_path)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(POLLS)]
    for _ in range(2):
        run = subprocess.run(command, cwd=REPO_ROOT, env=environment, capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stdout[-3000:]
        assert "5 passed" in run.stdout
