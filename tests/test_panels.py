"""Drive the MigrationLab panel without a browser: click its buttons, then look at the sandbox and the widgets."""

from __future__ import annotations

import pytest

from widgets import Sandbox, scenarios
from widgets.errors import KitError
from widgets.lab import actions
from widgets.lab import panel_views as views
from widgets.lab.panels import MigrationLab
from widgets.read.table import column, where

TOPIC = "class Topic(models.Model):\n"


def _visible(widget) -> bool:
    return widget.layout.display != "none"


def _click(lab: MigrationLab, button) -> None:
    """Click like a learner, then wait for the worker thread to finish."""
    button.click()
    lab.wait()


@pytest.fixture
def book_lab(author_book: Sandbox) -> MigrationLab:
    """Return a panel on the Author/Book sandbox, put back as it was built."""
    author_book.restore("built")
    return MigrationLab(author_book, app_label="app")


def test_panel_shows_the_public_surface(sandbox: Sandbox) -> None:
    lab = MigrationLab(sandbox)
    assert lab.sandbox is sandbox
    for key in ("makemigrations", "migrate", "showmigrations", "sqlmigrate", "reset", "snapshot", "undo"):
        assert lab.buttons[key].description == key
        assert f"mk-{key}" in lab.buttons[key]._dom_classes
    assert lab.app_picker.options == ("boards", "tracker")
    assert lab.target_picker.options == ("0001_initial", "0002_post", "zero")
    assert lab.target_picker.value == "0002_post"
    assert "class Topic(models.Model)" in lab.editor.value
    assert "mk-confirm" in lab.confirm_button._dom_classes and "mk-cancel" in lab.cancel_button._dom_classes
    assert not _visible(lab.confirm_box) and not _visible(lab.question)
    assert "boards_topic" in lab.open_view("schema").svg
    assert "0002_post" in lab.open_view("django_migrations").value


def test_views_field_flow(sandbox: Sandbox) -> None:
    lab = MigrationLab(sandbox)
    lab.editor.value = lab.editor.value.replace(scenarios.STARTER_LINE, scenarios.STARTER_LINE + scenarios.VIEWS_LINE)
    _click(lab, lab.save_button)

    assert sandbox.file("boards/migrations/0003_topic_views.py").is_file()
    assert "$ python manage.py makemigrations boards" in lab.terminal.value
    assert "+ Add field views to topic" in lab.terminal.value
    assert "Django accepted boards/models.py" in lab.editor_message.value
    assert lab.target_picker.value == "0003_topic_views"  # the new leaf node, not the old default

    _click(lab, lab.buttons["migrate"])
    applied = sandbox.applied_migrations()
    assert ("boards", "0003_topic_views") in set(zip(applied["app"], applied["name"], strict=True))
    assert "views" in set(column(where(sandbox.schema(), table="boards_topic"), "column"))
    assert "$ python manage.py migrate boards 0003_topic_views" in lab.terminal.value
    assert "Apply boards.0003_topic_views" in lab.terminal.value  # the plan, shown first
    assert "+ migration boards.0003_topic_views applied" in lab.changes.value
    assert "0003_topic_views" in lab.open_view("django_migrations").value.replace(
        "<wbr>", ""
    )  # <wbr>: where it may wrap
    assert [e.command for e in lab.history] == [
        "save boards/models.py",
        "python manage.py makemigrations boards",
        "python manage.py migrate boards 0003_topic_views",
    ]


def test_confirmed_rollback_drops_book_then_undo_brings_it_back(book_lab: MigrationLab) -> None:
    lab, sandbox = book_lab, book_lab.sandbox
    lab.target_picker.value = "0001_initial"
    _click(lab, lab.buttons["migrate"])

    assert _visible(lab.confirm_box)
    assert lab.pending_rollback is not None and lab.pending_rollback.direction == "backwards"
    assert "app_book" in lab.preview.value and "loses 1 row(s)" in lab.preview.value
    assert "app_book" in set(sandbox.tables()["table"])  # nothing has run yet
    assert lab.history == []

    _click(lab, lab.confirm_button)
    assert not _visible(lab.confirm_box)
    assert "app_book" not in set(sandbox.tables()["table"])
    assert "0002_added_Book_model" not in set(sandbox.applied_migrations()["name"])
    assert "- table app_book" in lab.changes.value
    assert lab.history[-1].command == "python manage.py migrate app 0001_initial"

    _click(lab, lab.buttons["undo"])
    assert "0002_added_Book_model" in set(sandbox.applied_migrations()["name"])
    assert sandbox.query("SELECT title FROM app_book")["title"].tolist() == ["Harry Potter"]


