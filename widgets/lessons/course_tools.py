"""A course's tools: make a new course folder, store a lesson's outputs, and test a whole course.

The same tools the kit uses for its own lessons, for a folder outside the
kit: ``new`` writes a working course (one lesson from the authoring
template, one exercise, its tests, a README, a CI file, the nbval sanitize
config); ``store`` executes a lesson and keeps its outputs, as
``scripts/notebooks.py`` does; ``check_course`` runs the lessons under
nbval and the course's tests, and checks the skeleton, hidden answers and
that every exercise has a wrong-answer test.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from widgets.errors import KitError
from widgets.lessons import kit_source
from widgets.lessons.catalogue import Exercise
from widgets.lessons.checks import normalise_name
from widgets.lessons.course import COURSE_FILE, Course, load
from widgets.sandbox.facade import Sandbox
from widgets.sandbox.paths import REPO_ROOT, WORKSPACE_ENV

__all__ = ["CourseReport", "answer_leaks", "check_course", "new_course", "skeleton_problems", "store"]

TEMPLATE = REPO_ROOT / "docs" / "lesson-template.ipynb"
# The headings every lesson has, in this order (others may sit between them).
SKELETON = ["Setup", "Step 1", "What just happened", "Exercises", "Summary"]
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,40}")


# ----- new --------------------------------------------------------------------------------


def _slug(folder: Path) -> str:
    """Return the course name made from its folder's name."""
    slug = re.sub(r"[^a-z0-9]+", "-", folder.name.lower()).strip("-")[:40]
    if not _SLUG.fullmatch(slug):
        raise KitError(f"Cannot make a course name from the folder name '{folder.name}'. Fix: use letters or digits.")
    return slug


def _first_lesson(name: str) -> nbformat.NotebookNode:
    """Return the authoring template turned into lesson 01 of a course."""
    book = nbformat.read(TEMPLATE, as_version=4)
    replacements = {
        "00 · Lesson template": "01 · First lesson",
        "00-lesson-template": f"{name}-01",
        "00-template-forward": "01-tracker-forward",
    }
    for cell in book.cells:
        for old, new in replacements.items():
            cell.source = cell.source.replace(old, new)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return book


_EXERCISES_PY = '''"""The exercises of this course: each one registers its check, which reads the right answer from the sandbox."""

from widgets.lessons.checks import all_applied
from widgets.lessons.course import task

task(
    "01-tracker-forward",
    notebook="01-first-lesson",
    sandbox="{name}-01",
    question="Apply every migration of tracker again",
    check=lambda sandbox: all_applied(sandbox, "tracker"),
)
'''

_TESTS_PY = '''"""Each exercise of the course, checked with a wrong answer and with a right one."""

from pathlib import Path

from widgets import Sandbox
from widgets import exercises as check
from widgets.lessons.course import load

load(Path(__file__).resolve().parent.parent)


def test_01_tracker_forward_wrong_while_tracker_is_at_zero(tmp_path):
    sandbox = Sandbox.fresh("{name}-01", workspace=tmp_path)
    assert sandbox.migrate("tracker", "zero").ok
    verdict = check.exercise("01-tracker-forward", sandbox=sandbox)
    assert not verdict and "tracker" in verdict.message


def test_01_tracker_forward_right_once_applied(tmp_path):
    sandbox = Sandbox.fresh("{name}-01", workspace=tmp_path)
    assert check.exercise("01-tracker-forward", sandbox=sandbox)
'''

_README = """# {name}

A course for the Django migrations kit: its lessons, its exercises and their tests.

- `01-first-lesson.ipynb`: a lesson, stored with its outputs.
- `exercises.py`: registers each exercise's check (`widgets.lessons.course.task` and `question`).
- `tests/`: a wrong-answer and a right-answer test for each exercise.
- `course.toml`: the course's name; `nbval-sanitize.cfg`: output that may differ between runs.

Work on it:

    python -m widgets.course store 01-first-lesson.ipynb   # after editing a lesson
    python -m widgets.course test .                        # what CI runs

The kit's guide for course authors is `docs/authoring.md` in the kit.
"""

