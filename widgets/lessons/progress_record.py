"""Which exercises a learner has done: a small record in the workspace, and a table of it.

Each check writes ``<workspace>/.kit/progress.json`` atomically (a new file
renamed over the old one, under a lock), so a teacher can read any learner's
progress from their workspace folder. The record keeps order, not time: the
table says which exercise was solved first, second, ..., so it looks the same
every time a notebook shows it.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from widgets.draw.palette import TABLE_STYLES
from widgets.draw.tables import ROW_CSS
from widgets.errors import KitError
from widgets.lessons.catalogue import EXERCISES, Exercise
from widgets.lessons.course import discover
from widgets.read.table import StyledTable, Table, TableLike, make_table, pandas_or_none, records, with_column
from widgets.sandbox import locks
from widgets.sandbox.paths import REPO_ROOT, workspace_root
from widgets.sandbox.workspace import KIT

# ProgressFrame comes from the module's __getattr__: its base class depends on whether pandas imports.
__all__ = ["PROGRESS_COLUMNS", "ProgressFrame", "class_progress", "progress", "record_check", "record_path"]  # noqa: F822

PROGRESS_COLUMNS = ["notebook", "exercise", "question", "done", "order", "checks"]


def record_path(workspace: Path | str | None = None) -> Path:
    """Return where a workspace keeps its progress record."""
    root = Path(workspace).expanduser().resolve() if workspace is not None else workspace_root()
    return root / KIT / "progress.json"


def _read(path: Path, *, set_aside: bool) -> dict:
    """Return the record, or an empty one if there is none or it is damaged (set aside if asked)."""
    if not path.is_file():
        return {"solved": 0, "exercises": {}}
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(record, dict) and isinstance(record.get("exercises"), dict):
            return record
    except (ValueError, UnicodeDecodeError):
        pass
    if set_aside:
        # Keep the damaged file for a human to look at; start a new record rather than fail a check.
        path.replace(path.with_name("progress.broken.json"))
    return {"solved": 0, "exercises": {}}


def _write(path: Path, record: dict) -> None:
    """Write the record to a new file, then rename it over the old one: a reader never sees half of it."""
    handle, staged = tempfile.mkstemp(dir=path.parent, prefix=".progress-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(record, stream, indent=2, sort_keys=True)
        # mkstemp makes the file private; a teacher with read access to the workspace should be able to read it.
        os.chmod(staged, 0o644)
        os.replace(staged, path)
    except BaseException:
        Path(staged).unlink(missing_ok=True)
        raise


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold the workspace's progress lock, so two kernels never interleave read and write."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name("progress.lock"), "a") as lock:
        locks.flock(lock, locks.LOCK_EX)  # none in Pyodide, where no other kernel shares the file
        yield


def record_check(
    exercise_id: str, passed: bool, workspace: Path | str | None = None, *, course: Path | None = None
) -> None:
    """Count one check of an exercise, and give it the next order number the first time it passes.

    ``course`` is the folder of the course the exercise belongs to: the record
    keeps it, so ``progress()`` lists that course's exercises in any kernel.
    """
    path = record_path(workspace)
    with _locked(path):
        record = _read(path, set_aside=True)
        if course is not None:
            record["courses"] = sorted({*record.get("courses", []), str(course)})
        entry = record["exercises"].setdefault(exercise_id, {"checks": 0, "order": None})
        entry["checks"] += 1
        if passed and entry["order"] is None:
            record["solved"] = int(record.get("solved", 0)) + 1
            entry["order"] = record["solved"]
        _write(path, record)


def _progress_html(table: TableLike) -> str:
    """Return the progress table's HTML: done exercises ticked and in the palette's green, no missing values."""
    rows = records(table)
    done = ["✔" if row["done"] else "" for row in rows]
    order = ["" if row["order"] is None else str(row["order"]) for row in rows]
    shown = with_column(with_column(table, "done", done), "order", order)
    styles = [[TABLE_STYLES["applied"] if row["done"] else ""] * len(table.columns) for row in rows]
    return StyledTable(shown, styles=styles, css=ROW_CSS)._repr_html_()


@cache
def _progress_class() -> type:
    """Return the class of progress() values: a DataFrame subclass with pandas, else a Table subclass."""
    pd = pandas_or_none()
    if pd is None:

        class ProgressFrame(Table):
            """A table of progress that shows itself with the done exercises in green."""

            def _repr_html_(self) -> str:
                return _progress_html(self)

        return ProgressFrame

    class ProgressFrame(pd.DataFrame):
        """A DataFrame of progress that shows itself with the done exercises in green."""

        @property
        def _constructor(self):
            # Filtering or sorting gives a plain DataFrame: only the whole table is styled.
            return pd.DataFrame

        def __repr__(self) -> str:
            return self.to_string(index=False)

        def _repr_html_(self) -> str:
            return _progress_html(self)

    ProgressFrame.__module__, ProgressFrame.__qualname__ = __name__, "ProgressFrame"
    return ProgressFrame


def __getattr__(name: str):
    # ProgressFrame depends on whether pandas imports: built on first use, never at import.
    if name == "ProgressFrame":
        return _progress_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# The authoring guide's template has an exercise of its own, for teachers: it is not a lesson.
_NOT_LESSONS = frozenset({"lesson-template"})


def _listed(exercises: Iterable[Exercise]) -> list[Exercise]:
    """Return the exercises a learner's progress lists: the lessons', not the authoring template's."""
    return [exercise for exercise in exercises if exercise.notebook not in _NOT_LESSONS]


