"""Plans and previews keep each step they read on disk per code fingerprint, shared with each other.

A step's operations and SQL depend on the code only (the state before it),
so a later plan or preview, of any target and in a new kernel, takes them
from the sandbox's bookkeeping folder; the rows each drop loses are counted
in the database every time, and a change to the code reads everything again.
"""

from __future__ import annotations

import json

import pytest

from widgets import Sandbox
from widgets.read.rollback import rollback_preview
from widgets.run.process import PROBE
from widgets.sandbox import state_cache

EMPTY = """from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("app", "0002_added_Book_model")]
    operations = []
"""


def kept_files(sandbox: Sandbox) -> list:
    return sorted((sandbox.workspace / ".kit" / "sandboxes" / sandbox.name / "states").glob("steps-*.json"))


def test_a_preview_reads_kept_steps_and_counts_rows_afresh(author_book: Sandbox) -> None:
    author_book.restore("built")
    for kept in kept_files(author_book):
        kept.unlink()
    first = author_book.preview("app", "zero")
    [kept] = kept_files(author_book)
    steps = json.loads(kept.read_text())
    assert {key.rsplit(" ", 1)[1] for key in steps} == {"b"} and len(steps) == len(first["steps"])
    # Kept steps carry no rows: those belong to the database.
    assert all("rows_lost" not in d for s in steps.values() for op in s["operations"] for d in op["drops"])
    # Mark one kept step's SQL: the next preview (another target, same code) shows the mark, so it read the file.
    key = "app 0001_initial b"
    steps[key]["sql"]["text"] = "-- kept on disk"
    kept.write_text(json.dumps(steps))
    again = author_book.preview("app", "zero")
    assert [s["sql"] for s in again["steps"] if s["name"] == "0001_initial"] == [{"text": "-- kept on disk"}]
    assert [s for s in again["steps"] if s["name"] != "0001_initial"] == [
        s for s in first["steps"] if s["name"] != "0001_initial"
    ]
    # Rows are counted now: one more book, one more row lost when app_book goes.
    author_book.shell(
        "from app.models import Author, Book\nBook.objects.create(title='t', author=Author.objects.first())"
    )
    lost = {
        d["table"]: d["rows_lost"]
        for s in author_book.preview("app", "zero")["steps"]
        for op in s["operations"]
        for d in op["drops"]
        if d["column"] is None
    }
    assert lost["app_book"] == 2
    # The plan shares the store, without SQL or rows.
    plan = author_book.plan("app", "zero")
    assert [(s.app_label, s.name) for s in plan.steps] == [(s["app_label"], s["name"]) for s in first["steps"]]
    assert all("rows_lost" not in d for s in plan.steps for op in s.operations for d in op["drops"])
    # New code, new key: the mark is gone and Django's SQL is back.
    author_book.write("app/migrations/0003_nothing.py", EMPTY)
    try:
        fresh = rollback_preview(author_book, "app", "zero", rehearse=False)
        assert "-- kept on disk" not in str(fresh)
        assert len(kept_files(author_book)) == 2
    finally:
        (author_book.path / "app/migrations/0003_nothing.py").unlink()


def test_the_time_machine_shares_the_store(author_book: Sandbox) -> None:
    author_book.restore("built")
    answer = author_book.states()
    folder = author_book.workspace / ".kit" / "sandboxes" / author_book.name
    kept = sorted((folder / "states").glob("states-*.json"))
    assert len(kept) == 1 and json.loads(kept[0].read_text()) == answer
    assert state_cache.load(folder, "states", kept[0].stem.removeprefix("states-")) == answer


# A state holding a model whose foreign key names a model no migration before it made (as pretix's
# oauth2_provider.AccessToken names its swappable application model): Django cannot render it.
DANGLING = """
import json, sys
sys.path.insert(0, %(probe)r)
import _probe
from django.db import models
from django.db.migrations.state import ModelState, ProjectState

state = ProjectState()
fields = [("id", models.AutoField(primary_key=True)), ("owner", models.ForeignKey("later.owner", models.CASCADE))]
state.add_model(ModelState("app", "Token", fields))
try:
    state.apps
    rendered = "rendered"
except ValueError:
    rendered = "refused"
print("@@" + json.dumps({"django": rendered, "tables": _probe._tables_of(state, "app", "token")}))
"""


@pytest.mark.processes("runs the probe's own functions in a shell, which seal Django's connection")
def test_a_step_whose_state_django_cannot_render_is_still_described(author_book: Sandbox) -> None:
    done = author_book.shell(DANGLING % {"probe": str(PROBE.parent)})
    assert done.ok, done.terminal()
    line = next(line for line in done.stdout.splitlines() if line.startswith("@@"))
    assert json.loads(line[2:]) == {"django": "refused", "tables": [{"table": "app_token", "column": None}]}


def test_a_step_whose_tables_the_probe_cannot_tell_is_kept_as_unknown(tmp_path) -> None:
    """An operation the kit does not know leaves ``rows`` None: kept as None, never as an empty dict."""
    unknown = {"app_label": "app", "name": "0002_custom", "backwards": True, "rows": None, "sql": {"text": ""}}
    known = {**unknown, "name": "0003_alter", "rows": {"app_book": 4}}
    operations = [{"operation": "AlterField", "drops": [{"table": "app_book", "column": "x", "rows_lost": 4}]}]
    state_cache.keep_steps(tmp_path, "k", [{**unknown, "operations": []}, {**known, "operations": operations}])
    kept = state_cache.load(tmp_path, "steps", "k")
    assert kept["app 0002_custom b"]["rows"] is None
    assert kept["app 0003_alter b"]["rows"] == {"app_book": None}
    assert kept["app 0003_alter b"]["operations"][0]["drops"] == [{"table": "app_book", "column": "x"}]
