"""Scenario builders: each makes the situation a lesson teaches, with real commands."""

from __future__ import annotations

import pytest

from widgets import KitError, scenarios
from widgets.read.table import keyed, records


def applied(sandbox) -> set[tuple[str, str]]:
    frame = sandbox.applied_migrations()
    return set(zip(frame["app"], frame["name"], strict=True))


def test_add_views_field_without_migrating_only_writes_the_migration(sandbox):
    result = scenarios.add_views_field(sandbox, migrate=False)
    assert result.args[0] == "makemigrations" and result.ok
    assert (sandbox.path / "boards/migrations/0003_topic_views.py").is_file()
    assert ("boards", "0003_topic_views") not in applied(sandbox)
    assert sandbox.plan("boards", "0003").direction == "forwards"


def test_add_views_field_applies_it(sandbox):
    result = scenarios.add_views_field(sandbox)
    assert result.args[0] == "migrate" and result.ok
    assert ("boards", "0003_topic_views") in applied(sandbox)


def test_create_and_populate_author_book(sandbox):
    result = scenarios.create_author_book(sandbox)
    assert result.ok
    assert {("app", "0001_initial"), ("app", "0002_added_Book_model")} <= applied(sandbox)
    book_author = keyed(sandbox.schema(), "table", "column")[("app_book", "author_id")]
    assert book_author["references_table"] == "app_author"
    populated = scenarios.populate_author_book(sandbox)
    assert populated.stdout == "1 author, 1 book\n"
    rows = {r["table"]: r["rows"] for r in records(sandbox.tables())}
    assert (rows["app_author"], rows["app_book"]) == (1, 1)
    assert scenarios.add_authors(sandbox).stdout == f"{1 + len(scenarios.AUTHORS)} authors\n"
    names = sandbox.query("SELECT name FROM app_author ORDER BY id")["name"].tolist()
    assert names[1:] == list(scenarios.AUTHORS)


def test_a_failed_step_raises_with_the_command_and_its_diagnosis(sandbox):
    sandbox.edit("boards/models.py", "class Board(models.Model):", "class Board(models.Model)")
    with pytest.raises(KitError, match=r"Step failed: python manage.py makemigrations boards\. Python cannot read"):
        scenarios.add_views_field(sandbox)


def test_make_conflicting_migrations_writes_two_leaf_nodes(sandbox):
    names = scenarios.make_conflicting_migrations(sandbox)
    assert names == ["0003_topic_views", "0003_topic_pinned"]
    for name in names:
        assert (sandbox.path / f"boards/migrations/{name}.py").is_file()
    # models.py agrees with the two branches, so only the conflict is left to fix.
    assert "views = models" in sandbox.read("boards/models.py")
    assert "pinned = models" in sandbox.read("boards/models.py")


def test_make_squashed_migration_replaces_0001_and_0002(sandbox):
    result = scenarios.make_squashed_migration(sandbox)
    assert result.ok
    squashed = sandbox.read("boards/migrations/0001_squashed_0002_post.py")
    assert "replaces = [('boards', '0001_initial'), ('boards', '0002_post')]" in squashed


def test_make_cross_app_dependency_links_tracker_to_boards(sandbox):
    result = scenarios.make_cross_app_dependency(sandbox)
    assert result.ok
    assert ("tracker", "0002_transaction_board") in applied(sandbox)
    edges = set(sandbox.migration_graph().edges.itertuples(index=False, name=None))
    assert ("boards", "0002_post", "tracker", "0002_transaction_board") in edges
    board = keyed(sandbox.schema(), "table", "column")[("tracker_transaction", "board_id")]
    assert (board["references_table"], board["null"]) == ("boards_board", True)


def test_make_irreversible_migration_applies_a_step_with_no_way_back(sandbox):
    assert scenarios.make_irreversible_migration(sandbox, migrate=False) is None
    assert ("boards", "0003_uppercase_subjects") not in applied(sandbox)
    assert sandbox.migrate("boards").ok
    assert ("boards", "0003_uppercase_subjects") in applied(sandbox)
    assert sandbox.plan("boards", "0002").irreversible


def test_pull_copies_an_apps_code_and_leaves_the_database(sandbox, fresh_sandbox):
    scenarios.add_views_field(sandbox)
    applied_before = applied(fresh_sandbox)
    copied = scenarios.pull(sandbox, fresh_sandbox, "boards")
    assert "boards/migrations/0003_topic_views.py" in copied and "boards/models.py" in copied
    assert fresh_sandbox.read("boards/models.py") == sandbox.read("boards/models.py")
    assert applied(fresh_sandbox) == applied_before
    assert ("boards", "0003_topic_views") in fresh_sandbox.migration_graph().keys()
