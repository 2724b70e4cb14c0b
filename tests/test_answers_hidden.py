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
    tables_after_book,
    temporary_table,
    tracker_migrations,
)

from widgets import Sandbox, scenarios
from widgets.lessons.catalogue import EXERCISES
from widgets.lessons.checks import normalise_name
from widgets.sandbox.paths import REPO_ROOT

NOTEBOOKS = REPO_ROOT / "notebooks"
SKIP_FOLDERS = {".git", ".venv", "workspace", "test-artifacts", "__pycache__", ".ipynb_checkpoints", ".pytest_cache"}
BINARY = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".sqlite3", ".pyc", ".ico", ".woff", ".woff2"}
TOKEN = re.compile(r"\"([^\"\n]*)\"|'([^'\n]*)'|`([^`\n]*)`|(\w+)")


# The authoring guide's lesson template has an exercise too, and keeps its answer hidden like the lessons.
TEMPLATES = REPO_ROOT / "docs"


def notebook_of(name: str) -> Path:
    """Return the notebook an exercise belongs to: a lesson, or the authoring guide's template."""
    lesson = NOTEBOOKS / f"{name}.ipynb"
    return lesson if lesson.exists() else TEMPLATES / f"{name}.ipynb"


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
    scenarios.make_cross_app_dependency(sandbox)
    found["10-tables-after-book"] = tables_after_book(sandbox)
    sandbox.delete()
    return found


def test_every_question_has_an_answer_read_here(answers: dict[str, object]) -> None:
    """Each typed question of the kit's lessons has its right answer read here (a course's are its own to test)."""
    typed = {exercise.id for exercise in EXERCISES.values() if exercise.typed and not exercise.course}
    missing, stale = sorted(typed - set(answers)), sorted(set(answers) - typed)
    assert not missing, (
        f"{', '.join(missing)}: no right answer is read for it. Fix: add a function that reads it from a sandbox "
        "to tests/lesson_answers.py and an entry to the answers fixture of tests/test_answers_hidden.py."
    )
    assert not stale, f"{', '.join(stale)}: no such typed exercise. Fix: remove it from the answers fixture."


# ----- the shape of every call into the check module ---------------------------------------

# The check module by its path since 0.2, and by its 0.1 path, which still works.
CHECK_MODULES = frozenset({"widgets.lessons.exercises", "widgets.exercises"})
# Calls into the check module that take no answer: the progress table and the strict switch.
NO_ANSWER_CALLS = {"progress", "strict"}
SCRIPTS = REPO_ROOT / "scripts"


def check_names(tree: ast.AST, modules: frozenset[str] = frozenset()) -> tuple[set[str], dict[str, str]]:
    """Return the names bound to the check module, and to its functions (alias -> function), by a source's imports."""
    found, functions = set(modules), {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in {"widgets", "widgets.lessons"}:
            found |= {alias.asname or alias.name for alias in node.names if alias.name == "exercises"}
        elif isinstance(node, ast.ImportFrom) and node.module in CHECK_MODULES:
            functions |= {alias.asname or alias.name: alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.asname for alias in node.names if alias.name in CHECK_MODULES and alias.asname}
    return found, functions


def _called(call: ast.Call, modules: set[str], functions: dict[str, str]) -> str | None:
    """Return the check module's function a call reaches, or None if it is not a call into that module."""
    func = call.func
    if isinstance(func, ast.Name):
        return functions.get(func.id)
    if isinstance(func, ast.Attribute):
        owner = ast.unparse(func.value)
        if owner in modules or owner in CHECK_MODULES:
            return func.attr
    return None


def _literals(node: ast.AST) -> list[object]:
    """Return the strings and numbers written anywhere inside an expression (True, False, None and ... are not answers)."""
    return [
        n.value
        for n in ast.walk(node)
        if isinstance(n, ast.Constant) and not isinstance(n.value, bool) and n.value is not None and n.value is not ...
    ]


def check_calls(source: str, modules: set[str], functions: dict[str, str]) -> list[tuple[str, ast.Call]]:
    """Return (function name, call) for every call into the check module in a source."""
    calls = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)]
    return [(name, call) for call in calls if (name := _called(call, modules, functions)) is not None]


def _leaks(name: str, call: ast.Call) -> bool:
    """Say whether one call into the check module could show an answer."""
    if name != "exercise":
        return name not in NO_ANSWER_CALLS or any(_literals(arg) for arg in [*call.args, *call.keywords])
    exercise_id, *given = call.args or [None]
    id_is_literal = isinstance(exercise_id, ast.Constant) and isinstance(exercise_id.value, str)
    return not id_is_literal or bool(call.keywords) or len(given) > 1 or not all(isinstance(a, ast.Name) for a in given)


def answer_leaks(source: str, modules: set[str], functions: dict[str, str]) -> list[str]:
    """Return every call into the check module that could show an answer; a check may only be check.exercise("id"[, variable])."""
    return [ast.unparse(call) for name, call in check_calls(source, modules, functions) if _leaks(name, call)]


def notebook_code(path: Path) -> list[str]:
    """Return the sources of a notebook's code cells."""
    return [cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]


