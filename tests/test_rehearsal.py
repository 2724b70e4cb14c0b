"""Data migrations made visible: row-level diffs, a rehearsal on a throw-away copy, code named in the plan."""

from __future__ import annotations

import pytest
from conftest import tree_digest

from widgets import rollback_preview, scenarios
from widgets.draw.rows import TableRows, rows_diff, rows_frame, rows_table
from widgets.errors import KitError
from widgets.read.table import is_table, keyed, where
from widgets.run.rehearsal import rehearse, round_trip

FILL_AND_EMPTY = '''from django.db import migrations, models


def fill_views(apps, schema_editor):
    """Give every topic 10 views."""
    apps.get_model("boards", "Topic").objects.update(views=10)


def empty_subjects(apps, schema_editor):
    """Blank every subject (a careless reverse)."""
    apps.get_model("boards", "Topic").objects.update(subject="")


class Migration(migrations.Migration):
    dependencies = [("boards", "0003_topic_views")]
    operations = [migrations.RunPython(fill_views, empty_subjects)]
'''


def test_rows_diff_names_every_kind_of_change():
    before = {
        "t": TableRows(
            "t", "id", ["id", "a", "b"], {1: {"id": 1, "a": "x", "b": 1}, 2: {"id": 2, "a": "y", "b": None}}
        ),
        "gone": TableRows("gone", "id", ["id"], {7: {"id": 7}}),
    }
    after = {
        "t": TableRows(
            "t", "id", ["id", "a", "c"], {1: {"id": 1, "a": None, "c": 5}, 3: {"id": 3, "a": "z", "c": None}}
        ),
        "text": TableRows("text", "id", ["id", "s"], {1: {"id": 1, "s": ""}, 2: {"id": 2, "s": "B"}}),
    }
    before["text"] = TableRows("text", "id", ["id", "s"], {1: {"id": 1, "s": "a"}, 2: {"id": 2, "s": ""}})
    changes = rows_diff(before, after)
    found = {(r.table, r.key, r.column, r.change) for r in changes.itertuples()}
    assert found == {
        ("gone", 7, None, "removed"),
        ("t", 1, "a", "emptied"),
        ("t", 1, "b", "removed"),
        ("t", 1, "c", "added"),
        ("t", 2, None, "removed"),
        ("t", 3, None, "added"),
        ("text", 1, "s", "emptied"),
        ("text", 2, "s", "filled"),
    }
    assert keyed(changes, "key", "column")[(1, "a")]["before"] == "x"


def test_a_careless_reverse_is_caught_by_the_rehearsal(sandbox):
    sandbox.manage("loaddata", "boards_demo")
    scenarios.add_views_field(sandbox)
    sandbox.write("boards/migrations/0004_fill_views.py", FILL_AND_EMPTY)
    assert sandbox.migrate().ok
    subjects = rows_frame(sandbox, "boards_topic")
    before = tree_digest(sandbox.path)
    preview = rollback_preview(sandbox, "boards", "0003")
    assert preview.rows_lost == 0  # no table or column goes: a plain preview would see nothing
    changes = preview.rehearsal.changes
    emptied = where(changes, lambda r: r["column"] == "subject" and r["change"] == "emptied")
    assert sorted(emptied["before"]) == sorted(subjects["subject"]) and set(emptied["after"]) == {""}
    assert "empty_subjects(): Blank every subject (a careless reverse)" in str(preview.plan)
    assert "Rehearsal of migrate boards 0003" in str(preview)
    assert tree_digest(sandbox.path) == before  # nothing ran on the sandbox itself
    assert not list((sandbox.workspace / ".kit" / "rehearsals").iterdir())


def test_an_irreversible_plan_fails_in_the_copy_only(sandbox):
    scenarios.make_irreversible_migration(sandbox)
    applied = sandbox.applied_migrations()[["app", "name"]]
    tried = rehearse(sandbox, "boards", "0002")
    assert not tried.ok and "has no way back" in tried.headline() and "not touched" in tried.headline()
    assert sandbox.applied_migrations()[["app", "name"]].equals(applied)
    assert "has no reverse function -> IRREVERSIBLE" in str(sandbox.plan("boards", "0002"))
    assert sandbox.migrate("boards", "0002", fake=True).ok
    assert "- RunPython uppercase_subjects()" in str(sandbox.plan("boards", "0003"))


def test_rows_table_highlights_changed_values(sandbox):
    sandbox.manage("loaddata", "boards_demo")
    earlier = rows_frame(sandbox, "boards_topic")
    sandbox.shell("from boards.models import Topic\nTopic.objects.filter(pk=1).update(subject='Changed')")
    page = rows_table(sandbox, "boards_topic", previous=earlier).to_html()
    assert "1 changed or new" in page and "Changed" in page
    assert is_table(earlier) and list(earlier.columns)[0] == "id"


