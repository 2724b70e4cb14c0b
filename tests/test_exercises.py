"""The notebooks' exercise checks: a wrong or unfinished answer gets a helpful sentence, a right one passes."""

from __future__ import annotations

from widgets import Sandbox, pg_locks, scenarios
from widgets import exercises as check
from widgets.scenarios import STARTER_LINE

LIKES = "    likes = models.PositiveIntegerField(default=0)\n"
POST_LAST_FIELD = '    updated_by = models.ForeignKey(User, on_delete=models.CASCADE, null=True, related_name="+")\n'


def test_field_added_walks_the_learner_through_each_missing_step(sandbox: Sandbox) -> None:
    verdict = check.field_added(sandbox, "boards", "post", "likes")
    assert not verdict and str(verdict) == "✘ Not yet: boards/models.py has no field 'likes' yet: add it to class Post."

    sandbox.edit("boards/models.py", POST_LAST_FIELD, POST_LAST_FIELD + LIKES)
    verdict = check.field_added(sandbox, "boards", "post", "likes")
    assert not verdict and "No migration adds 'likes' yet: run sandbox.makemigrations('boards')." in verdict.message

    assert sandbox.makemigrations("boards").ok
    verdict = check.field_added(sandbox, "boards", "post", "likes")
    assert not verdict and verdict.message == "0003_post_likes exists but is not applied: run sandbox.migrate()."

    assert sandbox.migrate().ok
    verdict = check.field_added(sandbox, "boards", "post", "likes")
    assert verdict and str(verdict) == "✔ Well done: 0003_post_likes is applied and boards_post.likes exists."


def test_field_added_notices_a_faked_migration(sandbox: Sandbox) -> None:
    sandbox.edit("boards/models.py", POST_LAST_FIELD, POST_LAST_FIELD + LIKES)
    assert sandbox.makemigrations("boards").ok
    assert sandbox.migrate("boards", fake=True).ok
    verdict = check.field_added(sandbox, "boards", "post", "likes")
    assert not verdict and "has no 'likes' column: was it faked?" in verdict.message


def test_app_at_says_what_migrate_would_still_do(sandbox: Sandbox) -> None:
    scenarios.create_author_book(sandbox)
    verdict = check.app_at(sandbox, "app", "0001_initial")
    assert not verdict
    assert verdict.message == "app is not at 0001_initial yet: migrate would still unapply 0002_added_Book_model."
    assert not check.app_at(sandbox, "app", "zero")

    assert sandbox.migrate("app", "0001_initial").ok
    assert check.app_at(sandbox, "app", "0001_initial")
    assert sandbox.migrate("app", "zero").ok
    assert (
        str(check.app_at(sandbox, "app", "zero")) == "✔ Well done: no migration of app is applied: its tables are gone."
    )


def test_app_at_passes_on_a_wrong_target_name_as_a_sentence(sandbox: Sandbox) -> None:
    verdict = check.app_at(sandbox, "boards", "0009")
    assert not verdict and verdict.message.startswith("App 'boards' has no migration called '0009'. Fix:")


def test_no_conflicts_asks_for_the_merge_then_the_migrate(sandbox: Sandbox) -> None:
    scenarios.make_conflicting_migrations(sandbox)
    verdict = check.no_conflicts(sandbox, "boards")
    assert not verdict and "run sandbox.makemigrations(merge=True)" in verdict.message

    assert sandbox.makemigrations(merge=True, answers=["y"]).ok
    verdict = check.no_conflicts(sandbox, "boards")
    assert not verdict and verdict.message.startswith("the merge is written but not applied")

    assert sandbox.migrate().ok
    assert check.no_conflicts(sandbox, "boards")


def test_answer_is_explains_an_unfinished_and_a_wrong_answer() -> None:
    unfinished = check.answer_is(..., "makemigrations", hint="one command writes files.")
    assert not unfinished and unfinished.message == "replace the ... with your answer. Hint: one command writes files."
    wrong = check.answer_is("migrate", "makemigrations", hint="one command writes files.")
    assert not wrong and wrong.message == "'migrate' is not it. Hint: one command writes files."
    assert check.answer_is(" MakeMigrations ", "makemigrations", hint="")
    assert check.answer_is(1, 1, hint="")


def test_rows_in_counts_the_real_rows(sandbox: Sandbox) -> None:
    assert not check.rows_in(sandbox, "app_book", 1)  # no such table yet
    scenarios.create_author_book(sandbox)
    scenarios.populate_author_book(sandbox)
    assert check.rows_in(sandbox, "app_book", 1)
    wrong = check.rows_in(sandbox, "app_book", 2)
    assert not wrong and wrong.message == "app_book has 1 row(s), the exercise wants 2."


def test_the_starter_line_is_still_in_the_template(sandbox: Sandbox) -> None:
    # The lessons and their checks edit models.py around this exact line.
    assert STARTER_LINE in sandbox.read("boards/models.py")


def test_safe_to_deploy_wants_a_migration_then_a_safe_one(pg_sandbox: Sandbox) -> None:
    verdict = check.safe_to_deploy(pg_sandbox, "boards")
    assert not verdict and "nothing of boards waits to be deployed" in verdict.message

    scenarios.add_views_field(pg_sandbox, migrate=False)
    verdict = check.safe_to_deploy(pg_sandbox, "boards")
    assert not verdict and verdict.message.startswith("boards.0003_topic_views is not safe yet (")

    assert pg_sandbox.migrate("boards", "0002").ok
    pg_sandbox.file("boards/migrations/0003_topic_views.py").unlink()
    pg_sandbox.edit("boards/models.py", scenarios.VIEWS_LINE, scenarios.SAFE_VIEWS_LINE)
    assert pg_sandbox.makemigrations("boards").ok
    verdict = check.safe_to_deploy(pg_sandbox, "boards")
    assert verdict and "boards.0003_topic_views can be deployed" in verdict.message


def test_index_built_concurrently_wants_an_index_then_concurrently(pg_sandbox: Sandbox, sandbox: Sandbox) -> None:
    assert "needs the PostgreSQL sandbox" in check.index_built_concurrently(sandbox, "boards_topic", "subject").message
    verdict = check.index_built_concurrently(pg_sandbox, "boards_topic", "subject")
    assert not verdict and "there is no index on boards_topic.subject" in verdict.message

    scenarios.add_subject_index(pg_sandbox, migrate=True)
    verdict = check.index_built_concurrently(pg_sandbox, "boards_topic", "subject")
    assert not verdict and "plain CREATE INDEX" in verdict.message

    assert pg_sandbox.migrate("boards", "0002").ok
    pg_locks.make_concurrent(pg_sandbox, "boards", "0003")
    assert pg_sandbox.migrate("boards").ok
    verdict = check.index_built_concurrently(pg_sandbox, "boards_topic", "subject")
    assert verdict and "0003_topic_subject_idx builds it CONCURRENTLY" in verdict.message
