"""No check cell shows its answer, and no file of the kit (tests included) names one.

The right answers are read from a real sandbox here (tests/lesson_answers.py),
never written down, so this file proves absence without containing what it
looks for. A name answer is looked for as a token (a word, a quoted string)
in every text file of the repository and every notebook cell's source; a
number cannot be looked for that way (every file has small numbers), so for
counts the proof is that check cells hold no literal at all, hints hold no
such number, and tests/test_exercises.py shows the check follows the sandbox.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from lesson_answers import (
    authors_left,
    command_that_writes_files,
    index_count,
    lesson_sandbox,
    temporary_table,
    tracker_migrations,
)

from widgets import Sandbox
from widgets.catalogue import EXERCISES
from widgets.checks import normalise_name
from widgets.paths import REPO_ROOT

NOTEBOOKS = REPO_ROOT / "notebooks"
SKIP_FOLDERS = {".git", ".venv", "workspace", "test-artifacts", "__pycache__", ".ipynb_checkpoints", ".pytest_cache"}
BINARY = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".sqlite3", ".pyc", ".ico", ".woff", ".woff2"}
TOKEN = re.compile(r"\"([^\"\n]*)\"|'([^'\n]*)'|`([^`\n]*)`|(\w+)")


def lessons() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


def check_cells(path: Path) -> Iterator[nbformat.NotebookNode]:
    """Yield the code cells of a notebook that call the check module."""
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code" and re.search(r"\bcheck\.", cell.source):
            yield cell


def _files(folder: Path) -> Iterator[Path]:
    """Yield every file under a folder, without entering the folders that are not the kit's."""
    for root, folders, files in os.walk(folder):
        folders[:] = [name for name in folders if name not in SKIP_FOLDERS]
        yield from (Path(root) / name for name in files)


def kit_texts() -> Iterator[tuple[str, str]]:
    """Yield (where, text) for every text file of the repository; for notebooks, each cell's source only."""
    for path in sorted(_files(REPO_ROOT)):
        relative = path.relative_to(REPO_ROOT)
        if path.suffix.lower() in BINARY:
            continue
        if path.suffix == ".ipynb":
            for number, cell in enumerate(nbformat.read(path, as_version=4).cells):
                yield f"{relative} cell {number}", cell.source
            continue
        try:
            yield str(relative), path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue


def tokens(text: str) -> set[str]:
    """Return every word and quoted string of a text, normalised as a typed answer is."""
    found = set()
    for match in TOKEN.finditer(text):
        token = next(group for group in match.groups() if group is not None)
        found.add(normalise_name(token))
    return found


@pytest.fixture(scope="module")
def answers() -> dict[str, object]:
    """Return each question's right answer, read from a sandbox taken through the lessons."""
    sandbox = lesson_sandbox("hidden-answers")
    found = {
        "01-tracker-migrations": tracker_migrations(sandbox),
        "01-writes-files": command_that_writes_files(EXERCISES["01-writes-files"].options),
        "02-temporary-table": temporary_table(sandbox),
        "03-authors-left": authors_left(sandbox),
        "04-index-count": index_count(sandbox),
    }
    sandbox.delete()
    return found


def test_every_question_has_an_answer_read_here(answers: dict[str, object]) -> None:
    assert set(answers) == {exercise.id for exercise in EXERCISES.values() if exercise.typed}


def test_every_check_cell_is_one_exercise_call_with_only_its_id() -> None:
    """Accept exactly check.exercise("id") or check.exercise("id", variable): no literal answer can hide in it."""
    seen = []
    for path in lessons():
        for cell in check_cells(path):
            [statement] = ast.parse(cell.source).body
            call = statement.value
            assert isinstance(call, ast.Call) and ast.unparse(call.func) == "check.exercise", cell.source
            assert not call.keywords, cell.source
            exercise_id, *given = call.args
            assert isinstance(exercise_id, ast.Constant) and isinstance(exercise_id.value, str), cell.source
            assert all(isinstance(arg, ast.Name) for arg in given) and len(given) <= 1, cell.source
            spec = EXERCISES[exercise_id.value]
            assert spec.notebook == path.stem and bool(given) == spec.typed, cell.source
            seen.append(spec.id)
    assert sorted(seen) == sorted(EXERCISES), "every exercise has exactly one check cell"


def test_every_exercise_sandbox_is_made_by_its_notebook() -> None:
    for exercise in EXERCISES.values():
        sources = "\n".join(cell.source for cell in nbformat.read(NOTEBOOKS / f"{exercise.notebook}.ipynb", 4).cells)
        assert re.search(rf"Sandbox\.(fresh|copy_of)\([^)]*[\"']{exercise.sandbox}[\"']", sources), exercise.id


def test_no_file_of_the_kit_names_a_name_answer(answers: dict[str, object]) -> None:
    """Look for every typed name (not a choice the question itself prints) as a token everywhere."""
    names = {
        exercise_id: normalise_name(answer)
        for exercise_id, answer in answers.items()
        if isinstance(answer, str) and not EXERCISES[exercise_id].options
    }
    assert names, "at least one question has a name for its answer"
    texts = list(kit_texts())
    assert any(where.startswith("widgets/") for where, _ in texts) and any(".ipynb cell" in w for w, _ in texts)
    found = []
    for where, text in texts:
        words = tokens(text)
        found += [(exercise_id, where) for exercise_id, name in names.items() if name in words]
    assert found == [], "an answer is written in the kit"


def test_the_token_scan_would_see_an_answer_in_any_of_its_forms(answers: dict[str, object]) -> None:
    name = answers["02-temporary-table"]
    for written in (f"x = '{name}'", f'"{name.upper()}"', f"`{name}` is it", f"-- {name};"):
        assert normalise_name(name) in tokens(written), written


def test_no_hint_gives_its_answer(answers: dict[str, object]) -> None:
    for exercise_id, answer in answers.items():
        hint = tokens(EXERCISES[exercise_id].hint)
        numbers = {int(token) for token in hint if token.isdigit()}
        assert answer not in numbers if isinstance(answer, int) else normalise_name(answer) not in hint, exercise_id


def test_a_choice_question_prints_every_option_and_the_kit_tries_them_for_real() -> None:
    """A choice cannot hide its options; what stays hidden is which one is right, found by experiment."""
    for exercise in (e for e in EXERCISES.values() if e.options):
        cells = nbformat.read(NOTEBOOKS / f"{exercise.notebook}.ipynb", 4).cells
        [check_at] = [i for i, c in enumerate(cells) if f'"{exercise.id}"' in c.source and c.cell_type == "code"]
        question = next(c.source for c in reversed(cells[:check_at]) if c.cell_type == "markdown")
        assert all(f'"{option}"' in question for option in exercise.options), exercise.id


def test_a_sandbox_before_the_lesson_has_no_answer_to_give(sandbox: Sandbox) -> None:
    verdict = EXERCISES["02-temporary-table"].check(sandbox, "anything")
    assert not verdict and "run the steps above first" in verdict.message
