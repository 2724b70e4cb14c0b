"""LabSession, the panel's decisions in plain Python: most tests here need no sandbox, none needs a widget."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

from widgets import Sandbox
from widgets.lab import actions
from widgets.lab import panel_views as views
from widgets.lab.screens import lab_screen, time_screen
from widgets.lab.session import Choices, HistoryEntry, LabSession, Note, Question, click_meaning
from widgets.read.rollback import DROP_COLUMNS, RollbackPreview
from widgets.read.state import Plan, PlanStep, graph_from_answer
from widgets.run.prompts import Prompt

WIDGETS = Path(__file__).resolve().parent.parent / "widgets"


def _node(app: str, name: str, applied: bool = True, replaces=()) -> dict:
    return {
        "app_label": app,
        "name": name,
        "applied": applied,
        "recorded": applied,
        "replaces": [list(r) for r in replaces],
        "replaces_recorded": len(replaces) if applied else 0,
        "recorded_replaced": [list(r) for r in replaces] if applied else [],
        "replaced_by": None,
        "initial": name.startswith("0001"),
        "operations": [f"Create model {name}"],
        "data": False,
    }


def _graph():
    """A small graph as the probe reports it: shop with a squash then four plain migrations, and auth."""
    nodes = [_node("auth", "0001_initial"), _node("shop", "0001_squashed_0002", replaces=[("shop", "0001_initial")])]
    names = ["0003_a", "0004_b", "0005_c", "0006_d"]
    nodes += [_node("shop", name, applied=name < "0005") for name in names]
    chain = ["0001_squashed_0002", *names]
    edges = [[["auth", "0001_initial"], ["shop", "0001_squashed_0002"]]]
    edges += [[["shop", a], ["shop", b]] for a, b in zip(chain, chain[1:], strict=False)]
    answer = {
        "nodes": nodes,
        "edges": edges,
        "leaf_nodes": {"auth": ["0001_initial"], "shop": ["0006_d"]},
        "conflicts": {},
        "apps": {
            "auth": {"module": "django.contrib.auth", "contrib": True},
            "shop": {"module": "shop", "contrib": False},
        },
        "recorded_unknown": [],
    }
    return graph_from_answer(answer)


# ----- pure: no sandbox ----------------------------------------------------------------


def _kit_imports(module: str) -> set[str]:
    """Return every widgets module the given one imports, directly or not (dotted names under widgets)."""
    seen, todo = set(), [module]
    while todo:
        name = todo.pop()
        if name in seen or not _source(name).is_file():
            continue
        seen.add(name)
        tree = ast.parse(_source(name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("widgets."):
                todo.append(node.module.removeprefix("widgets."))
                todo.extend(f"{node.module.removeprefix('widgets.')}.{a.name}" for a in node.names)
    return seen


def _source(module: str):
    return WIDGETS / (module.replace(".", "/") + ".py")


def _third_party(module: str) -> set[str]:
    tree = ast.parse(_source(module).read_text(encoding="utf-8"))
    found = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    found |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0}
    return found


@pytest.mark.parametrize("module", ["lab.session", "lab.screens", "lab.panel_views", "read.timeline"])
def test_the_session_and_the_views_never_import_a_widget_library(module):
    imported = _kit_imports(module)
    assert "lab.panels" not in imported and "lab.lab_widgets" not in imported
    for name in imported:
        assert not _third_party(name) & {"ipywidgets", "anywidget", "traitlets"}, f"{name} imports a widget library"


def test_clicking_a_migration_means_migrate_its_app_there():
    graph = _graph()
    travel = click_meaning(graph, "shop.0003_a", set())
    assert (travel.kind, travel.app_label, travel.target) == ("migrate", "shop", "0003_a")


def test_clicking_a_folded_run_unfolds_its_app():
    travel = click_meaning(_graph(), "shop.0003_a..0004_b", set())
    assert (travel.kind, travel.node) == ("expand", "shop")


def test_a_clicked_run_is_drawn_unfolded():
    names = [f"{i:04d}_step" for i in range(1, 13)]
    edges = [[["shop", a], ["shop", b]] for a, b in zip(names, names[1:], strict=False)]
    answer = {
        "nodes": [_node("shop", name, applied=name < "0008") for name in names],
        "edges": edges,
        "leaf_nodes": {"shop": [names[-1]]},
        "conflicts": {},
        "apps": {"shop": {"module": "shop", "contrib": False}},
        "recorded_unknown": [],
    }
    graph = graph_from_answer(answer)
    folded, _svg = views.graph_picture(graph)
    runs = [node.id for node in folded.nodes if "collapsed" in node.classes]
    assert runs == ["shop.0002_step..0006_step", "shop.0008_step..0011_step"]
    travel = click_meaning(graph, runs[1], set())
    unfolded, svg = views.graph_picture(graph, expand={travel.node})
    assert sorted(node.id for node in unfolded.nodes) == [f"shop.{name}" for name in names]
    assert "shop.0009_step" in svg


def test_clicking_a_squash_first_shows_what_it_replaces_then_travels():
    graph = _graph()
    first = click_meaning(graph, "shop.0001_squashed_0002", set())
    assert first.kind == "expand" and first.node == "shop.0001_squashed_0002"
    assert "squashes 1 migrations" in first.reason
    second = click_meaning(graph, "shop.0001_squashed_0002", {"shop.0001_squashed_0002"})
    assert (second.kind, second.target) == ("migrate", "0001_squashed_0002")
    part = click_meaning(graph, "shop.0001_initial", {"shop.0001_squashed_0002"})
    assert (part.kind, part.node) == ("fold", "shop.0001_squashed_0002")


def test_the_graph_tells_a_rollback_from_a_forwards_migrate_without_a_process():
    graph = _graph()  # shop: the squash, 0003_a and 0004_b applied; 0005_c and 0006_d not
    assert actions.unapplies(graph, "shop", "0003_a") is True  # its child 0004_b is applied
    assert actions.unapplies(graph, "shop", "0004_b") is False  # the applied frontier: nothing to undo
    assert actions.unapplies(graph, "shop", "0006_d") is False  # not applied: forwards
    assert actions.unapplies(graph, "shop", "zero") is True
    assert actions.unapplies(graph, "shop", "0001_initial") is None  # replaced: only a plan can tell


def test_clicking_django_s_own_app_or_an_unknown_node_does_nothing():
    graph = _graph()
    assert click_meaning(graph, "auth.0001_initial", set()).kind == "ignore"
    assert "Django's own apps" in click_meaning(graph, "auth.0001_initial", set()).reason
    assert click_meaning(graph, "shop.0099_gone", set()).kind == "ignore"


def test_choices_keep_what_the_learner_picked_while_it_exists():
    choices = Choices("shop")
    choices.keep_or_default("target", ["0001", "0002", "zero"], "0002")
    assert choices.target == "0002"  # nothing picked yet: the default
    choices.target = "0001"
    choices.keep_or_default("target", ["0001", "0002", "0003", "zero"], "0003")
    assert choices.target == "0001"  # picked by the learner: kept
    choices.target = "0003"
    choices.keep_or_default("target", ["0001", "0002", "0003", "0004", "zero"], "0004")
    assert choices.target == "0004"  # the old default follows the new leaf node
    choices.target = "0002"
    choices.keep_or_default("target", ["0001", "zero"], "0001")
    assert choices.target == "0001"  # the pick is gone: back to the default


def test_a_question_knows_its_choices_and_whether_it_needs_a_default():
    text = (
        "It is impossible to add a non-nullable field 'score' to topic without specifying a default.\n"
        " 1) Provide a one-off default now\n 2) Quit and make sure...\n"
        "Please enter the default value as valid Python.\n>>> SyntaxError: bad input"
    )
    question = Question(Prompt("not_null_addition", text, ("Provide", "Quit")), [], {"app_label": "boards"}, True)
    assert question.needs_default and question.choices == [("1) Provide", "1"), ("2) Quit", "2")]
    assert "Please enter" not in question.text and question.complaint == "SyntaxError: bad input"
    rename = Question(Prompt("rename_field", "Was topic.a renamed to topic.b (a CharField)? [y/N]", ("y", "n")), [], {})
    assert not rename.needs_default and rename.choices == [("yes", "y"), ("no", "n")] and rename.complaint == ""


def test_pure_views_turn_values_into_html():
    assert views.note_html(Note("fail", "a <b>")) == "<p class='mk-fail'>✖ a &lt;b&gt;</p>"
    assert views.note_html(None) == ""
    history = [HistoryEntry("python manage.py migrate", True, ""), HistoryEntry("undo", False, "nothing to undo")]
    page = views.history_html(history)
    assert page.count("<li>") == 2 and "nothing to undo" in page and "mk-fail" in page
    step = PlanStep("shop", "0002_b", True, [{"description": "Create model B", "reversible": True}])
    drops = pd.DataFrame([[1, "shop.0002_b", "shop_b", None, 4]], columns=DROP_COLUMNS)
    preview = RollbackPreview("shop", "0001_a", Plan("shop", "0001_a", [step]), [("shop", "0002_b", "DROP")], drops)
    shown = views.rollback_html(preview)
    assert "loses 4 row(s)" in shown and "shop_b" in shown and "DROP" in shown


# ----- the timeline, pure ---------------------------------------------------------------

ANSWER = {
    "steps": [
        {"app_label": "shop", "name": "0001_a", "changes": {"shop_a": {"app_label": "shop", "contrib": False,
            "columns": [["id", "integer", False, True, None, None]]}}},
        {"app_label": "auth", "name": "0001_initial", "changes": {"auth_user": {"app_label": "auth", "contrib": True,
            "columns": [["id", "integer", False, True, None, None]]}}},
        {"app_label": "shop", "name": "0002_b", "changes": {"shop_a": {"app_label": "shop", "contrib": False,
            "columns": [["id", "integer", False, True, None, None], ["user_id", "integer", True, False, "auth_user", "id"]]}}},
        {"app_label": "shop", "name": "0003_c", "changes": {"shop_a": None}},
    ]
}  # fmt: skip


def test_the_timeline_replays_each_step_s_changes():
    from widgets.read.timeline import Timeline

    timeline = Timeline.from_answer(ANSWER)
    assert timeline.positions("shop") == [0, 2, 3] and timeline.positions() == [0, 1, 2, 3]
    assert set(timeline.state_at(2).schema["column"]) == {"id", "user_id"}
    assert set(timeline.state_at(2, include_contrib=True).tables["table"]) == {"auth_user", "shop_a"}
    assert timeline.state_at(-1).schema.empty and timeline.state_at(3).tables.empty
    assert (
        str(timeline.compare(0, 2)) == "+ column shop_a.user_id (integer)\n+ foreign key shop_a.user_id -> auth_user.id"
    )
    assert timeline.compare(2, 3).tables_removed == ["shop_a"]
    assert timeline.database_position({("shop", "0001_a"), ("shop", "0002_b")}, [0, 2, 3]) == 2
    assert timeline.database_position(set(), [0, 2, 3]) == -1


# ----- with a sandbox ---------------------------------------------------------------------


@pytest.fixture
def session(author_book: Sandbox) -> LabSession:
    author_book.restore("built")
    made = LabSession(author_book, app_label="app")
    made.refresh()
    return made


def test_clicking_an_earlier_migration_previews_then_confirm_rolls_back(session: LabSession):
    sandbox = session.sandbox
    assert session.choices.target == "0002_added_Book_model"
    travel = session.travel("app.0001_initial")
    assert travel.kind == "migrate" and session.history == []  # nothing ran: a preview waits
    assert session.pending.plan.direction == "backwards" and session.pending.preview.rows_lost == 1
    assert "app_book" in set(sandbox.tables()["table"])
    screen = lab_screen(session)
    assert screen.plan is session.pending.plan and screen.preview.rows_lost == 1

    session.confirm()
    assert session.pending is None
    assert "app_book" not in set(sandbox.tables()["table"])
    assert session.history[-1].command == "python manage.py migrate app 0001_initial"
    assert session.undo.last == "python manage.py migrate app 0001_initial"


def test_a_cancelled_click_changes_nothing(session: LabSession):
    before = session.sandbox.state()
    session.travel("app.0001_initial")
    assert session.cancel() and session.pending is None
    assert "cancelled" in session.status.text
    after = session.sandbox.state()
    assert after.applied.equals(before.applied) and after.tables.equals(before.tables)
    assert session.history == [] and not session.cancel()


def test_clicking_a_later_migration_migrates_forwards_at_once(session: LabSession):
    session.sandbox.migrate("app", "zero")
    session.refresh()
    session.travel("app.0002_added_Book_model")
    assert session.pending is None
    assert "Apply app.0002_added_Book_model" in session.last.terminal  # the plan, printed above Django's output
    assert {"app_author", "app_book"} <= set(session.sandbox.tables()["table"])


def test_the_time_machine_reads_django_s_state_and_never_the_database(session: LabSession):
    sandbox = session.sandbox
    sandbox.migrate("app", "0001_initial")
    session.refresh()
    before = sandbox.state()
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


def test_the_timeline_s_last_schema_is_the_database_s(session: LabSession):
    """Django's state after the whole plan describes the tables migrate built, column by column."""
    timeline = session.timeline()
    state = timeline.state_at(len(timeline.steps) - 1, include_contrib=True)
    real = session.sandbox.schema()
    key = ["table", "column", "type", "null", "primary_key", "references_table", "references_column"]

    def rows(frame):
        # SQLite reports the primary key's declared type in capitals (INTEGER); Django writes it lower case.
        return sorted(map(tuple, frame[key].astype(str).assign(type=frame["type"].str.lower()).values.tolist()))

    assert rows(state.schema) == rows(real[real["table"] != "django_migrations"])
    assert session.timeline() is timeline  # no .py file changed: not read again
