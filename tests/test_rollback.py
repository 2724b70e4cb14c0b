"""Rollback previews: the backwards plan, its SQL and the data lost, before anything runs."""

from __future__ import annotations

from widgets import scenarios
from widgets.read.rollback import rollback_preview
from widgets.read.table import keyed, records


def test_author_book_rollback_drops_app_book_with_one_row(sandbox):
    scenarios.create_author_book(sandbox)
    scenarios.populate_author_book(sandbox)
    applied = sandbox.applied_migrations()
    preview = rollback_preview(sandbox, "app", "0001_initial")
    assert preview.is_rollback and preview.irreversible == []
    assert [(s.app_label, s.name) for s in preview.plan.steps] == [("app", "0002_added_Book_model")]
    drops = records(preview.drops)
    assert drops == [
        {"step": 1, "migration": "app.0002_added_Book_model", "table": "app_book", "column": None, "rows_lost": 1}
    ]
    assert preview.rows_lost == 1
    assert 'DROP TABLE "app_book"' in preview.sql[0][2]
    assert "table app_book: 1 row(s) lost" in str(preview)
    assert "app_book" in preview._repr_html_() and "<pre>" in preview._repr_html_()
    # Nothing ran: the table and its row are still there.
    assert keyed(sandbox.tables(), "table")["app_book"]["rows"] == 1
    assert sandbox.applied_migrations()[["app", "name"]].equals(applied[["app", "name"]])


def test_views_rollback_drops_a_column(sandbox):
    scenarios.add_views_field(sandbox)
    preview = rollback_preview(sandbox, "boards", "0002")
    assert [(r["table"], r["column"]) for r in records(preview.drops)] == [("boards_topic", "views")]
    assert "DROP COLUMN" in preview.sql[0][2]
    assert "column boards_topic.views" in str(preview)


def test_irreversible_step_is_flagged(sandbox):
    scenarios.make_irreversible_migration(sandbox)
    preview = rollback_preview(sandbox, "boards", "0002")
    assert [(a, n) for a, n, _ in preview.irreversible] == [("boards", "0003_uppercase_subjects")]
    assert "Irreversible" in str(preview) and "Irreversible" in preview._repr_html_()


def test_forwards_and_nothing_to_do_are_not_rollbacks(fresh_sandbox, sandbox):
    forwards = rollback_preview(fresh_sandbox, "boards", "0001")
    assert not forwards.is_rollback and "does not roll anything back" in str(forwards)
    assert forwards.sql == [] and forwards.drops.empty
    nothing = rollback_preview(sandbox, "boards", "0002")
    assert "nothing to unapply" in str(nothing)


def assert_same_as_sqlmigrate(sandbox, preview) -> None:
    for app, name, sql in preview.sql:
        bare = sandbox.sqlmigrate(app, name, backwards=True)
        expected = bare.stdout.strip() if bare.ok else f"-- sqlmigrate could not show it: {bare.message}"
        assert sql == expected, f"{app}.{name}"


def test_preview_sql_is_text_identical_to_sqlmigrate_backwards(sandbox):
    scenarios.create_author_book(sandbox)
    scenarios.add_views_field(sandbox)
    for app_label, target in (("boards", "0001"), ("app", "zero")):
        preview = rollback_preview(sandbox, app_label, target)
        assert len(preview.sql) == 2
        assert_same_as_sqlmigrate(sandbox, preview)


def test_preview_of_an_irreversible_step_says_what_sqlmigrate_says(sandbox):
    scenarios.make_irreversible_migration(sandbox)
    preview = rollback_preview(sandbox, "boards", "0001")
    assert "could not show it" in preview.sql[0][2] and "has no way back" in preview.sql[0][2]
    assert_same_as_sqlmigrate(sandbox, preview)


def test_preview_counts_the_join_table_of_a_many_to_many(sandbox):
    scenarios.create_author_book(sandbox)
    models = sandbox.read("app/models.py")
    sandbox.write(
        "app/models.py", models + "\n\nclass Shelf(models.Model):\n    books = models.ManyToManyField(Book)\n"
    )
    assert sandbox.makemigrations("app").ok and sandbox.migrate().ok
    scenarios.populate_author_book(sandbox)
    sandbox.shell("from app.models import Book, Shelf\nShelf.objects.create().books.add(*Book.objects.all())")
    preview = rollback_preview(sandbox, "app", "0002")
    lost = dict(zip(preview.drops["table"], preview.drops["rows_lost"], strict=True))
    assert lost == {"app_shelf": 1, "app_shelf_books": 1}


def test_a_noop_on_the_way_back_needs_no_rehearsal_but_real_reverse_code_gets_one(sandbox):
    from widgets.lessons.authoring import write_data_migration

    code = "def forwards(apps, schema_editor):\n    pass\n\n\ndef backwards(apps, schema_editor):\n    pass\n"
    write_data_migration(sandbox, "boards", "noop_back", code, noop_backwards=True)
    assert sandbox.migrate().ok
    quiet = rollback_preview(sandbox, "boards", "0002")
    assert quiet.rehearsal is None and "RunPython" in str(quiet.plan)
    assert rollback_preview(sandbox, "boards", "0002", rehearse=True).rehearsal is not None
