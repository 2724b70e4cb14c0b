"""Previews tell the truth about rollbacks that fail, and a failed migrate shows one stable sentence.

The rename situation of the lessons: makemigrations asked "Was book.title
renamed to book.name?", the answer was no, so 0003 removes title and adds
name. Unapplying 0003 adds title back as NOT NULL with no default, which the
row already there cannot fill.
"""

from __future__ import annotations

import re

import pytest

from widgets import Sandbox
from widgets.draw.rows import ROW_DIFF_COLUMNS
from widgets.read.rollback import RollbackPreview, may_fail_here, rollback_preview, step_may_fail
from widgets.read.state import plan_from_steps
from widgets.read.table import make_table, same_rows
from widgets.run.commands import CommandResult
from widgets.run.diagnose import diagnose
from widgets.run.rehearsal import Rehearsal

TITLE_TO_NAME = """from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("app", "0002_added_Book_model")]
    operations = [
        migrations.RemoveField(model_name="book", name="title"),
        migrations.AddField(model_name="book", name="name", field=models.CharField(default="", max_length=512),
                            preserve_default=False),
    ]
"""
UNIQUE_NAME = """from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("app", "0002_added_Book_model")]
    operations = [migrations.AlterField(model_name="author", name="name",
                                        field=models.CharField(max_length=512, unique=True))]
"""


@pytest.fixture
def renamed(author_book: Sandbox) -> Sandbox:
    """The Author/Book sandbox (one book) after 0003 removed title and added name."""
    author_book.restore("built")
    author_book.write("app/migrations/0003_title_to_name.py", TITLE_TO_NAME)
    assert author_book.migrate("app").ok
    return author_book


def test_the_rename_rollback_is_previewed_as_failing_before_anything_runs(renamed: Sandbox) -> None:
    before = renamed.query("SELECT * FROM app_book")
    preview = rollback_preview(renamed, "app", "0002_added_Book_model")
    assert preview.may_fail == ((1, "app.0003_title_to_name", "it puts title back as NOT NULL with no default"),)
    assert preview.rehearsal is not None and not preview.rehearsal.ok, "rehearsed by default, without rehearse=True"
    headline, summary = str(preview).splitlines()[:2]
    assert headline == (
        "This rollback would fail at step 1 (app.0003_title_to_name): Rolling back app.0003_title_to_name failed: "
        "the database refused the existing rows (NOT NULL constraint on app_book.title). Django stopped at "
        "app.0003_title_to_name, which is left as it was; the steps before it stay done. Fix: the rollback re-adds "
        "the column with no value for the rows already there: give the field a default (or null=True) in the "
        "migration that removed it, or empty the table first, or stop the rollback before that migration."
    )
    assert summary.startswith("Rehearsed on a copy, which is deleted; had it run: migrate app 0002_added_Book_model")
    assert "This rollback would fail at step 1" in preview._repr_html_().split("</p>")[0]
    # The preview ran nothing on the sandbox itself.
    assert "0003_title_to_name" in set(renamed.applied_migrations()["name"])
    assert same_rows(renamed.query("SELECT * FROM app_book"), before)


def test_the_real_failed_rollback_shows_one_stable_sentence_and_a_folded_traceback(renamed: Sandbox) -> None:
    result = renamed.migrate("app", "0002_added_Book_model")
    assert not result.ok and result.diagnosis.code == "integrity_not_null_backwards"
    shown = result.terminal()
    assert "Traceback" not in shown and "(full traceback in result.stderr)" in shown
    assert not re.search(r"(^|\s)/\w", shown), "no absolute path in what a lesson stores"
    assert shown.splitlines()[-1].startswith("[!] Rolling back app.0003_title_to_name failed:")
    assert renamed.migrate("app", "0002_added_Book_model").terminal() == shown, "the same text every run"


def test_a_rollback_whose_steps_cannot_fail_is_not_rehearsed(renamed: Sandbox) -> None:
    """Dropping the added column (the first half of unapplying 0003) puts nothing back."""
    preview = rollback_preview(renamed, "app", "0002_added_Book_model", rehearse=False)
    [step] = [s for s in renamed.preview("app", "0002_added_Book_model")["steps"] if s["backwards"]]
    only_the_drop = {**step, "operations": [op for op in step["operations"] if op["operation"] == "AddField"]}
    assert step_may_fail(only_the_drop) == "" and step_may_fail(step) != ""
    assert preview.rehearsal is None and str(preview).startswith("migrate app 0002_added_Book_model unapplies 1")


