"""Every exercise of the lessons: its notebook, its sandbox, its hint, and how its check finds the right answer.

No answer is written here. Each check reads the right answer from the
learner's sandbox at check time (the migration graph, a row count, the SQL
``sqlmigrate`` prints) or, for a question about what a command does, runs
the command in a scratch copy of the project and looks. So the kit's source
and the notebooks' check cells never show an answer, and an exercise stays
right if the template project changes.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from widgets.errors import KitError
from widgets.lessons.checks import (
    Check,
    NotReady,
    all_applied,
    all_of,
    app_at,
    at_squash,
    choice_is,
    count_is,
    field_added,
    index_built_concurrently,
    migration_exists,
    name_is,
    no_conflicts,
    own_migrations,
    reversible,
    safe_to_deploy,
)
from widgets.lessons.scenarios import STARTER_LINE, VIEWS_LINE
from widgets.read.table import records
from widgets.run.rehearsal import round_trip
from widgets.sandbox.facade import Sandbox
from widgets.sandbox.workspace import KIT

__all__ = ["EXERCISES", "Exercise"]


@dataclass(frozen=True)
class Exercise:
    """One exercise: where it is asked, what it asks, and the check that reads the sandbox."""

    id: str
    notebook: str
    sandbox: str
    question: str
    verdict: Callable[[Exercise, Sandbox, object], Check]
    typed: bool = False
    hint: str = ""
    options: tuple[str, ...] = ()
    # The course that registered it (widgets.lessons.course); "" for the kit's own lessons.
    course: str = ""

    def check(self, sandbox: Sandbox, answer: object = None) -> Check:
        """Return the verdict on this exercise for a sandbox (and the typed answer, if it takes one)."""
        try:
            return self.verdict(self, sandbox, answer)
        except NotReady as error:
            return Check(False, str(error))


# ----- where the right answers come from ------------------------------------------------


def _rows_now(sandbox: Sandbox, table: str) -> int:
    """Return how many rows a table holds now; NotReady if it does not exist."""
    counts = {row["table"]: row["rows"] for row in records(sandbox.tables())}
    if table not in counts:
        raise NotReady(
            f"there is no table {table} in your sandbox right now: migrate its app forward, then count again."
        )
    return int(counts[table])


def _sql_of(sandbox: Sandbox, app_label: str, migration: str) -> str:
    """Return the SQL sqlmigrate prints for a migration; NotReady if there is none."""
    result = sandbox.sqlmigrate(app_label, migration)
    if not result.ok:
        raise NotReady(
            f"your sandbox cannot show the SQL of {app_label} {migration} yet: run the steps above first "
            f"(sqlmigrate said: {result.message})"
        )
    return result.stdout


def _rebuild_copy(sandbox: Sandbox, app_label: str, migration: str, table: str) -> str:
    """Return the table SQLite builds and then renames to ``table`` while a migration alters it."""
    match = re.search(rf'ALTER TABLE "([^"]+)" RENAME TO "{table}"', _sql_of(sandbox, app_label, migration))
    if match is None:
        raise NotReady(f"{app_label} {migration} does not rebuild {table} in your sandbox: run the steps above first.")
    return match.group(1)


def _index_statements(sandbox: Sandbox, app_label: str, migration: str) -> int:
    """Return how many CREATE INDEX statements a migration's SQL holds."""
    return sum(line.startswith("CREATE INDEX") for line in _sql_of(sandbox, app_label, migration).splitlines())


def _writes_migration_files(sandbox: Sandbox, command: str) -> Check:
    """Run a command in a scratch copy of the template after a model change, and see if it wrote a migration."""
    scratch_root = sandbox.workspace / KIT / "experiments"
    scratch_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch_root) as folder:
        scratch = Sandbox.fresh("scratch", migrated=False, workspace=Path(folder))
        scratch.edit("boards/models.py", STARTER_LINE, STARTER_LINE + VIEWS_LINE)
        before = {path.name for path in scratch.file("boards/migrations").glob("0*.py")}
        scratch.manage(command)
        written = sorted({path.name for path in scratch.file("boards/migrations").glob("0*.py")} - before)
    tried = f"in a scratch copy of the project, after a change to models.py, {command} wrote"
    if written:
        return Check(True, f"{command!r} is right: {tried} boards/migrations/{written[0]}.")
    return Check(False, f"{command!r} is not it: {tried} no file into boards/migrations/.")


