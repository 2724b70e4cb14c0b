"""A project uploaded as a zip (Sandbox.copy_of("mysite.zip")), and what a browser cannot run of a project."""

from __future__ import annotations

import shutil
import stat
import sys
import zipfile
from pathlib import Path

import pytest

from widgets import Sandbox
from widgets.errors import KitError
from widgets.sandbox import backends, upload
from widgets.sandbox.paths import EXAMPLE_PROJECTS


def zip_folder(folder: Path, archive: Path, *, prefix: str = "") -> Path:
    """Zip a folder's files under ``prefix`` (no caches), as a learner's zip tool would."""
    with zipfile.ZipFile(archive, "w") as opened:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".sqlite3":
                opened.write(path, prefix + path.relative_to(folder).as_posix())
    return archive


def test_copy_of_a_zip_copies_the_project_inside_it(tmp_path: Path):
    """A zip holding one folder with manage.py becomes a sandbox with the project's apps; reset copies it again."""
    archive = zip_folder(EXAMPLE_PROJECTS / "shop", tmp_path / "shop.zip", prefix="shop-main/")
    sandbox = Sandbox.copy_of(archive, "uploaded")
    assert (sandbox.path / "catalog" / "models.py").is_file()
    assert sandbox.settings_module == "shop.settings.dev"
    assert "catalog" in sandbox.showmigrations("catalog").stdout
    (sandbox.path / "catalog" / "models.py").unlink()
    sandbox.reset()
    assert (sandbox.path / "catalog" / "models.py").is_file()


def test_the_same_zip_is_unpacked_once(tmp_path: Path):
    archive = zip_folder(EXAMPLE_PROJECTS / "shop", tmp_path / "shop.zip")
    first = upload.unpacked(archive, tmp_path / "ws")
    assert upload.unpacked(archive, tmp_path / "ws") == first and (first / "manage.py").is_file()
    assert [p.name for p in (tmp_path / "ws" / ".kit" / "uploads").iterdir()] == [first.name]


@pytest.mark.parametrize(
    "member, words",
    [("../evil.py", "outside its folder"), ("/etc/evil.py", "outside its folder"), ("link", "holds a link")],
)
def test_members_outside_the_folder_or_links_are_refused(tmp_path: Path, member: str, words: str):
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as opened:
        opened.writestr("manage.py", "")
        info = zipfile.ZipInfo(member)
        if member == "link":
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
        opened.writestr(info, "/etc/passwd")
    with pytest.raises(KitError, match=words):
        upload.unpacked(archive, tmp_path / "ws")
    uploads = tmp_path / "ws" / ".kit" / "uploads"
    assert not (tmp_path / "evil.py").exists() and not (uploads.is_dir() and list(uploads.iterdir()))


def test_a_zip_without_manage_py_or_not_a_zip_says_the_fix(tmp_path: Path):
    archive = tmp_path / "notes.zip"
    with zipfile.ZipFile(archive, "w") as opened:
        opened.writestr("a/readme.txt", "")
        opened.writestr("b/readme.txt", "")
    with pytest.raises(KitError, match="no manage.py.*Fix: zip the folder that holds manage.py"):
        upload.unpacked(archive, tmp_path / "ws")
    (tmp_path / "text.zip").write_text("not a zip")
    with pytest.raises(KitError, match="is not a zip file"):
        upload.unpacked(tmp_path / "text.zip", tmp_path / "ws")
    with pytest.raises(KitError, match="There is no file 'gone.zip' here"):
        upload.unpacked(tmp_path / "gone.zip", tmp_path / "ws")


def shop_copy(tmp_path: Path) -> Path:
    project = tmp_path / "shop"
    shutil.copytree(EXAMPLE_PROJECTS / "shop", project, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3"))
    return project


def test_outside_a_browser_nothing_is_refused(tmp_path: Path):
    project = shop_copy(tmp_path)
    (project / "catalog" / "speedups.so").write_bytes(b"\x7fELF")
    assert upload.browser_refusal(project, project / "shop" / "settings" / "dev.py") is None


def test_in_a_browser_pure_python_apps_pass(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(sys, "platform", "emscripten")
    project = shop_copy(tmp_path)
    assert upload.browser_refusal(project, project / "shop" / "settings" / "dev.py") is None


def test_in_a_browser_compiled_code_is_named(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(sys, "platform", "emscripten")
    project = shop_copy(tmp_path)
    (project / "catalog" / "speedups.cpython-314-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    refusal = upload.browser_refusal(project, project / "shop" / "settings" / "dev.py")
    assert refusal.startswith("The project holds compiled code (catalog/speedups.cpython-314-x86_64-linux-gnu.so)")
    assert "Fix: use the installed kit" in refusal


def test_in_a_browser_a_package_it_lacks_is_named(tmp_path: Path, monkeypatch):
    """An app in base.py (read through dev.py's ``from .base import *``) that is neither in the project nor here."""
    monkeypatch.setattr(sys, "platform", "emscripten")
    project = shop_copy(tmp_path)
    base = project / "shop" / "settings" / "base.py"
    base.write_text(base.read_text().replace("    'orders',\n", "    'orders',\n    'rest_framework_nowhere',\n"))
    refusal = upload.browser_refusal(project, project / "shop" / "settings" / "dev.py")
    assert refusal.startswith("The project needs 'rest_framework_nowhere' (in INSTALLED_APPS)"), refusal


def test_in_a_browser_postgresql_says_why_and_how_in_one_sentence(monkeypatch):
    monkeypatch.setattr(sys, "platform", "emscripten")
    with pytest.raises(KitError) as raised:
        backends.engine("postgresql")
    assert str(raised.value) == backends.IN_A_BROWSER and "make lab" in str(raised.value)
    assert str(raised.value).count(". ") == 0 and str(raised.value).endswith(".")
    assert backends.engine("sqlite") == "sqlite"