def test_a_constraint_put_back_over_empty_tables_is_not_rehearsed(renamed: Sandbox) -> None:
    """With no book left and no code in the plan, NOT NULL on app_book.title cannot be refused: no copy is made."""
    assert renamed.shell("from app.models import Book\nBook.objects.all().delete()").ok
    preview = rollback_preview(renamed, "app", "0002_added_Book_model")
    assert preview.may_fail == ((1, "app.0003_title_to_name", "it puts title back as NOT NULL with no default"),)
    assert preview.rehearsal is None
    [step] = [s for s in renamed.preview("app", "0002_added_Book_model")["steps"] if s["backwards"]]
    assert step["rows"] == {"app_book": 0}
    assert not may_fail_here([step])
    # The same step with a row there, or after a step that runs code, can fail.
    assert may_fail_here([{**step, "rows": {"app_book": 1}}])
    code = {"operation": "RunPython", "code": {"backwards": {"name": "fill", "doc": ""}}}
    assert may_fail_here([{**step, "operations": [*step["operations"], code]}])
    # The real rollback indeed runs on the empty table.
    assert renamed.migrate("app", "0002_added_Book_model").ok


def test_a_unique_constraint_put_back_over_duplicates_is_previewed_as_failing(author_book: Sandbox) -> None:
    author_book.restore("built")
    author_book.write("app/migrations/0003_unique_name.py", UNIQUE_NAME)
    assert author_book.migrate("app").ok
    assert author_book.migrate("app", "0002_added_Book_model").ok
    # Forwards over duplicate names: the diagnosis names the constraint and the fix.
    author_book.shell("from app.models import Author\nAuthor.objects.create(name='JK Rowling')")
    forwards = author_book.migrate("app")
    assert forwards.diagnosis.code == "integrity_unique_forwards"
    assert str(forwards.diagnosis).startswith(
        "Applying app.0003_unique_name failed: the database refused the existing rows (UNIQUE constraint on "
        "app_author.name)."
    )


def test_a_step_without_previewable_sql_says_the_rehearsed_rollback_works() -> None:
    """sqlmigrate --backwards can fail where the real migrate works: the preview says so in one sentence."""
    steps = [{"app_label": "app", "name": "0004_index", "backwards": True, "operations": []}]
    plan = plan_from_steps("app", "0003", steps)
    worked = CommandResult(("migrate", "app", "0003"), "  Unapplying app.0004_index... OK\n", "", 0, 0.1)
    no_sql = [
        ("app", "0004_index", "-- sqlmigrate could not show it: ValueError: Found wrong number (0) of constraints")
    ]
    drops = make_table([], ["step", "migration", "table", "column", "rows_lost"])
    preview = RollbackPreview(
        "app", "0003", plan, no_sql, drops, Rehearsal("app", "0003", worked, make_table([], ROW_DIFF_COLUMNS))
    )
    assert str(preview).splitlines()[1] == (
        "sqlmigrate cannot show the SQL of app.0004_index, but the rehearsal ran the real rollback on a copy "
        "to the end: it works."
    )
    assert step_may_fail({"operations": [{"operation": "RenameIndex"}], "sql": {"error": {}}}) == (
        "its SQL cannot be previewed"
    )


@pytest.mark.parametrize(
    ("stdout", "stderr", "code", "where"),
    [
        (
            "  Applying app.0003_book_owner...",
            "django.db.utils.IntegrityError: The row in table 'app_book' with primary key '1' has an invalid "
            "foreign key: app_book.owner_id contains a value '7' that does not have a corresponding value in app_owner.id.",
            "integrity_foreign_key_forwards",
            "FOREIGN KEY constraint on app_book.owner_id",
        ),
        (
            "  Unapplying app.0004_drop_owner... OK\n  Unapplying app.0003_book_owner...",
            "django.db.utils.IntegrityError: FOREIGN KEY constraint failed",
            "integrity_foreign_key_backwards",
            "FOREIGN KEY constraint)",
        ),
        (
            "  Applying app.0003_not_null...",
            'psycopg.errors.NotNullViolation: null value in column "title" of relation "app_book" violates '
            "not-null constraint\n\nThe above exception ...\ndjango.db.utils.IntegrityError: null value in column "
            '"title" of relation "app_book" violates not-null constraint',
            "integrity_not_null_forwards",
            "NOT NULL constraint on app_book.title",
        ),
        (
            "  Unapplying app.0003_unique...",
            'django.db.utils.IntegrityError: duplicate key value violates unique constraint "app_author_name_key"',
            "integrity_unique_backwards",
            "UNIQUE constraint on app_author_name_key",
        ),
    ],
)
def test_integrity_errors_during_migrate_get_a_sentence_and_a_fix(stdout, stderr, code, where, tmp_path) -> None:
    found = diagnose(("migrate", "app"), stdout, f"Traceback (most recent call last):\n{stderr}\n", 1, tmp_path)
    assert found.code == code and where in found.cause
    assert ("Rolling back" if "backwards" in code else "Applying") in found.cause
