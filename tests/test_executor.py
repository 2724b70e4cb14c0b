"""The executor carries out a LabSession's effects on a real sandbox: the session's decisions, acted out."""

from __future__ import annotations

import pytest

from widgets import Sandbox
from widgets.lab import events as ev
from widgets.lab.executor import Executor, LabDriver
from widgets.lab.screens import lab_screen, time_screen
from widgets.read.table import records, where


@pytest.fixture
def driver(author_book: Sandbox) -> LabDriver:
    author_book.restore("built")
    made = LabDriver(author_book, app_label="app")
    made.send(ev.Opened())
    return made


def test_opening_reads_the_state_the_graph_and_models_py(driver: LabDriver):
    session = driver.session
    assert session.choices.target == "0002_added_Book_model"
    assert "class Book" in session.editor_text and session.last_good["app"] == session.editor_text
    assert {"app_author", "app_book"} <= set(session.state.tables["table"])


def test_clicking_an_earlier_migration_previews_then_confirm_rolls_back(driver: LabDriver):
    sandbox = driver.sandbox
    session = driver.send(ev.NodeClicked("app.0001_initial"))
    assert session.history == ()  # nothing ran: a preview waits
    assert session.pending.plan.direction == "backwards" and session.pending.preview.rows_lost == 1
    assert "app_book" in set(sandbox.tables()["table"])
    screen = lab_screen(session)
    assert screen.plan is session.pending.plan and screen.preview.rows_lost == 1

    session = driver.send(ev.Confirmed())
    assert session.pending is None
    assert "app_book" not in set(sandbox.tables()["table"])
    assert session.history[-1].command == "python manage.py migrate app 0001_initial"
    assert session.undo.last == "python manage.py migrate app 0001_initial"
    assert "app_book" not in set(session.state.tables["table"])  # read again after the action
    assert "app_book" in set(session.previous.tables["table"])  # and the state before, for the views

    session = driver.send(ev.Clicked("undo"))
    assert "app_book" in set(sandbox.tables()["table"]) and session.history[-1].ok


def test_a_cancelled_click_changes_nothing(driver: LabDriver):
    before = driver.sandbox.state()
    driver.send(ev.NodeClicked("app.0001_initial"))
    session = driver.send(ev.Cancelled())
    assert session.pending is None and "cancelled" in session.status.text
    after = driver.sandbox.state()
    assert after.applied.equals(before.applied) and after.tables.equals(before.tables)
    assert session.history == ()


def test_the_old_session_verbs_work_on_the_driver(driver: LabDriver):
    """run, travel, confirm, cancel, refresh: what LabSession did before it only decided."""
    travel = driver.travel("app.0001_initial")
    assert (travel.kind, travel.target) == ("migrate", "0001_initial") and driver.session.pending is not None
    assert driver.cancel() is True and driver.cancel() is False
    driver.travel("app.0001_initial")
    ran = driver.confirm()
    assert [o.command for o in ran] == ["python manage.py migrate app 0001_initial"] and ran[0].ok
    assert driver.confirm() == []
    assert [o.command for o in driver.run("showmigrations")] == ["python manage.py showmigrations app"]
    assert driver.run("migrate", target="zero") == []  # a rollback: previewed, nothing ran
    driver.sandbox.migrate("app", "zero")
    driver.refresh()
    assert "app_author" not in set(driver.session.state.tables["table"])


def test_clicking_a_later_migration_migrates_forwards_at_once(driver: LabDriver):
    driver.sandbox.migrate("app", "zero")
    driver.send(ev.RefreshAsked())
    session = driver.send(ev.NodeClicked("app.0002_added_Book_model"))
    assert session.pending is None
    assert "Apply app.0002_added_Book_model" in session.last.terminal  # the plan, printed above Django's output
    assert {"app_author", "app_book"} <= set(driver.sandbox.tables()["table"])


