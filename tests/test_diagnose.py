"""Diagnoses: every common failure gets one plain sentence and the fix, and harms nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from widgets import CommandResult, Sandbox, scenarios
from widgets.run.diagnose import diagnose


def applied(sandbox: Sandbox) -> list[tuple[str, str]]:
    return list(zip(sandbox.applied_migrations()["app"], sandbox.applied_migrations()["name"], strict=True))


def assert_explained(result: CommandResult, code: str, sentence: str) -> None:
    """Check the diagnosis code and the exact sentence, shown as one line without a traceback."""
    assert result.diagnosis is not None, result.terminal()
    assert result.diagnosis.code == code
    assert result.message == sentence
    assert str(result.diagnosis) == sentence
    assert "\n" not in result.message and "Traceback" not in result.message
    assert "Traceback" not in result.terminal()


def test_syntax_error_in_models_py(sandbox, untouched):
    sandbox.edit("boards/models.py", "class Board(models.Model):", "class Board(models.Model)")
    result = sandbox.makemigrations("boards")
    assert not result.ok
    assert_explained(
        result,
        "syntax_error",
        "Python cannot read boards/models.py (line 5: expected ':'). Fix: correct line 5 of boards/models.py "
        "(look for an unclosed bracket, a missing colon or a stray indent), save, and run the command again.",
    )
    assert "(full traceback in result.stderr)" in result.terminal()
    untouched()


def test_foreign_key_without_on_delete(sandbox, untouched):
    sandbox.edit("boards/models.py", "models.ForeignKey(Board, on_delete=models.CASCADE, ", "models.ForeignKey(Board, ")
    result = sandbox.makemigrations("boards")
    assert not result.ok
    assert_explained(
        result,
        "missing_on_delete",
        "A ForeignKey in boards/models.py (line 16) has no on_delete: Django 2.0 and later require it. "
        "Fix: add on_delete=models.CASCADE (delete the rows that point here too), models.PROTECT (refuse) "
        "or models.SET_NULL with null=True, then run makemigrations again.",
    )
    untouched()


def test_app_not_in_installed_apps(sandbox, untouched):
    assert sandbox.startapp("app").ok
    sandbox.write("app/models.py", scenarios.AUTHOR_MODEL)
    every_app = sandbox.makemigrations()
    assert every_app.exit_code == 0 and "No changes detected" in every_app.stdout
    assert_explained(
        every_app,
        "app_not_installed",
        "No changes detected because the app 'app' is not in INSTALLED_APPS: Django never looks at its models.py. "
        "Fix: add \"app\" to INSTALLED_APPS in settings.py (sandbox.add_installed_app('app')) and run "
        "makemigrations again.",
    )
    named = sandbox.makemigrations("app")
    assert named.exit_code == 2
    assert_explained(
        named,
        "app_not_installed",
        "The app 'app' exists as a folder but is not in INSTALLED_APPS, so Django ignores it. "
        "Fix: add \"app\" to INSTALLED_APPS in settings.py (sandbox.add_installed_app('app')), "
        "then run the command again.",
    )
    assert not (sandbox.path / "app/migrations/0001_initial.py").exists()
    # The fix the sentence gives works.
    sandbox.add_installed_app("app")
    fixed = sandbox.makemigrations("app")
    assert fixed.ok and fixed.diagnosis is None
    assert (sandbox.path / "app/migrations/0001_initial.py").is_file()
    untouched()


def test_no_changes_in_a_named_installed_app_blames_no_other_app(sandbox):
    assert sandbox.startapp("app").ok
    sandbox.write("app/models.py", scenarios.AUTHOR_MODEL)
    result = sandbox.makemigrations("boards")
    assert result.ok and result.stdout == "No changes detected in app 'boards'\n"
    assert result.diagnosis is None


def test_no_changes_with_every_app_installed_is_not_a_problem(sandbox):
    result = sandbox.makemigrations()
    assert result.ok and result.stdout == "No changes detected\n"
    assert result.diagnosis is None and result.message == ""


def test_unknown_app_label(sandbox, untouched):
    result = sandbox.migrate("board")
    assert_explained(
        result,
        "unknown_app",
        "There is no installed app called 'board'. Fix: check the spelling of the app label "
        "(the folder name, e.g. 'boards'); showmigrations lists the installed apps.",
    )
    untouched()


def test_unknown_migration_target(sandbox, untouched):
    before = applied(sandbox)
    result = sandbox.migrate("boards", "0009")
    assert not result.ok
    assert_explained(
        result,
        "unknown_target",
        "App 'boards' has no migration called '0009'. Fix: pick a name from showmigrations boards "
        "(a unique prefix such as 0001 works), or 'zero' to unapply them all.",
    )
    assert applied(sandbox) == before
    untouched()


def test_ambiguous_migration_target(sandbox, untouched):
    result = sandbox.migrate("boards", "000")
    assert_explained(
        result,
        "ambiguous_target",
        "More than one migration of 'boards' starts with '000'. "
        "Fix: type more of the name so that it matches one migration (showmigrations boards lists them).",
    )
    untouched()


def test_conflicting_leaf_nodes(sandbox, untouched):
    scenarios.make_conflicting_migrations(sandbox)
    before = applied(sandbox)
    sentence = (
        "Two migrations both claim to be the latest (0003_topic_pinned, 0003_topic_views in boards): "
        "they were made on separate branches. Fix: run makemigrations --merge to write a merge migration "
        "that depends on both, then migrate."
    )
    migrate = sandbox.migrate()
    assert not migrate.ok
    assert_explained(migrate, "conflicting_leaves", sentence)
    assert_explained(sandbox.makemigrations(), "conflicting_leaves", sentence)
    assert applied(sandbox) == before
    # The fix the sentence gives works.
    merged = sandbox.makemigrations(merge=True, answers=["y"])
    assert merged.ok, merged.terminal()
    assert sandbox.migrate().ok
    assert ("boards", "0004_merge_0003_topic_pinned_0003_topic_views") in applied(sandbox)
    untouched()


def test_irreversible_migration(sandbox, untouched):
    scenarios.make_irreversible_migration(sandbox)
    before, schema = applied(sandbox), sandbox.schema()
    result = sandbox.migrate("boards", "0001")
    assert not result.ok
    assert_explained(
        result,
        "irreversible",
        "Migration boards.0003_uppercase_subjects cannot be unapplied: its operation "
        "<RunPython <function uppercase_subjects>> has no way back. Nothing was unapplied past it. "
        "Fix: give the operation a reverse (RunPython(forwards, reverse_code=...) or RunPython.noop, "
        "RunSQL(sql, reverse_sql=...)), or stop the rollback at that migration.",
    )
    assert applied(sandbox) == before
    assert sandbox.schema().equals(schema)
    untouched()


def test_unable_to_open_database_file(sandbox, untouched):
    sandbox.edit("djsandbox/settings.py", 'BASE_DIR / "db.sqlite3"', 'BASE_DIR / "data" / "db.sqlite3"')
    sentence = (
        "Django cannot open the SQLite database file: the folder in DATABASES['default']['NAME'] is missing "
        "or not writable. Fix: recreate that folder (or correct NAME in settings.py), then check the connection "
        "with python manage.py dbshell and run migrate."
    )
    migrate = sandbox.migrate()
    assert not migrate.ok
    assert_explained(migrate, "cannot_open_database", sentence)
    assert_explained(sandbox.showmigrations(), "cannot_open_database", sentence)
    assert not (sandbox.path / "data").exists()
    # The fix the sentence gives works: the folder back, migrate makes a new database in it.
    sandbox.write("data/.keep", "")
    assert sandbox.migrate().ok
    assert (sandbox.path / "data/db.sqlite3").is_file()
    untouched()


def test_inconsistent_migration_history(sandbox, untouched):
    # As when someone deletes a row by hand: 0002_post stays recorded, its dependency does not.
    forget = (
        "from django.db.migrations.recorder import MigrationRecorder\n"
        "MigrationRecorder.Migration.objects.filter(app='boards', name='0001_initial').delete()"
    )
    assert sandbox.shell(forget).ok
    before = applied(sandbox)
    sentence = (
        "The django_migrations table says boards.0002_post is applied but its dependency boards.0001_initial "
        "is not: the history is out of order, and migrate refuses to run, even with --fake. Fix: if the tables "
        "of boards.0001_initial exist, record it in manage.py shell with MigrationRecorder(connection)"
        ".record_applied('boards', '0001_initial') (from django.db import connection; from "
        "django.db.migrations.recorder import MigrationRecorder), otherwise remove boards.0002_post the same "
        "way with record_unapplied('boards', '0002_post'); then run migrate."
    )
    migrate = sandbox.migrate()
    assert not migrate.ok
    assert_explained(migrate, "inconsistent_history", sentence)
    assert_explained(sandbox.makemigrations(), "inconsistent_history", sentence)
    assert_explained(sandbox.migrate("boards", "0001", fake=True), "inconsistent_history", sentence)
    assert applied(sandbox) == before
    # The fix the sentence gives works: the tables exist, so record 0001 by hand.
    record = (
        "from django.db import connection\nfrom django.db.migrations.recorder import MigrationRecorder\n"
        "MigrationRecorder(connection).record_applied('boards', '0001_initial')"
    )
    assert sandbox.shell(record).ok
    result = sandbox.migrate()
    assert result.ok, result.terminal()
    untouched()


def test_missing_dependency(sandbox, untouched):
    scenarios.add_views_field(sandbox, migrate=False)
    (sandbox.path / "boards/migrations/0002_post.py").unlink()
    result = sandbox.migrate()
    assert_explained(
        result,
        "missing_dependency",
        "Migration boards.0003_topic_views depends on ('boards', '0002_post'), which does not exist. "
        "Fix: restore the missing migration file, or correct the dependencies list of the migration that names it.",
    )
    untouched()


def test_circular_dependency(sandbox, untouched):
    sandbox.write(
        "tracker/migrations/0002_needs_boards.py",
        "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n"
        '    dependencies = [("tracker", "0001_initial"), ("boards", "0003_needs_tracker")]\n    operations = []\n',
    )
    sandbox.write(
        "boards/migrations/0003_needs_tracker.py",
        "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n"
        '    dependencies = [("boards", "0002_post"), ("tracker", "0002_needs_boards")]\n    operations = []\n',
    )
    result = sandbox.migrate()
    assert_explained(
        result,
        "circular_dependency",
        "These migrations depend on each other in a circle, so none of them can run first: "
        "boards.0003_needs_tracker, tracker.0002_needs_boards. Fix: open them and remove one dependency of the "
        "circle (often one that a squash or a hand edit added), or move the operation that needs it into a later "
        "migration.",
    )
    untouched()


def test_replaced_file_removed_while_a_squash_is_half_applied(sandbox, untouched):
    scenarios.make_squashed_migration(sandbox)
    assert sandbox.migrate("boards", "0001_initial").ok  # 0002_post unapplied: the squash is half applied
    (sandbox.path / "boards/migrations/0002_post.py").unlink()
    sandbox.write(
        "tracker/migrations/0002_after_post.py",
        "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n"
        '    dependencies = [("tracker", "0001_initial"), ("boards", "0002_post")]\n    operations = []\n',
    )
    result = sandbox.migrate()
    assert_explained(
        result,
        "half_applied_squash",
        "Migration tracker.0002_after_post depends on boards.0002_post, whose file is gone: it was squashed into "
        "boards.0001_squashed_0002_post, but this database has applied only part of that squash, so Django cannot "
        "use the squash and needs the old files. Fix: put the replaced migration files back (from version control) "
        "until every database has migrated past boards.0001_squashed_0002_post; delete them only after that.",
    )
    untouched()


def test_schema_behind_models(sandbox, untouched):
    scenarios.add_views_field(sandbox, migrate=False)
    result = sandbox.shell("from boards.models import Topic\nprint(list(Topic.objects.all()))")
    assert_explained(
        result,
        "schema_behind_models",
        "The database is behind the models (no such column: boards_topic.views): a model changed but its "
        "migration is not applied. Fix: run makemigrations, then migrate, and try again.",
    )
    untouched()


def test_an_error_in_project_code_points_at_the_line(sandbox, untouched):
    sandbox.edit("boards/models.py", "class Board(models.Model):", "undefined_name\n\n\nclass Board(models.Model):")
    result = sandbox.manage("check")
    assert_explained(
        result,
        "error_in_project",
        "Python stopped in boards/models.py (line 5): NameError: name 'undefined_name' is not defined. "
        "Fix: open boards/models.py, correct line 5, save, and run the command again.",
    )
    untouched()


@pytest.mark.parametrize(
    "stderr",
    ["", "Some warning\n", 'Traceback (most recent call last):\n  File "/usr/lib/x.py", line 1\nValueError: x\n'],
)
def test_nothing_known_is_no_diagnosis(stderr, tmp_path: Path):
    assert diagnose(("migrate",), "", stderr, 1, tmp_path) is None


def test_a_dependency_on_a_migration_that_does_not_exist(sandbox, untouched):
    sandbox.write(
        "tracker/migrations/0002_orphan.py",
        "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n"
        '    dependencies = [("tracker", "0001_initial"), ("boards", "0009_gone")]\n    operations = []\n',
    )
    result = sandbox.migrate()
    assert "NodeNotFoundError" in result.stderr
    assert_explained(
        result,
        "missing_dependency",
        "Migration tracker.0002_orphan depends on ('boards', '0009_gone'), which does not exist. Fix: restore the "
        "missing migration file, or correct the dependencies list of the migration that names it.",
    )
    untouched()


def test_a_circle_made_by_a_squash(sandbox):
    scenarios.make_dependencies_both_ways(sandbox)
    assert sandbox.manage("squashmigrations", "--noinput", "boards", "0003").ok
    result = sandbox.showmigrations("boards")
    assert not result.ok and "CircularDependencyError" in result.stderr
    assert result.diagnosis.code == "circular_dependency"
    assert "boards.0001_squashed_0003_board_ledger, tracker.0002_transaction_board" in str(result.diagnosis)
