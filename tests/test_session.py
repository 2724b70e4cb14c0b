"""LabSession, the panel's decisions in plain Python: built from values, no sandbox and no widget needed.

Each test hands the session events and checks the session and the effects
that come back; tests/test_executor.py carries the same effects out on a real
sandbox.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from widgets.draw.render import renderer
from widgets.errors import KitError
from widgets.lab import events as ev
from widgets.lab import panel_views as views
from widgets.lab.options import check_options
from widgets.lab.outcome import Outcome, kit_step
from widgets.lab.session import Choices, HistoryEntry, LabSession, Note, Question, click_meaning
from widgets.lab.travel import unapplies
from widgets.read.rollback import DROP_COLUMNS, RollbackPreview
from widgets.read.state import Plan, PlanStep, graph_from_answer
from widgets.read.table import make_table
from widgets.read.timeline import Timeline
from widgets.run.commands import CommandResult
from widgets.run.prompts import Prompt
from widgets.run.runner import processes_available

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
    """Return every widgets module the given one imports at run time, directly or not (dotted names under widgets)."""
    seen, todo = set(), [module]
    while todo:
        name = todo.pop()
        if name in seen or not _source(name).is_file():
            continue
        seen.add(name)
        for node in _run_time_nodes(name):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("widgets."):
                todo.append(node.module.removeprefix("widgets."))
                todo.extend(f"{node.module.removeprefix('widgets.')}.{a.name}" for a in node.names)
    return seen


def _run_time_nodes(module: str) -> list[ast.AST]:
    """Return a module's syntax nodes, leaving out ``if TYPE_CHECKING:`` blocks (they never run)."""
    tree = ast.parse(_source(module).read_text(encoding="utf-8"))
    skipped = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        for statement in node.body
        for inner in ast.walk(statement)
    }
    return [node for node in ast.walk(tree) if id(node) not in skipped]


def _source(module: str):
    return WIDGETS / (module.replace(".", "/") + ".py")


def _third_party(module: str) -> set[str]:
    nodes = _run_time_nodes(module)
    found = {a.name.split(".")[0] for n in nodes if isinstance(n, ast.Import) for a in n.names}
    found |= {n.module.split(".")[0] for n in nodes if isinstance(n, ast.ImportFrom) and n.level == 0}
    return found


@pytest.mark.parametrize("module", ["lab.session", "lab.screens", "lab.panel_views", "read.timeline"])
def test_the_session_and_the_views_never_import_a_widget_library(module):
    imported = _kit_imports(module)
    assert "lab.panels" not in imported and "lab.lab_widgets" not in imported
    for name in imported:
        assert not _third_party(name) & {"ipywidgets", "anywidget", "traitlets"}, f"{name} imports a widget library"


# What does I/O: the sandbox's facade, every way of running Django, and processes.
_ACTING = {"sandbox.facade", "run.runner", "run.process", "run.inprocess", "run.worker", "run._zygote", "run.commands"}
_ACTING |= {"run._probe", "run.rehearsal", "run.compare", "lab.actions", "lab.executor"}


@pytest.mark.skipif(not processes_available(), reason="it starts a fresh interpreter, which needs a process")
def test_the_session_reaches_no_sandbox_no_runner_and_no_process():
    imported = _kit_imports("lab.session")
    assert {"lab.events", "lab.options", "lab.travel", "lab.questions"} <= imported  # the walk follows imports
    assert not imported & _ACTING, f"the session imports {sorted(imported & _ACTING)}"
    for name in imported:
        assert "subprocess" not in _third_party(name), f"{name} imports subprocess"
    # And at run time, in a fresh interpreter: importing the session loads none of them.
    code = "import sys, widgets.lab.session; print(' '.join(sorted(sys.modules)))"
    loaded = set(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    )
    assert "widgets.lab.session" in loaded
    assert not {f"widgets.{name}" for name in _ACTING} & loaded
    assert not {"subprocess", "ipywidgets", "anywidget", "pandas", "django"} & loaded


