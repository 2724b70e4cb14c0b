"""The same migration on SQLite and PostgreSQL side by side, and the risk warnings (squawk and the kit's)."""

from __future__ import annotations

import pytest

from widgets import Sandbox, scenarios
from widgets.lab import actions
from widgets.lab.panels import MigrationLab
from widgets.read.rollback import rollback_preview
from widgets.run.compare import compare_sql
from widgets.run.risks import SAFE, UNSAFE, WITH_TIMEOUT, lint_sql, risk_report

pytestmark = pytest.mark.processes("PostgreSQL runs as a server process")

NULLABLE_VIEWS = "    views = models.PositiveIntegerField(null=True)\n"


@pytest.fixture
def sqlite_and_postgresql(sandbox: Sandbox, pg_sandbox: Sandbox) -> tuple[Sandbox, Sandbox]:
    """Return two sandboxes, SQLite and PostgreSQL, each with 0003_topic_views written but not applied."""
    for each in (sandbox, pg_sandbox):
        scenarios.add_views_field(each, migrate=False)
    return sandbox, pg_sandbox


def test_each_side_is_what_sqlmigrate_prints_on_that_database(sqlite_and_postgresql) -> None:
    for own in sqlite_and_postgresql:
        comparison = compare_sql(own, "boards", "0003")
        assert comparison.name == "0003_topic_views"
        for each in sqlite_and_postgresql:
            engine = each.database
            for backwards in (False, True):
                printed = each.sqlmigrate("boards", "0003", backwards=backwards).stdout.strip()
                assert comparison.sql[engine]["backwards" if backwards else "forwards"] == printed, (own, engine)


def test_the_differences_are_explained(sqlite_and_postgresql) -> None:
    comparison = compare_sql(sqlite_and_postgresql[0], "boards", "0003")
    rebuild = comparison.sql["sqlite"]["forwards"]
    assert 'CREATE TABLE "new__' in rebuild and 'RENAME TO "boards_topic"' in rebuild
    assert "ADD COLUMN" in comparison.sql["postgresql"]["forwards"]
    text = " ".join(comparison.notes)
    assert "rebuilds it" in text and "ACCESS EXCLUSIVE" in text and "DROP DEFAULT" in text
    assert comparison.locks()["lock"].tolist() == ["ACCESS EXCLUSIVE", "ACCESS EXCLUSIVE"]
    page = comparison._repr_html_()
    assert "<th style='text-align:left'>SQLite</th>" in page and "RENAME TO &quot;boards_topic&quot;" in page
    assert "What differs" in str(comparison)


def test_squawk_reads_sql_and_answers_per_piece() -> None:
    plain, concurrent = lint_sql(
        ['CREATE INDEX "i" ON "t" ("a");', 'SET lock_timeout = 1000; CREATE INDEX CONCURRENTLY "i" ON "t" ("a");']
    )
    assert "require-concurrent-index-creation" in {f["rule_name"] for f in plain}
    assert "require-concurrent-index-creation" not in {f["rule_name"] for f in concurrent}


def test_a_not_null_column_without_database_default_is_not_safe(sqlite_and_postgresql) -> None:
    for each in sqlite_and_postgresql:
        report = risk_report(each, "boards", "0003")
        (step,) = report.steps
        rules = {w["rule"] for w in step.warnings}
        assert {"not-null-without-db-default", "require-lock-timeout", "ban-drop-default"} <= rules
        assert step.verdict == UNSAFE and not report.safe
        frame = report.to_frame()
        assert set(frame["source"]) == {"kit", "squawk"}
        assert (frame["operation"] == "Add field views to topic").all()
        assert "fix:" in str(report)


def test_the_nullable_version_is_safe_with_a_lock_timeout(pg_sandbox: Sandbox) -> None:
    pg_sandbox.edit("boards/models.py", scenarios.STARTER_LINE, scenarios.STARTER_LINE + NULLABLE_VIEWS)
    assert pg_sandbox.makemigrations("boards").ok
    (step,) = risk_report(pg_sandbox, "boards", "0003").steps
    assert {w["rule"] for w in step.warnings} == {"require-lock-timeout", "require-statement-timeout"}
    assert step.verdict == WITH_TIMEOUT


def test_nothing_to_run_is_safe(pg_sandbox: Sandbox) -> None:
    report = risk_report(pg_sandbox, "boards", "0002")
    assert report.steps == [] and report.safe and "nothing to run" in str(report)
    assert SAFE == "safe"


def test_rollback_preview_on_postgresql_warns_next_to_each_step(pg_sandbox: Sandbox) -> None:
    scenarios.add_views_field(pg_sandbox)
    preview = rollback_preview(pg_sandbox, "boards", "0002")
    assert preview.risks is not None
    assert {w["rule"] for w in preview.risks.steps[0].warnings} >= {"column-dropped", "ban-drop-column"}
    assert "column-dropped" in str(preview) and "column-dropped" in preview._repr_html_()


