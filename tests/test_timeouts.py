"""Time limits grow with the project, and every timeout names the argument that raises it."""

from __future__ import annotations

import pytest

from widgets import StateError
from widgets.read.rollback import rollback_preview
from widgets.read.table import column
from widgets.read.timeline import read_timeline
from widgets.run.commands import DEFAULT_TIMEOUT
from widgets.run.timeouts import PER_MIGRATION, migration_files, scaled

# In-process, nothing can stop a call at its limit (docs/faults.md says so).
pytestmark = pytest.mark.processes("a time limit stops only a process")

TINY = 0.001


def test_the_default_limit_grows_with_the_migration_files(tmp_path):
    for relative in (
        "a/migrations/__init__.py",
        "a/migrations/0001_initial.py",
        "b/migrations/0001_x.py",
        "a/models.py",
    ):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("")
    assert migration_files(tmp_path) == 2
    assert scaled(tmp_path) == DEFAULT_TIMEOUT + 2 * PER_MIGRATION
    assert scaled(tmp_path, 7) == 7.0


def test_a_rollback_preview_that_times_out_names_its_timeout_argument(sandbox):
    with pytest.raises(StateError) as stopped:
        rollback_preview(sandbox, "boards", "zero", timeout=TINY)
    assert str(stopped.value) == (
        f"Reading the migration state (preview) took longer than {TINY:g} s and was stopped. "
        "Fix: pass a longer time limit in seconds with timeout=, as in "
        "rollback_preview(sandbox, 'boards', 'zero', timeout=60)."
    )


def test_the_time_machine_and_a_plan_name_theirs(sandbox):
    with pytest.raises(StateError, match=r"\(states\) took .* as in read_timeline\(sandbox, timeout=60\)\.$"):
        read_timeline(sandbox, timeout=TINY)
    with pytest.raises(StateError, match=r"\(plan\) took .* as in sandbox\.plan\('boards', '0001', timeout=60\)\.$"):
        sandbox.plan("boards", "0001", timeout=TINY)


def test_a_command_that_times_out_names_the_call_to_run_again(sandbox):
    result = sandbox.migrate("boards", "zero", timeout=TINY)
    assert result.timed_out
    assert (
        "Fix: run it again with a longer time limit in seconds, timeout= on the call that ran it (for example "
        "sandbox.manage('migrate', 'boards', 'zero', timeout=60); in the lab panel MigrationLab(sandbox, timeout=60))"
    ) in result.message
    assert column(sandbox.applied_migrations(), "app").count("boards") >= 2  # put back as it was


def test_a_project_whose_migrations_live_in_installed_packages_counts_the_graph(sandbox, monkeypatch):
    """Django's own apps (auth, admin, ...) keep their migrations in site-packages, as pretix keeps all of its."""
    from widgets.sandbox.readings import FEW_FILES, Readings
    from widgets.sandbox.workspace import Place

    files = migration_files(sandbox.path)
    nodes = len(sandbox.migration_graph().nodes)
    assert files < FEW_FILES and nodes > files
    # Before any reading, the limit counts the installed packages' migration files: no probe starts Django for it.
    fresh = Readings(Place(sandbox.name, sandbox.workspace))

    def no_probe(*args, **kwargs):
        raise AssertionError("sizing a time limit should not start Django")

    monkeypatch.setattr("widgets.sandbox.readings.run_probe", no_probe)
    monkeypatch.setattr("widgets.read.state.run_probe", no_probe, raising=False)
    assert fresh.limit(None) >= DEFAULT_TIMEOUT + nodes * PER_MIGRATION
    # Once the graph is read, its nodes are counted.
    monkeypatch.undo()
    readings = Readings(Place(sandbox.name, sandbox.workspace))
    readings.migration_graph()
    assert readings.limit(None) == DEFAULT_TIMEOUT + nodes * PER_MIGRATION
    assert readings.limit(9) == 9.0
