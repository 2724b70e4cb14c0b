"""The lessons' exercise checks: unfinished, wrong and right answers, each with a helpful sentence.

Right answers are read from real sandboxes (tests/lesson_answers.py), never
written here; wrong ones are computed from them (one more, another table).
Changing the sandbox changes what the check accepts: the answer is read, not stored.
"""

from __future__ import annotations

import re

import pytest
from lesson_answers import (
    authors_left,
    command_that_writes_files,
    index_count,
    tables_after_book,
    temporary_table,
    tracker_migrations,
)

from widgets import KitError, Sandbox, scenarios
from widgets import exercises as check
from widgets.lessons.catalogue import EXERCISES
from widgets.lessons.checks import normalise_command, normalise_count, normalise_name
from widgets.lessons.progress_record import progress
from widgets.lessons.scenarios import STARTER_LINE
from widgets.read.table import column, records, where
from widgets.run import pg_locks

LIKES = "    likes = models.PositiveIntegerField(default=0)\n"
POST_LAST_FIELD = '    updated_by = models.ForeignKey(User, on_delete=models.CASCADE, null=True, related_name="+")\n'
CATEGORY_NAME = "('name', models.CharField(max_length=50))"


def hint_of(exercise_id: str) -> str:
    return EXERCISES[exercise_id].hint


def assert_unfinished(exercise_id: str, sandbox: Sandbox) -> None:
    for empty in (..., None):
        verdict = check.exercise(exercise_id, empty, sandbox=sandbox)
        assert not verdict and verdict.message == f"replace the ... with your answer. Hint: {hint_of(exercise_id)}"


def assert_wrong(exercise_id: str, answer: object, sandbox: Sandbox) -> None:
    verdict = check.exercise(exercise_id, answer, sandbox=sandbox)
    assert not verdict and verdict.message.endswith(f"Hint: {hint_of(exercise_id)}"), verdict.message


# ----- the state checks the exercises use ---------------------------------------------------


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
    assert not verdict and verdict.message.startswith("there is no migration 0009 in boards yet: create it first")
    verdict = check.app_at(sandbox, "nosuchapp", "0001")
    assert not verdict and "nosuchapp" in verdict.message


def test_no_conflicts_asks_for_the_merge_then_the_migrate(sandbox: Sandbox) -> None:
    scenarios.make_conflicting_migrations(sandbox)
    verdict = check.no_conflicts(sandbox, "boards")
    assert not verdict and "run sandbox.makemigrations(merge=True)" in verdict.message

    assert sandbox.makemigrations(merge=True, answers=["y"]).ok
    verdict = check.no_conflicts(sandbox, "boards")
    assert not verdict and verdict.message.startswith("the merge is written but not applied")

    assert sandbox.migrate().ok
    assert check.no_conflicts(sandbox, "boards")


def test_rows_in_counts_the_real_rows(sandbox: Sandbox) -> None:
    assert not check.rows_in(sandbox, "app_book", 1)  # no such table yet
    scenarios.create_author_book(sandbox)
    scenarios.populate_author_book(sandbox)
    assert check.rows_in(sandbox, "app_book", 1)
    wrong = check.rows_in(sandbox, "app_book", 2)
    assert not wrong and wrong.message == "app_book has 1 row(s), the exercise wants 2."


# ----- typing slips -------------------------------------------------------------------------


@pytest.mark.parametrize("typed", [7, "7", " 7 ", "'7'", '"7"', 7.0, "+7"])
def test_a_count_forgives_str_for_int_spaces_and_quotes(typed: object) -> None:
    assert normalise_count(typed) == 7


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        (True, "not True or False"),
        (2.5, "a count is a whole number"),
        ("seven", "with digits, not in words"),
        ("many", "answer with a number"),
        ([7], "a single number, not a list"),
    ],
)
def test_a_count_of_another_kind_gets_its_own_hint(typed: object, says: str) -> None:
    assert says in normalise_count(typed)