def test_cancelled_rollback_changes_nothing(book_lab: MigrationLab) -> None:
    lab, sandbox = book_lab, book_lab.sandbox
    before = sandbox.state()
    lab.target_picker.value = "0001_initial"
    _click(lab, lab.buttons["migrate"])
    assert _visible(lab.confirm_box)

    lab.cancel_button.click()
    assert not _visible(lab.confirm_box) and lab.pending_rollback is None
    assert "cancelled" in lab.status.value
    after = sandbox.state()
    assert after.applied.equals(before.applied) and after.tables.equals(before.tables)
    assert lab.history == []


def test_non_nullable_question_answered_with_a_default(sandbox: Sandbox) -> None:
    lab = MigrationLab(sandbox)
    lab.editor.value = lab.editor.value.replace(TOPIC, TOPIC + "    score = models.IntegerField()\n")
    _click(lab, lab.save_button)

    assert _visible(lab.question) and _visible(lab.default_text)
    assert "non-nullable field 'score'" in lab.question_text.value
    assert lab.choice.value == "1"
    assert "Traceback" not in lab.terminal.value

    lab.default_text.value = "7("
    _click(lab, lab.answer_button)
    assert _visible(lab.question)
    assert "did not accept" in lab.question_text.value and "SyntaxError" in lab.question_text.value

    lab.default_text.value = "7"
    _click(lab, lab.answer_button)
    assert not _visible(lab.question)
    written = sandbox.read("boards/migrations/0003_topic_score.py")
    assert "default=7" in written and "preserve_default=False" in written
    assert lab.history[-1].command == "python manage.py makemigrations boards" and lab.history[-1].ok


def test_syntax_error_in_editor_is_explained_and_revertable(sandbox: Sandbox) -> None:
    lab = MigrationLab(sandbox)
    good = sandbox.read("boards/models.py")
    lab.editor.value = good.replace(TOPIC, "class Topic(models.Model)\n")
    _click(lab, lab.save_button)

    assert "Python cannot read boards/models.py" in lab.editor_message.value
    assert "revert" in lab.editor_message.value
    assert "class Topic(models.Model)\n" in sandbox.read("boards/models.py")  # kept until the learner asks
    assert "could not be shown" not in lab.status.value

    _click(lab, lab.revert_button)
    assert sandbox.read("boards/models.py") == good
    assert lab.editor.value == good
    _click(lab, lab.buttons["makemigrations"])
    assert "No changes detected" in lab.terminal.value


def test_missing_on_delete_is_explained(sandbox: Sandbox) -> None:
    lab = MigrationLab(sandbox)
    lab.editor.value = lab.editor.value.replace(
        scenarios.STARTER_LINE, '    starter = models.ForeignKey(User, related_name="topics")\n'
    )
    _click(lab, lab.save_button)
    assert "has no on_delete" in lab.editor_message.value


def test_double_click_while_busy_runs_one_command(sandbox: Sandbox) -> None:
    lab = MigrationLab(sandbox)
    button = lab.buttons["showmigrations"]
    # Hold the sandbox as a running command would, so the first click is still busy at the second.
    with sandbox.locked():
        button.click()
        assert lab.busy and button.disabled and lab.buttons["migrate"].disabled
        assert "mk-spinner" in lab.status.value
        button.click()
        assert lab.run_action("migrate") is None  # the programmatic way is refused too
    lab.wait()
    assert not lab.busy and not button.disabled
    assert [e.command for e in lab.history] == ["python manage.py showmigrations boards"]


@pytest.mark.processes("a timeout stops a command only in a process of its own")
def test_timeout_is_reported_and_sandbox_stays_consistent(sandbox: Sandbox) -> None:
    sandbox.write(
        "boards/migrations/0003_slow.py",
        "import time\nfrom django.db import migrations\n\n\n"
        "class Migration(migrations.Migration):\n"
        '    dependencies = [("boards", "0002_post")]\n'
        "    operations = [migrations.RunPython(lambda apps, schema_editor: time.sleep(60))]\n",
    )
    lab = MigrationLab(sandbox, timeout=2)
    before = sandbox.applied_migrations()
    assert lab.target_picker.value == "0003_slow"
    _click(lab, lab.buttons["migrate"])
    assert not lab.history[-1].ok
    assert "did not finish within 2 s" in lab.history[-1].message
    assert "did not finish" in lab.status.value
    assert sandbox.applied_migrations().equals(before)
    assert not lab.busy