# The data migrations lesson 08 writes itself; the learner's own are the others.
_LESSON_08_DATA = ("fill_initials", "shout_names")


def _named(sandbox: Sandbox, app_label: str, suffix: str) -> str:
    """Return the one migration of an app whose name ends with ``suffix``; NotReady if there is none."""
    names = [name for name in own_migrations(sandbox, app_label) if name.endswith(suffix)]
    if not names:
        raise NotReady(f"there is no {app_label} migration called ..._{suffix} yet: run the exercise's first cell.")
    return names[-1]


def _give_it_a_reverse(sandbox: Sandbox) -> Check:
    """The shouting migration has a way back, and app is back at its squash."""
    shout = _named(sandbox, "app", "shout_names")
    return all_of(lambda: reversible(sandbox, "app", shout), lambda: at_squash(sandbox, "app"))


def _parent_in_app(sandbox: Sandbox, app_label: str, name: str) -> str:
    """Return the migration of the same app that ``name`` depends on."""
    parents = [
        p for p, child in sandbox.migration_graph().edge_set() if child == (app_label, name) and p[0] == app_label
    ]
    if len(parents) != 1:
        raise NotReady(f"{app_label}.{name} should depend on exactly one earlier migration of {app_label}.")
    return parents[0][1]


def _own_round_trip(sandbox: Sandbox) -> Check:
    """The learner's own data migration is applied, reversible, and restores every value on a round trip."""
    found = migration_exists(sandbox, "app", runs="RunPython", other_than=_LESSON_08_DATA)
    if not found:
        return found
    mine = own_migrations(sandbox, "app", runs="RunPython", other_than=_LESSON_08_DATA)[-1]
    applied = {row["name"] for row in records(sandbox.applied_migrations()) if row["app"] == "app"}
    if mine not in applied:
        return Check(False, f"{mine} is written but not applied: run sandbox.migrate('app').")
    verdict = reversible(sandbox, "app", mine)
    if not verdict:
        return verdict
    trip = round_trip(sandbox, "app", _parent_in_app(sandbox, "app", mine))
    if not trip.restored:
        return Check(False, f"{trip.headline()} Make the reverse function put back what the forward one changed.")
    return Check(True, f"{mine} can go back and forth: {trip.headline()}")


def _renumbered(sandbox: Sandbox) -> Check:
    """Boards has one line of migrations again, with no merge migration, all applied."""
    graph = sandbox.migration_graph()
    if "boards" in graph.conflicts:
        return Check(
            False,
            "boards still has two leaf nodes: rename one branch's 0003 to 0004 and make it depend on the other 0003.",
        )
    in_app = [(p, c) for p, c in graph.edge_set() if p[0] == c[0] == "boards"]
    merges = sorted({c[1] for _, c in in_app if sum(child == c for _, child in in_app) > 1})
    if merges:
        return Check(
            False,
            f"{merges[0]} depends on two boards migrations: that is a merge. This exercise asks for renumbering; "
            "remove the merge and renumber one branch instead.",
        )
    return all_applied(sandbox, "boards")


def _squash_without_a_circle(sandbox: Sandbox) -> Check:
    """Django can build the graph again, boards has a squash, and everything is applied."""
    try:
        nodes = sandbox.migration_graph().nodes
    except KitError as error:
        return Check(False, f"Django still cannot build the graph: {error}")
    squashes = [row for row in records(nodes) if row["app_label"] == "boards" and row["replaces"]]
    if not squashes:
        return Check(
            False,
            "boards has no squashed migration now: squash it again, stopping before the migration that needs tracker.",
        )
    return all_of(lambda: all_applied(sandbox, "boards"), lambda: all_applied(sandbox, "tracker"))