def test_a_data_migration_written_from_two_functions_runs_both_ways(sandbox):
    from widgets.lessons.authoring import remove, show_file, write_data_migration

    sandbox.manage("loaddata", "boards_demo")
    scenarios.add_views_field(sandbox)
    shown = write_data_migration(
        sandbox,
        "boards",
        "count_views",
        "def forwards(apps, schema_editor):\n    apps.get_model('boards', 'Topic').objects.update(views=7)\n",
        "def backwards(apps, schema_editor):\n    apps.get_model('boards', 'Topic').objects.update(views=0)\n",
    )
    assert shown.relative == "boards/migrations/0004_count_views.py" and shown.marked
    assert "RunPython(forwards, backwards)" in shown.text and str(sandbox.path) not in str(shown)
    assert sandbox.migrate().ok
    assert set(rows_frame(sandbox, "boards_topic")["views"]) == {7}
    assert sandbox.migrate("boards", "0003").ok
    assert set(rows_frame(sandbox, "boards_topic")["views"]) == {0}
    page = show_file(sandbox, shown.relative, mark="update")._repr_html_()
    assert "boards/migrations/0004_count_views.py" in page and "objects" in page
    assert remove(sandbox, shown.relative) == "removed boards/migrations/0004_count_views.py"
    assert not (sandbox.path / shown.relative).exists()


def test_a_round_trip_names_the_values_that_do_not_come_back(sandbox):
    from widgets.lessons.authoring import write_data_migration

    sandbox.manage("loaddata", "boards_demo")
    scenarios.add_views_field(sandbox)
    # Not idempotent, with a reverse that does nothing: each round trip adds 10 more views.
    forwards = (
        "def add_views(apps, schema_editor):\n"
        "    from django.db.models import F\n"
        "    apps.get_model('boards', 'Topic').objects.update(views=F('views') + 10)\n"
    )
    write_data_migration(sandbox, "boards", "add_views", forwards, noop_backwards=True)
    assert sandbox.migrate("boards").ok
    topics = len(rows_frame(sandbox, "boards_topic"))
    untouched = tree_digest(sandbox.path)
    trip = round_trip(sandbox, "boards", "0003")
    assert trip.back.ok and trip.forth.ok and not trip.restored
    assert trip.back.changes.empty  # RunPython.noop: nothing changes on the way back
    assert len(trip.not_restored) == topics and set(trip.not_restored["column"]) == {"views"}
    assert set(trip.not_restored["before"]) == {10} and set(trip.not_restored["after"]) == {20}
    assert f"{topics} did not come back" in str(trip) and tree_digest(sandbox.path) == untouched


def test_a_round_trip_with_a_real_reverse_restores_every_value(sandbox):
    from widgets.lessons.authoring import write_data_migration

    sandbox.manage("loaddata", "boards_demo")
    scenarios.add_views_field(sandbox)
    write_data_migration(
        sandbox,
        "boards",
        "count_views",
        "def forwards(apps, schema_editor):\n    apps.get_model('boards', 'Topic').objects.update(views=7)\n",
        "def backwards(apps, schema_editor):\n    apps.get_model('boards', 'Topic').objects.update(views=0)\n",
    )
    assert sandbox.migrate("boards").ok
    trip = round_trip(sandbox, "boards", "0003")
    assert trip.restored and not trip.back.changes.empty and trip.not_restored.empty
    assert set(trip.back.changes["after"]) == {0} and "every one came back" in str(trip)
    with pytest.raises(KitError, match="is not a rollback from where the sandbox is"):
        round_trip(sandbox, "boards", "0004_count_views")


def test_a_data_migration_after_a_squash_is_numbered_after_what_it_replaces(sandbox):
    from widgets.lessons.authoring import write_data_migration

    scenarios.add_views_field(sandbox)
    assert sandbox.manage("squashmigrations", "--noinput", "boards", "0003").ok
    shown = write_data_migration(sandbox, "boards", "noop", "def forwards(apps, schema_editor):\n    pass\n")
    assert shown.relative == "boards/migrations/0004_noop.py"
    assert '("boards", "0001_squashed_0003_topic_views")' in shown.text


def test_a_round_trip_stopped_on_the_way_back_says_so_and_leaves_the_sandbox(sandbox):
    scenarios.make_irreversible_migration(sandbox)
    untouched = tree_digest(sandbox.path)
    trip = round_trip(sandbox, "boards", "0002")
    assert not trip.back.ok and trip.forth is None and not trip.restored
    assert trip.back.changes.empty and trip.not_restored.empty
    assert "has no way back" in str(trip) and tree_digest(sandbox.path) == untouched
