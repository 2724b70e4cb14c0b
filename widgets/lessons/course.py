"""Courses of your own: register exercises from a course's module, and find courses in any kernel.

A course is a folder of the teacher's own holding ``course.toml``, numbered
lessons, an exercises module and its tests. The exercises module registers
each exercise through this module's public functions::

    from widgets.lessons.checks import all_applied
    from widgets.lessons.course import question, task

    task("01-tracker-forward", notebook="01-first-lesson", sandbox="my-course-01",
         question="Apply every migration of tracker again",
         check=lambda sandbox: all_applied(sandbox, "tracker"))

A lesson's check cell is then ``check.exercise("01-tracker-forward")``, as
in the kit's own lessons. ``check.exercise`` and ``progress()`` find a
course from the kernel's working folder (a lesson runs in its course's
folder), from the courses a learner's progress record names, or from an
installed package's entry point in the group ``migration_kit.courses``.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import importlib.util
import re
import sys
import tomllib
import traceback
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from widgets.errors import KitError
from widgets.lessons.catalogue import EXERCISES, Exercise
from widgets.lessons.checks import (
    Check,
    choice_is,
    count_is,
    is_unfinished,
    name_is,
    normalise_command,
)
from widgets.sandbox.facade import Sandbox

__all__ = [
    "COURSE_FILE",
    "ENTRY_POINT_GROUP",
    "Course",
    "courses",
    "discover",
    "exercises_of",
    "forget",
    "load",
    "question",
    "register",
    "task",
]

COURSE_FILE = "course.toml"
ENTRY_POINT_GROUP = "migration_kit.courses"
# The course whose exercises module is running now; the kit's own exercises have none.
_LOADING: list[str] = []
# Course name -> course, for every course loaded in this interpreter.
_COURSES: dict[str, Course] = {}
_OUTSIDE = "notebook"
_ID = re.compile(r"[0-9]{2}-[a-z0-9][a-z0-9-]*")


@dataclass(frozen=True)
class Course:
    """A course loaded in this interpreter: its name, its folder (None if installed as a package), its exercises."""

    name: str
    folder: Path | None

    @property
    def exercises(self) -> list[Exercise]:
        """Return this course's exercises, in the order they were registered."""
        return exercises_of(self.name)

    def lessons(self) -> list[Path]:
        """Return the course's numbered lesson notebooks, in order."""
        return sorted(self.folder.glob("[0-9][0-9]-*.ipynb"), key=_lesson_key) if self.folder else []


def _lesson_key(path: Path) -> tuple[int, str]:
    """Sort lessons by their number, then name: 07 comes before 11."""
    number = re.match(r"\d+", path.name)
    return (int(number.group()) if number else 10**6, path.name)


def register(exercise: Exercise) -> Exercise:
    """Add an exercise to the catalogue that ``check.exercise`` and ``progress()`` read; return it.

    Registering the same id again from the same course replaces it (a module
    imported twice, a cell run twice); the same id from elsewhere is refused.
    """
    # Registered outside a course's module (a cell trying an idea): its own course, never the kit's "".
    course = _LOADING[-1] if _LOADING else (exercise.course or _OUTSIDE)
    exercise = dataclasses.replace(exercise, course=course)
    if not _ID.fullmatch(exercise.id):
        raise KitError(
            f"'{exercise.id}' is not an exercise id. Fix: start it with the lesson's two digits, "
            "then lower-case words joined by '-', such as '01-tracker-forward'."
        )
    taken = EXERCISES.get(exercise.id)
    if taken is not None and taken.course != exercise.course:
        owner = f"course '{taken.course}'" if taken.course else "the kit's lessons"
        raise KitError(f"Exercise '{exercise.id}' is already registered by {owner}. Fix: give yours another id.")
    EXERCISES[exercise.id] = exercise
    return exercise


def task(
    exercise_id: str, *, notebook: str, sandbox: str, question: str, check: Callable[[Sandbox], Check]
) -> Exercise:
    """Register an exercise the learner does in the sandbox; ``check(sandbox)`` returns the verdict."""
    return register(
        Exercise(
            id=exercise_id,
            notebook=notebook,
            sandbox=sandbox,
            question=question,
            verdict=lambda exercise, box, answer: check(box),
        )
    )


def question(
    exercise_id: str,
    *,
    notebook: str,
    sandbox: str,
    question: str,
    hint: str,
    right: Callable[[Sandbox], object],
    options: Sequence[str] = (),
) -> Exercise:
    """Register a question the learner answers in a variable; ``right(sandbox)`` reads the right answer.

    A number is compared as a count, anything else as a name (case, spaces
    and quotes forgiven); with ``options`` the answer must be one of them.
    The right answer is read from the learner's sandbox at check time, so it
    is never written in the lesson or the course.
    """

    def verdict(exercise: Exercise, box: Sandbox, answer: object) -> Check:
        return _typed_verdict(exercise, answer, lambda: right(box))

    verdict.right = right  # the course's hidden-answer scan reads the right answer through it
    return register(
        Exercise(
            id=exercise_id,
            notebook=notebook,
            sandbox=sandbox,
            question=question,
            typed=True,
            hint=hint,
            options=tuple(options),
            verdict=verdict,
        )
    )