def test_history_lists_every_action_with_its_command_line(sandbox: Sandbox) -> None:
    lab = MigrationLab(sandbox)
    lab.sql_picker.value = "0001_initial"
    _click(lab, lab.buttons["sqlmigrate"])
    assert 'CREATE TABLE "boards_board"' in lab.terminal.value
    _click(lab, lab.buttons["snapshot"])
    _click(lab, lab.buttons["undo"])  # nothing changed yet: nothing to undo
    lab.run_action("showmigrations", app_label="tracker")

    commands = [e.command for e in lab.history]
    assert commands == [
        "python manage.py sqlmigrate boards 0001_initial",
        "sandbox.snapshot('checkpoint')",
        "undo",
        "python manage.py showmigrations tracker",
    ]
    assert [e.ok for e in lab.history] == [True, True, False, True]
    assert "nothing to undo" in lab.history[2].message
    assert lab.history_view.value.count("<li>") == 4
    assert "python manage.py showmigrations tracker" in lab.history_view.value


def test_run_action_takes_the_command_s_own_option_names(sandbox: Sandbox) -> None:
    lab = MigrationLab(sandbox)
    outcome = lab.run_action("sqlmigrate", name="0001_initial")  # was: TypeError, multiple values for 'name'
    assert outcome.ok and outcome.command == "python manage.py sqlmigrate boards 0001_initial"
    outcome = lab.run_action("makemigrations", name="nothing_yet", empty=True)
    assert outcome.ok and outcome.command == "python manage.py makemigrations boards --name nothing_yet --empty"
    assert sandbox.file("boards/migrations/0003_nothing_yet.py").is_file()
    with pytest.raises(
        KitError, match="sqlmigrate takes no option 'migration'. Fix: use one of app_label, migration_name"
    ):
        lab.run_action("sqlmigrate", migration="0001_initial")
    assert len(lab.history) == 2  # the refused call ran nothing


def test_reset_and_restore_put_files_and_database_back(sandbox: Sandbox) -> None:
    lab = MigrationLab(sandbox)
    lab.run_action("snapshot")
    lab.run_action("migrate", target="zero")
    lab.confirm(wait=True)
    assert "boards" not in set(sandbox.applied_migrations()["app"])
    lab.run_action("restore")
    assert "boards" in set(sandbox.applied_migrations()["app"])
    lab.editor.value += "\n# a comment\n"
    lab.run_action("save")
    lab.run_action("reset")
    assert "# a comment" not in sandbox.read("boards/models.py") and "# a comment" not in lab.editor.value


def test_two_columns_and_a_projector_mode_with_one_view_at_a_time(sandbox: Sandbox) -> None:
    wide, projector = MigrationLab(sandbox), MigrationLab(sandbox, compact=True)
    assert "mk-compact" not in wide._dom_classes and "mk-compact" in projector._dom_classes
    columns = wide.children[1]
    assert "mk-columns" in columns._dom_classes
    assert [set(c._dom_classes) & {"mk-left", "mk-right"} for c in columns.children] == [{"mk-left"}, {"mk-right"}]
    assert wide.views.titles == ("graph", "time machine", "schema", "django_migrations", "rows")
    # The projector shows one thing at a time, the terminal and the editor included, in large type.
    assert projector.views.titles[0] == "terminal" and "models.py" in projector.views.titles
    assert "font-size: 18px" in projector.children[0].value
    assert "--mk-applied-fill: #c8e6c9" in projector.children[0].value  # colours come from the palette


def test_unknown_action_and_view_failure_give_one_sentence(sandbox: Sandbox) -> None:
    lab = MigrationLab(sandbox)
    with pytest.raises(KitError, match="no action called 'migrat'"):
        lab.run_action("migrat")
    shown = views._shown("schema diagram", lambda: 1 / 0, lambda: "<p>fallback</p>")
    assert "The schema diagram could not be shown: ZeroDivisionError" in shown and "fallback" in shown


def test_answers_for_django_questions() -> None:
    from widgets.run.prompts import Prompt

    not_null = Prompt("not_null_addition", "It is impossible...\n 1) Provide\n 2) Quit", ("Provide", "Quit"))
    rename = Prompt("rename_field", "Was topic.a renamed to topic.b (a CharField)? [y/N]", ("y", "n"))
    assert actions.answers_for(not_null, "1", " 0 ") == ["1", "0"]
    assert actions.answers_for(not_null, "2") == ["2"]
    assert actions.answers_for(rename, "y") == ["y"]
    with pytest.raises(KitError, match="needs a default value"):
        actions.answers_for(not_null, "1", "")


