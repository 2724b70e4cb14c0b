"""Courses of your own: register exercises through the public API, find them in any kernel, make and test a course."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from widgets import KitError, Sandbox
from widgets import exercises as check
from widgets.lessons import course
from widgets.lessons.catalogue import EXERCISES
from widgets.lessons.checks import all_applied
from widgets.lessons.course_tools import (
    TEMPLATE,
    answer_leaks,
    new_course,
    skeleton_problems,
    wrong_answer_gaps,
)
from widgets.lessons.progress_record import progress

EXERCISES_PY = """
from widgets.lessons.checks import all_applied
from widgets.lessons.course import question, task

task("01-tracker-forward", notebook="01-first", sandbox="{name}-01", question="Apply tracker again",
     check=lambda sandbox: all_applied(sandbox, "tracker"))
question("01-tracker-tables", notebook="01-first", sandbox="{name}-01", question="How many tracker tables",
         hint="count the tables whose name starts with tracker_",
         right=lambda sandbox: sum(t.startswith("tracker_") for t in sandbox.tables()["table"]))
"""


def write_course(folder: Path, name: str = "poll-course", exercises: str = EXERCISES_PY) -> Path:
    """Write a course folder by hand, as a teacher would without the new command."""
    folder.mkdir(parents=True)
    (folder / "course.toml").write_text(f'name = "{name}"\n', encoding="utf-8")
    (folder / "exercises.py").write_text(exercises.replace("{name}", name), encoding="utf-8")
    return folder


@pytest.fixture
def forgetful():
    """Forget every course a test loaded, so the kit's own catalogue is as it was."""
    before = set(EXERCISES)
    yield
    for loaded in course.courses():
        course.forget(loaded.name)
    assert set(EXERCISES) == before


def test_a_course_registers_its_exercises_through_the_public_api(tmp_path, forgetful) -> None:
    loaded = course.load(write_course(tmp_path / "poll-course"))
    assert [e.id for e in loaded.exercises] == ["01-tracker-forward", "01-tracker-tables"]
    assert {e.course for e in loaded.exercises} == {"poll-course"}
    assert course.exercises_of("") == [e for e in EXERCISES.values() if not e.course]


def test_a_registered_question_reads_its_answer_from_the_sandbox(tmp_path, forgetful) -> None:
    course.load(write_course(tmp_path / "poll-course"))
    sandbox = Sandbox.fresh("poll-course-01", workspace=tmp_path / "ws")
    tables = sum(t.startswith("tracker_") for t in sandbox.tables()["table"])
    assert check.exercise("01-tracker-tables", tables, sandbox=sandbox)
    wrong = check.exercise("01-tracker-tables", tables + 1, sandbox=sandbox)
    assert (
        not wrong and wrong.message == f"{tables + 1} is not it. Hint: count the tables whose name starts with tracker_"
    )
    assert sandbox.migrate("tracker", "zero").ok
    assert not check.exercise("01-tracker-forward", sandbox=sandbox)


def test_an_id_taken_by_the_kit_or_another_course_is_refused_in_one_sentence(tmp_path, forgetful) -> None:
    with pytest.raises(KitError, match=r"^Exercise '03-app-zero' is already registered by the kit's lessons\. Fix"):
        course.task("03-app-zero", notebook="03-x", sandbox="x", question="?", check=lambda s: all_applied(s, "app"))
    course.load(write_course(tmp_path / "one", "one"))
    with pytest.raises(KitError, match="already registered by course 'one'"):
        course.load(write_course(tmp_path / "two", "two"))
    with pytest.raises(KitError, match=r"is not an exercise id\. Fix: start it with the lesson's two digits"):
        course.task("Tracker", notebook="01-x", sandbox="x", question="?", check=lambda s: all_applied(s, "app"))


def test_a_broken_exercises_module_ends_in_one_sentence_with_its_line(tmp_path, forgetful) -> None:
    folder = write_course(tmp_path / "broken", "broken", "from widgets.lessons.course import task\n\ntask(\n")
    with pytest.raises(KitError, match=r"exercises.py of course 'broken' stopped at line \d+: SyntaxError"):
        course.load(folder)
    with pytest.raises(KitError, match=r"^There is no course.toml in .+\. Fix: pass a course folder"):
        course.load(tmp_path)
    assert "broken" not in {c.name for c in course.courses()}