def test_the_leak_rule_catches_every_way_of_writing_an_answer_into_a_check() -> None:
    """answer_leaks keeps answers out of check cells: it must reject each old and new way of leaking one."""
    leaking = [
        'check.answer_is(x, "some_table", hint="look")',
        'check.app_at(sandbox, "orders", "0002_something")',
        "check.rows_in(sandbox, 'app_author', 3)",
        'check.exercise("02-temporary-table", "some_table")',
        'check.exercise("04-index-count", 7)',
        'check.exercise("04-index-count", x + 1)',
        'check.exercise("04-index-count", answer=x)',
        "check.exercise(exercise_id)",
        'check.progress(workspace="learner-1")',
    ]
    for source in leaking:
        assert len(answer_leaks(source, {"check"}, {})) == 1, source
    assert answer_leaks(
        'from widgets.lessons.exercises import app_at as at\nat(s, "app", "zero")',
        *check_names(ast.parse("from widgets.lessons.exercises import app_at as at")),
    )
    assert answer_leaks('import widgets.lessons.exercises as ex\nex.exercise("x", 3)', {"ex"}, {})
    assert answer_leaks('widgets.exercises.rows_in(s, "t", 3)', set(), {})
    for fine in [
        'check.exercise("03-app-zero")',
        'check.exercise("02-temporary-table", temporary_table)',
        "check.progress()",
        "check.strict(False)",
        'other.app_at(s, "app", "zero")',
    ]:
        assert answer_leaks(fine, {"check"}, {}) == [], fine


def test_no_code_cell_of_any_notebook_passes_an_answer_to_a_check() -> None:
    """Every call into the check module, in every code cell, whatever its alias, is check.exercise("id"[, variable])."""
    calls = 0
    for path in sorted(NOTEBOOKS.rglob("*.ipynb")) + sorted(TEMPLATES.glob("*.ipynb")):
        sources = notebook_code(path)
        modules, functions = check_names(ast.parse("\n".join(sources)))
        for source in sources:
            assert answer_leaks(source, modules, functions) == [], f"{path.name}: {source}"
            calls += sum(name == "exercise" for name, _ in check_calls(source, modules, functions))
    assert calls >= len(EXERCISES), "the scan saw the lessons' check cells"


def test_the_notebook_script_writes_no_check_that_passes_an_answer() -> None:
    """The scripts that write notebooks hold no check call with an answer, in their code or in a cell source they carry."""
    scanned = 0
    for path in sorted(SCRIPTS.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules, functions = check_names(tree)
        assert answer_leaks(ast.unparse(tree), modules, functions) == [], path.name
        for text in (n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)):
            try:
                cell = ast.parse(text)
            except SyntaxError:
                continue  # prose, not a cell
            cell_modules, cell_functions = check_names(cell, frozenset({"check"}))
            assert answer_leaks(text, cell_modules, cell_functions) == [], f"{path.name}: {text}"
        scanned += 1
    assert scanned and (SCRIPTS / "notebooks.py").is_file()


def test_every_check_cell_is_one_exercise_call_with_only_its_id() -> None:
    """Accept exactly check.exercise("id") or check.exercise("id", variable) alone in its cell, one per exercise."""
    seen = []
    for path in lessons() + sorted(TEMPLATES.glob("*.ipynb")):
        for cell in check_cells(path):
            [statement] = ast.parse(cell.source).body
            call = statement.value
            assert isinstance(call, ast.Call) and ast.unparse(call.func) == "check.exercise", cell.source
            assert answer_leaks(cell.source, {"check"}, {}) == [], cell.source
            spec = EXERCISES[call.args[0].value]
            assert spec.notebook == path.stem and (len(call.args) == 2) == spec.typed, cell.source
            seen.append(spec.id)
    assert sorted(seen) == sorted(EXERCISES), "every exercise has exactly one check cell"


def test_every_answer_variable_is_left_as_dots_in_the_stored_notebook() -> None:
    """A question's variable is set once, to ..., so the cell above the check shows no answer either."""
    for path in lessons():
        trees = [ast.parse(source) for source in notebook_code(path)]
        for cell in check_cells(path):
            call = ast.parse(cell.source).body[0].value
            for variable in (arg.id for arg in call.args[1:]):
                values = [
                    node.value
                    for tree in trees
                    for node in ast.walk(tree)
                    if isinstance(node, ast.Assign) and any(ast.unparse(t) == variable for t in node.targets)
                ]
                assert [ast.unparse(v) for v in values] == ["..."], f"{path.name}: {variable}"


def test_every_exercise_sandbox_is_made_by_its_notebook() -> None:
    for exercise in EXERCISES.values():
        sources = "\n".join(cell.source for cell in nbformat.read(notebook_of(exercise.notebook), 4).cells)
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
        cells = nbformat.read(notebook_of(exercise.notebook), 4).cells
        [check_at] = [i for i, c in enumerate(cells) if f'"{exercise.id}"' in c.source and c.cell_type == "code"]
        question = next(c.source for c in reversed(cells[:check_at]) if c.cell_type == "markdown")
        assert all(f'"{option}"' in question for option in exercise.options), exercise.id


def test_a_sandbox_before_the_lesson_has_no_answer_to_give(sandbox: Sandbox) -> None:
    verdict = EXERCISES["02-temporary-table"].check(sandbox, "anything")
    assert not verdict and "run the steps above first" in verdict.message
