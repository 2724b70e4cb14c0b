"""Commands: manage.py in a subprocess, its result, timeouts, stable output."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from widgets import CommandResult
from widgets.read.table import records
from widgets.run import timeouts
from widgets.run.commands import child_env, run_manage, run_process, stable_text

pytestmark = pytest.mark.processes("tests the process runner's commands")

# ----- run_process ------------------------------------------------------------------


def test_run_process_feeds_input_and_returns_the_output(tmp_path):
    code = "import sys; print(input().upper()); print('to stderr', file=sys.stderr); sys.exit(3)"
    stdout, stderr, exit_code, timed_out = run_process([sys.executable, "-c", code], tmp_path, "hello\n", 30)
    assert (stdout, stderr, exit_code, timed_out) == ("HELLO\n", "to stderr\n", 3, False)


def test_run_process_gives_no_stdin_without_input(tmp_path):
    stdout, stderr, exit_code, timed_out = run_process([sys.executable, "-c", "input()"], tmp_path, None, 30)
    assert not timed_out
    assert exit_code == 1 and "EOFError" in stderr


def test_run_process_kills_the_whole_process_group_on_timeout(tmp_path):
    # The child starts a grandchild; both must be gone after the timeout.
    code = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(child.pid, flush=True)\ntime.sleep(60)"
    )
    stdout, _stderr, exit_code, timed_out = run_process([sys.executable, "-c", code], tmp_path, None, 2)
    assert timed_out and exit_code != 0
    assert _dies(int(stdout.split()[0]))


def test_run_process_uses_the_given_environment(tmp_path):
    code = "import os; print(os.environ.get('KIT_TEST_VALUE'))"
    env = child_env() | {"KIT_TEST_VALUE": "seen"}
    assert run_process([sys.executable, "-c", code], tmp_path, None, 30, env)[0] == "seen\n"


def _alive(pid: int) -> bool:
    """Return True if the process exists and is not a zombie (Linux /proc)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def _dies(pid: int, patience: float = 10.0) -> bool:
    """Return True once the process is gone; SIGKILL lands asynchronously, so poll a bounded while."""
    deadline = time.monotonic() + patience
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# ----- the child's environment --------------------------------------------------------


def test_child_env_drops_variables_that_would_load_another_project(monkeypatch):
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "someone_else.settings")
    monkeypatch.setenv("PYTHONSTARTUP", "/nowhere/startup.py")
    env = child_env()
    assert "DJANGO_SETTINGS_MODULE" not in env and "PYTHONSTARTUP" not in env
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"


def test_a_foreign_settings_module_in_the_kernel_does_not_leak_into_commands(sandbox, monkeypatch):
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "someone_else.settings")
    result = sandbox.manage("check")
    assert result.ok, result.terminal()


# ----- CommandResult from a real command ------------------------------------------------


def test_a_successful_command_fills_every_field(sandbox):
    result = sandbox.showmigrations("boards")
    assert isinstance(result, CommandResult)
    assert result.args == ("showmigrations", "boards")
    assert result.stdout == "boards\n [X] 0001_initial\n [X] 0002_post\n"
    assert result.stderr == ""
    assert result.exit_code == 0 and result.ok
    assert result.duration > 0
    # The default limit grows with the migrations (widgets/run/timeouts.py).
    assert not result.timed_out and result.timeout == timeouts.scaled(sandbox.path, None) > 60
    assert result.prompt is None and result.diagnosis is None
    assert result.message == ""
    assert result.command == "python manage.py showmigrations boards"
    assert result.output == result.stdout.rstrip("\n")
    assert result.terminal() == "$ python manage.py showmigrations boards\n" + result.stdout.rstrip("\n")
    assert str(result) == result.terminal()