_CI = """# Runs the course's lessons under nbval, its tests, and the kit's checks on every push.
name: course
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - run: sudo apt-get install -y graphviz
      - run: python -m pip install -r requirements.txt
      - run: python -m widgets.course test .
"""

_SANITIZE = """# Output that differs from run to run although nothing is wrong: one rule each.

[migration-file-header]
# makemigrations stamps each new migration file with Django's version and the time it ran.
regex: Generated by Django [0-9.]+ on [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}
replace: Generated by Django VERSION on DATE

[warning-location]
# A warning names the cell's file, a temporary path the kernel picks.
regex: /[^ :]*/ipykernel_[0-9]+/[0-9]+\\.py
replace: CELL
"""

_PYTEST_INI = """[pytest]
testpaths = tests
addopts = -p no:cacheprovider
"""


def new_course(folder: Path | str, *, store_lesson: bool = True) -> Course:
    """Write a working course into a new (or empty) folder and return it loaded."""
    folder = Path(folder).expanduser().resolve()
    if folder.exists() and any(folder.iterdir()):
        raise KitError(f"{folder} is not empty. Fix: pass a new folder; a course is never written over other files.")
    name = _slug(folder)
    (folder / "tests").mkdir(parents=True, exist_ok=True)
    (folder / ".github" / "workflows").mkdir(parents=True, exist_ok=True)
    files = {
        COURSE_FILE: f'name = "{name}"\nexercises = "exercises.py"\n',
        "exercises.py": _EXERCISES_PY.replace("{name}", name),
        "tests/test_exercises.py": _TESTS_PY.replace("{name}", name),
        "README.md": _README.replace("{name}", name),
        ".github/workflows/course.yml": _CI,
        "requirements.txt": kit_source.requirement(),
        "nbval-sanitize.cfg": _SANITIZE,
        "pytest.ini": _PYTEST_INI,
        ".gitignore": "workspace/\n.kit-cache/\n__pycache__/\n.ipynb_checkpoints/\n",
    }
    for relative, text in files.items():
        (folder / relative).write_text(text, encoding="utf-8")
    lesson = folder / "01-first-lesson.ipynb"
    nbformat.write(_first_lesson(name), lesson)
    course = load(folder)
    if store_lesson:
        store(lesson)
    return course


# ----- store ------------------------------------------------------------------------------


def store(path: Path | str, *, workspace: Path | None = None) -> None:
    """Execute a lesson in its own folder and a throw-away workspace, and store its outputs in place."""
    from nbclient import NotebookClient  # only when a lesson is stored

    path = Path(path).expanduser().resolve()
    if path.suffix != ".ipynb" or not path.is_file():
        raise KitError(f"There is no notebook at {path}. Fix: pass a lesson file such as 01-first-lesson.ipynb.")
    book = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="kit-store-") as scratch:
        previous = os.environ.get(WORKSPACE_ENV)
        os.environ[WORKSPACE_ENV] = str(workspace or scratch)
        try:
            client = NotebookClient(
                book, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
            )
            client.execute()
        finally:
            if previous is None:
                os.environ.pop(WORKSPACE_ENV, None)
            else:
                os.environ[WORKSPACE_ENV] = previous
    book.metadata.pop("widgets", None)
    for cell in book.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(book, path)


# ----- test: skeleton, hidden answers, wrong-answer tests ---------------------------------------