def test_a_failed_effect_stops_the_ones_after_it(driver: LabDriver):
    """The undo snapshot cannot be taken (the label is not a valid name): makemigrations must not run."""
    executor = driver.executor
    effects = [ev.SaveUndo("../escape", "makemigrations"), ev.Makemigrations("app", "", False, (), None)]
    seen: list[ev.Event] = []

    def handle(event: ev.Event) -> list[ev.Effect]:
        seen.append(event)
        return effects if isinstance(event, ev.Clicked) else []

    executor.carry_out(handle, ev.Clicked("makemigrations"))
    assert [type(event) for event in seen] == [ev.Clicked, ev.Failed, ev.Settled]
    assert seen[1].effect == effects[0] and "Fix:" in seen[1].message


def test_options_under_the_command_s_own_names_reach_manage_py(driver: LabDriver):
    session = driver.send(ev.Clicked("sqlmigrate", {"name": "0001_initial"}))
    assert session.history[-1].command == "python manage.py sqlmigrate app 0001_initial"
    assert 'CREATE TABLE "app_author"' in session.last.terminal
    session = driver.send(ev.Clicked("sqlmigrate", {"migration_name": "0002_added_Book_model", "backwards": True}))
    assert session.history[-1].command == "python manage.py sqlmigrate --backwards app 0002_added_Book_model"
    assert 'DROP TABLE "app_book"' in session.last.terminal
    session = driver.send(ev.Clicked("migrate", {"migration_name": "zero", "plan": True}))
    assert session.history[-1].command == "python manage.py migrate app zero --plan" and session.pending is None
    assert "app_book" in set(driver.sandbox.tables()["table"])  # --plan only shows
    session = driver.send(ev.Clicked("makemigrations", {"name": "nothing_yet", "empty": True}))
    assert session.history[-1].command == "python manage.py makemigrations app --name nothing_yet --empty"
    assert driver.sandbox.file("app/migrations/0003_nothing_yet.py").is_file()
    assert session.undo.last == "makemigrations"


def test_the_time_machine_reads_django_s_state_and_never_the_database(driver: LabDriver):
    sandbox = driver.sandbox
    sandbox.migrate("app", "0001_initial")
    driver.send(ev.RefreshAsked())
    before = sandbox.state()
    session = driver.send(ev.TimelineAsked())
    screen = time_screen(session, "app")
    assert [screen.label(p) for p in screen.positions] == ["app.0001_initial", "app.0002_added_Book_model"]
    assert screen.index == screen.database == screen.positions[0]  # it opens where the database is
    later = time_screen(session, "app", screen.positions[1])
    assert set(later.shown.tables["table"]) == {"app_author", "app_book"}
    assert str(later.changes).startswith("+ table app_book")
    after = sandbox.state()
    assert after.applied.equals(before.applied) and after.tables.equals(before.tables)
    every = time_screen(session, None)
    assert "auth.0001_initial" not in [every.label(p) for p in every.positions]  # Django's own apps left out


def test_the_timeline_s_last_schema_is_the_database_s(driver: LabDriver):
    """Django's state after the whole plan describes the tables migrate built, column by column."""
    timeline = driver.send(ev.TimelineAsked()).timeline()
    state = timeline.state_at(len(timeline.steps) - 1, include_contrib=True)
    real = driver.sandbox.schema()
    key = ["table", "column", "type", "null", "primary_key", "references_table", "references_column"]

    def rows(frame):
        # SQLite reports the primary key's declared type in capitals (INTEGER); Django writes it lower case.
        return sorted(tuple(str(row[c]).lower() if c == "type" else str(row[c]) for c in key) for row in records(frame))

    assert rows(state.schema) == rows(where(real, lambda row: row["table"] != "django_migrations"))
    assert driver.send(ev.TimelineAsked()).timeline() is timeline  # no .py file changed: not read again


def test_an_executor_alone_answers_each_effect_with_its_event(author_book: Sandbox):
    author_book.restore("built")
    executor = Executor(author_book)
    read = executor.perform(ev.ReadModels("app", "show"))
    assert isinstance(read, ev.ModelsRead) and read.text == author_book.read("app/models.py")
    plan = executor.perform(ev.ReadPlan("app", "0001_initial"))
    assert isinstance(plan, ev.PlanRead) and plan.plan.direction == "backwards"
    missing = executor.result_of(ev.ReadModels("nowhere", "show"))
    assert isinstance(missing, ev.Failed) and "Fix:" in missing.message
