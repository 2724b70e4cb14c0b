"""Prompts: Django's stdin questions become a result to answer, never a hang or an EOFError."""

from __future__ import annotations

import pytest

from widgets import Prompt, scenarios
from widgets.run.prompts import find_prompt

NON_NULLABLE = "    views = models.PositiveIntegerField()\n"


@pytest.fixture
def non_nullable(sandbox):
    """Return a sandbox whose Topic gains a non-nullable field without a default."""
    sandbox.edit("boards/models.py", scenarios.STARTER_LINE, scenarios.STARTER_LINE + NON_NULLABLE)
    return sandbox


def test_a_non_nullable_field_is_a_question_not_a_crash(non_nullable):
    result = non_nullable.makemigrations("boards", timeout=60)
    assert not result.timed_out
    assert not result.ok
    assert isinstance(result.prompt, Prompt)
    prompt = result.prompt
    assert (prompt.kind, prompt.model, prompt.field) == ("not_null_addition", "topic", "views")
    assert prompt.question.startswith("It is impossible to add a non-nullable field 'views' to topic")
    assert prompt.question.endswith("Select an option:")
    assert prompt.choices == (
        "Provide a one-off default now (will be set on all existing rows with a null value for this column)",
        "Quit and manually define a default value in models.py.",
    )
    assert not prompt.is_yes_no
    assert "EOFError" not in result.message
    assert result.message == (
        "Django asked a question: It is impossible to add a non-nullable field 'views' to topic without "
        "specifying a default. This is because the database needs something to populate existing rows. "
        "Fix: answer it (answers=['1', '0'] gives existing rows 0) or give the field a default in models.py."
    )
    assert "Traceback" not in result.terminal()
    assert not (non_nullable.path / "boards/migrations/0003_topic_views.py").exists()


def test_answering_the_question_writes_the_migration(non_nullable):
    result = non_nullable.makemigrations("boards", answers=["1", "0"])
    assert result.ok, result.terminal()
    assert result.prompt is None
    assert "  boards/migrations/0003_topic_views.py\n    + Add field views to topic\n" in result.stdout
    migration = non_nullable.read("boards/migrations/0003_topic_views.py")
    assert "default=0" in migration and "preserve_default=False" in migration
    assert non_nullable.migrate().ok
    assert ("boards_topic", "views") in set(
        zip(non_nullable.schema()["table"], non_nullable.schema()["column"], strict=True)
    )


def test_the_answers_come_from_the_prompt(non_nullable):
    prompt = non_nullable.makemigrations("boards").prompt
    assert prompt.answer(1, "0") == ["1", "0"]
    assert prompt.answer(2) == ["2"]
    quit_ = non_nullable.makemigrations("boards", answers=prompt.answer(2))
    assert quit_.exit_code == 3 and quit_.prompt is None
    assert not (non_nullable.path / "boards/migrations/0003_topic_views.py").exists()


def test_merge_question_of_django_5(sandbox):
    scenarios.make_conflicting_migrations(sandbox)
    result = sandbox.makemigrations(merge=True)
    assert result.prompt is not None
    assert result.prompt.kind == "merge"
    assert result.prompt.question == "Should these migration branches be merged? [y/N]"
    assert result.prompt.is_yes_no and result.prompt.choices == ("y", "n")
    assert result.message.endswith(
        "Fix: answer it: answers=['y'] writes a merge migration that depends on both branches."
    )
    merged = sandbox.makemigrations(merge=True, answers=["y"])
    assert merged.ok
    assert "Created new merge migration boards/migrations/0004_merge_0003_topic_pinned_0003_topic_views.py" in (
        merged.stdout
    )


def test_rename_question(sandbox):
    sandbox.edit("boards/models.py", "    subject = models", "    title = models")
    result = sandbox.makemigrations("boards")
    prompt = result.prompt
    assert (prompt.kind, prompt.model, prompt.field) == ("rename_field", "topic", "title")
    assert prompt.question == "Was topic.subject renamed to topic.title (a CharField)? [y/N]"
    assert "answers=['y'] if it is a rename (the data is kept)" in result.message
    renamed = sandbox.makemigrations("boards", answers=["y"])
    assert renamed.ok and "~ Rename field subject on topic to title" in renamed.stdout


def test_find_prompt_needs_the_eof_error():
    stdout = "Was topic.subject renamed to topic.title (a CharField)? [y/N] "
    assert find_prompt(stdout, "") is None
    assert find_prompt(stdout, "EOFError: EOF when reading a line").kind == "rename_field"


def test_an_unknown_question_is_still_reported():
    prompt = find_prompt("Pick a colour [red/blue]: ", "Traceback ...\nEOFError")
    assert (prompt.kind, prompt.question, prompt.choices) == ("unknown", "Pick a colour [red/blue]:", ())
    assert prompt.fix == "answer it with answers=[...], one line per question."


def test_noinput_skips_the_field_and_says_why(non_nullable):
    result = non_nullable.manage("makemigrations", "--noinput")
    assert result.exit_code == 3 and result.prompt is None
    assert result.diagnosis is not None and result.diagnosis.code == "not_null_noinput"
    assert result.message == (
        "makemigrations skipped the field 'views' on 'topic': it cannot be NOT NULL without a value for the rows "
        "already there, and --noinput means nobody was asked for one. Fix: give the field a default in models.py "
        "(for example default=0) or null=True, or run makemigrations without --noinput and answer its question."
    )
    assert not (non_nullable.path / "boards/migrations/0003_topic_views.py").exists()


def test_the_rename_hint_names_the_default_question_that_follows_no(sandbox):
    """Answering no to the rename question adds title as a new NOT NULL column: Django then asks for a default."""
    sandbox.edit("boards/models.py", "    subject = models", "    title = models")
    prompt = sandbox.makemigrations("boards").prompt
    assert prompt.may_follow("n") == ("not_null_addition", "auto_now_add_addition", "unique_callable_default")
    assert prompt.may_follow("y") == ()
    assert prompt.fix.endswith(
        "after 'n', if title is NOT NULL with no default, Django asks for a one-off default next: "
        "answers=['n', '1', \"''\"]."
    )
    followed = sandbox.makemigrations("boards", answers=["n"]).prompt
    assert followed.kind in prompt.may_follow("n") and followed.field == "title"
    assert followed.may_follow("1") == ("default_value",)
    answered = sandbox.makemigrations("boards", answers=["n", "1", "''"])
    assert answered.ok and "- Remove field subject from topic" in answered.stdout


def test_every_hint_with_a_numbered_choice_answers_with_a_number():
    """The unique-callable question offers 1) and 2), not yes and no."""
    question = "Callable default on unique field topic.code will not generate unique values upon migrating.\n"
    prompt = find_prompt(question + " 1) Continue\n 2) Quit\nSelect an option: ", "EOFError")
    assert prompt.kind == "unique_callable_default" and prompt.choices == ("Continue", "Quit")
    assert "answers=['1']" in prompt.fix and "['2']" in prompt.fix and "'y'" not in prompt.fix