def _tables_after(sandbox: Sandbox, app_label: str, name: str) -> int:
    """Return how many tables of the project's own apps the schema has right after one migration, by the timeline."""
    from widgets.read.timeline import read_timeline  # the time machine's probe, only when this exercise is checked

    timeline = read_timeline(sandbox)
    if (app_label, name) not in timeline.steps:
        raise NotReady(f"{app_label}.{name} is not in your sandbox's plan: run the notebook from the top.")
    return len(timeline.tables_at(timeline.index(app_label, name)))


# ----- the exercises, in lesson order ---------------------------------------------------


def _state(check: Callable[[Sandbox], Check]) -> Callable[[Exercise, Sandbox, object], Check]:
    """Wrap a state check so it fits the verdict signature (it takes no typed answer)."""
    return lambda exercise, sandbox, answer: check(sandbox)


_ALL = [
    Exercise(
        id="00-template-forward",
        notebook="lesson-template",
        sandbox="00-lesson-template",
        question="The template lesson's exercise: apply every migration of tracker again",
        verdict=_state(lambda sandbox: all_applied(sandbox, "tracker")),
    ),
    Exercise(
        id="01-tracker-migrations",
        notebook="01-what-a-migration-is",
        sandbox="01-what-a-migration-is",
        question="How many migrations the tracker app has",
        typed=True,
        hint='count the lines under "tracker" in showmigrations.',
        verdict=lambda exercise, sandbox, answer: count_is(
            answer, lambda: len(sandbox.migration_graph().migrations_of("tracker")), hint=exercise.hint
        ),
    ),
    Exercise(
        id="01-writes-files",
        notebook="01-what-a-migration-is",
        sandbox="01-what-a-migration-is",
        question="Which command writes files into migrations/",
        typed=True,
        hint="one command writes files, the other changes the database.",
        options=("makemigrations", "migrate"),
        verdict=lambda exercise, sandbox, answer: choice_is(
            answer, exercise.options, lambda command: _writes_migration_files(sandbox, command), hint=exercise.hint
        ),
    ),
    Exercise(
        id="02-likes-field",
        notebook="02-adding-the-views-field",
        sandbox="02-adding-the-views-field",
        question="Give Post a likes counter, migrated",
        verdict=_state(lambda sandbox: field_added(sandbox, "boards", "post", "likes")),
    ),
    Exercise(
        id="02-temporary-table",
        notebook="02-adding-the-views-field",
        sandbox="02-adding-the-views-field",
        question="The temporary table SQLite builds to add a column",
        typed=True,
        hint="look for CREATE TABLE in the sqlmigrate output of step 5.",
        verdict=lambda exercise, sandbox, answer: name_is(
            answer, lambda: _rebuild_copy(sandbox, "boards", "0003", "boards_topic"), hint=exercise.hint
        ),
    ),
    Exercise(
        id="03-authors-left",
        notebook="03-author-and-book-rollback",
        sandbox="03-author-and-book-rollback",
        question="How many rows app_author has after the rollback and forward again",
        typed=True,
        hint="rolling back to 0001_initial kept app_author; count its rows with sandbox.query.",
        verdict=lambda exercise, sandbox, answer: count_is(
            answer, lambda: _rows_now(sandbox, "app_author"), hint=exercise.hint
        ),
    ),
    Exercise(
        id="03-app-zero",
        notebook="03-author-and-book-rollback",
        sandbox="03-author-and-book-rollback",
        question="Roll app all the way back to zero",
        verdict=_state(lambda sandbox: app_at(sandbox, "app", "zero")),
    ),
    Exercise(
        id="04-index-count",
        notebook="04-reading-the-sql",
        sandbox="04-reading-the-sql",
        question="How many CREATE INDEX statements tracker 0001 runs",
        typed=True,
        hint="count the lines starting with CREATE INDEX in step 1.",
        verdict=lambda exercise, sandbox, answer: count_is(
            answer, lambda: _index_statements(sandbox, "tracker", "0001"), hint=exercise.hint
        ),
    ),
    Exercise(
        id="04-rehearsal-rollback",
        notebook="04-reading-the-sql",
        sandbox="04-rehearsal",
        question="Roll the rehearsal's tracker back to 0001_initial",
        verdict=_state(lambda sandbox: app_at(sandbox, "tracker", "0001_initial")),
    ),
    Exercise(
        id="05-keep-the-authors",
        notebook="05-rollback-playground",
        sandbox="05-rollback-playground",
        question="With the panel, roll app back to 0001_initial",
        verdict=_state(lambda sandbox: app_at(sandbox, "app", "0001_initial")),
    ),
    Exercise(
        id="06-merge-conflict",
        notebook="06-when-migrations-go-wrong",
        sandbox="06-practice",
        question="Merge the two 0003 migrations and apply everything",
        verdict=_state(lambda sandbox: no_conflicts(sandbox, "boards")),
    ),
    Exercise(
        id="08-give-it-a-reverse",
        notebook="08-data-migrations",
        sandbox="08-data-migrations",
        question="Make the shouting migration reversible and roll app back to its squash",
        verdict=_state(_give_it_a_reverse),
    ),
    Exercise(
        id="08-your-own-round-trip",
        notebook="08-data-migrations",
        sandbox="08-data-migrations",
        question="A data migration of your own whose round trip restores every value",
        verdict=_state(_own_round_trip),
    ),
    Exercise(
        id="09-renumber-a-branch",
        notebook="09-branches-merge-and-squash",
        sandbox="09-practice",
        question="Resolve two 0003 migrations by renumbering one, not by a merge",
        verdict=_state(_renumbered),
    ),
    Exercise(
        id="09-squash-without-a-circle",
        notebook="09-branches-merge-and-squash",
        sandbox="09-squash-cycle",
        question="Replace the squash that makes a circle with one that does not",
        verdict=_state(_squash_without_a_circle),
    ),
    Exercise(
        id="10-tables-after-book",
        notebook="10-time-travel",
        sandbox="10-time-travel",
        question="How many tables of the project's own apps exist right after app.0002_added_Book_model",
        typed=True,
        hint="timeline.state_at(timeline.index(...)) or draw_schema of it; Django's own tables do not count.",
        verdict=lambda exercise, sandbox, answer: count_is(
            answer, lambda: _tables_after(sandbox, "app", "0002_added_Book_model"), hint=exercise.hint
        ),
    ),
    Exercise(
        id="10-boards-back",
        notebook="10-time-travel",
        sandbox="10-time-travel",
        question="Travel boards back to 0002_post",
        verdict=_state(lambda sandbox: app_at(sandbox, "boards", "0002_post")),
    ),
    Exercise(
        id="11-orders-forward",
        notebook="11-your-own-project",
        sandbox="11-your-own-project",
        question="On the copy, apply every migration of orders again",
        verdict=_state(lambda sandbox: all_applied(sandbox, "orders")),
    ),
    Exercise(
        id="11-catalog-to-squash",
        notebook="11-your-own-project",
        sandbox="11-your-own-project",
        question="On the copy, roll catalog back to its squashed migration",
        verdict=_state(lambda sandbox: at_squash(sandbox, "catalog")),
    ),
    Exercise(
        id="07-safe-likes",
        notebook="07-migrations-in-production",
        sandbox="07-migrations-in-production",
        question="Add a likes field to Post and make its migration, safe to deploy while the old code runs",
        verdict=_state(lambda sandbox: safe_to_deploy(sandbox, "boards")),
    ),
    Exercise(
        id="07-index-without-blocking",
        notebook="07-migrations-in-production",
        sandbox="07-migrations-in-production",
        question="Index Post.created_at without blocking the site's writes, and apply it",
        verdict=_state(lambda sandbox: index_built_concurrently(sandbox, "boards_post", "created_at")),
    ),
]

# Exercise id -> exercise, in lesson order.
EXERCISES: dict[str, Exercise] = {exercise.id: exercise for exercise in _ALL}