def test_clicking_a_migration_means_migrate_its_app_there():
    graph = _graph()
    travel = click_meaning(graph, "shop.0003_a", set())
    assert (travel.kind, travel.app_label, travel.target) == ("migrate", "shop", "0003_a")


def test_clicking_a_folded_run_unfolds_its_app():
    travel = click_meaning(_graph(), "shop.0003_a..0004_b", set())
    assert (travel.kind, travel.node) == ("expand", "shop")


@pytest.mark.skipif(renderer() is None, reason="it reads the drawn picture, which needs Graphviz here")
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
    assert unapplies(graph, "shop", "0003_a") is True  # its child 0004_b is applied
    assert unapplies(graph, "shop", "0004_b") is False  # the applied frontier: nothing to undo
    assert unapplies(graph, "shop", "0006_d") is False  # not applied: forwards
    assert unapplies(graph, "shop", "zero") is True
    assert unapplies(graph, "shop", "0001_initial") is None  # replaced: only a plan can tell


def test_clicking_django_s_own_app_or_an_unknown_node_does_nothing():
    graph = _graph()
    assert click_meaning(graph, "auth.0001_initial", set()).kind == "ignore"
    assert "Django's own apps" in click_meaning(graph, "auth.0001_initial", set()).reason
    assert click_meaning(graph, "shop.0099_gone", set()).kind == "ignore"


def test_choices_keep_what_the_learner_picked_while_it_exists():
    choices = Choices("shop").kept_or_default("target", ["0001", "0002", "zero"], "0002")
    assert choices.target == "0002"  # nothing picked yet: the default
    choices = replace(choices, target="0001").kept_or_default("target", ["0001", "0002", "0003", "zero"], "0003")
    assert choices.target == "0001"  # picked by the learner: kept
    choices = replace(choices, target="0003").kept_or_default(
        "target", ["0001", "0002", "0003", "0004", "zero"], "0004"
    )
    assert choices.target == "0004"  # the old default follows the new leaf node
    choices = replace(choices, target="0002").kept_or_default("target", ["0001", "zero"], "0001")
    assert choices.target == "0001"  # the pick is gone: back to the default


def test_the_old_in_place_keep_or_default_still_works_with_a_warning():
    choices = Choices("shop")
    with pytest.warns(DeprecationWarning, match="kept_or_default"):
        assert choices.keep_or_default("target", ["0001", "0002", "zero"], "0002") is None
    assert choices.target == "0002" and choices.defaults == {"target": "0002"}


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
    drops = make_table([[1, "shop.0002_b", "shop_b", None, 4]], DROP_COLUMNS)
    preview = RollbackPreview("shop", "0001_a", Plan("shop", "0001_a", [step]), [("shop", "0002_b", "DROP")], drops)
    shown = views.rollback_html(preview).replace("<wbr>", "")  # long names may break after _ and .
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


# ----- the session: events in, a new session and effects out ------------------------------------

STATE = Timeline.from_answer(ANSWER).state_at(0)  # a State as a reading returns it: plain values
LATER = Timeline.from_answer(ANSWER).state_at(2)
SHOP_MODELS = "from django.db import models\n"


def _opened() -> LabSession:
    """Return a session on shop that has read the state, the graph and shop/models.py."""
    session, effects = LabSession.new("shop").handle(ev.Opened())
    assert effects == [ev.ReadState(None), ev.ReadModels("shop", "show")]
    session, _ = session.handle(ev.StateRead(effects[0], STATE, _graph()))
    session, _ = session.handle(ev.ModelsRead(effects[1], SHOP_MODELS))
    return session


def _plan(target: str, names: list[str], backwards: bool) -> Plan:
    return Plan("shop", target, [PlanStep("shop", name, backwards, [{"description": name, "reversible": True}]) for name in names])  # fmt: skip


def _preview(plan: Plan) -> RollbackPreview:
    drops = make_table([[1, "shop.0004_b", "shop_b", None, 4]], DROP_COLUMNS)
    return RollbackPreview("shop", plan.target, plan, [("shop", "0004_b", "DROP TABLE shop_b")], drops)