def test_irreversible_data_migration_is_flagged(pg_sandbox: Sandbox) -> None:
    scenarios.make_irreversible_migration(pg_sandbox, migrate=False)
    (step,) = risk_report(pg_sandbox, "boards", "0003").steps
    assert "no-reverse" in {w["rule"] for w in step.warnings}


def test_a_sqlite_rollback_preview_stays_without_postgresql(sandbox: Sandbox) -> None:
    scenarios.add_views_field(sandbox)
    assert rollback_preview(sandbox, "boards", "0002").risks is None


def test_each_step_says_which_locks_it_takes(pg_sandbox: Sandbox) -> None:
    scenarios.add_views_field(pg_sandbox, migrate=False)
    report = risk_report(pg_sandbox, "boards", "0003")
    (step,) = report.steps
    assert step.lock_summary == "boards_topic: ACCESS EXCLUSIVE"
    assert report.verdicts()["locks"].tolist() == ["boards_topic: ACCESS EXCLUSIVE"]
    assert set(report.locks()["lock"]) == {"ACCESS EXCLUSIVE"}
    assert "locks boards_topic: ACCESS EXCLUSIVE" in str(report)


def test_a_database_default_is_the_safe_version(pg_sandbox: Sandbox, psql) -> None:
    scenarios.add_views_field_safely(pg_sandbox, migrate=False)
    (step,) = risk_report(pg_sandbox, "boards", "0003").steps
    assert step.verdict == WITH_TIMEOUT, step.warnings
    assert pg_sandbox.migrate("boards").ok
    # The default lives in PostgreSQL: an insert that leaves the column out (the old code) still works.
    psql(pg_sandbox, "INSERT INTO boards_board (name, description) VALUES ('b', 'd')")
    assert psql(pg_sandbox, "SELECT column_default FROM information_schema.columns WHERE column_name = 'views'") == [
        ["0"]
    ]


def test_the_plan_shows_risks_next_to_its_steps_on_postgresql_only(sandbox: Sandbox, pg_sandbox: Sandbox) -> None:
    for each in (sandbox, pg_sandbox):
        scenarios.add_views_field(each, migrate=False)
        outcome = actions.migrate(each, "boards", "0003", plan=each.plan("boards", "0003"))
        assert outcome.ok, outcome.terminal
        shown = "Risks of migrate boards 0003 on PostgreSQL" in outcome.terminal
        assert shown == (each.database == "postgresql")
    assert "not-null-without-db-default" in outcome.terminal and "locks boards_topic" in outcome.terminal


def test_panel_flows_on_postgresql(pg_sandbox: Sandbox, psql) -> None:
    lab = MigrationLab(pg_sandbox)
    lab.editor.value = lab.editor.value.replace(scenarios.STARTER_LINE, scenarios.STARTER_LINE + scenarios.VIEWS_LINE)
    lab.run_action("save")
    assert lab.target_picker.value == "0003_topic_views"
    lab.run_action("migrate")
    assert "Risks of migrate boards 0003_topic_views" in lab.terminal.value
    assert psql(pg_sandbox, "SELECT name FROM django_migrations WHERE app = 'boards' ORDER BY id")[-1] == [
        "0003_topic_views"
    ]
    assert "views" in lab.open_view("schema").svg and "0003_topic_views" in lab.open_view(
        "django_migrations"
    ).value.replace("<wbr>", "")

    lab.sql_picker.value, lab.side_by_side.value = "0003_topic_views", True
    lab.run_action("sqlmigrate")
    assert lab.comparison.layout.display != "none"
    assert "RENAME TO &quot;boards_topic&quot;" in lab.comparison.value and "ADD COLUMN" in lab.comparison.value
    assert lab.last.command == "sqlmigrate boards 0003_topic_views on SQLite and PostgreSQL"

    lab.run_action("migrate", target="0002_post")  # a rollback: previewed with its risks, nothing run yet
    assert "column-dropped" in lab.preview.value
    lab.confirm(wait=True)
    assert psql(pg_sandbox, "SELECT COUNT(*) FROM information_schema.columns WHERE column_name = 'views'") == [["0"]]
    assert lab.comparison.layout.display == "none"


def test_side_by_side_from_a_sqlite_panel(sandbox: Sandbox) -> None:
    lab = MigrationLab(sandbox)
    lab.sql_picker.value, lab.side_by_side.value = "0002_post", True
    outcome = lab.run_action("sqlmigrate")
    assert outcome is not None and outcome.ok
    assert "<th style='text-align:left'>PostgreSQL</th>" in lab.comparison.value
    assert 'CREATE TABLE "boards_post"' in lab.comparison.value
    lab.side_by_side.value = False
    lab.run_action("sqlmigrate")
    assert lab.comparison.layout.display == "none"
    assert "$ python manage.py sqlmigrate boards 0002_post" in lab.terminal.value