def _python(code: str, cwd: Path, **env: str) -> str:
    """Run code in a fresh interpreter (a kernel that never imported the course) and return what it prints."""
    environment = {**os.environ, **env}
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=environment, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_progress_lists_a_course_in_a_kernel_that_never_imported_it(tmp_path) -> None:
    """A check run in the course's folder records it; progress() in another folder and process finds it again."""
    folder = write_course(tmp_path / "poll-course")
    workspace = tmp_path / "ws"
    _python(
        """
        from widgets import Sandbox, exercises as check
        sandbox = Sandbox.fresh("poll-course-01")
        print(check.exercise("01-tracker-forward"))
        """,
        folder,
        MIGRATION_KIT_WORKSPACE=str(workspace),
    )
    shown = _python(
        f"""
        from widgets import progress
        table = progress({str(workspace)!r})
        print(table[table["notebook"] == "01-first"].to_string(index=False))
        """,
        tmp_path,
    )
    lines = shown.splitlines()
    assert lines[1].split()[:4] == ["01-first", "01-tracker-forward", "Apply", "tracker"] and "True" in lines[1]
    assert "01-tracker-tables" in lines[2] and "False" in lines[2]


def test_progress_finds_an_installed_course_by_its_entry_point(tmp_path) -> None:
    """A course installed as a package names its exercises module in the group migration_kit.courses."""
    site = tmp_path / "site"
    (site / "pollcourse").mkdir(parents=True)
    (site / "pollcourse" / "__init__.py").write_text("")
    (site / "pollcourse" / "exercises.py").write_text(EXERCISES_PY.replace("{name}", "pollcourse"))
    info = site / "pollcourse-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: pollcourse\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{course.ENTRY_POINT_GROUP}]\npollcourse = pollcourse.exercises\n")
    shown = _python(
        f"""
        from widgets import progress
        print(" ".join(progress({str(tmp_path)!r})["exercise"]))
        """,
        tmp_path,
        PYTHONPATH=str(site),
    )
    assert shown.split()[-2:] == ["01-tracker-forward", "01-tracker-tables"]


def test_progress_sorts_lessons_by_number_and_leaves_out_the_authoring_template(tmp_path) -> None:
    notebooks = list(progress(tmp_path)["notebook"])
    numbers = [int(name[:2]) for name in notebooks]
    assert numbers == sorted(numbers) and "lesson-template" not in notebooks
    assert notebooks.index("07-migrations-in-production") < notebooks.index("11-your-own-project")


# ----- the course's checks, each shown to fail on a lesson that breaks it --------------------------


def test_the_skeleton_check_names_what_a_lesson_lacks(tmp_path) -> None:
    book = nbformat.read(TEMPLATE, as_version=4)
    nbformat.write(book, tmp_path / "00-template.ipynb")
    assert skeleton_problems(tmp_path / "00-template.ipynb") == []
    book.cells = [cell for cell in book.cells if "## Summary" not in cell.source]
    broken = tmp_path / "01-broken.ipynb"
    nbformat.write(book, broken)
    assert skeleton_problems(broken) == [
        "01-broken.ipynb: its first cell is not the title '# 01 · ...', numbered as the file.",
        "01-broken.ipynb: it has no '## Summary' heading.",
    ]


def test_the_hidden_answer_scan_refuses_every_way_of_writing_an_answer(tmp_path, forgetful) -> None:
    loaded = course.load(write_course(tmp_path / "poll-course"))
    exercises = {e.id: e for e in loaded.exercises}
    cells = {
        'tables = ...\ncheck.exercise("01-tracker-tables", tables)': [],
        'check.exercise("01-tracker-tables", 2)': ["with the answer in a variable"],
        'check.answer_is(tables, 2, hint="")': ["could show an answer"],
        'check.exercise("01-tracker-forward", answer=2)': ["could show an answer"],
        'check.exercise("09-nowhere")': ["does not register"],
        'tables = 2\ncheck.exercise("01-tracker-tables", tables)': ["must be set once, to ..."],
    }
    for source, expected in cells.items():
        path = tmp_path / "01-first.ipynb"
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)]), path)
        found = answer_leaks(path, exercises)
        assert len(found) == len(expected) and all(e in f for e, f in zip(expected, found, strict=True)), source