def test_a_failed_command_explains_itself_in_one_line(sandbox):
    result = sandbox.manage("migrate", "nosuchapp")
    assert not result.ok and result.exit_code == 1
    assert result.diagnosis is not None and result.diagnosis.code == "unknown_app"
    assert result.message == (
        "There is no installed app called 'nosuchapp'. Fix: check the spelling of the app label "
        "(the folder name, e.g. 'boards'); showmigrations lists the installed apps."
    )
    assert result.terminal().endswith("[!] " + result.message)


def test_an_unexplained_failure_still_gives_the_last_line(sandbox):
    result = sandbox.shell("raise SystemExit('stopped on purpose')")
    assert not result.ok
    assert result.diagnosis is None
    assert result.message == "The command failed (exit code 1): stopped on purpose"


def test_a_failure_reported_on_stdout_is_not_an_empty_message(sandbox):
    result = sandbox.shell("import sys\nprint('told on stdout')\nsys.exit(4)")
    assert result.exit_code == 4 and result.stderr == ""
    assert result.message == "The command failed (exit code 4): told on stdout"


def test_a_misspelt_command_gets_the_close_match(sandbox):
    result = sandbox.manage("makemigration")
    assert result.diagnosis is not None and result.diagnosis.code == "unknown_command"
    assert result.message == (
        "manage.py has no command called 'makemigration'. "
        "Fix: did you mean makemigrations? check the spelling; python manage.py help lists every command."
    )


def test_output_names_files_relative_to_the_sandbox(sandbox):
    sandbox.edit("boards/models.py", "max_length=30, unique=True", "max_length=40, unique=True")
    result = sandbox.makemigrations("boards", dry_run=True)
    assert result.ok, result.terminal()
    assert "  boards/migrations/0003_alter_board_name.py\n" in result.stdout
    assert str(sandbox.path) not in result.stdout + result.stderr
    assert not (sandbox.path / "boards/migrations/0003_alter_board_name.py").exists()


def test_the_command_line_quotes_arguments_like_a_terminal(sandbox):
    result = sandbox.shell("print('a b')\nprint(1)")
    assert result.ok and result.stdout == "a b\n1\n"
    assert result.command == "python manage.py shell --no-imports -c 'print('\"'\"'a b'\"'\"')\nprint(1)'"
    result = sandbox.shell('print("two words")')
    assert result.command == "python manage.py shell --no-imports -c 'print(\"two words\")'"


def test_sqlmigrate_shows_forwards_and_backwards_sql(sandbox):
    forwards = sandbox.sqlmigrate("boards", "0002")
    backwards = sandbox.sqlmigrate("boards", "0002", backwards=True)
    assert forwards.ok and backwards.ok
    assert 'CREATE TABLE "boards_post"' in forwards.stdout
    assert 'DROP TABLE "boards_post"' in backwards.stdout
    assert backwards.args == ("sqlmigrate", "--backwards", "boards", "0002")


def test_migrate_options_reach_django(sandbox):
    planned = sandbox.migrate("boards", "zero", plan=True)
    assert planned.ok
    assert "Undo Create model Post" in planned.stdout
    assert len([r for r in records(sandbox.applied_migrations()) if r["app"] == "boards"]) == 2
    faked = sandbox.migrate("boards", "0001", fake=True)
    assert faked.ok and "Unapplying boards.0002_post... FAKED" in faked.stdout
    assert "boards_post" in set(sandbox.tables()["table"])


def test_run_manage_works_on_any_project_folder(sandbox):
    result = run_manage(sandbox.path, ["showmigrations", "tracker"], timeout=30)
    assert result.ok and result.stdout == "tracker\n [X] 0001_initial\n"


# ----- stable text ---------------------------------------------------------------------------


def test_stable_text_makes_paths_relative_and_drops_addresses(tmp_path):
    project = tmp_path / "sb"
    text = f'File "{project}/boards/models.py", line 3\n<function f at 0x7f3a2b1c>\ncwd {project}'
    assert stable_text(text, project) == 'File "boards/models.py", line 3\n<function f>\ncwd .'
