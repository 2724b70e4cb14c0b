"""Build the situations the lessons teach, in a sandbox, with real commands.

Each function changes one sandbox the way a learner would (edit a file, run
makemigrations or migrate) and returns the last command's result. Tests,
notebooks and benchmarks share them so the lessons and their checks agree.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from pathlib import Path

from widgets.errors import KitError
from widgets.run.result import DEFAULT_TIMEOUT, CommandResult
from widgets.run.runner import run_manage
from widgets.sandbox.facade import Sandbox, validate_name
from widgets.sandbox.paths import EXAMPLE_PROJECTS, workspace_root

__all__ = [
    "STARTER_LINE",
    "digest",
    "example_project",
    "VIEWS_LINE",
    "SAFE_VIEWS_LINE",
    "add_views_field",
    "add_views_field_safely",
    "add_subject_index",
    "create_author_book",
    "populate_author_book",
    "AUTHORS",
    "add_authors",
    "make_conflicting_migrations",
    "make_cross_app_dependency",
    "make_dependencies_both_ways",
    "make_irreversible_migration",
    "make_squashed_migration",
    "pull",
]

STARTER_LINE = '    starter = models.ForeignKey(User, on_delete=models.CASCADE, related_name="topics")\n'
VIEWS_LINE = "    views = models.PositiveIntegerField(default=0)\n"
# The deploy-safe version: the default lives in the database, so old code that leaves the column out still inserts.
SAFE_VIEWS_LINE = "    views = models.PositiveIntegerField(db_default=0)\n"
SUBJECT_INDEX = '\n    class Meta:\n        indexes = [models.Index(fields=["subject"], name="topic_subject_idx")]\n'

AUTHOR_MODEL = """from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=512)

    def __str__(self):
        return self.name
"""

BOOK_MODEL = """

class Book(models.Model):
    title = models.CharField(max_length=512)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)

    def __str__(self):
        return self.title
"""


def _checked(result: CommandResult) -> CommandResult:
    """Return the result, or raise with its diagnosis if the step failed."""
    if not result.ok:
        raise KitError(f"Step failed: {result.command}. {result.message}")
    return result


def add_views_field(sandbox: Sandbox, *, migrate: bool = True) -> CommandResult:
    """Add ``views`` to Topic, make 0003_topic_views and (by default) apply it."""
    sandbox.edit("boards/models.py", STARTER_LINE, STARTER_LINE + VIEWS_LINE)
    result = _checked(sandbox.makemigrations("boards"))
    return _checked(sandbox.migrate()) if migrate else result


def add_views_field_safely(sandbox: Sandbox, *, migrate: bool = True) -> CommandResult:
    """Add ``views`` with a database default (db_default=0): 0003_topic_views, safe to deploy on PostgreSQL."""
    sandbox.edit("boards/models.py", STARTER_LINE, STARTER_LINE + SAFE_VIEWS_LINE)
    result = _checked(sandbox.makemigrations("boards"))
    return _checked(sandbox.migrate()) if migrate else result


def add_subject_index(sandbox: Sandbox, *, migrate: bool = False) -> CommandResult:
    """Index Topic.subject through Meta.indexes: a migration with one AddIndex (CREATE INDEX, a SHARE lock)."""
    sandbox.edit("boards/models.py", STARTER_LINE, STARTER_LINE + SUBJECT_INDEX)
    result = _checked(sandbox.makemigrations("boards", name="topic_subject_idx"))
    return _checked(sandbox.migrate()) if migrate else result


def create_author_book(sandbox: Sandbox, *, migrate: bool = True) -> CommandResult:
    """Create the ``app`` app with Author (0001_initial) and Book (0002_added_Book_model)."""
    _checked(sandbox.startapp("app"))
    sandbox.write("app/models.py", AUTHOR_MODEL)
    sandbox.add_installed_app("app")
    _checked(sandbox.makemigrations("app"))
    if migrate:
        _checked(sandbox.migrate())
    sandbox.write("app/models.py", AUTHOR_MODEL + BOOK_MODEL)
    result = _checked(sandbox.makemigrations("app", name="added_Book_model"))
    return _checked(sandbox.migrate()) if migrate else result


def populate_author_book(sandbox: Sandbox) -> CommandResult:
    """Save one author and one book through the ORM, in ``manage.py shell``."""
    code = (
        "from app.models import Author, Book\n"
        'author = Author(name="JK Rowling")\nauthor.save()\n'
        'book = Book(title="Harry Potter", author=author)\nbook.save()\n'
        'print(Author.objects.count(), "author,", Book.objects.count(), "book")'
    )
    return _checked(sandbox.shell(code))


AUTHORS = ("Ursula K. Le Guin", "Terry Pratchett", "Octavia E. Butler")


def add_authors(sandbox: Sandbox) -> CommandResult:
    """Save the lesson's three authors through the ORM, in ``manage.py shell``."""
    code = (
        "from app.models import Author\n"
        f"for name in {AUTHORS!r}:\n    Author.objects.create(name=name)\n"
        'print(Author.objects.count(), "authors")'
    )
    return _checked(sandbox.shell(code))


_BRANCH_MIGRATION = """from django.db import migrations, models


class Migration(migrations.Migration):
    # Written on branch "{branch}", which also started from 0002_post.
    dependencies = [("boards", "0002_post")]

    operations = [
        migrations.AddField(model_name="topic", name="{field}", field=models.{field_type}),
    ]
"""


