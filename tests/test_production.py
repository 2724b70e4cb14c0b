"""The same migration on SQLite and PostgreSQL side by side, and the risk warnings (squawk and the kit's)."""

from __future__ import annotations

import pytest

from widgets import Sandbox, scenarios
from widgets.compare import compare_sql
from widgets.risks import SAFE, UNSAFE, WITH_TIMEOUT, lint_sql, risk_report
from widgets.rollback import rollback_preview

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
    assert 'CREATE TABLE "new__boards_topic"' in comparison.sql["sqlite"]["forwards"]
    assert "ADD COLUMN" in comparison.sql["postgresql"]["forwards"]
    text = " ".join(comparison.notes)
    assert "rebuilds it" in text and "ACCESS EXCLUSIVE" in text and "DROP DEFAULT" in text
    assert comparison.locks()["lock"].tolist() == ["ACCESS EXCLUSIVE", "ACCESS EXCLUSIVE"]
    page = comparison._repr_html_()
    assert "<th style='text-align:left'>SQLite</th>" in page and "new__boards_topic" in page
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
