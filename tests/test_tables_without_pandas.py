"""The kit's tables hold the same columns and values with pandas and without it (the browser has none).

Each side runs the same core flows in a fresh interpreter: one as installed, one
with pandas and numpy refused by the finder tests/conftest.py installs
(MIGRATION_KIT_NO_PANDAS). Both print every table as columns, plain values and
the Python type of each value; the two printouts must be equal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import NO_PANDAS_ENV

REPO = Path(__file__).resolve().parent.parent

FLOWS = r"""
import json, os, sys
sys.path.insert(0, os.path.join(sys.argv[1], "tests"))
if os.environ.get("MIGRATION_KIT_NO_PANDAS"):
    import conftest  # noqa: F401  (installs the finder that refuses pandas and numpy)
from datetime import datetime
from widgets import Sandbox, diff, progress, rollback_preview, scenarios
from widgets import exercises as check
from widgets.draw.rows import rows_diff, read_rows, rows_frame, rows_table
from widgets.draw.tables import migrations_frame, migrations_table, row_counts_frame, schema_frame, schema_table
from widgets.read.table import is_table, records

def plain(value):
    if isinstance(value, datetime):
        return "<datetime>"  # the time differs between the two runs; its type must not
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value

def kind(value):
    # pandas' Timestamp is a datetime: what matters is that both sides hold timestamps, not text.
    return "datetime" if isinstance(value, datetime) else type(value).__name__

def dump(table):
    assert is_table(table), type(table)
    rows = records(table)
    return {
        "columns": list(table.columns),
        "len": len(table),
        "rows": [[plain(row[c]) for c in table.columns] for row in rows],
        "types": sorted({(c, kind(row[c])) for row in rows for c in table.columns}),
        # An empty DataFrame prints "Empty DataFrame" and its columns: only a table with rows prints them.
        "text_lines": len(table.to_string(index=False).splitlines()) if rows else 0,
    }

out = {}
sandbox = Sandbox.fresh("both-ways", migrated=True)
sandbox.manage("loaddata", "boards_demo")
before = sandbox.state()
rows_before = rows_frame(sandbox, "boards_topic")
plan = sandbox.plan("boards", "0001")
preview = rollback_preview(sandbox, "boards", "0001")
out["preview_drops"] = dump(preview.drops)
out["preview_plan"] = dump(preview.plan.to_frame())
out["preview_rows_lost"] = preview.rows_lost
out["preview_text"] = str(preview).count("\n")
assert sandbox.migrate("boards", "0001").ok
after = sandbox.state()
out["applied_migrations"] = dump(sandbox.applied_migrations())
out["schema"] = dump(sandbox.schema())
out["tables"] = dump(sandbox.tables())
out["query"] = dump(sandbox.query("SELECT id, name FROM boards_board ORDER BY id"))
changes = diff(before, after, plan=plan)
out["diff"] = changes.summary()
for name in ("columns_removed", "migrations_unapplied", "row_counts", "rows_dropped", "columns_renamed"):
    out["diff." + name] = dump(getattr(changes, name))
out["graph.nodes"] = dump(sandbox.migration_graph().nodes)
out["migrations_frame"] = dump(migrations_frame(after, previous=before))
out["schema_frame"] = dump(schema_frame(after, previous=before))
out["row_counts_frame"] = dump(row_counts_frame(after, previous=before))
out["migrations_table"] = repr(migrations_table(after, previous=before)).count("\n")
out["schema_table_styled"] = schema_table(after, previous=before).to_html().count("line-through")
sandbox.shell("from boards.models import Topic\nTopic.objects.filter(pk=1).update(subject='Changed')")
out["rows_frame"] = dump(rows_frame(sandbox, "boards_topic"))
shown = rows_table(sandbox, "boards_topic", previous=rows_before)
out["rows_table"] = [shown.caption, shown.to_html().count("background-color")]
first = read_rows(sandbox.db_path, ["boards_topic"])
sandbox.shell("from boards.models import Topic\nTopic.objects.filter(pk=1).update(subject='Again')")
out["rows_diff"] = dump(rows_diff(first, read_rows(sandbox.db_path, ["boards_topic"])))
assert sandbox.migrate().ok  # everything applied: the merge-conflict exercise passes
check.exercise("06-merge-conflict", sandbox=sandbox)
table = progress(sandbox.workspace)
out["progress"] = dump(table)
out["progress_html_ticks"] = table._repr_html_().count("✔")
out["pandas"] = "pandas" in sys.modules and type(table).__mro__[1].__name__ == "DataFrame"
print(json.dumps(out, sort_keys=True))
"""


def _flows(tmp_path: Path, hide: bool) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "MIGRATION_KIT_WORKSPACE": str(tmp_path / ("no" if hide else "pd"))}
    env.pop(NO_PANDAS_ENV, None)
    if hide:
        env[NO_PANDAS_ENV] = "1"
    done = subprocess.run(
        [sys.executable, "-c", FLOWS, str(REPO)], capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.processes("runs the same flows in two fresh interpreters, with and without pandas")
def test_core_tables_are_the_same_with_and_without_pandas(tmp_path: Path) -> None:
    pytest.importorskip("pandas", reason="the comparison needs pandas on one side")
    with_pandas, without = _flows(tmp_path, hide=False), _flows(tmp_path, hide=True)
    assert with_pandas.pop("pandas") is True and without.pop("pandas") is False
    assert with_pandas.keys() == without.keys()
    differing = {name: (with_pandas[name], without[name]) for name in with_pandas if with_pandas[name] != without[name]}
    assert not differing
    # The flows did something: rows were lost, a migration unapplied, a value changed, an exercise ticked.
    assert without["preview_rows_lost"] > 0 and without["diff.migrations_unapplied"]["len"] == 1
    assert without["rows_table"][1] > 0 and without["progress_html_ticks"] == 1
    assert ["applied", "datetime"] in without["applied_migrations"]["types"]