def test_an_exercise_without_a_wrong_answer_test_is_named(tmp_path, forgetful) -> None:
    loaded = course.load(write_course(tmp_path / "poll-course"))
    (loaded.folder / "tests").mkdir()
    (loaded.folder / "tests" / "test_it.py").write_text(
        'def test_forward_wrong():\n    assert "01-tracker-forward"\n\ndef test_tables_right():\n    "01-tracker-tables"\n'
    )
    assert wrong_answer_gaps(loaded) == [
        "exercise '01-tracker-tables' has no wrong-answer test: add a test_..._wrong_... in tests/ that checks it fails."
    ]


def test_new_refuses_a_folder_that_holds_files(tmp_path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(KitError, match=r"is not empty\. Fix: pass a new folder"):
        new_course(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_a_course_made_with_new_outside_the_kit_passes_test(tmp_path) -> None:
    """The done-when of issue 22: new, then test, in a folder outside the kit, from the command line."""
    folder = tmp_path / "outside" / "my-course"
    environment = {**os.environ, "MIGRATION_KIT_WORKSPACE": str(tmp_path / "ws")}
    cli = [sys.executable, "-m", "widgets.course"]
    made = subprocess.run([*cli, "new", str(folder)], cwd=tmp_path, env=environment, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        ".github/workflows/course.yml",
        ".gitignore",
        "01-first-lesson.ipynb",
        "README.md",
        "course.toml",
        "exercises.py",
        "nbval-sanitize.cfg",
        "pytest.ini",
        "requirements.txt",
        "tests/test_exercises.py",
    ]
    lesson = nbformat.read(folder / "01-first-lesson.ipynb", as_version=4)
    [stored] = [c.outputs for c in lesson.cells if c.cell_type == "code" and "check.exercise" in c.source]
    assert "✘ Not yet: tracker still has 1 migration(s) to apply" in stored[0]["data"]["text/plain"]
    tested = subprocess.run([*cli, "test", str(folder)], cwd=tmp_path, env=environment, capture_output=True, text=True)
    assert tested.returncode == 0, tested.stdout[-3000:]
    assert tested.stdout.rstrip().endswith("✔ the course passes") and "7 passed" in tested.stdout
    # The same command fails, naming why, once the course's lesson shows an answer.
    lesson.cells[-2].source = 'check.exercise("01-tracker-forward", "all")'
    nbformat.write(lesson, folder / "01-first-lesson.ipynb")
    failed = subprocess.run([*cli, "test", str(folder)], cwd=tmp_path, env=environment, capture_output=True, text=True)
    assert (
        failed.returncode == 1
        and "✘ 01-first-lesson.ipynb: check.exercise('01-tracker-forward', 'all')" in failed.stdout
    )


@pytest.mark.parametrize(
    ("argv", "sentence"),
    [
        (["test", "{tmp}"], r"^There is no course.toml in .+\. Fix: pass a course folder, or make one with"),
        (["store", "{tmp}/01-missing.ipynb"], r"^There is no notebook at .+01-missing.ipynb\. Fix: pass a lesson file"),
        (["new", "{tmp}"], r"^.+ is not empty\. Fix: pass a new folder"),
    ],
)
def test_the_command_line_ends_bad_input_in_one_sentence(argv, sentence, tmp_path, capsys) -> None:
    from widgets.course import main

    (tmp_path / "notes.txt").write_text("mine")
    assert main([arg.replace("{tmp}", str(tmp_path)) for arg in argv]) == 2
    shown = capsys.readouterr()
    assert shown.out == "" and len(shown.err.strip().splitlines()) == 1 and re.search(sentence, shown.err)


def test_the_skeleton_check_wants_the_setup_cell_and_numbered_steps(tmp_path) -> None:
    book = nbformat.read(TEMPLATE, as_version=4)
    setup = next(i for i, c in enumerate(book.cells) if c.source.startswith("## Setup"))
    book.cells[setup + 1].source = "print('no sandbox here')"
    step = next(c for c in book.cells if c.source.startswith("## Step 1"))
    step.source = step.source.replace("## Step 1", "## Step 2")
    nbformat.write(book, tmp_path / "00-broken.ipynb")
    assert skeleton_problems(tmp_path / "00-broken.ipynb") == [
        "00-broken.ipynb: its steps are not numbered 1, 2, 3, ... in order (Step 2).",
        "00-broken.ipynb: it has no '## Step 1' heading.",
    ]
    step.source = step.source.replace("## Step 2", "## Step 1")
    nbformat.write(book, tmp_path / "00-broken.ipynb")
    assert skeleton_problems(tmp_path / "00-broken.ipynb") == [
        "00-broken.ipynb: the cell after '## Setup' is not the code cell that makes the lesson's Sandbox."
    ]
