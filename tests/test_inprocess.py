"""The in-process runner: the tutorial's flow with no way to start a process, as in a browser."""

from __future__ import annotations

import os
import subprocess

import pytest

from widgets import Sandbox, draw_migration_graph, draw_schema, migrations_table, rollback_preview
from widgets.errors import KitError
from widgets.lessons import scenarios
from widgets.read.table import records
from widgets.run import inprocess
from widgets.run.runner import RUNNER_ENV, processes_available, runner, runner_name


@pytest.fixture
def no_processes(monkeypatch: pytest.MonkeyPatch, kit_runner: str) -> None:
    """Make every way to start a process raise OSError, as Pyodide does."""
    if kit_runner != "inprocess":
        pytest.skip("the flow without processes is the in-process runner's")

    def refused(*args, **kwargs):
        raise OSError("no processes here (as in a browser)")

    monkeypatch.setattr(subprocess.Popen, "_execute_child", refused)
    for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "execv", "execve", "system"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, refused)


def test_the_tutorial_flow_runs_with_no_process(no_processes):
    sandbox = Sandbox.fresh("no-processes")
    try:
        assert scenarios.add_views_field(sandbox, migrate=False).ok  # makemigrations
        assert sandbox.migrate("boards").ok
        assert "views" in {r["column"] for r in records(sandbox.schema()) if r["table"] == "boards_topic"}
        assert "boards_topic" in draw_schema(sandbox).source
        assert "0003_topic_views" in draw_migration_graph(sandbox).source
        assert "0003_topic_views" in set(migrations_table(sandbox).data["name"])
        preview = rollback_preview(sandbox, "boards", "0002")
        assert preview.is_rollback and "views" in set(preview.drops["column"])
        assert sandbox.migrate("boards", "0002").ok  # confirm
        assert "views" not in {r["column"] for r in records(sandbox.schema()) if r["table"] == "boards_topic"}
        sandbox.reset()
        assert "views" not in sandbox.read("boards/models.py")
        assert sandbox.showmigrations("boards").stdout.count("[X]") == 2
    finally:
        sandbox.delete()


def test_an_edit_to_models_py_is_seen_by_the_next_command(kit_runner, sandbox):
    if kit_runner != "inprocess":
        pytest.skip("a process reads models.py afresh by itself")
    sandbox.edit("boards/models.py", "max_length=30", "max_length=31")
    first = sandbox.makemigrations("boards", name="longer")
    sandbox.edit("boards/migrations/0003_longer.py", "max_length=31", "max_length=32")
    sandbox.edit("boards/models.py", "max_length=31", "max_length=32")
    # A stale module would say "No changes detected" or keep 31: the edited migration is read again.
    assert first.ok and "No changes detected" in sandbox.makemigrations("boards").stdout
    assert '"name" varchar(32)' in sandbox.sqlmigrate("boards", "0003").stdout


def test_switching_sandboxes_switches_settings(kit_runner, sandbox, fresh_sandbox):
    if kit_runner != "inprocess":
        pytest.skip("each process reads its own settings")
    assert sandbox.showmigrations("boards").stdout.count("[X]") == 2
    assert fresh_sandbox.showmigrations("boards").stdout.count("[X]") == 0
    assert sandbox.showmigrations("boards").stdout.count("[X]") == 2


def test_a_question_reads_the_given_answers_not_the_kernel(kit_runner, sandbox):
    sandbox.edit("boards/models.py", "    subject = models.CharField(max_length=255)", VIEWS_WITHOUT_DEFAULT)
    unanswered = sandbox.makemigrations("boards")
    assert not unanswered.ok and unanswered.prompt is not None
    answered = sandbox.makemigrations("boards", answers=["1", "0"])
    assert answered.ok and "Add field views to topic" in answered.stdout


VIEWS_WITHOUT_DEFAULT = "    subject = models.CharField(max_length=255)\n    views = models.PositiveIntegerField()"


@pytest.mark.skipif(not processes_available(), reason="the process runner exists only where processes can start")
def test_the_runner_is_chosen_by_the_variable(monkeypatch):
    monkeypatch.setenv(RUNNER_ENV, "inprocess")
    assert runner().name == "inprocess"
    monkeypatch.setenv(RUNNER_ENV, "process")
    assert runner().name == "process"
    monkeypatch.setenv(RUNNER_ENV, "threads")
    with pytest.raises(KitError, match="is not a runner. Fix: set it to process or inprocess"):
        runner_name()


def test_where_no_process_can_start_the_default_is_in_process(monkeypatch):
    monkeypatch.delenv(RUNNER_ENV)
    monkeypatch.setattr("sys.platform", "emscripten")
    assert runner_name() == "inprocess"
    monkeypatch.setenv(RUNNER_ENV, "process")
    with pytest.raises(KitError, match="cannot start processes"):
        runner_name()


def test_a_project_with_its_own_python_needs_the_process_runner(tmp_path):
    with pytest.raises(KitError, match="Fix: set MIGRATION_KIT_RUNNER=process"):
        inprocess.InProcessRunner().manage(tmp_path, ["check"], python="/usr/bin/python2")


def test_the_settings_module_is_read_from_manage_py(tmp_path):
    (tmp_path / "manage.py").write_text('import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "site.conf")\n')
    assert inprocess.manage_py_settings(tmp_path) == "site.conf"
    (tmp_path / "manage.py").write_text("this is not python(")
    assert inprocess.manage_py_settings(tmp_path) is None


def test_a_restored_database_is_read_afresh(kit_runner, sandbox):
    sandbox.snapshot("before")
    assert sandbox.migrate("boards", "0001").ok
    sandbox.restore("before")  # the same code, another database file
    assert sandbox.showmigrations("boards").stdout.count("[X]") == 2
    assert "0002_post" in sandbox.migrate("boards", "0001").stdout


def test_the_kernel_s_environment_is_left_as_it_was(kit_runner, sandbox, monkeypatch):
    monkeypatch.delenv("TZ", raising=False)
    before = dict(os.environ)
    assert sandbox.migrate("boards", "0001").ok and sandbox.migration_graph() is not None
    assert dict(os.environ) == before  # Django's settings set TZ when they load, in-process
