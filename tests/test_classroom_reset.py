"""A teacher's side of a class: a reset keeps progress, a learner working through it reads one sentence."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess

import pytest
from IPython.core.interactiveshell import InteractiveShell

from widgets import KitError, Sandbox
from widgets.lessons.progress_record import class_progress, progress, record_check
from widgets.read.table import column, keyed
from widgets.sandbox.paths import REPO_ROOT


def classroom_module(name: str):
    """Import a script of classroom/, which JupyterHub and make run by path."""
    spec = importlib.util.spec_from_file_location(f"classroom_{name}", REPO_ROOT / "classroom" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def homes(tmp_path):
    """Two learners' homes with a sandbox each, a notebook, and one exercise done by Ada."""
    for name in ("ada", "grace"):
        workspace = tmp_path / name / "migration-kit-workspace"
        Sandbox.fresh("02-lesson", workspace=workspace, migrated=False).snapshot("mine")
        (tmp_path / name / "notebooks").mkdir()
        (tmp_path / name / "notebooks" / "02-lesson.ipynb").write_text("{}")
    record_check("02-likes-field", True, tmp_path / "ada" / "migration-kit-workspace")
    return tmp_path


def test_make_classroom_reset_empties_workspaces_and_keeps_progress(homes) -> None:
    done = subprocess.run(
        ["make", "--no-print-directory", "classroom-reset", f"CLASSROOM_HOMES={homes}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"reset {homes}/ada/migration-kit-workspace (progress kept)",
        f"reset {homes}/grace/migration-kit-workspace",
    ]
    for name in ("ada", "grace"):
        workspace = homes / name / "migration-kit-workspace"
        assert Sandbox.names(workspace=workspace) == []
        assert (homes / name / "notebooks" / "02-lesson.ipynb").is_file()
    assert [p.name for p in (homes / "ada" / "migration-kit-workspace").rglob("*")] == [".kit", "progress.json"]
    ada = keyed(progress(homes / "ada" / "migration-kit-workspace"), "exercise")
    assert ada["02-likes-field"]["done"] and sum(row["done"] for row in ada.values()) == 1
    assert not any(column(progress(homes / "grace" / "migration-kit-workspace"), "done"))


def test_a_reset_never_follows_a_link_out_of_a_workspace(tmp_path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    workspace = tmp_path / "home" / "migration-kit-workspace"
    (workspace / ".kit").mkdir(parents=True)
    (workspace / "link").symlink_to(outside)
    (workspace / ".kit" / "progress.json").symlink_to(outside / "keep.txt")
    assert classroom_module("reset").reset_workspace(workspace) == []
    assert list(workspace.rglob("*")) == [workspace / ".kit"] and (outside / "keep.txt").read_text() == "mine"


def test_a_learner_working_through_a_reset_reads_one_sentence(homes, capsys) -> None:
    shell = InteractiveShell.instance()
    try:
        shell.run_cell(
            f"from widgets import Sandbox\nsandbox = Sandbox.open('02-lesson', workspace={str(homes / 'ada' / 'migration-kit-workspace')!r})"
        )
        classroom_module("reset").reset_workspace(homes / "ada" / "migration-kit-workspace")
        capsys.readouterr()
        result = shell.run_cell("sandbox.makemigrations('boards')")
        shown = capsys.readouterr().out.strip().splitlines()
    finally:
        InteractiveShell.clear_instance()
    assert isinstance(result.error_in_exec, KitError)
    assert len(shown) == 1 and "Traceback" not in shown[0], shown
    assert shown[0].endswith("Fix: run the lesson's setup cell again (Sandbox.fresh(name)).")


def test_a_kit_error_shows_its_traceback_when_a_developer_asks(monkeypatch) -> None:
    try:
        raise KitError("Something is off. Fix: do this.")
    except KitError as error:
        assert error._render_traceback_() == ["KitError: Something is off. Fix: do this."]
        monkeypatch.setenv("MIGRATION_KIT_TRACEBACK", "1")
        assert error._render_traceback_()[0] == "Traceback (most recent call last):"


@pytest.mark.parametrize(
    ("bind_url", "shown"),
    [
        ("http://:8000", "http://class-server.example.org:8000/"),
        ("http://0.0.0.0:8000/", "http://class-server.example.org:8000/"),
        ("https://hub.school.example:443/", "https://hub.school.example:443/"),
    ],
)
def test_the_hub_says_the_address_a_learner_can_type(bind_url: str, shown: str) -> None:
    assert classroom_module("address").learner_url(bind_url, host="class-server.example.org") == shown
    assert "://:" not in classroom_module("address").learner_url(bind_url)


def test_the_hub_config_prints_the_learners_address(tmp_path, monkeypatch, capsys) -> None:
    """Read the hub's config as JupyterHub does, from a copy of classroom/ with a stand-in proxy beside it."""
    from traitlets.config.loader import PyFileConfigLoader

    shutil.copytree(REPO_ROOT / "classroom", tmp_path / "classroom")
    proxy = tmp_path / "node_modules" / ".bin" / "configurable-http-proxy"
    proxy.parent.mkdir(parents=True)
    proxy.write_text("")
    for name in ("CLASSROOM_URL", "CLASSROOM_ACCOUNTS", "CLASSROOM_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLASSROOM_STATE", str(tmp_path / "state"))
    config = PyFileConfigLoader("jupyterhub_config.py", path=str(tmp_path / "classroom")).load_config()
    assert config.JupyterHub.bind_url == "http://:8000"
    assert config.Spawner.default_url == "/lab/tree/notebooks", "learners land on the folder: no kernel starts"
    expected = classroom_module("address").learner_url("http://:8000")
    assert f"Learners open {expected}" in capsys.readouterr().err and "://:" not in expected


def test_the_classroom_guide_says_what_the_kit_writes_into_the_checkout() -> None:
    guide = (REPO_ROOT / "docs" / "classroom.md").read_text(encoding="utf-8")
    assert "`.kit-cache/`" in guide and "MIGRATION_KIT_CACHE" in guide
    assert ".kit-cache/" in (REPO_ROOT / ".gitignore").read_text(encoding="utf-8")


def test_a_teacher_sees_the_whole_class_in_one_table(homes, monkeypatch) -> None:
    record_check("03-app-zero", True, homes / "ada" / "migration-kit-workspace")
    record_check("03-app-zero", False, homes / "grace" / "migration-kit-workspace")
    (homes / "not-a-learner").mkdir()
    monkeypatch.setenv("CLASSROOM_HOMES", str(homes))
    table = class_progress()
    assert list(table["learner"]) == ["ada", "grace"]
    assert list(table["done"]) == [2, 0] and len(set(table["of"])) == 1
    assert list(table["solved, in order"]) == ["02-likes-field, 03-app-zero", ""]
    with pytest.raises(KitError, match=r"^There is no folder of learners' homes at .+\. Fix: pass the folder"):
        class_progress(homes / "nowhere")