def _result(*args: str, exit_code: int = 0, prompt: Prompt | None = None) -> CommandResult:
    return CommandResult(args, "", "", exit_code, 0.1, prompt=prompt)


def test_a_session_built_the_old_way_with_a_sandbox_says_what_to_use_instead():
    with pytest.raises(KitError, match=r"no longer takes a sandbox.*Fix: use widgets.lab.executor.LabDriver"):
        LabSession("a sandbox")


def test_opening_reads_the_state_then_offers_the_app_s_leaf_node():
    session = _opened()
    assert session.state is STATE and session.previous is None
    assert session.app_labels() == ["shop"] and session.targets()[-1] == "zero"
    assert session.choices.target == "0006_d" and session.choices.migration == "0006_d"
    assert session.editor_text == SHOP_MODELS and session.last_good == {"shop": SHOP_MODELS}


def test_a_click_backwards_asks_for_the_preview_and_waits_for_confirmation():
    session = _opened()
    session, effects = session.handle(ev.Picked("target", "0003_a"))
    assert effects == [] and session.choices.target == "0003_a"
    session, effects = session.handle(ev.Clicked("migrate"))
    assert effects == [ev.ReadPreview("shop", "0003_a")]  # the graph says backwards: no plan read first
    plan = _plan("0003_a", ["0004_b"], backwards=True)
    session, effects = session.handle(ev.PreviewRead(effects[0], _preview(plan)))
    assert effects == [] and session.pending.plan is plan and session.history == ()
    assert session.status == Note("info", "Rollback waiting for confirmation: nothing has run yet.")
    session, effects = session.handle(ev.Settled())
    assert effects == []  # nothing ran: nothing to read again

    session, effects = session.handle(ev.Confirmed())
    command = "python manage.py migrate shop 0003_a"
    assert effects == [ev.SaveUndo("panel-undo-0", command), ev.Migrate("shop", "0003_a", plan)]
    assert session.pending is None
    session, _ = session.handle(ev.UndoSaved(effects[0]))
    outcome = Outcome("migrate", command, True, "", f"$ {command}", _result("migrate", "shop", "0003_a"), plan)
    session, _ = session.handle(ev.Ran(effects[1], outcome))
    assert session.history == (HistoryEntry(command, True, ""),) and session.last is outcome
    assert session.undo.last == command
    session, effects = session.handle(ev.Settled())
    assert effects == [ev.ReadState(STATE)]  # read again; the views mark changes since the state before
    session, _ = session.handle(ev.StateRead(effects[0], LATER, _graph()))
    assert session.previous is STATE and session.state is LATER
    assert session.handle(ev.Settled()) == (session, [])


def test_a_cancelled_rollback_asks_for_nothing():
    session = _opened()
    session, effects = session.handle(ev.Clicked("migrate", {"target": "zero"}))
    plan = _plan("zero", ["0004_b", "0003_a"], backwards=True)
    session, _ = session.handle(ev.PreviewRead(effects[0], _preview(plan)))
    session, effects = session.handle(ev.Cancelled())
    assert effects == [] and session.pending is None and "cancelled" in session.status.text
    assert session.handle(ev.Confirmed()) == (session, [])  # nothing waits any more
    assert session.history == ()


def test_a_forwards_migrate_reads_its_plan_then_runs_after_an_undo_snapshot():
    session = _opened()
    session, effects = session.handle(ev.Clicked("migrate", {"target": "0006_d"}))
    assert effects == [ev.ReadPlan("shop", "0006_d")]
    plan = _plan("0006_d", ["0005_c", "0006_d"], backwards=False)
    session, effects = session.handle(ev.PlanRead(effects[0], plan))
    assert effects == [
        ev.SaveUndo("panel-undo-0", "python manage.py migrate shop 0006_d"),
        ev.Migrate("shop", "0006_d", plan),
    ]
    # A plan that turns out backwards (the graph was stale) still waits for the preview.
    session, effects = session.handle(ev.PlanRead(ev.ReadPlan("shop", "0003_a"), _plan("0003_a", ["0004_b"], True)))
    assert effects == [ev.ReadPreview("shop", "0003_a")]