def skeleton_problems(path: Path) -> list[str]:
    """Return what a lesson lacks of the kit's skeleton (title, goals, Setup ... Summary), one sentence each."""
    book = nbformat.read(path, as_version=4)
    first = book.cells[0].source if book.cells else ""
    problems = []
    if not first.startswith(f"# {path.name[:2]} · "):
        problems.append(f"its first cell is not the title '# {path.name[:2]} · ...', numbered as the file")
    if "**What you will learn**" not in first or not re.search(r"^- .+", first, re.MULTILINE):
        problems.append("its first cell has no '**What you will learn**' with goals as a list")
    found = [
        (index, text)
        for index, cell in enumerate(book.cells)
        if cell.cell_type == "markdown"
        for text in re.findall(r"^## (.+)$", cell.source, re.MULTILINE)
    ]
    steps = [text.split(" ·")[0] for _, text in found if text.startswith("Step ")]
    if steps != [f"Step {n}" for n in range(1, len(steps) + 1)]:
        problems.append(f"its steps are not numbered 1, 2, 3, ... in order ({', '.join(steps)})")
    positions = {}
    for required in SKELETON:
        match = [index for index, text in found if text.startswith(required)]
        if match:
            positions[required] = match[0]
        else:
            problems.append(f"it has no '## {required}' heading")
    if len(positions) == len(SKELETON):
        if list(positions.values()) != sorted(positions.values()):
            problems.append(f"its headings are not in the order {', '.join(SKELETON)}")
        after_setup = book.cells[positions["Setup"] + 1] if positions["Setup"] + 1 < len(book.cells) else None
        if after_setup is None or after_setup.cell_type != "code" or "Sandbox" not in after_setup.source:
            problems.append("the cell after '## Setup' is not the code cell that makes the lesson's Sandbox")
        cells = book.cells[positions["Exercises"] : positions["Summary"]]
        if not any(c.cell_type == "code" and "check." in c.source for c in cells):
            problems.append("its exercises have no check cell")
        if positions["Summary"] != len(book.cells) - 1:
            problems.append("the summary is not its last cell")
    return [f"{path.name}: {problem}." for problem in problems]


def answer_leaks(path: Path, exercises: dict[str, Exercise]) -> list[str]:
    """Return every check call of a lesson that could show an answer: it may only be check.exercise("id"[, variable])."""
    book = nbformat.read(path, as_version=4)
    sources = [cell.source for cell in book.cells if cell.cell_type == "code"]
    problems = []
    assigned: dict[str, list[str]] = {}
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue  # IPython magics: not a check cell
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    assigned.setdefault(ast.unparse(target), []).append(ast.unparse(node.value))
            if isinstance(node, ast.Call) and ast.unparse(node.func).startswith("check."):
                problems += _call_problems(path, node, exercises)
    for source in sources:
        for variable in re.findall(r"check\.exercise\(\s*[\"'][^\"']+[\"']\s*,\s*([A-Za-z_]\w*)\s*\)", source):
            if assigned.get(variable) != ["..."]:
                problems.append(f"{path.name}: the answer variable {variable} must be set once, to ..., in the lesson.")
    return problems


def _call_problems(path: Path, call: ast.Call, exercises: dict[str, Exercise]) -> list[str]:
    """Return what is wrong with one check call of a lesson."""
    shown = ast.unparse(call)
    if ast.unparse(call.func) in {"check.progress", "check.strict"} and not call.args and not call.keywords:
        return []
    if ast.unparse(call.func) != "check.exercise" or call.keywords or not call.args:
        return [f'{path.name}: {shown} could show an answer; write check.exercise("id") or check.exercise("id", x).']
    exercise_id, *given = call.args
    if not (isinstance(exercise_id, ast.Constant) and isinstance(exercise_id.value, str)):
        return [f"{path.name}: {shown} must name its exercise id as a literal string."]
    spec = exercises.get(exercise_id.value)
    if spec is None:
        return [
            f"{path.name}: {shown} checks '{exercise_id.value}', which the course's exercises.py does not register."
        ]
    if spec.notebook != path.stem:
        return [f"{path.name}: '{spec.id}' is registered with notebook='{spec.notebook}', not '{path.stem}'."]
    if len(given) != int(spec.typed) or not all(isinstance(arg, ast.Name) for arg in given):
        form = f'check.exercise("{spec.id}", x)' if spec.typed else f'check.exercise("{spec.id}")'
        return [f"{path.name}: {shown} must be {form}, with the answer in a variable."]
    return []


