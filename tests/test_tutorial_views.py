"""The tutorial's views field, end to end through the kit's API, as a learner would do it."""

from __future__ import annotations

import re

import pytest
from conftest import tree_digest

from widgets import KitError, scenarios
from widgets.read.table import records, where
from widgets.sandbox.paths import TEMPLATE_DIR

TOPIC_URL = "/boards/1/topics/1/"


def test_the_views_field_from_models_py_to_the_page_counter(sandbox, untouched):
    template_before = tree_digest(TEMPLATE_DIR)

    # 1. Edit models.py: Topic gets a views counter.
    sandbox.edit("boards/models.py", scenarios.STARTER_LINE, scenarios.STARTER_LINE + scenarios.VIEWS_LINE)
    assert scenarios.VIEWS_LINE in sandbox.read("boards/models.py")

    # 2. makemigrations writes 0003_topic_views, with the lines the tutorial shows (Django 5 says '+').
    made = sandbox.makemigrations()
    assert made.ok, made.terminal()
    assert made.stdout.splitlines() == [
        "Migrations for 'boards':",
        "  boards/migrations/0003_topic_views.py",
        "    + Add field views to topic",
    ]
    assert (sandbox.path / "boards/migrations/0003_topic_views.py").is_file()

    # 3. migrate applies it.
    migrated = sandbox.migrate()
    assert migrated.ok, migrated.terminal()
    assert "  Applying boards.0003_topic_views... OK" in migrated.stdout.splitlines()
    assert ("boards", "0003_topic_views") in set(
        zip(sandbox.applied_migrations()["app"], sandbox.applied_migrations()["name"], strict=True)
    )
    [views_column] = records(where(sandbox.schema(), table="boards_topic", column="views"))
    assert views_column["type"] == "integer unsigned" and not views_column["null"]

    # 4. Load the demo boards and topics; every topic starts at 0 views.
    loaded = sandbox.manage("loaddata", "boards_demo")
    assert loaded.ok and loaded.stdout.startswith("Installed ")
    assert sandbox.query("SELECT views FROM boards_topic WHERE id = 1")["views"].tolist() == [0]

    # 5. Request the topic page three times: each request counts one view.
    for expected in (1, 2, 3):
        page = sandbox.get(TOPIC_URL)
        assert page.ok and page.status == 200
        assert f'<p class="views">Views: {expected}</p>' in page.html

    # 6. Read views back from the database itself.
    assert sandbox.query("SELECT views FROM boards_topic WHERE id = 1")["views"].tolist() == [3]
    assert sandbox.query("SELECT views FROM boards_topic WHERE id = 2")["views"].tolist() == [0]

    # The board's page lists the counter too.
    board = sandbox.get("/boards/1/")
    assert board.ok
    assert re.search(r'How do migrations work\?</a></td>.*?<td class="views">3</td>', board.html, re.DOTALL)

    # The template folder is byte-for-byte what it was, and so is another sandbox.
    assert tree_digest(TEMPLATE_DIR) == template_before
    assert not (TEMPLATE_DIR / "boards/migrations/0003_topic_views.py").exists()
    assert not (TEMPLATE_DIR / "db.sqlite3").exists()
    untouched()


def test_a_missing_page_is_a_404_not_an_error(sandbox):
    page = sandbox.get("/boards/99/")
    assert page.status == 404 and not page.ok


def test_requesting_the_page_before_migrating_explains_why_it_fails(sandbox):
    assert sandbox.manage("loaddata", "boards_demo").ok
    scenarios.add_views_field(sandbox, migrate=False)
    with pytest.raises(KitError) as caught:
        sandbox.get(TOPIC_URL)
    assert str(caught.value) == (
        f"The page {TOPIC_URL} could not be rendered. The database is behind the models (no such column: "
        "boards_topic.views): a model changed but its migration is not applied. "
        "Fix: run makemigrations, then migrate, and try again."
    )