def test_clicking_nodes_expands_folds_and_travels():
    session = _opened()
    squash = "shop.0001_squashed_0002"
    session, effects = session.handle(ev.NodeClicked(squash))
    assert effects == [] and session.expanded == {squash} and "squashes 1 migrations" in session.status.text
    session, effects = session.handle(ev.NodeClicked("shop.0001_initial"))
    assert effects == [] and session.expanded == frozenset()
    session, effects = session.handle(ev.NodeClicked("auth.0001_initial"))
    assert effects == [] and "Django's own apps" in session.status.text
    session, effects = session.handle(ev.NodeClicked("shop.0003_a"))
    assert effects == [ev.ReadPreview("shop", "0003_a")] and session.choices.target == "0003_a"
    assert session.doing == "migrate"


def test_the_session_alone_says_what_a_click_on_each_node_does():
    session = _opened()
    nodes = ["shop.0001_squashed_0002", "shop.0003_a..0004_b", "shop.0005_c", "auth.0001_initial", "shop.0099_gone"]
    assert session.click_hints(nodes) == {
        "shop.0001_squashed_0002": "click to show the migrations it replaces",
        "shop.0003_a..0004_b": "click to unfold this run",
        "shop.0005_c": "click to migrate shop to here",
    }
    session, _ = session.handle(ev.NodeClicked("shop.0001_squashed_0002"))
    assert session.click_hints(["shop.0001_initial", "shop.0001_squashed_0002"]) == {
        "shop.0001_initial": "click to fold the squash again",
        "shop.0001_squashed_0002": "click to migrate shop to here",
    }
    assert LabSession.new("shop").click_hints(nodes) == {}  # no graph read yet: a click does nothing


def test_save_writes_then_makemigrations_and_django_s_verdict_decides_the_last_good_version():
    session = _opened()
    text = SHOP_MODELS + "# changed\n"
    session, effects = session.handle(ev.Clicked("save", {"text": text}))
    assert effects == [
        ev.SaveUndo("panel-undo-0", "save shop/models.py"),
        ev.WriteModels("shop", text, "save"),
        ev.Makemigrations("shop", "", False, (), None),
    ]
    session, _ = session.handle(ev.UndoSaved(effects[0]))
    session, more = session.handle(ev.Ran(effects[1], kit_step("save", "save shop/models.py", "Saved.")))
    assert more == []
    made = Outcome("makemigrations", "python manage.py makemigrations shop", True, "", "", _result("makemigrations"))
    session, more = session.handle(ev.Ran(effects[2], made))
    assert more == [ev.ReadModels("shop", "accept")] and "Django accepted shop/models.py" in session.models_note.text
    session, _ = session.handle(ev.ModelsRead(more[0], text))
    assert session.last_good == {"shop": text} and session.editor_text == SHOP_MODELS  # the editor keeps its text
    assert [entry.command for entry in session.history] == ["save shop/models.py", made.command]
    assert [o.command for o in session.outcomes] == ["save shop/models.py", made.command]

    session, effects = session.handle(ev.Clicked("revert"))
    assert effects == [ev.SaveUndo("panel-undo-1", "revert shop/models.py"), ev.WriteModels("shop", text, "revert")]