def test_a_name_forgives_case_spaces_and_quotes() -> None:
    assert normalise_name('  "Some_Table" ') == normalise_name("`some_table`") == normalise_name("some_table")
    assert normalise_name(3) is None


@pytest.mark.parametrize(
    "typed", ["showmigrations", " ShowMigrations ", "python manage.py showmigrations", "./manage.py showmigrations app"]
)
def test_a_command_forgives_the_manage_py_in_front(typed: str) -> None:
    assert normalise_command(typed) == "showmigrations"


# ----- every exercise of the lessons: unfinished, wrong, right --------------------------------


def test_01_tracker_migrations_is_read_from_the_migration_files(sandbox: Sandbox) -> None:
    exercise_id = "01-tracker-migrations"
    assert_unfinished(exercise_id, sandbox)
    right = tracker_migrations(sandbox)
    assert_wrong(exercise_id, right + 1, sandbox)
    assert check.exercise(exercise_id, right, sandbox=sandbox)
    assert check.exercise(exercise_id, f" '{right}' ", sandbox=sandbox)
    verdict = check.exercise(exercise_id, str(right) + ".5", sandbox=sandbox)
    assert not verdict and "answer with a number" in verdict.message

    # One more migration in tracker: the check now wants the new count.
    sandbox.edit("tracker/models.py", "max_length=50", "max_length=80")
    assert sandbox.makemigrations("tracker").ok
    assert tracker_migrations(sandbox) == right + 1
    assert check.exercise(exercise_id, right + 1, sandbox=sandbox)
    assert not check.exercise(exercise_id, right, sandbox=sandbox)


def test_01_writes_files_tries_the_command_in_a_scratch_copy(sandbox: Sandbox) -> None:
    exercise_id = "01-writes-files"
    options = EXERCISES[exercise_id].options
    assert_unfinished(exercise_id, sandbox)
    right = command_that_writes_files(options)
    [wrong] = [option for option in options if option != right]
    verdict = check.exercise(exercise_id, wrong, sandbox=sandbox)
    assert not verdict and "wrote no file into boards/migrations/" in verdict.message
    assert verdict.message.endswith(f"Hint: {hint_of(exercise_id)}")
    verdict = check.exercise(exercise_id, f"python manage.py {right.upper()}", sandbox=sandbox)
    assert verdict and "wrote boards/migrations/0003_" in verdict.message
    other = check.exercise(exercise_id, "showmigrations", sandbox=sandbox)
    assert not other and "answer with one of the commands the question names" in other.message
    assert not list((sandbox.workspace / ".kit" / "experiments").iterdir()), "the scratch copies are gone"


def test_02_likes_field_through_the_lesson_sandbox(sandbox: Sandbox) -> None:
    verdict = check.exercise("02-likes-field", sandbox=sandbox)
    assert not verdict and "has no field 'likes' yet" in verdict.message
    sandbox.edit("boards/models.py", POST_LAST_FIELD, POST_LAST_FIELD + LIKES)
    assert sandbox.makemigrations("boards").ok and sandbox.migrate().ok
    assert check.exercise("02-likes-field", sandbox=sandbox)


def test_02_temporary_table_is_read_from_the_sql(sandbox: Sandbox) -> None:
    exercise_id = "02-temporary-table"
    verdict = check.exercise(exercise_id, "anything", sandbox=sandbox)
    assert not verdict and "cannot show the SQL of boards 0003 yet: run the steps above first" in verdict.message
    scenarios.add_views_field(sandbox)
    assert_unfinished(exercise_id, sandbox)
    right = temporary_table(sandbox)
    assert_wrong(exercise_id, "boards_topic", sandbox)
    verdict = check.exercise(exercise_id, 3, sandbox=sandbox)
    assert not verdict and "answer with the name as text, in quotes" in verdict.message
    for typed in (right, f' "{right.upper()}" ', f"`{right}`"):
        verdict = check.exercise(exercise_id, typed, sandbox=sandbox)
        assert verdict and verdict.message == f"{right!r} is right.", typed


