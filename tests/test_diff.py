"""diff(before, after): what a command changed in the database."""

from __future__ import annotations

from widgets import StateDiff, diff, scenarios
from widgets.read.table import keyed, records


def keys(frame, *columns: str) -> set[tuple]:
    return set(frame[list(columns)].itertuples(index=False, name=None))


def test_the_same_state_is_no_change(sandbox):
    changes = diff(sandbox.state(), sandbox.state())
    assert isinstance(changes, StateDiff)
    assert changes.is_empty
    assert changes.summary() == [] and str(changes) == "No changes."


def test_adding_a_field_adds_a_column_and_a_migration_row(sandbox):
    before = sandbox.state()
    scenarios.add_views_field(sandbox)
    changes = diff(before, sandbox.state())
    assert not changes.is_empty
    assert changes.tables_added == [] and changes.tables_removed == []
    assert keys(changes.columns_added, "table", "column") == {("boards_topic", "views")}
    assert changes.columns_removed.empty and changes.columns_changed.empty
    assert keys(changes.migrations_applied, "app", "name") == {("boards", "0003_topic_views")}
    assert changes.migrations_unapplied.empty
    rows = len(before.applied)
    assert changes.summary() == [
        "+ migration boards.0003_topic_views applied",
        "+ column boards_topic.views (integer unsigned)",
        f"~ rows in django_migrations: {rows} -> {rows + 1}",
    ]


def test_migrating_an_empty_database_adds_every_table(fresh_sandbox):
    before = fresh_sandbox.state()
    assert fresh_sandbox.migrate().ok
    changes = diff(before, fresh_sandbox.state())
    assert {"boards_board", "boards_topic", "boards_post", "django_migrations"} <= set(changes.tables_added)
    assert ("boards", "0002_post") in keys(changes.migrations_applied, "app", "name")
    summary = changes.summary()
    assert "+ table boards_topic" in summary
    # Columns and foreign keys of a new table are not repeated line by line.
    assert not [line for line in summary if line.startswith(("+ column boards_topic", "+ foreign key boards_topic"))]
    fks = keys(changes.foreign_keys_added, "table", "column", "references_table")
    assert ("boards_topic", "board_id", "boards_board") in fks


def test_a_rollback_removes_tables_and_says_how_many_rows_went_with_them(sandbox):
    assert sandbox.manage("loaddata", "boards_demo").ok
    before = sandbox.state()
    posts = int(keyed(before.tables, "table")["boards_post"]["rows"])
    assert posts > 0
    assert sandbox.migrate("boards", "0001").ok
    changes = diff(before, sandbox.state())
    assert changes.tables_removed == ["boards_post"]
    assert keys(changes.migrations_unapplied, "app", "name") == {("boards", "0002_post")}
    assert records(changes.rows_dropped) == [{"table": "boards_post", "rows": posts}]
    assert f"- table boards_post ({posts} rows)" in changes.summary()
    assert ("boards_post", "topic_id", "boards_topic") in keys(
        changes.foreign_keys_removed, "table", "column", "references_table"
    )
    assert "~ rows in django_migrations" in "\n".join(changes.summary())


def test_rolling_back_a_field_removes_its_column(sandbox):
    scenarios.add_views_field(sandbox)
    before = sandbox.state()
    assert sandbox.migrate("boards", "0002").ok
    changes = diff(before, sandbox.state())
    assert keys(changes.columns_removed, "table", "column") == {("boards_topic", "views")}
    assert "- column boards_topic.views (integer unsigned)" in changes.summary()
    assert changes.tables_removed == []


def test_reapplying_gives_new_ids_for_the_same_migrations(sandbox):
    before = sandbox.state()
    old_ids = [r["id"] for r in records(before.applied) if r["app"] == "boards"]
    assert sandbox.migrate("boards", "zero").ok
    assert sandbox.migrate("boards").ok
    after = sandbox.state()
    new_ids = [r["id"] for r in records(after.applied) if r["app"] == "boards"]
    assert [r["name"] for r in records(after.applied) if r["app"] == "boards"] == ["0001_initial", "0002_post"]
    assert min(new_ids) > max(before.applied["id"]) and new_ids != old_ids
    changes = diff(before, after)
    # Rows are matched on (app, name), not on ids: the same migrations are applied again.
    assert changes.migrations_applied.empty and changes.migrations_unapplied.empty
    assert changes.tables_added == [] and changes.tables_removed == []


def test_a_changed_column_is_reported_with_its_old_and_new_type(sandbox):
    sandbox.edit("boards/models.py", "max_length=30, unique=True", "max_length=50, unique=True")
    before = sandbox.state()
    assert sandbox.makemigrations("boards").ok and sandbox.migrate().ok
    changes = diff(before, sandbox.state())
    assert records(changes.columns_changed) == [
        {"table": "boards_board", "column": "name", "change": "type 'varchar(30)' -> 'varchar(50)'"}
    ]
    assert "~ column boards_board.name: type 'varchar(30)' -> 'varchar(50)'" in changes.summary()


def test_row_counts_that_change_are_listed(sandbox):
    before = sandbox.state()
    assert sandbox.manage("loaddata", "boards_demo").ok
    changes = diff(before, sandbox.state())
    counts = keyed(changes.row_counts, "table")
    assert counts["boards_board"]["before"] == 0 and counts["boards_board"]["after"] > 0
    assert "tracker_category" not in counts