def test_django_s_question_is_kept_then_answered_with_the_same_options():
    session = _opened()
    session, effects = session.handle(ev.Clicked("makemigrations", {"name": "score", "empty": True}))
    assert effects[1] == ev.Makemigrations("shop", "score", False, ("--empty",), None)
    text = "It is impossible to add a non-nullable field 'score' to topic without specifying a default.\n 1) Provide\n 2) Quit"
    prompt = Prompt("not_null_addition", text, ("Provide", "Quit"))
    asked = Outcome("makemigrations", "c", False, "asked", "", _result("makemigrations", exit_code=1, prompt=prompt))
    session, more = session.handle(ev.Ran(effects[1], asked))
    assert more == [] and session.question.prompt is prompt and "question" in session.models_note.text
    session, effects = session.handle(ev.Answered("1", ""))  # a default is needed: one sentence, nothing runs
    assert effects == [] and "needs a default value" in session.history[-1].message
    session, effects = session.handle(ev.Answered("1", "0"))
    assert effects == [
        ev.SaveUndo("panel-undo-1", "answer"),
        ev.Makemigrations("shop", "score", False, ("--empty",), ("1", "0")),
    ]


def test_a_makemigrations_dry_run_or_check_takes_no_undo_snapshot_and_a_bad_name_runs_nothing():
    session = _opened()
    assert session.handle(ev.Clicked("makemigrations", {"dry_run": True}))[1] == [
        ev.Makemigrations("shop", "", True, (), None)
    ]
    assert session.handle(ev.Clicked("makemigrations", {"check": True}))[1] == [
        ev.Makemigrations("shop", "", False, ("--check",), None)
    ]
    session, effects = session.handle(ev.Clicked("makemigrations", {"name": "topic views"}))
    assert effects == [] and not session.history[-1].ok and "cannot be a migration name" in session.status.text


def test_undo_restores_the_newest_snapshot_then_the_state_and_the_editor_are_read_again():
    session = _opened()
    session, effects = session.handle(ev.Clicked("undo"))
    assert effects == [] and session.history[-1] == HistoryEntry("undo", False, session.history[-1].message)
    assert "nothing to undo" in session.history[-1].message
    session, _ = session.handle(ev.Settled())
    session, effects = session.handle(ev.Clicked("reset"))
    session, _ = session.handle(ev.UndoSaved(effects[0]))
    assert session.undo.last == "reset"
    session, effects = session.handle(ev.Clicked("undo"))
    assert effects == [ev.RestoreUndo("panel-undo-0", "reset")] and len(session.undo) == 0
    undone = kit_step("undo", "undo: reset", "Undid 'reset'.")
    session, _ = session.handle(ev.Ran(effects[0], undone))
    assert session.last_good == {} and session.question is None and session.pending is None
    session, effects = session.handle(ev.Settled())
    assert effects == [ev.ReadState(STATE), ev.ReadModels("shop", "show")]


def test_a_failed_step_is_one_sentence_in_the_history():
    session = _opened()
    session, effects = session.handle(ev.Clicked("reset"))
    session, more = session.handle(ev.Failed(effects[0], "The sandbox is busy. Fix: wait."))
    assert more == [] and session.history[-1] == HistoryEntry("reset", False, "The sandbox is busy. Fix: wait.")
    assert session.undo.last is None  # the snapshot was never taken
    session, _ = session.handle(ev.Failed(ev.ReadModels("shop", "show"), "No models.py. Fix: add one."))
    assert session.editor_text == "" and session.models_note == Note("fail", "No models.py. Fix: add one.")
    assert len(session.history) == 1  # a reading that failed is a note, not an action


def test_choosing_another_app_forgets_the_question_and_the_pending_rollback():
    session = _opened()
    session, effects = session.handle(ev.Clicked("migrate", {"target": "zero"}))
    session, _ = session.handle(ev.PreviewRead(effects[0], _preview(_plan("zero", ["0004_b"], True))))
    session, effects = session.handle(ev.AppChosen("shop"))
    assert effects == [ev.ReadModels("shop", "show")] and session.pending is None and session.question is None


def test_the_timeline_is_read_once_per_code_fingerprint():
    session = LabSession.new("shop")
    with pytest.raises(KitError, match="Fix: call lab.timeline"):
        session.timeline()
    session, effects = session.handle(ev.TimelineAsked())
    assert effects == [ev.ReadTimeline("")]
    timeline = Timeline.from_answer(ANSWER)
    session, _ = session.handle(ev.TimelineRead(effects[0], "code-1", timeline))
    assert session.timeline() is timeline
    session, effects = session.handle(ev.TimelineAsked())
    assert effects == [ev.ReadTimeline("code-1")]
    session, _ = session.handle(ev.TimelineRead(effects[0], "code-1", None))  # unchanged code: keep it
    assert session.timeline() is timeline