def _lesson_order(exercise: Exercise) -> tuple[str, int]:
    """Sort the kit's lessons first, then each course's, by lesson number: 07 comes before 11."""
    number = re.match(r"\d+", exercise.notebook)
    return (exercise.course, int(number.group()) if number else 10**6)


def progress(workspace: Path | str | None = None) -> TableLike:
    """Return one row per exercise of the lessons and courses: done or not, in which order, after how many checks.

    Reads ``<workspace>/.kit/progress.json``; a teacher passes a learner's
    workspace folder. Columns: notebook, exercise, question, done, order
    (1 = solved first; empty while not done), checks (how often it was checked).
    """
    path = record_path(workspace)
    if workspace is not None and not path.parent.parent.is_dir():
        raise KitError(f"There is no workspace at {path.parent.parent}. Fix: pass the folder that holds the sandboxes.")
    # No lock: the record is only ever replaced whole, and a teacher may only have read access.
    record = _read(path, set_aside=False)
    entries = record["exercises"]
    discover(folder for folder in record.get("courses", []) if Path(folder).is_dir())
    rows = []
    for exercise in sorted(_listed(EXERCISES.values()), key=_lesson_order):
        entry = entries.get(exercise.id, {})
        order = entry.get("order")
        rows.append(
            [exercise.notebook, exercise.id, exercise.question, order is not None, order, entry.get("checks", 0)]
        )
    table = make_table(rows, PROGRESS_COLUMNS, dtypes={"done": "bool", "order": "Int64", "checks": "int"})
    kind = _progress_class()
    return kind(table) if pandas_or_none() is not None else kind(table.rows, table.columns)


# The workspace folder the classroom gives each learner in their home (classroom/jupyterhub_config.py).
CLASS_WORKSPACE = "migration-kit-workspace"
CLASS_COLUMNS = ["learner", "done", "of", "solved, in order"]


def class_progress(homes: Path | str | None = None) -> TableLike:
    """Return one row per learner of a class: how many exercises are done, and which, in the order solved.

    Reads ``<homes>/<learner>/migration-kit-workspace`` (``CLASSROOM_HOMES``,
    else the kit's ``classroom/homes``, where ``make classroom`` keeps them;
    pass ``"/home"`` for Unix accounts). Read access is enough.
    """
    root = Path(homes or os.environ.get("CLASSROOM_HOMES") or REPO_ROOT / "classroom" / "homes").expanduser()
    if not root.is_dir():
        raise KitError(
            f"There is no folder of learners' homes at {root}. "
            "Fix: pass the folder that holds them, such as CLASSROOM_HOMES or '/home'."
        )
    rows = []
    for home in sorted(path for path in root.iterdir() if (path / CLASS_WORKSPACE).is_dir()):
        table = records(progress(home / CLASS_WORKSPACE))
        solved = [row["exercise"] for row in sorted((r for r in table if r["done"]), key=lambda r: r["order"])]
        rows.append([home.name, len(solved), len(table), ", ".join(solved)])
    return make_table(rows, CLASS_COLUMNS)