def test_clicking_a_node_previews_and_confirm_moves_the_frontier_in_place(book_lab: MigrationLab) -> None:
    lab, sandbox = book_lab, book_lab.sandbox
    assert "click to migrate app to here" in lab.graph_view.nodes["app.0001_initial"]["action"]
    lab.graph_view.click("app.0001_initial")  # what the browser's click sends
    lab.wait()
    assert _visible(lab.confirm_box) and "loses 1 row(s)" in lab.preview.value
    assert lab.graph_view.selected == "app.0001_initial"
    assert "unapplies 1 migration" in lab.graph_view.svg  # the plan is drawn
    assert "app_book" in set(sandbox.tables()["table"])

    widget = lab.graph_view
    _click(lab, lab.confirm_button)
    assert lab.graph_view is widget  # the same widget, redrawn in place
    assert not _visible(lab.confirm_box) and lab.graph_view.selected == ""
    assert "applied frontier" in widget.nodes["app.0001_initial"]["title"]
    assert "not applied" in widget.nodes["app.0002_added_Book_model"]["title"]


def test_the_time_machine_tab_shows_the_schema_at_any_migration(book_lab: MigrationLab) -> None:
    lab, sandbox = book_lab, book_lab.sandbox
    before = sandbox.state()
    lab.views.selected_index = lab.views.titles.index("time machine")
    machine = lab.time_machine
    assert machine.scope.value == "app" and machine.slider.value == machine.screen.database
    assert "the database is at app.0002_added_Book_model" in machine.headline.value
    first = machine.slider.options[0][1]
    machine.slider.value = first
    assert "app.0001_initial</b> (applied)" in machine.headline.value
    assert "+ table app_author" in machine.changes.value and "app_author" in machine.schema.svg
    assert "app_book" not in machine.schema.svg
    assert machine.migrate_here.layout.display != "none"
    machine.compare.value = machine.slider.options[-1][1]  # compare with the later step: the book table goes
    assert "- table app_book" in machine.changes.value
    after = sandbox.state()
    assert after.applied.equals(before.applied) and after.tables.equals(before.tables)

    machine.migrate_here.click()  # one click to go there: a rollback, so a preview first
    lab.wait()
    assert _visible(lab.confirm_box) and lab.pending_rollback.target == "0001_initial"


def test_a_real_project_s_squash_unfolds_folds_and_travels_in_the_graph() -> None:
    project = scenarios.example_project("shop")
    sandbox = Sandbox.copy_of(project, name="panel-shop")
    try:
        lab = MigrationLab(sandbox, app_label="catalog")
        squash = "catalog.0001_squashed_0003_product_sku"
        assert "catalog.0002_product_price" not in lab.graph_view.nodes
        assert lab.graph_view.nodes[squash]["action"] == "click to show the migrations it replaces"
        lab.click_node(squash)
        assert "catalog.0002_product_price" in lab.graph_view.nodes
        assert lab.graph_view.nodes["catalog.0002_product_price"]["action"] == "click to fold the squash again"
        assert lab.history == [] and "squashes 3 migrations" in lab.status.value  # nothing ran

        lab.click_node(squash)  # unfolded: now it is a migration to go to, and 0004 is applied
        assert lab.pending_rollback is not None and lab.pending_rollback.target == "0001_squashed_0003_product_sku"
        assert "catalog.0004_product_stock" in lab.preview.value
        lab.cancel()
        lab.click_node("catalog.0002_product_price")
        assert "catalog.0002_product_price" not in lab.graph_view.nodes
        assert lab.history == [] and set(sandbox.applied_migrations()["app"]) >= {"catalog"}
    finally:
        sandbox.delete()


def test_without_threads_a_click_runs_in_the_kernel_s_turn(book_lab: MigrationLab, monkeypatch) -> None:
    """Where no thread can start (Pyodide), a node click previews and confirm rolls back, all before it returns."""
    from widgets.lab import panels

    monkeypatch.setattr(panels, "_THREADS", False)
    monkeypatch.setattr(panels.threading, "Thread", None)  # starting one would now fail loudly
    lab, sandbox = book_lab, book_lab.sandbox
    lab.click_node("app.0001_initial", wait=False)
    assert _visible(lab.confirm_box) and lab.pending_rollback.direction == "backwards"
    assert "app_book" in lab.preview.value
    lab.confirm()
    assert not _visible(lab.confirm_box)
    assert "0002_added_Book_model" not in set(sandbox.applied_migrations()["name"])
    assert lab.history[-1].command == "python manage.py migrate app 0001_initial"