def make_conflicting_migrations(sandbox: Sandbox) -> list[str]:
    """Write two 0003 migrations that both follow 0002_post, as two merged branches would."""
    branches = [
        ("views", "views", "PositiveIntegerField(default=0)"),
        ("pinned", "pinned", "BooleanField(default=False)"),
    ]
    names = []
    for branch, field, field_type in branches:
        name = f"0003_topic_{field}"
        sandbox.write(
            f"boards/migrations/{name}.py", _BRANCH_MIGRATION.format(branch=branch, field=field, field_type=field_type)
        )
        line = f"    {field} = models.{field_type}\n"
        sandbox.edit("boards/models.py", STARTER_LINE, STARTER_LINE + line)
        names.append(name)
    return names


def pull(source: Sandbox, into: Sandbox, app_label: str) -> list[str]:
    """Copy an app's models.py and migration files from one sandbox to another, as ``git pull`` would.

    The database of ``into`` is not touched, and files ``into`` has that
    ``source`` does not are kept: git would keep them too until someone
    deletes them. Returns the files copied, relative to the project.
    """
    folder = f"{app_label}/migrations"
    names = sorted(p.name for p in source.file(folder).glob("*.py"))
    copied = [f"{app_label}/models.py"] + [f"{folder}/{name}" for name in names]
    for relative in copied:
        into.write(relative, source.read(relative))
    return copied


def make_squashed_migration(sandbox: Sandbox) -> CommandResult:
    """Squash boards 0001 and 0002 into one migration that replaces them."""
    return _checked(sandbox.manage("squashmigrations", "--noinput", "boards", "0002"))


def make_cross_app_dependency(sandbox: Sandbox, *, migrate: bool = True) -> CommandResult:
    """Point tracker's Transaction at boards' Board: tracker 0002 then depends on boards."""
    sandbox.edit(
        "tracker/models.py",
        "    user = models.ForeignKey(User, on_delete=models.CASCADE)\n",
        "    user = models.ForeignKey(User, on_delete=models.CASCADE)\n"
        '    board = models.ForeignKey("boards.Board", on_delete=models.SET_NULL, null=True)\n',
    )
    result = _checked(sandbox.makemigrations("tracker", name="transaction_board"))
    return _checked(sandbox.migrate()) if migrate else result


LEDGER_LINE = (
    '    ledger = models.ForeignKey("tracker.Transaction", on_delete=models.SET_NULL, null=True, related_name="+")\n'
)


def make_dependencies_both_ways(sandbox: Sandbox) -> CommandResult:
    """Make tracker 0002 depend on boards 0002_post, then boards 0003_board_ledger on tracker 0002; apply all.

    Each dependency is fine; squashing boards past 0003 then closes a circle.
    """
    make_cross_app_dependency(sandbox)
    description = "    description = models.CharField(max_length=100)\n"
    sandbox.edit("boards/models.py", description, description + LEDGER_LINE)
    _checked(sandbox.makemigrations("boards", name="board_ledger"))
    return _checked(sandbox.migrate())


_IRREVERSIBLE = """from django.db import migrations


def uppercase_subjects(apps, schema_editor):
    Topic = apps.get_model("boards", "Topic")
    Topic.objects.update(subject=models_upper("subject"))


def models_upper(field):
    from django.db.models.functions import Upper

    return Upper(field)


class Migration(migrations.Migration):
    dependencies = [("boards", "0002_post")]

    # No reverse_code: Django cannot undo this step.
    operations = [migrations.RunPython(uppercase_subjects)]
"""


def make_irreversible_migration(sandbox: Sandbox, *, migrate: bool = True) -> CommandResult | None:
    """Add a data migration with no reverse function: it can be applied but not unapplied."""
    sandbox.write("boards/migrations/0003_uppercase_subjects.py", _IRREVERSIBLE)
    return _checked(sandbox.migrate("boards")) if migrate else None


def example_project(name: str = "shop", *, workspace: Path | str | None = None) -> Path:
    """Lay out an example project as if it were your own: its folder, a migrated database and some data.

    The project is copied from ``notebooks/projects/<name>`` to
    ``<workspace>/projects/<name>`` (made again each time), migrated, and
    filled from its ``<name>_demo`` fixture. It is not a sandbox: it plays the
    part of a project on your disk, which ``Sandbox.copy_of`` copies and never
    writes.
    """
    validate_name(name, "Example project")
    source = EXAMPLE_PROJECTS / name
    if not (source / "manage.py").is_file():
        known = ", ".join(sorted(p.name for p in EXAMPLE_PROJECTS.iterdir() if (p / "manage.py").is_file()))
        raise KitError(f"There is no example project called '{name}'. Fix: use one of {known}.")
    root = Path(workspace).expanduser().resolve() if workspace is not None else workspace_root()
    target = root / "projects" / name
    building = root / "projects" / f".{name}-{uuid.uuid4().hex[:8]}"
    shutil.copytree(source, building, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.sqlite3"))
    try:
        for args in (["migrate", "--noinput"], ["loaddata", f"{name}_demo"]):
            _checked(run_manage(building, args, timeout=DEFAULT_TIMEOUT))
        if target.exists():
            shutil.rmtree(target)
        building.rename(target)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target


def digest(folder: Path | str) -> str:
    """Return a short hash of every file under a folder, names and bytes, links not followed."""
    folder = Path(folder)
    hashed = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        if "__pycache__" in path.parts:
            continue
        hashed.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return hashed.hexdigest()[:16]