def _typed_verdict(exercise: Exercise, answer: object, right: Callable[[], object]) -> Check:
    """Compare a typed answer with the right one, as a choice, a count or a name."""
    if exercise.options:
        return choice_is(answer, exercise.options, lambda choice: _choice(choice, right()), hint=exercise.hint)
    if is_unfinished(answer):
        return count_is(answer, lambda: 0, hint=exercise.hint)
    value = right()
    if isinstance(value, int) and not isinstance(value, bool):
        return count_is(answer, lambda: value, hint=exercise.hint)
    return name_is(answer, lambda: str(value), hint=exercise.hint)


def _choice(choice: str, right: object) -> Check:
    """Say whether one option is the right one."""
    if normalise_command(choice) == normalise_command(right):
        return Check(True, f"{choice!r} is right.")
    return Check(False, f"{choice!r} is not it.")


def exercises_of(course: str) -> list[Exercise]:
    """Return the exercises a course registered (``""`` for the kit's own lessons)."""
    return [exercise for exercise in EXERCISES.values() if exercise.course == course]


def forget(name: str) -> None:
    """Take a course and its exercises out of this interpreter (the next load imports its module afresh)."""
    for exercise in exercises_of(name):
        del EXERCISES[exercise.id]
    _COURSES.pop(name, None)
    sys.modules.pop(_module_name(name), None)


def _module_name(course: str) -> str:
    return f"migration_kit_course_{course.replace('-', '_')}"


def courses() -> list[Course]:
    """Return the courses loaded in this interpreter."""
    return list(_COURSES.values())


@contextmanager
def _registering(name: str):
    _LOADING.append(name)
    try:
        yield
    finally:
        _LOADING.pop()


def _settings(folder: Path) -> dict:
    """Return a course folder's course.toml, with one-sentence errors."""
    path = folder / COURSE_FILE
    if not path.is_file():
        raise KitError(
            f"There is no {COURSE_FILE} in {folder}. Fix: pass a course folder, or make one with "
            "python -m widgets.course new FOLDER."
        )
    try:
        settings = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise KitError(f"{path} is not valid TOML ({error}). Fix: correct that line.") from None
    if not isinstance(settings.get("name"), str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", settings["name"]):
        raise KitError(f"{path} has no name = \"...\" of lower-case words joined by '-'. Fix: add one.")
    return settings


def load(folder: Path | str) -> Course:
    """Import a course folder's exercises module, so its exercises are registered; return the course."""
    folder = Path(folder).expanduser().resolve()
    settings = _settings(folder)
    name = settings["name"]
    loaded = _COURSES.get(name)
    if loaded is not None and loaded.folder == folder:
        return loaded
    module_path = folder / settings.get("exercises", "exercises.py")
    if not module_path.is_file():
        raise KitError(f"Course '{name}' has no {module_path.name}. Fix: add it, or name it in {COURSE_FILE}.")
    module_name = _module_name(name)
    spec = importlib.util.spec_from_file_location(module_name, module_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        with _registering(name):
            spec.loader.exec_module(module)
    except KitError:
        forget(name)
        raise
    except Exception as error:  # the teacher's own code: say where it stopped, in one sentence
        forget(name)
        line = error.lineno if isinstance(error, SyntaxError) else _line_in(error, module_path)
        raise KitError(
            f"{module_path.name} of course '{name}' stopped at line {line}: {type(error).__name__}: {error}. "
            "Fix: correct that line and load the course again."
        ) from None
    course = _COURSES[name] = Course(name, folder)
    return course


def _line_in(error: BaseException, path: Path) -> int | None:
    """Return the line of ``path`` where an error was raised, from its traceback."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if Path(frame.filename) == path]
    return frames[-1].lineno if frames else None


def _load_entry_point(entry_point: importlib.metadata.EntryPoint) -> None:
    """Import an installed course's exercises module under its course name."""
    if entry_point.name in _COURSES:
        return
    with _registering(entry_point.name):
        entry_point.load()
    _COURSES[entry_point.name] = Course(entry_point.name, None)


def discover(folders: Iterable[Path | str] = ()) -> list[Course]:
    """Load the courses found in these folders, in the working folder, and from installed entry points."""
    for folder in [*folders, Path.cwd()]:
        if (Path(folder) / COURSE_FILE).is_file():
            load(folder)
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        _load_entry_point(entry_point)
    return courses()
