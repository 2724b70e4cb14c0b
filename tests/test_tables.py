"""The django_migrations, schema and row-count tables, with changes marked."""

from __future__ import annotations

import pytest

from widgets import Sandbox, scenarios
from widgets.draw.tables import (
    migrations_frame,
    migrations_table,
    row_counts_frame,
    row_counts_table,
    schema_frame,
    schema_table,
)
from widgets.read.table import column, keyed, records


@pytest.fixture(scope="module")
def views_states():
    """States before the views field, with it applied, and after rolling it back."""
    sandbox = Sandbox.fresh("tables-views")
    before = sandbox.state()
    scenarios.add_views_field(sandbox)
    applied = sandbox.state()
    sandbox.migrate("boards", "0002")
    yield before, applied, sandbox.state(), sandbox.migration_graph()
    sandbox.delete()


def test_newly_applied_migration_is_marked(views_states):
    before, applied, _, _ = views_states
    frame = migrations_frame(applied, previous=before)
    last = records(frame)[-1]
    assert (last["app"], last["name"], last["change"]) == ("boards", "0003_topic_views", "applied")
    assert list(frame["order"]) == list(range(1, len(frame) + 1))
    assert set(frame["change"][:-1]) == {""}
    assert None not in column(frame, "applied")  # the real timestamps are still there


def test_unapplied_migration_kept_and_struck_through(views_states):
    _, applied, rolled_back, _ = views_states
    frame = migrations_frame(rolled_back, previous=applied, app_label="boards")
    assert list(zip(frame["name"], frame["change"], strict=True))[-1] == ("0003_topic_views", "unapplied")
    html = migrations_table(rolled_back, previous=applied).to_html()
    assert "line-through" in html and "0003_topic_views" in html.replace(
        "<wbr>", ""
    )  # <wbr>: where a long name may wrap


def test_migrations_table_hides_timestamps_and_is_stable(views_states):
    before, applied, _, _ = views_states
    html = migrations_table(applied, previous=before).to_html()
    year = str(column(applied.applied, "applied")[0].year)
    assert year not in html
    assert html == migrations_table(applied, previous=before).to_html()
    assert year in migrations_table(applied, show_time=True).to_html()


def test_schema_frame_marks_added_and_removed_columns(views_states):
    before, applied, rolled_back, views_graph = views_states
    added = schema_frame(applied, previous=before, table="boards_topic")
    assert keyed(added, "column")["views"]["change"] == "added"
    removed = schema_frame(rolled_back, previous=applied, table="boards_topic")
    assert keyed(removed, "column")["views"]["change"] == "removed"
    assert "line-through" in schema_table(rolled_back, previous=applied, table="boards_topic").to_html()
    # A State cannot tell whose tables it holds: the probe's contrib flag, through the graph, does.
    assert any(name.startswith("auth_") for name in column(schema_frame(applied), "table"))
    django = views_graph.contrib_tables()
    assert {"auth_user", "django_migrations", "django_session"} <= django and "boards_topic" not in django
    assert not any(
        name.startswith(("auth_", "django_")) for name in column(schema_frame(applied, contrib_tables=django), "table")
    )


def test_row_counts_after_author_book(sandbox):
    before = sandbox.state()
    scenarios.create_author_book(sandbox)
    scenarios.populate_author_book(sandbox)
    frame = keyed(row_counts_frame(sandbox, previous=before), "table")
    assert frame["app_book"]["rows"] == 1 and frame["app_book"]["change"] == "added"
    assert frame["boards_topic"]["change"] == ""
    with_book = sandbox.state()
    sandbox.migrate("app", "0001_initial")
    after = keyed(row_counts_frame(sandbox, previous=with_book), "table")
    assert after["app_book"]["change"] == "removed" and after["app_book"]["before"] == 1
    assert "before" not in row_counts_table(sandbox).to_html()


def test_django_s_own_apps_come_from_the_probe(views_states):
    _, applied, _, graph = views_states
    frame = migrations_frame(applied, include_contrib=False, contrib_apps=graph.contrib_apps())
    assert set(frame["app"]) == {"boards", "tracker"}
    assert set(migrations_frame(applied, include_contrib=False)["app"]) >= {"auth", "boards"}  # a State cannot tell
