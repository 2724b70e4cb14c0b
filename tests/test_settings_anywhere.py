"""copy_of with settings inside an installed package, and the paths those settings reach outside the sandbox."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from conftest import tree_digest

from widgets import KitError, Sandbox
from widgets.sandbox.outside_paths import rewrite

# The project runs with an interpreter of its own (python=), which only a process can be.
pytestmark = pytest.mark.processes("runs the project with its own interpreter")

# The package's settings find the project's config file in the folder the command runs in (as a
# deployment reads /etc/app/site.ini), and take the data folder, the log file and a secret from it.
SETTINGS = """\
import configparser
import os
from pathlib import Path

_config = configparser.ConfigParser()
_config.read(Path(os.getcwd()) / "site.ini")
DATA_DIR = Path(_config["paths"]["data"])
SECRET_KEY = (DATA_DIR / "secret.txt").read_text().strip()
DEBUG = True
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": Path(os.getcwd()) / "db.sqlite3"}}
MEDIA_ROOT = DATA_DIR / "media"
STATIC_URL = "/static/"
STATIC_ROOT = %(static)r
LOGGING = {
    "version": 1,
    "handlers": {"file": {"class": "logging.FileHandler", "filename": str(DATA_DIR / "app.log"), "delay": True}},
}
USE_TZ = True
"""

MANAGE = """\
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "corepkg.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""


@pytest.fixture
def packaged(tmp_path: Path) -> tuple[Path, Path]:
    """Return (project folder, its Python): settings in an installed package, a config file naming a data folder."""
    packages = tmp_path / "env" / "site-packages"
    (packages / "corepkg").mkdir(parents=True)
    (packages / "corepkg" / "__init__.py").write_text("")
    static = tmp_path / "srv" / "static"
    static.parent.mkdir()
    (packages / "corepkg" / "settings.py").write_text(SETTINGS % {"static": str(static)})
    python = tmp_path / "env" / "bin" / "python"
    python.parent.mkdir()
    # The project's own interpreter: the kit's Python with the package installed on its path.
    python.write_text(f'#!/bin/sh\nPYTHONPATH="{packages}" exec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    project = tmp_path / "site"
    (project / "data").mkdir(parents=True)
    (project / "data" / "secret.txt").write_text("not-a-real-secret\n")
    (project / "manage.py").write_text(MANAGE)
    (project / "site.ini").write_text(f"[paths]\ndata = {project / 'data'}\n")
    return project, python


@pytest.fixture
def copied(packaged):
    project, python = packaged
    before = tree_digest(project)
    copy = Sandbox.copy_of(project, "packaged-settings", python=python)
    yield copy, project
    copy.delete()
    assert tree_digest(project) == before, "the original project was written"


def test_copy_of_accepts_settings_the_project_s_python_imports(copied):
    copy, _ = copied
    assert copy.settings_module == "corepkg.settings"
    assert copy.showmigrations().ok
    assert copy.db_path == copy.path / "db.sqlite3"


def test_every_path_outside_the_sandbox_is_named_and_the_project_s_own_are_rewritable(copied, tmp_path):
    copy, project = copied
    found = {(item.setting, item.path): item.written_in for item in copy.outside_paths()}
    data = project.resolve() / "data"
    assert found == {
        ("DATA_DIR", str(data)): "site.ini",
        ("LOGGING['handlers']['file']['filename']", str(data / "app.log")): "site.ini",
        ("MEDIA_ROOT", str(data / "media")): "site.ini",
        ("STATIC_ROOT", str(tmp_path / "srv" / "static")): None,
        ("read by settings", str(data / "secret.txt")): "site.ini",
        ("settings module", str(tmp_path / "env" / "site-packages" / "corepkg" / "settings.py")): None,
    }
    notice = next(n for n in copy.notices if n.startswith("The settings reach 6 path(s) outside the sandbox"))
    assert "MEDIA_ROOT -> " in notice and "Fix: sandbox.rewrite_outside_paths() points the 4 inside" in notice


def test_rewrite_points_them_at_the_sandbox_s_copy_and_reset_does_it_again(copied, tmp_path):
    copy, project = copied
    assert copy.rewrite_outside_paths() == ["site.ini"]
    assert copy.read("site.ini") == f"[paths]\ndata = {copy.path / 'data'}\n"
    left = {item.setting for item in copy.outside_paths()}
    assert left == {"STATIC_ROOT", "settings module"}
    assert any(n.startswith("The settings reach 2 path(s)") for n in copy.notices)
    assert not any(n.startswith("The settings reach 6") for n in copy.notices)
    copy.reset()
    assert copy.read("site.ini") == f"[paths]\ndata = {copy.path / 'data'}\n"
    assert (project / "site.ini").read_text() == f"[paths]\ndata = {project / 'data'}\n"


def test_add_installed_app_refuses_to_edit_settings_outside_the_sandbox(copied):
    copy, _ = copied
    with pytest.raises(KitError, match=r"imported from outside the sandbox.*Fix: add \"app\" to INSTALLED_APPS"):
        copy.add_installed_app("app")


def test_a_module_the_project_s_python_cannot_import_is_refused(packaged):
    project, _ = packaged  # without python=, the kit's own Python has no corepkg
    with pytest.raises(KitError, match=r"is not in the project .* and the project's Python cannot import it\. Fix:"):
        Sandbox.copy_of(project, "not-importable")
    assert "not-importable" not in Sandbox.names()


def test_rewrite_replaces_the_whole_folder_name_only(tmp_path):
    origin, sandbox = tmp_path / "shop", tmp_path / "box"
    origin.mkdir()
    sandbox.mkdir()
    (sandbox / "site.ini").write_text(f"a = {origin}/data\nb = {origin}-backup/data\nc = '{origin}'\n")
    assert rewrite(sandbox, origin, ["site.ini", "missing.ini"]) == ["site.ini"]
    assert (sandbox / "site.ini").read_text() == f"a = {sandbox}/data\nb = {origin}-backup/data\nc = '{sandbox}'\n"
    os.symlink(tmp_path / "outside.ini", sandbox / "link.ini")
    (tmp_path / "outside.ini").write_text(str(origin))
    assert rewrite(sandbox, origin, ["link.ini"]) == []
    assert (tmp_path / "outside.ini").read_text() == str(origin)