def test_03_authors_left_is_counted_in_the_database(sandbox: Sandbox) -> None:
    exercise_id = "03-authors-left"
    verdict = check.exercise(exercise_id, 0, sandbox=sandbox)
    assert not verdict and "there is no table app_author" in verdict.message
    scenarios.create_author_book(sandbox)
    scenarios.populate_author_book(sandbox)
    assert sandbox.migrate("app", "0001_initial").ok and sandbox.migrate("app").ok  # the lesson's steps 7 and 8
    assert_unfinished(exercise_id, sandbox)
    right = authors_left(sandbox)
    assert_wrong(exercise_id, right + 1, sandbox)
    assert check.exercise(exercise_id, str(right), sandbox=sandbox)

    assert sandbox.shell("from app.models import Author\nAuthor.objects.create(name='Another')").ok
    assert check.exercise(exercise_id, right + 1, sandbox=sandbox)
    assert not check.exercise(exercise_id, right, sandbox=sandbox)


def test_03_app_zero(sandbox: Sandbox) -> None:
    scenarios.create_author_book(sandbox)
    assert not check.exercise("03-app-zero", sandbox=sandbox)
    assert sandbox.migrate("app", "zero").ok
    assert check.exercise("03-app-zero", sandbox=sandbox)


def test_04_index_count_is_read_from_the_sql(sandbox: Sandbox) -> None:
    exercise_id = "04-index-count"
    assert_unfinished(exercise_id, sandbox)
    right = index_count(sandbox)
    assert_wrong(exercise_id, right + 1, sandbox)
    assert check.exercise(exercise_id, right, sandbox=sandbox)
    verdict = check.exercise(exercise_id, "two", sandbox=sandbox)
    assert not verdict and "with digits" in verdict.message

    # An index more in the migration: the check now wants one more.
    sandbox.edit(
        "tracker/migrations/0001_initial.py", CATEGORY_NAME, CATEGORY_NAME.replace("50)", "50, db_index=True)")
    )
    assert index_count(sandbox) == right + 1
    assert check.exercise(exercise_id, right + 1, sandbox=sandbox)


def test_04_rehearsal_rollback(sandbox: Sandbox) -> None:
    sandbox.edit("tracker/models.py", "max_length=50", "max_length=80")
    assert sandbox.makemigrations("tracker", name="longer_category_name").ok and sandbox.migrate().ok
    verdict = check.exercise("04-rehearsal-rollback", sandbox=sandbox)
    assert not verdict and "migrate would still unapply 0002_longer_category_name" in verdict.message
    assert sandbox.migrate("tracker", "0001_initial").ok
    assert check.exercise("04-rehearsal-rollback", sandbox=sandbox)


def test_05_keep_the_authors(sandbox: Sandbox) -> None:
    scenarios.create_author_book(sandbox)
    assert not check.exercise("05-keep-the-authors", sandbox=sandbox)
    assert sandbox.migrate("app", "zero").ok  # one step too far
    verdict = check.exercise("05-keep-the-authors", sandbox=sandbox)
    assert not verdict and "migrate would still apply 0001_initial" in verdict.message
    assert sandbox.migrate("app", "0001_initial").ok
    assert check.exercise("05-keep-the-authors", sandbox=sandbox)