# ----- run_action's options: the command's own names ---------------------------------------------


def test_sqlmigrate_takes_django_s_migration_name_or_the_panel_s_name():
    session = _opened()
    for options in ({"name": "0001_initial"}, {"migration_name": "0001_initial"}):
        assert session.handle(ev.Clicked("sqlmigrate", options))[1] == [ev.Sqlmigrate("shop", "0001_initial")]
    backwards = {"migration_name": "0003_a", "backwards": True, "database": "default"}
    assert session.handle(ev.Clicked("sqlmigrate", backwards))[1] == [
        ev.Sqlmigrate("shop", "0003_a", ("--backwards", "--database", "default"))
    ]
    session, effects = session.handle(ev.Clicked("sqlmigrate", {"migration_name": "zero"}))
    assert effects == [] and "needs a migration, not zero" in session.history[-1].message


def test_migrate_takes_django_s_options():
    session = _opened()
    session, effects = session.handle(ev.Clicked("migrate", {"migration_name": "0006_d", "fake": True}))
    assert effects == [ev.ReadPlan("shop", "0006_d", ("--fake",))]
    plan = _plan("0006_d", ["0005_c", "0006_d"], backwards=False)
    assert session.handle(ev.PlanRead(effects[0], plan))[1][1] == ev.Migrate("shop", "0006_d", plan, ("--fake",))
    # --plan and --check only read: no preview, no confirmation, no undo snapshot.
    assert session.handle(ev.Clicked("migrate", {"target": "zero", "plan": True}))[1] == [
        ev.Migrate("shop", "zero", None, ("--plan",))
    ]
    assert session.handle(ev.Clicked("showmigrations", {"plan": True}))[1] == [ev.Showmigrations("shop", ("--plan",))]


def test_an_unknown_option_is_refused_in_one_sentence_naming_the_accepted_ones():
    with pytest.raises(KitError) as refused:
        check_options("sqlmigrate", {"migration": "0001_initial"})
    message = str(refused.value)
    assert message.startswith("sqlmigrate takes no option 'migration'. Fix: use one of app_label, migration_name")
    assert "backwards" in message and message.count(".") == 2
    with pytest.raises(KitError, match="makemigrations takes no option 'fake'.*dry_run.*empty"):
        _opened().handle(ev.Clicked("makemigrations", {"fake": True}))
    with pytest.raises(KitError, match="both migration_name and target"):
        check_options("migrate", {"migration_name": "0001", "target": "0002"})
    with pytest.raises(KitError, match="reset takes no option 'app_label'. Fix: call it with no options"):
        check_options("reset", {"app_label": "shop"})
    with pytest.raises(KitError, match="no action called 'migrat'"):
        check_options("migrat", {})


def test_migrate_with_confirmed_reuses_the_waiting_plan_or_skips_the_preview():
    session = _opened()
    session, effects = session.handle(ev.Clicked("migrate", {"target": "0003_a"}))
    plan = _plan("0003_a", ["0004_b"], backwards=True)
    session, _ = session.handle(ev.PreviewRead(effects[0], _preview(plan)))
    _, effects = session.handle(ev.Clicked("migrate", {"target": "0003_a", "confirmed": True}))
    assert effects[1] == ev.Migrate("shop", "0003_a", plan)  # the plan read a moment ago, no second read
    session, effects = session.handle(ev.Clicked("migrate", {"target": "zero", "confirmed": True}))
    assert effects == [ev.ReadPlan("shop", "zero", confirmed=True)]  # another target: read its plan
    zero = _plan("zero", ["0004_b", "0003_a"], backwards=True)
    assert session.handle(ev.PlanRead(effects[0], zero))[1][1] == ev.Migrate("shop", "zero", zero)
