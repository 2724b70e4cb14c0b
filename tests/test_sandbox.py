"""Sandboxes: make, open, reset, delete, snapshot, restore, copy, edit, confine."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import project_digest, tree_digest

from widgets import EditError, KitError, Sandbox, SandboxNameError, SandboxPathError, StateError
from widgets.lessons.scenarios import add_views_field
from widgets.read.table import keyed
from widgets.sandbox.paths import TEMPLATE_DIR
from widgets.sandbox.readings import Readings
from widgets.sandbox.templates import CACHE_ENV
from widgets.sandbox.workspace import Place, validate_name

BOARD_COUNT = "SELECT COUNT(*) AS n FROM boards_board"
CREATE_BOARD = "from boards.models import Board\nBoard.objects.create(name='Kit', description='made by a test')"


def board_count(sandbox: Sandbox) -> int:
    return int(sandbox.query(BOARD_COUNT)["n"][0])


# ----- making and finding ------------------------------------------------------


def test_fresh_copies_the_template_with_a_migrated_database(sandbox, workspace):
    assert sandbox.path == workspace.resolve() / sandbox.name
    assert project_digest(sandbox.path) == project_digest(TEMPLATE_DIR)
    assert sandbox.db_path == sandbox.path / "db.sqlite3"
    applied = set(zip(sandbox.applied_migrations()["app"], sandbox.applied_migrations()["name"], strict=True))
    assert {("boards", "0001_initial"), ("boards", "0002_post"), ("tracker", "0001_initial")} <= applied


def test_fresh_without_migrating_has_no_database(fresh_sandbox):
    assert (fresh_sandbox.path / "manage.py").is_file()
    assert not fresh_sandbox.db_path.exists()
    assert fresh_sandbox.applied_migrations().empty


def test_fresh_remakes_a_sandbox_of_the_same_name(sandbox):
    sandbox.write("notes.txt", "scratch")
    again = Sandbox.fresh(sandbox.name)
    assert not (again.path / "notes.txt").exists()
    assert project_digest(again.path) == project_digest(TEMPLATE_DIR)


def test_open_finds_an_existing_sandbox_and_names_lists_it(sandbox):
    opened = Sandbox.open(sandbox.name)
    assert opened.path == sandbox.path
    assert sandbox.name in Sandbox.names()


@pytest.mark.parametrize("name", ["cache", "staging", "sandboxes"])
def test_a_sandbox_named_like_the_kit_s_folders_harms_nothing(name, sandbox, workspace):
    shared = Path(os.environ[CACHE_ENV])
    cached = sorted(shared.glob("*.sqlite3"))
    assert cached, "the migrated template database should be cached by now"
    special = Sandbox.fresh(name)
    special.snapshot("s")
    special.delete()
    assert sorted(shared.glob("*.sqlite3")) == cached
    assert Sandbox.open(sandbox.name).applied_migrations().shape[0] > 0
    assert Sandbox.fresh(name).db_path.is_file()
    Sandbox.open(name).delete()


def test_workspaces_share_one_migrated_template_database(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "class-cache"))
    first = Sandbox.fresh("shared-1", workspace=tmp_path / "alice")
    (cached,) = (tmp_path / "class-cache").glob("*.sqlite3")
    built = cached.stat().st_mtime_ns
    second = Sandbox.fresh("shared-2", workspace=tmp_path / "bob")
    assert cached.stat().st_mtime_ns == built  # not built again
    assert not (tmp_path / "bob" / ".kit" / "cache").exists()
    assert first.db_path.read_bytes() == second.db_path.read_bytes() == cached.read_bytes()
    # A cache folder that cannot be written falls back to the workspace's own.
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "not-a-folder" / "cache"))
    (tmp_path / "not-a-folder").write_text("a file where a folder would go")
    third = Sandbox.fresh("shared-3", workspace=tmp_path / "carol")
    assert third.applied_migrations().shape[0] > 0
    assert list((tmp_path / "carol" / ".kit" / "cache").glob("*.sqlite3"))


def test_open_refuses_an_unknown_name_with_the_fix():
    with pytest.raises(KitError, match=r"There is no sandbox called 'never-made'.*Fix: make it with Sandbox.fresh"):
        Sandbox.open("never-made")


def test_reset_puts_files_and_database_back(sandbox):
    sandbox.write("boards/notes.txt", "scratch")
    sandbox.edit("boards/models.py", "max_length=30", "max_length=31")
    assert sandbox.shell(CREATE_BOARD).ok
    assert board_count(sandbox) == 1
    sandbox.reset()
    assert project_digest(sandbox.path) == project_digest(TEMPLATE_DIR)
    assert board_count(sandbox) == 0


def test_delete_removes_the_folder_and_its_bookkeeping(sandbox):
    sandbox.snapshot("kept")
    sandbox.delete()
    assert not sandbox.path.exists()
    assert sandbox.name not in Sandbox.names()
    with pytest.raises(KitError, match="There is no sandbox"):
        Sandbox.open(sandbox.name)


# ----- snapshots ------------------------------------------------------------------


def test_restore_brings_back_files_and_database_together(sandbox):
    sandbox.snapshot("before")
    sandbox.write("boards/notes.txt", "scratch")
    assert sandbox.shell(CREATE_BOARD).ok
    sandbox.restore("before")
    assert not (sandbox.path / "boards/notes.txt").exists()
    assert board_count(sandbox) == 0
    assert sandbox.snapshots() == ["before"]


def test_restore_can_be_repeated_and_a_snapshot_replaced(sandbox):
    sandbox.snapshot("s")
    sandbox.write("a.txt", "1")
    sandbox.snapshot("s")
    sandbox.write("a.txt", "2")
    sandbox.restore("s")
    assert sandbox.read("a.txt") == "1"
    sandbox.write("a.txt", "3")
    sandbox.restore("s")
    assert sandbox.read("a.txt") == "1"


def test_restore_of_an_unknown_label_lists_the_snapshots(sandbox):
    sandbox.snapshot("start")
    with pytest.raises(KitError, match=r"no snapshot called 'nope' \(snapshots: start\)"):
        sandbox.restore("nope")


@pytest.mark.parametrize("label", ["../up", "a/b", "", "x y"])
def test_snapshot_labels_are_validated(sandbox, label):
    with pytest.raises(SandboxNameError, match="Snapshot label"):
        sandbox.snapshot(label)


# ----- names ------------------------------------------------------------------------

BAD_NAMES = [
    "a/b",
    "a\\b",
    "..",
    "../escape",
    ".hidden",
    "a;rm -rf x",
    "$(id)",
    "`id`",
    "a b",
    "a|b",
    "a&b",
    "",
    "-flag",
    "x" * 65,
    "naïve",
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_names_are_refused_before_anything_is_written(name, workspace):
    before = sorted(p.name for p in workspace.iterdir())
    with pytest.raises(SandboxNameError) as caught:
        Sandbox.fresh(name)
    message = str(caught.value)
    assert "is not allowed" in message and "Fix: use 1 to 64 letters" in message
    assert "\n" not in message
    assert sorted(p.name for p in workspace.iterdir()) == before


def test_empty_name_is_called_empty():
    with pytest.raises(KitError, match="an empty name is not allowed"):
        validate_name("")


def test_non_string_name_is_refused():
    with pytest.raises(SandboxNameError):
        validate_name(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["views-lesson", "a", "lesson_02", "X" * 64])
def test_good_names_pass(name):
    assert validate_name(name) == name


# ----- files ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["../outside.txt", "boards/../../outside.txt", "/etc/hostname", "/tmp/x.txt"])
def test_paths_outside_the_sandbox_are_refused(sandbox, path):
    for call in (
        lambda: sandbox.file(path),
        lambda: sandbox.read(path),
        lambda: sandbox.write(path, "x"),
        lambda: sandbox.edit(path, "a", "b"),
    ):
        with pytest.raises(SandboxPathError, match=r"is outside the sandbox\. Fix: use a path inside it"):
            call()
    assert not (sandbox.workspace / "outside.txt").exists()


def test_a_symlink_pointing_out_is_refused(sandbox, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("original")
    os.symlink(outside, sandbox.path / "link")
    with pytest.raises(SandboxPathError):
        sandbox.read("link/secret.txt")
    with pytest.raises(SandboxPathError):
        sandbox.write("link/secret.txt", "changed")
    with pytest.raises(SandboxPathError):
        sandbox.write("link/new.txt", "changed")
    assert (outside / "secret.txt").read_text() == "original"
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_file_returns_an_absolute_path_inside(sandbox):
    assert sandbox.file("boards/models.py") == sandbox.path / "boards" / "models.py"
    assert sandbox.file(Path("boards") / "models.py").is_file()


def test_write_creates_folders_and_read_returns_the_text(sandbox):
    written = sandbox.write("app/templates/app/page.html", "<p>hé</p>\n")
    assert written.path == sandbox.path / "app/templates/app/page.html"
    assert Path(written) == written.path
    assert sandbox.read("app/templates/app/page.html") == "<p>hé</p>\n"


def test_read_of_a_missing_file_says_so(sandbox):
    with pytest.raises(KitError, match=r"There is no file 'boards/model.py' in the sandbox\. Fix: check the path"):
        sandbox.read("boards/model.py")


def test_write_refuses_a_folder(sandbox):
    with pytest.raises(KitError, match="is a folder"):
        sandbox.write("boards", "x")
    assert (sandbox.path / "boards" / "models.py").is_file()


def test_edit_replaces_exactly_one_occurrence(sandbox):
    sandbox.edit("boards/models.py", "max_length=30, unique=True", "max_length=50, unique=True")
    assert "max_length=50, unique=True" in sandbox.read("boards/models.py")
    assert "max_length=30" not in sandbox.read("boards/models.py")


@pytest.mark.parametrize(
    ("old", "problem"),
    [
        ("no such text", "was not found"),
        ("on_delete=models.CASCADE", r"was found \d+ times"),
        ("def __str__(self):", "was found 3 times"),
    ],
)
def test_edit_refuses_zero_or_several_matches_and_leaves_the_file(sandbox, old, problem):
    before = sandbox.read("boards/models.py")
    with pytest.raises(EditError, match=rf"The text to replace {problem} in boards/models.py\. Fix: "):
        sandbox.edit("boards/models.py", old, "x")
    assert sandbox.read("boards/models.py") == before


def test_add_installed_app_is_idempotent_and_keeps_settings_valid(sandbox):
    sandbox.write("app/__init__.py", "")
    sandbox.write(
        "app/apps.py", "from django.apps import AppConfig\n\n\nclass AppConfig_(AppConfig):\n    name = 'app'\n"
    )
    assert sandbox.add_installed_app("app") is True
    once = sandbox.read(sandbox.settings_file)
    assert sandbox.add_installed_app("app") is False
    assert sandbox.read(sandbox.settings_file) == once
    assert once.count('"app"') == 1
    assert sandbox.add_installed_app("boards") is False
    check = sandbox.manage("check")
    assert check.ok, check.terminal()


@pytest.mark.parametrize("label", ["my-app", "1app", "app;x", ""])
def test_add_installed_app_refuses_a_label_that_is_not_an_identifier(sandbox, label):
    before = sandbox.read(sandbox.settings_file)
    with pytest.raises(KitError, match="is not a valid app label"):
        sandbox.add_installed_app(label)
    assert sandbox.read(sandbox.settings_file) == before


# ----- commands keep the sandbox whole -----------------------------------------------


@pytest.mark.processes("a timeout stops a command only in a process of its own")
def test_a_command_that_times_out_is_killed_and_the_sandbox_put_back(sandbox):
    files_before, rows_before = project_digest(sandbox.path), board_count(sandbox)
    code = (
        "import os, time\nfrom boards.models import Board\n"
        "open('written-by-command.txt', 'w').write('half done')\n"
        "Board.objects.create(name='Half', description='written before the sleep')\n"
        "print('pid', os.getpid(), flush=True)\ntime.sleep(60)"
    )
    result = sandbox.shell(code, timeout=3)
    assert result.timed_out and not result.ok
    assert "did not finish within 3 s and was stopped" in result.message
    # The command really ran up to the sleep, so there was something to undo.
    pid = int(result.stdout.split("pid", 1)[1].split()[0])
    assert not _alive(pid)
    assert not (sandbox.path / "written-by-command.txt").exists()
    assert project_digest(sandbox.path) == files_before
    assert board_count(sandbox) == rows_before


def _alive(pid: int) -> bool:
    """Return True if the process exists and is not a zombie."""
    stat = Path(f"/proc/{pid}/stat")
    if stat.parent.parent.is_dir() and Path("/proc/self").exists():
        return stat.exists() and stat.read_text().split(")")[-1].split()[0] not in ("Z", "X")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_manage_never_waits_for_stdin(sandbox):
    result = sandbox.shell("print(input('name? '))", timeout=30)
    assert not result.timed_out
    assert result.exit_code != 0
    assert "EOFError" in result.stderr


def test_migrate_refuses_a_target_without_an_app(sandbox):
    with pytest.raises(KitError, match="A target needs an app label"):
        sandbox.migrate(target="0001")


def test_startapp_refuses_a_bad_name_and_makes_a_good_one(sandbox):
    with pytest.raises(KitError, match="is not a valid app name"):
        sandbox.startapp("my-app")
    result = sandbox.startapp("app")
    assert result.ok, result.terminal()
    assert (sandbox.path / "app" / "models.py").is_file()
    assert (sandbox.path / "app" / "migrations" / "__init__.py").is_file()


# ----- copies of other projects ---------------------------------------------------------


@pytest.fixture
def project(tmp_path, sandbox) -> Path:
    """Return a Django project outside the workspace, with a database holding one board."""
    folder = tmp_path / "my project"
    shutil.copytree(TEMPLATE_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    assert sandbox.shell(CREATE_BOARD).ok
    shutil.copyfile(sandbox.db_path, folder / "db.sqlite3")
    return folder


def test_copy_of_copies_a_project_with_its_database_and_leaves_it_alone(project):
    files_before, db_before = tree_digest(project), (project / "db.sqlite3").read_bytes()
    copy = Sandbox.copy_of(project)
    try:
        assert copy.name == "my-project"
        assert copy.path != project and copy.db_path == copy.path / "db.sqlite3"
        assert board_count(copy) == 1
        assert copy.shell("from boards.models import Board\nBoard.objects.all().delete()").ok
        copy.write("boards/notes.txt", "only in the copy")
        assert board_count(copy) == 0
        assert tree_digest(project) == files_before
        assert (project / "db.sqlite3").read_bytes() == db_before
        copy.reset()
        assert board_count(copy) == 1
        assert not (copy.path / "boards/notes.txt").exists()
    finally:
        copy.delete()


def test_copy_of_shortens_a_long_folder_name(project, tmp_path):
    long = project.rename(tmp_path / ("p" * 80))
    copy = Sandbox.copy_of(long)
    try:
        assert copy.name == "p" * 64
    finally:
        copy.delete()


def test_copy_of_takes_a_name(project):
    copy = Sandbox.copy_of(project, "explore")
    try:
        assert copy.path.name == "explore" and Sandbox.open("explore").path == copy.path
    finally:
        copy.delete()


def test_a_copy_s_django_starts_in_the_background_only_where_commands_run_in_processes(project, sandbox, kit_runner):
    copy = Sandbox.copy_of(project, "warmed-up")
    try:
        started = Readings(Place(copy.name, copy.workspace)).warm_up()
        if kit_runner == "process":
            started.join(timeout=120)
            assert not started.is_alive()
        else:  # Django runs in this interpreter (a browser's has no threads at all)
            assert started is None
        assert Readings(Place(sandbox.name, sandbox.workspace)).warm_up() is None  # the kit's own project
        assert ("boards", "0002_post") in copy.migration_graph().keys()
    finally:
        copy.delete()


def test_copy_of_refuses_a_project_whose_database_lives_outside(project, tmp_path):
    elsewhere = tmp_path / "elsewhere" / "db.sqlite3"
    settings = project / "djsandbox" / "settings.py"
    settings.write_text(settings.read_text().replace('BASE_DIR / "db.sqlite3"', repr(str(elsewhere))))
    files_before = tree_digest(project)
    with pytest.raises(KitError, match=r"database lives outside its folder.*Fix: copy it with .*database='sqlite'"):
        Sandbox.copy_of(project, "outside-db")
    assert "outside-db" not in Sandbox.names()
    assert not elsewhere.parent.exists()
    assert tree_digest(project) == files_before


def test_copy_of_refuses_a_folder_without_manage_py(tmp_path):
    with pytest.raises(KitError, match="There is no manage.py in 'empty'. Fix: pass the folder that holds manage.py"):
        Sandbox.copy_of(tmp_path / "empty")


def test_copy_of_refuses_the_sandbox_itself(sandbox):
    with pytest.raises(KitError, match="That project is this sandbox itself"):
        Sandbox.copy_of(sandbox.path, sandbox.name)
    assert Sandbox.open(sandbox.name).path.is_dir()


def test_every_kit_error_is_caught_by_one_except():
    for error in (SandboxNameError, SandboxPathError, EditError, StateError):
        assert issubclass(error, KitError)
    assert issubclass(SandboxPathError, ValueError) and issubclass(StateError, RuntimeError)


def test_migration_graph_is_read_again_only_when_files_or_database_change(sandbox: Sandbox) -> None:
    first = sandbox.migration_graph()
    assert sandbox.migration_graph() is first  # nothing changed: no new process, the same graph

    add_views_field(sandbox)
    after_edit = sandbox.migration_graph()
    assert after_edit is not first
    assert after_edit.leaf_nodes["boards"] == ["0003_topic_views"]
    assert keyed(after_edit.nodes, "app_label", "name")[("boards", "0003_topic_views")]["applied"]

    sandbox.migrate("boards", "0002")  # only the database changes
    after_rollback = sandbox.migration_graph()
    assert not keyed(after_rollback.nodes, "app_label", "name")[("boards", "0003_topic_views")]["applied"]


def test_write_and_edit_return_what_displays_the_same_on_every_machine(sandbox):
    written = sandbox.write("app/notes.txt", "one\ntwo\n")
    assert repr(written) == "wrote app/notes.txt (2 lines)"
    assert str(sandbox.path) not in repr(written)
    edited = sandbox.edit("app/notes.txt", "two\n", "two\nthree")
    assert repr(edited) == "wrote app/notes.txt (3 lines)"
    assert edited.read_text() == "one\ntwo\nthree"
