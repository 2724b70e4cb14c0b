"""A renamed column is not a dropped and added one: diff and rows_table read the migration's operations."""

from __future__ import annotations

import pytest

from widgets import Sandbox, diff
from widgets.draw.rows import rows_frame, rows_table
from widgets.read.diff import renamed_columns

RENAME = """from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("app", "0002_added_Book_model")]
    operations = [migrations.RenameField(model_name="book", old_name="title", new_name="name")]
"""
DROP_AND_ADD = """from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("app", "0002_added_Book_model")]
    operations = [
        migrations.RemoveField(model_name="book", name="title"),
        migrations.AddField(model_name="book", name="name", field=models.CharField(default="", max_length=512),
                            preserve_default=False),
    ]
"""


def set_every(sandbox: Sandbox, column: str, value: str) -> None:
    """Write one value into a column of every book, in SQL (models.py does not follow the migration here)."""
    code = (
        f"from django.db import connection\nconnection.cursor().execute(\"UPDATE app_book SET {column} = '{value}'\")"
    )
    assert sandbox.shell(code).ok


def migrated(sandbox: Sandbox, migration: str):
    """Apply 0003 written as given; return the plan, the state and the book rows before it."""
    sandbox.restore("built")
    sandbox.write("app/migrations/0003_book_name.py", migration)
    plan, before, rows = sandbox.plan("app", "0003_book_name"), sandbox.state(), rows_frame(sandbox, "app_book")
    assert sandbox.migrate("app").ok
    return plan, before, rows


def test_a_rename_is_shown_as_a_rename_with_its_values_kept(author_book: Sandbox) -> None:
    plan, before, rows = migrated(author_book, RENAME)
    assert renamed_columns(plan) == [("app_book", "title", "name")]
    lines = diff(before, author_book.state(), plan=plan).summary()
    assert "~ column app_book.title renamed to name: 1 value(s) kept" in lines
    assert not [line for line in lines if "column app_book." in line and line[0] in "+-"]
    table = rows_table(author_book, "app_book", previous=rows, plan=plan)
    assert table.caption == "app_book: 1 row(s), 0 changed or new; title renamed to name, 1 value(s) kept"
    # Without the operations the same change reads as a column added and one removed.
    plain = diff(before, author_book.state()).summary()
    assert "+ column app_book.name (varchar(512))" in plain and "- column app_book.title (varchar(512))" in plain


def test_a_drop_and_add_says_the_values_are_lost(author_book: Sandbox) -> None:
    plan, before, rows = migrated(author_book, DROP_AND_ADD)
    assert renamed_columns(plan) == []
    lines = diff(before, author_book.state(), plan=plan).summary()
    assert "- column app_book.title (varchar(512)): dropped, not renamed, 1 value(s) lost" in lines
    assert "+ column app_book.name (varchar(512))" in lines
    table = rows_table(author_book, "app_book", previous=rows, plan=plan)
    assert table.caption == "app_book: 1 row(s), 0 changed or new; title dropped, not renamed, 1 value(s) lost"


def test_rolling_a_rename_back_renames_the_other_way_and_highlights_a_changed_value(author_book: Sandbox) -> None:
    migrated(author_book, RENAME)
    set_every(author_book, "name", "HP")
    rows, before = rows_frame(author_book, "app_book"), author_book.state()
    back = author_book.plan("app", "0002_added_Book_model")
    assert renamed_columns(back) == [("app_book", "name", "title")]
    assert author_book.migrate("app", "0002_added_Book_model").ok
    assert (
        "~ column app_book.name renamed to title: 1 value(s) kept"
        in diff(before, author_book.state(), plan=back).summary()
    )
    table = rows_table(author_book, "app_book", previous=rows, plan=back)
    assert table.caption == "app_book: 1 row(s), 0 changed or new; name renamed to title, 1 value(s) kept"
    set_every(author_book, "title", "X")
    changed = rows_table(author_book, "app_book", previous=rows, plan=back)
    assert changed.caption.startswith("app_book: 1 row(s), 1 changed or new; name renamed to title, 0 value(s) kept")
    assert "background-color" in changed.to_html()


@pytest.mark.parametrize("backwards", [False, True])
def test_renamed_columns_reads_only_rename_operations(backwards: bool) -> None:
    from widgets.read.state import Plan, PlanStep

    operations = [
        {"operation": "RenameField", "description": "Rename field subject on topic to title"},
        {"operation": "AddField", "description": "Rename field a on b to c"},
    ]
    plan = Plan("boards", "x", [PlanStep("boards", "0003", backwards, operations)])
    expected = ("boards_topic", "title", "subject") if backwards else ("boards_topic", "subject", "title")
    assert renamed_columns(plan) == [expected]
