"""The lessons' check cells: ``check.exercise("02-temporary-table", temporary_table)``.

One short call per exercise. The check reads the right answer from the
learner's sandbox (see ``catalogue.py``), so the cell never shows it; it
returns a ``Check`` (✔ or ✘ with a hint) and counts the attempt in the
workspace's progress record. Under nbgrader (``NBGRADER_EXECUTION`` set),
with ``MIGRATION_KIT_STRICT=1`` or after ``strict()``, a check that is not
done raises AssertionError carrying the hint, so the cell fails and an
autograder scores it.
"""

from __future__ import annotations

import difflib
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from widgets.errors import KitError
from widgets.lessons.catalogue import EXERCISES, Exercise
from widgets.lessons.checks import Check, app_at, field_added, is_unfinished, no_conflicts, rows_in
from widgets.lessons.progress_record import progress, record_check
from widgets.sandbox.facade import Sandbox

if TYPE_CHECKING:
    from widgets.lessons.exercise_box import ExerciseBox

__all__ = [
    "STRICT_ENV",
    "Check",
    "app_at",
    "exercise",
    "field_added",
    "is_strict",
    "no_conflicts",
    "progress",
    "rows_in",
    "strict",
]

STRICT_ENV = "MIGRATION_KIT_STRICT"
# nbgrader sets this while it autogrades ("autograde") or a learner validates ("validate").
NBGRADER_ENV = "NBGRADER_EXECUTION"
_NO_ANSWER = object()
_strict = False


def strict(on: bool = True) -> None:
    """Make failed checks raise AssertionError in this kernel (``strict(False)`` turns it off)."""
    global _strict
    _strict = on


def is_strict() -> bool:
    """Return True when a failed check should raise: strict(), MIGRATION_KIT_STRICT=1, or nbgrader."""
    flag = os.environ.get(STRICT_ENV, "").strip().lower() in {"1", "true", "yes", "on"}
    return _strict or flag or bool(os.environ.get(NBGRADER_ENV))


def _find(exercise_id: str) -> Exercise:
    """Return the exercise with this id; a typo gets the closest id as the fix."""
    if exercise_id not in EXERCISES:
        from widgets.lessons.course import discover  # a course's lesson runs in its course's folder

        discover()
    if exercise_id in EXERCISES:
        return EXERCISES[exercise_id]
    close = difflib.get_close_matches(str(exercise_id), EXERCISES, n=1)
    fix = f"did you mean '{close[0]}'?" if close else f"use one of {', '.join(EXERCISES)}."
    raise KitError(f"There is no exercise called '{exercise_id}'. Fix: {fix}")


def _course_folder(spec: Exercise) -> Path | None:
    """Return the folder of the course an exercise belongs to, so progress() finds it in another kernel."""
    from widgets.lessons.course import courses

    return next((c.folder for c in courses() if c.name == spec.course and spec.course), None)


def _verdict(spec: Exercise, answer: object, sandbox: Sandbox | None) -> tuple[Check, Sandbox | None]:
    """Return the verdict and the sandbox it was read from (None if the sandbox does not exist)."""
    if sandbox is None:
        try:
            sandbox = Sandbox.open(spec.sandbox)
        except KitError:
            message = f"there is no sandbox '{spec.sandbox}' yet: run the notebook's cells from the top first."
            return Check(False, message), None
    return spec.check(sandbox, None if answer is _NO_ANSWER else answer), sandbox


def exercise(
    exercise_id: str, answer: object = _NO_ANSWER, *, sandbox: Sandbox | None = None
) -> Check | ExerciseBox | None:
    """Check one exercise of the lessons in its sandbox, record the attempt, and return the verdict.

    Pass the learner's answer for a question (``check.exercise(id, answer)``);
    a task done in the sandbox takes none (``check.exercise(id)``). ``sandbox``
    overrides the sandbox the lesson makes, e.g. to check another learner's.
    Under nbgrader the verdict is printed and nothing is returned: nbgrader
    would read a returned value as partial credit. In Voila, which runs the
    cell once and cannot edit it, an ``ExerciseBox`` is returned instead: it
    says what to do on the page, takes a typed answer, and checks on a click.
    """
    __tracebackhide__ = True  # IPython and pytest show the AssertionError without this frame
    spec = _find(exercise_id)
    if spec.typed and answer is _NO_ANSWER:
        raise KitError(f"Exercise '{spec.id}' asks a question. Fix: pass your answer, check.exercise('{spec.id}', x).")
    if not spec.typed and answer is not _NO_ANSWER:
        raise KitError(
            f"Exercise '{spec.id}' checks the sandbox, not an answer. Fix: call check.exercise('{spec.id}')."
        )
    if in_voila():
        # Voila cannot run the cell again, nor let the learner type into it: a box to answer and check instead.
        from widgets.lessons.exercise_box import ExerciseBox  # widgets only where Voila shows them

        return ExerciseBox(spec, lambda typed: _checked(spec, _NO_ANSWER if typed is None else typed, sandbox))
    return _checked(spec, answer, sandbox)


def _checked(spec: Exercise, answer: object, sandbox: Sandbox | None) -> Check | None:
    """Return the verdict on one exercise, counted in the progress record; raise or print it as the mode asks."""
    __tracebackhide__ = True
    verdict, found = _verdict(spec, answer, sandbox)
    # An untouched answer cell is not an attempt; the autograder's runs are not the learner's.
    if found is not None and not is_unfinished(answer) and os.environ.get(NBGRADER_ENV) != "autograde":
        record_check(spec.id, verdict.passed, found.workspace, course=_course_folder(spec))
    if not verdict and is_strict():
        raise AssertionError(str(verdict))
    if os.environ.get(NBGRADER_ENV):
        print(verdict)
        return None
    return verdict


def in_voila() -> bool:
    """Return True in a kernel Voila started (Voila names itself in the kernel's environment)."""
    return os.environ.get("SERVER_SOFTWARE", "").startswith("voila/")


def answer_is(answer: object, expected: object, *, hint: str) -> Check:
    """Compare a typed answer with the expected one (deprecated: use ``check.exercise(id, answer)``).

    Kept for one release so that lessons written against 0.1 still run; it
    goes away in 0.3. The expected answer is written in the notebook, where a
    learner reads it; ``check.exercise`` reads it from the sandbox instead.
    """
    warnings.warn(
        "check.answer_is writes the right answer in the notebook, where the learner can read it; "
        "it goes away in 0.3. Fix: register the question in your course's exercises.py "
        "(widgets.lessons.course.question) and call check.exercise(exercise_id, answer), "
        "which reads the right answer from the sandbox.",
        DeprecationWarning,
        stacklevel=2,
    )
    if is_unfinished(answer):
        return Check(False, f"replace the ... with your answer. Hint: {hint}")
    if str(answer).strip().lower() != str(expected).strip().lower():
        return Check(False, f"{answer!r} is not it. Hint: {hint}")
    return Check(True, f"{expected!r} is right.")