def test_in_voila_a_task_says_what_to_do_on_the_page_and_checks_on_a_click(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Voila runs the check cell once and cannot run it again: the box checks when the learner clicks."""
    scenarios.create_author_book(sandbox)
    monkeypatch.setenv("SERVER_SOFTWARE", "voila/0.5.13")  # what Voila puts in its kernels' environment

    def checks() -> int:
        return int(progress(sandbox.workspace).set_index("exercise").loc["05-keep-the-authors", "checks"])

    before = checks()
    box = check.exercise("05-keep-the-authors", sandbox=sandbox)
    assert "do it with the panel on this page, then click check" in box.prompt.value
    assert box.answer is None and box.status.value == "" and box.verdict is None  # nothing checked yet
    box.check_button.click()
    assert not box.verdict and "✘ Not yet" in box.status.value
    assert sandbox.migrate("app", "0001_initial").ok  # what the learner does with the panel
    box.check_button.click()
    assert box.verdict and "✔ Well done" in box.status.value
    assert checks() == before + 2  # each click is an attempt; showing the box was none


def test_in_voila_a_question_takes_its_answer_in_a_box(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    scenarios.create_author_book(sandbox)
    right = tables_after_book(sandbox)
    monkeypatch.setenv("SERVER_SOFTWARE", "voila/0.5.13")
    box = check.exercise("10-tables-after-book", ..., sandbox=sandbox)  # the cell as the lesson ships it
    assert "type your answer in the box and click check" in box.prompt.value
    box.check_button.click()
    assert box.verdict is None and "Type your answer" in box.status.value
    box.answer.value = str(right + 1)
    box.check_button.click()
    assert not box.verdict and box.verdict.message.endswith(f"Hint: {hint_of('10-tables-after-book')}")
    box.answer.value = f" {right} "
    box.check_button.click()
    assert box.verdict and "✔ Well done" in box.status.value


def test_outside_voila_a_check_is_a_verdict(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVER_SOFTWARE", "TornadoServer/6.4")  # another server's kernel: no box
    scenarios.create_author_book(sandbox)
    assert str(check.exercise("05-keep-the-authors", sandbox=sandbox)).startswith("✘ Not yet")


def test_06_merge_conflict(sandbox: Sandbox) -> None:
    scenarios.make_conflicting_migrations(sandbox)
    assert not check.exercise("06-merge-conflict", sandbox=sandbox)
    assert sandbox.makemigrations(merge=True, answers=["y"]).ok and sandbox.migrate().ok
    assert check.exercise("06-merge-conflict", sandbox=sandbox)


def test_11_orders_forward_and_catalog_to_its_squash_on_a_copy_of_the_shop() -> None:
    copy = Sandbox.copy_of(scenarios.example_project("shop"), "exercises-shop")
    try:
        assert copy.migrate("orders", "zero").ok  # where the lesson leaves it
        verdict = check.exercise("11-orders-forward", sandbox=copy)
        assert not verdict and "orders still has 2 migration(s) to apply" in verdict.message
        assert copy.migrate("orders").ok
        assert check.exercise("11-orders-forward", sandbox=copy)

        graph = copy.migration_graph().nodes
        [squash] = [r["name"] for r in records(graph) if r["app_label"] == "catalog" and r["replaces"]]
        verdict = check.exercise("11-catalog-to-squash", sandbox=copy)
        assert not verdict and "migrate would still unapply 0004_product_stock" in verdict.message
        assert squash not in verdict.message, "the hint points at the graph, it does not name the target"
        assert copy.migrate("catalog", squash).ok
        assert check.exercise("11-catalog-to-squash", sandbox=copy)
        assert copy.migrate("catalog", "zero").ok  # one step too far: now the squash is to apply again
        verdict = check.exercise("11-catalog-to-squash", sandbox=copy)
        assert not verdict and f"migrate would still apply {squash}" in verdict.message
    finally:
        copy.delete()


# ----- finding the sandbox, mistakes in the call, strict grading --------------------------------


def test_a_check_finds_the_sandbox_its_notebook_made() -> None:
    spec = EXERCISES["01-tracker-migrations"]
    verdict = check.exercise(spec.id, "anything")
    assert not verdict and f"there is no sandbox '{spec.sandbox}' yet" in verdict.message
    lesson = Sandbox.fresh(spec.sandbox)
    try:
        assert check.exercise(spec.id, tracker_migrations(lesson))
    finally:
        lesson.delete()


def test_mistakes_in_the_call_get_one_sentence(sandbox: Sandbox) -> None:
    with pytest.raises(KitError, match="did you mean '02-temporary-table'"):
        check.exercise("02-temporary-tables", "x", sandbox=sandbox)
    with pytest.raises(KitError, match="pass your answer"):
        check.exercise("02-temporary-table", sandbox=sandbox)
    with pytest.raises(KitError, match="checks the sandbox, not an answer"):
        check.exercise("03-app-zero", "zero", sandbox=sandbox)


@pytest.fixture
def lenient() -> None:
    """Leave the kernel-wide strict switch off after a test that turns it on."""
    yield
    check.strict(False)


def test_nbgrader_makes_a_failed_check_raise_with_its_hint(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], lenient: None
) -> None:
    before = progress(sandbox.workspace)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    unfinished = f"✘ Not yet: replace the ... with your answer. Hint: {hint_of('04-index-count')}"
    with pytest.raises(AssertionError, match=re.escape(unfinished)):
        check.exercise("04-index-count", ..., sandbox=sandbox)
    with pytest.raises(AssertionError, match=re.escape(f"Hint: {hint_of('04-index-count')}")):
        check.exercise("04-index-count", index_count(sandbox) + 1, sandbox=sandbox)
    right = index_count(sandbox)
    capfd.readouterr()
    # nbgrader reads a cell's returned value as partial credit: a passing check prints instead.
    assert check.exercise("04-index-count", right, sandbox=sandbox) is None
    # nbgrader also gives zero to a test cell with anything on stderr, from the kernel or its subprocesses.
    captured = capfd.readouterr()
    assert captured.out.startswith("✔ Well done: ") and captured.err == ""
    # The autograder runs every learner's notebook in the grader's workspace: not anyone's progress.
    assert progress(sandbox.workspace).equals(before)


def test_strict_by_call_or_variable_and_lenient_by_default(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, lenient: None
) -> None:
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv(check.STRICT_ENV, raising=False)
    assert not check.is_strict() and not check.exercise("02-likes-field", sandbox=sandbox)
    monkeypatch.setenv(check.STRICT_ENV, "1")
    with pytest.raises(AssertionError, match="likes"):
        check.exercise("02-likes-field", sandbox=sandbox)
    monkeypatch.delenv(check.STRICT_ENV)
    check.strict()
    assert check.is_strict()
    with pytest.raises(AssertionError):
        check.exercise("02-likes-field", sandbox=sandbox)
    check.strict(False)
    assert not check.is_strict()


def test_the_starter_line_is_still_in_the_template(sandbox: Sandbox) -> None:
    # The lessons and their checks edit models.py around this exact line.
    assert STARTER_LINE in sandbox.read("boards/models.py")


FILL_INITIALS = (
    "def fill_initials(apps, schema_editor):\n"
    "    for author in apps.get_model('app', 'Author').objects.all():\n"
    "        author.initials = author.name[:1]\n"
    "        author.save()\n"
)
SHOUT = (
    "def shout_names(apps, schema_editor):\n"
    "    from django.db.models.functions import Upper\n"
    "    apps.get_model('app', 'Author').objects.update(name=Upper('name'))\n"
)


def lesson_08_at_its_exercises(sandbox: Sandbox) -> None:
    """Bring a sandbox where lesson 08 leaves it: app squashed with its data migration, the shouting one applied."""
    from widgets.lessons.authoring import write_data_migration

    scenarios.create_author_book(sandbox)
    scenarios.add_authors(sandbox)
    name = "    name = models.CharField(max_length=512)\n"
    sandbox.edit("app/models.py", name, name + '    initials = models.CharField(max_length=10, default="")\n')
    assert sandbox.makemigrations("app").ok
    write_data_migration(sandbox, "app", "fill_initials", FILL_INITIALS, noop_backwards=True, elidable=True)
    assert sandbox.migrate("app").ok
    assert sandbox.manage("squashmigrations", "--noinput", "app", "0004").ok
    write_data_migration(sandbox, "app", "shout_names", SHOUT)
    assert sandbox.migrate("app").ok


def test_08_give_it_a_reverse_and_your_own_round_trip(sandbox: Sandbox) -> None:
    from widgets.lessons.authoring import remove, write_data_migration

    lesson_08_at_its_exercises(sandbox)
    verdict = check.exercise("08-give-it-a-reverse", sandbox=sandbox)
    assert not verdict and "still cannot be unapplied" in verdict.message
    remove(sandbox, "app/migrations/0005_shout_names.py")
    write_data_migration(sandbox, "app", "shout_names", SHOUT, noop_backwards=True)
    verdict = check.exercise("08-give-it-a-reverse", sandbox=sandbox)
    assert not verdict and "app is not at its squash yet" in verdict.message
    squash = column(where(sandbox.migration_graph().nodes, app_label="app"), "name")[0]
    assert sandbox.migrate("app", squash).ok
    assert check.exercise("08-give-it-a-reverse", sandbox=sandbox)

    own = check.exercise("08-your-own-round-trip", sandbox=sandbox)
    assert not own and "no migration of app that uses RunPython of your own yet" in own.message
    assert sandbox.migrate("app").ok
    # Not idempotent with a reverse that does nothing: a round trip doubles the mark.
    lossy = "def mark(apps, schema_editor):\n    from django.db.models.functions import Concat\n    from django.db.models import Value\n    apps.get_model('app', 'Author').objects.update(initials=Concat('initials', Value('!')))\n"
    write_data_migration(sandbox, "app", "mark", lossy, noop_backwards=True)
    verdict = check.exercise("08-your-own-round-trip", sandbox=sandbox)
    assert not verdict and "is written but not applied" in verdict.message
    assert sandbox.migrate("app").ok
    verdict = check.exercise("08-your-own-round-trip", sandbox=sandbox)
    assert not verdict and "did not come back" in verdict.message
    unmark = "def unmark(apps, schema_editor):\n    from django.db.models.functions import Left, Length\n    Author = apps.get_model('app', 'Author')\n    Author.objects.update(initials=Left('initials', Length('initials') - 1))\n"
    assert sandbox.migrate("app", "0005_shout_names").ok
    remove(sandbox, "app/migrations/0006_mark.py")
    write_data_migration(sandbox, "app", "mark", lossy, unmark)
    assert sandbox.migrate("app").ok
    verdict = check.exercise("08-your-own-round-trip", sandbox=sandbox)
    assert verdict and "every one came back" in verdict.message


def test_09_renumber_a_branch_refuses_a_merge(sandbox: Sandbox) -> None:
    scenarios.make_conflicting_migrations(sandbox)
    verdict = check.exercise("09-renumber-a-branch", sandbox=sandbox)
    assert not verdict and "two leaf nodes" in verdict.message
    sandbox.snapshot("conflict")
    assert sandbox.makemigrations("boards", merge=True, answers=["y"]).ok
    verdict = check.exercise("09-renumber-a-branch", sandbox=sandbox)
    assert not verdict and "that is a merge" in verdict.message
    sandbox.restore("conflict")
    pinned = sandbox.read("boards/migrations/0003_topic_pinned.py")
    sandbox.write(
        "boards/migrations/0004_topic_pinned.py",
        pinned.replace('[("boards", "0002_post")]', '[("boards", "0003_topic_views")]'),
    )
    sandbox.file("boards/migrations/0003_topic_pinned.py").unlink()
    verdict = check.exercise("09-renumber-a-branch", sandbox=sandbox)
    assert not verdict and "still has 2 migration(s) to apply" in verdict.message
    assert sandbox.migrate().ok
    assert check.exercise("09-renumber-a-branch", sandbox=sandbox)


def test_09_squash_without_a_circle(sandbox: Sandbox) -> None:
    from widgets.lessons.authoring import remove

    scenarios.make_dependencies_both_ways(sandbox)
    verdict = check.exercise("09-squash-without-a-circle", sandbox=sandbox)
    assert not verdict and "no squashed migration" in verdict.message
    assert sandbox.manage("squashmigrations", "--noinput", "boards", "0003").ok
    verdict = check.exercise("09-squash-without-a-circle", sandbox=sandbox)
    assert not verdict and "cannot build the graph" in verdict.message and "circle" in verdict.message
    remove(sandbox, "boards/migrations/0001_squashed_0003_board_ledger.py")
    assert sandbox.manage("squashmigrations", "--noinput", "boards", "0002").ok
    assert check.exercise("09-squash-without-a-circle", sandbox=sandbox)


def test_app_at_asks_to_create_a_migration_that_does_not_exist_yet(sandbox: Sandbox) -> None:
    verdict = check.app_at(sandbox, "boards", "0003_topic_views")
    assert not verdict and "there is no migration 0003_topic_views in boards yet: create it first" in verdict.message


def test_10_tables_after_book_and_boards_back(sandbox: Sandbox) -> None:
    scenarios.add_views_field(sandbox)
    scenarios.create_author_book(sandbox)
    scenarios.make_cross_app_dependency(sandbox)
    assert_unfinished("10-tables-after-book", sandbox)
    right = tables_after_book(sandbox)
    assert_wrong("10-tables-after-book", right + 1, sandbox)
    assert check.exercise("10-tables-after-book", str(right), sandbox=sandbox)
    verdict = check.exercise("10-boards-back", sandbox=sandbox)
    assert not verdict and "boards is not at 0002_post yet" in verdict.message
    assert sandbox.migrate("boards", "0002_post").ok
    assert check.exercise("10-boards-back", sandbox=sandbox)


def test_12_safe_likes_wants_a_migration_then_a_safe_one(pg_sandbox: Sandbox) -> None:
    verdict = check.exercise("07-safe-likes", sandbox=pg_sandbox)
    assert not verdict and "nothing of boards waits to be deployed" in verdict.message

    scenarios.add_views_field(pg_sandbox, migrate=False)
    verdict = check.exercise("07-safe-likes", sandbox=pg_sandbox)
    assert not verdict and verdict.message.startswith("boards.0003_topic_views is not safe yet (")

    assert pg_sandbox.migrate("boards", "0002").ok
    pg_sandbox.file("boards/migrations/0003_topic_views.py").unlink()
    pg_sandbox.edit("boards/models.py", scenarios.VIEWS_LINE, scenarios.SAFE_VIEWS_LINE)
    assert pg_sandbox.makemigrations("boards").ok
    verdict = check.exercise("07-safe-likes", sandbox=pg_sandbox)
    assert verdict and "boards.0003_topic_views can be deployed" in verdict.message


def test_12_index_without_blocking_wants_an_index_then_concurrently(pg_sandbox: Sandbox, sandbox: Sandbox) -> None:
    verdict = check.exercise("07-index-without-blocking", sandbox=sandbox)
    assert not verdict and "needs the PostgreSQL sandbox" in verdict.message
    verdict = check.exercise("07-index-without-blocking", sandbox=pg_sandbox)
    assert not verdict and "there is no index on boards_post.created_at" in verdict.message

    index = '\n    class Meta:\n        indexes = [models.Index(fields=["created_at"], name="post_created_idx")]\n'
    pg_sandbox.edit("boards/models.py", POST_LAST_FIELD, POST_LAST_FIELD + index)
    assert pg_sandbox.makemigrations("boards").ok and pg_sandbox.migrate().ok
    verdict = check.exercise("07-index-without-blocking", sandbox=pg_sandbox)
    assert not verdict and "plain CREATE INDEX" in verdict.message

    assert pg_sandbox.migrate("boards", "0002").ok
    pg_locks.make_concurrent(pg_sandbox, "boards", "0003")
    assert pg_sandbox.migrate("boards").ok
    verdict = check.exercise("07-index-without-blocking", sandbox=pg_sandbox)
    assert verdict and "builds it CONCURRENTLY" in verdict.message