def _words(text: str) -> set[str]:
    return {normalise_name(word) for word in re.findall(r"\w+", text)}


def named_answers(course: Course, workspace: Path) -> list[str]:
    """Return where a typed name answer, read from the stored lessons' sandboxes, is written in the course's files."""
    problems = []
    texts = {
        path.relative_to(course.folder).as_posix(): path.read_text(encoding="utf-8", errors="replace")
        for path in sorted(course.folder.rglob("*"))
        if path.is_file() and path.suffix in {".py", ".ipynb", ".md", ".toml", ".txt"} and ".git" not in path.parts
    }
    for spec in (e for e in course.exercises if e.typed and not e.options):
        try:
            answer = _right_answer(spec, Sandbox.open(spec.sandbox, workspace=workspace))
        except KitError:  # NotReady too: the lessons left no such sandbox, and nbval reports why
            continue
        if isinstance(answer, str) and normalise_name(answer):
            problems += [
                f"{where}: it writes the answer to '{spec.id}'."
                for where, text in texts.items()
                if normalise_name(answer) in _words(text)
            ]
    return problems


def _right_answer(spec: Exercise, sandbox: Sandbox) -> object:
    """Return the right answer a question registered with widgets.lessons.course.question reads."""
    reader = getattr(spec.verdict, "right", None)
    return reader(sandbox) if reader else None


def wrong_answer_gaps(course: Course) -> list[str]:
    """Return the course's exercises that no test named ``test_*wrong*`` in tests/ mentions by id."""
    covered: set[str] = set()
    for path in sorted((course.folder / "tests").glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_") and "wrong" in node.name:
                covered |= {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return [
        f"exercise '{e.id}' has no wrong-answer test: add a test_..._wrong_... in tests/ that checks it fails."
        for e in course.exercises
        if e.id not in covered
    ]


@dataclass
class CourseReport:
    """What ``check_course`` found: one sentence per problem, and the pytest exit code."""

    problems: list[str] = field(default_factory=list)
    pytest_exit: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and self.pytest_exit == 0


def check_course(folder: Path | str, *, pytest_args: tuple[str, ...] = ()) -> CourseReport:
    """Test a course: its lessons under nbval and its tests, then skeleton, hidden answers and wrong-answer tests."""
    course = load(folder)
    exercises = {e.id: e for e in course.exercises}
    report = CourseReport()
    lessons = course.lessons()
    if not lessons:
        report.problems.append(f"{course.folder} has no numbered lesson (NN-name.ipynb). Fix: add one.")
    for lesson in lessons:
        report.problems += skeleton_problems(lesson) + answer_leaks(lesson, exercises)
    report.problems += wrong_answer_gaps(course)
    with tempfile.TemporaryDirectory(prefix="kit-course-") as workspace:
        report.pytest_exit = _pytest(course, lessons, Path(workspace), pytest_args)
        report.problems += named_answers(course, Path(workspace))
    return report


def _pytest(course: Course, lessons: list[Path], workspace: Path, extra: tuple[str, ...]) -> int:
    """Run nbval over the lessons and pytest over tests/, in the course's folder; return pytest's exit code."""
    sanitize = course.folder / "nbval-sanitize.cfg"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(course.folder)]
    command += ["--nbval", "--nbval-current-env", "--nbval-cell-timeout=120"]
    if sanitize.is_file():
        command += ["--nbval-sanitize-with", str(sanitize)]
    command += [str(path) for path in lessons]
    if (course.folder / "tests").is_dir():
        command.append(str(course.folder / "tests"))
    environment = {**os.environ, WORKSPACE_ENV: str(workspace)}
    return subprocess.run([*command, *extra], cwd=course.folder, env=environment, check=False).returncode
