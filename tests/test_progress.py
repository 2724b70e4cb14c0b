"""The progress record: each check counts, a solved exercise gets its order, a teacher reads any workspace."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from lesson_answers import index_count

from widgets import KitError, Sandbox, progress
from widgets import exercises as check
from widgets.lessons.catalogue import EXERCISES
from widgets.lessons.progress_record import PROGRESS_COLUMNS, record_check, record_path
from widgets.read.table import column, is_missing, is_table, keyed, records, where


@pytest.fixture
def learner(sandbox: Sandbox, tmp_path: Path) -> Sandbox:
    """Return a migrated sandbox in a workspace of its own, so its record starts empty."""
    return Sandbox.copy_of(sandbox.path, "learner", workspace=tmp_path / "alice")


def row(workspace: Path, exercise_id: str) -> dict:
    return next(r for r in records(progress(workspace)) if r["exercise"] == exercise_id)


def test_an_empty_workspace_lists_every_exercise_not_done(learner: Sandbox) -> None:
    frame = progress(learner.workspace)
    assert list(frame.columns) == PROGRESS_COLUMNS
    lessons = [exercise for exercise in EXERCISES.values() if exercise.notebook != "lesson-template"]
    assert sorted(frame["exercise"]) == sorted(exercise.id for exercise in lessons)
    numbers = [int(notebook[:2]) for notebook in frame["notebook"]]
    assert numbers == sorted(numbers), "lessons by number: 07 before 11"
    rows = records(frame)
    assert not any(r["done"] for r in rows) and all(r["order"] is None and r["checks"] == 0 for r in rows)


def test_checks_count_and_the_first_pass_gets_the_next_order(learner: Sandbox) -> None:
    workspace = learner.workspace
    right = index_count(learner)
    check.exercise("04-index-count", ..., sandbox=learner)
    assert row(workspace, "04-index-count")["checks"] == 0, "an untouched answer cell is not an attempt"
    check.exercise("04-index-count", right + 1, sandbox=learner)
    first = row(workspace, "04-index-count")
    assert (first["notebook"], first["done"], first["checks"]) == ("04-reading-the-sql", False, 1)
    assert is_missing(first["order"])
    check.exercise("04-index-count", right, sandbox=learner)
    check.exercise("06-merge-conflict", sandbox=learner)  # nothing conflicts in a fresh sandbox: done
    check.exercise("04-index-count", right + 1, sandbox=learner)  # a later wrong answer does not undo it
    done = keyed(progress(workspace), "exercise")
    assert [done["04-index-count"][c] for c in ("done", "order", "checks")] == [True, 1, 3]
    assert [done["06-merge-conflict"][c] for c in ("done", "order", "checks")] == [True, 2, 1]
    assert sum(r["done"] for r in done.values()) == 2


def test_the_record_is_small_json_with_order_and_no_time(learner: Sandbox) -> None:
    check.exercise("06-merge-conflict", sandbox=learner)
    path = record_path(learner.workspace)
    assert path == learner.workspace / ".kit" / "progress.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record == {"solved": 1, "exercises": {"06-merge-conflict": {"checks": 1, "order": 1}}}
    leftovers = [p.name for p in path.parent.iterdir() if p.name.startswith(".progress-")]
    assert leftovers == [], "the staged file was renamed into place"


def test_two_kernels_checking_at_once_lose_no_count(tmp_path: Path) -> None:
    workspace = tmp_path / "busy"
    workspace.mkdir()

    def checks() -> None:
        for _ in range(25):
            record_check("03-app-zero", False, workspace)

    threads = [threading.Thread(target=checks) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert row(workspace, "03-app-zero")["checks"] == 100


def test_a_damaged_record_is_set_aside_not_fatal(learner: Sandbox) -> None:
    path = record_path(learner.workspace)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json", encoding="utf-8")
    assert not any(column(progress(learner.workspace), "done"))
    assert path.read_text(encoding="utf-8") == "{not json", "reading alone never moves the learner's file"
    assert check.exercise("06-merge-conflict", sandbox=learner)
    assert path.with_name("progress.broken.json").read_text(encoding="utf-8") == "{not json"
    assert row(learner.workspace, "06-merge-conflict")["order"] == 1


def test_a_teacher_reads_each_learners_workspace(tmp_path: Path) -> None:
    alice = Sandbox.fresh("lesson", migrated=False, workspace=tmp_path / "alice")
    bob = Sandbox.fresh("lesson", migrated=False, workspace=tmp_path / "bob")
    record_check("02-likes-field", True, alice.workspace)
    record_check("02-likes-field", False, bob.workspace)
    assert row(tmp_path / "alice", "02-likes-field")["done"]
    assert not row(str(tmp_path / "bob"), "02-likes-field")["done"]
    with pytest.raises(KitError, match="There is no workspace at"):
        progress(tmp_path / "carol")


def test_the_table_shows_done_rows_in_green_and_no_missing_values(learner: Sandbox) -> None:
    check.exercise("06-merge-conflict", sandbox=learner)
    frame = progress(learner.workspace)
    html = frame._repr_html_()
    body = html.split("<tbody>")[1]
    green_rows = {n for n, line in enumerate(body.split("<tr>")[1:]) if "--mk-applied-row, #c8e6c9" in line}
    assert green_rows == {list(frame["exercise"]).index("06-merge-conflict")}
    assert "✔" in html and "<NA>" not in html and "nan" not in html
    assert "06-merge-conflict" in repr(frame) and repr(frame).splitlines()[0].split() == PROGRESS_COLUMNS
    done = where(frame, lambda r: r["done"])
    assert is_table(done) and type(done).__name__ in ("DataFrame", "Table"), "a filtered table is a plain one"
