"""Sandbox.copy_of on a real project (tests/projects/shop): settings packages, what a copy leaves
out, links that point outside, and a SQLite stand-in for a database the kit must not use."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import BIG, tree_digest

from widgets import KitError, Sandbox, SandboxPathError
from widgets.sandbox.copying import Link
from widgets.sandbox.project_copy import _manage_settings

PRODUCTS = "SELECT COUNT(*) AS n FROM catalog_product"
CATEGORIES = "SELECT COUNT(*) AS n FROM catalog_category"
ALL_SHOP_MIGRATIONS = {("catalog", "0001_squashed_0002_product_price"), ("orders", "0001_initial")}


def count(sandbox: Sandbox, sql: str = PRODUCTS) -> int:
    return int(sandbox.query(sql)["n"][0])


def applied(sandbox: Sandbox) -> set[tuple[str, str]]:
    rows = sandbox.applied_migrations()
    return set(zip(rows["app"], rows["name"], strict=True))


def recorded(database: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True) as db:
        return set(db.execute("SELECT app, name FROM django_migrations"))


@pytest.fixture
def unchanged(shop: Path):
    """Return a check that the original project and the folder its media link points to are as before."""
    outside = shop.parent / "srv-media"
    before = tree_digest(shop), tree_digest(outside)

    def check() -> None:
        assert tree_digest(shop) == before[0], "the original project was written"
        assert tree_digest(outside) == before[1], "the folder outside the project was written"

    return check


@pytest.fixture
def copies():
    """Collect sandboxes made in a test and delete them afterwards."""
    made: list[Sandbox] = []
    yield made
    for sandbox in made:
        sandbox.delete()


# ----- settings, the way manage.py says --------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")', ("mysite.settings", False)),
        ("os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings.dev')", ("mysite.settings.dev", False)),
        ('os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"', ("config.settings.local", True)),
        ('# os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commented.out")\npass', (None, False)),
        ("import os", (None, False)),
    ],
)
def test_manage_py_is_read_the_way_it_runs(tmp_path, line, expected):
    (tmp_path / "manage.py").write_text(f"import os\n\n\ndef main():\n    {line}\n")
    assert _manage_settings(tmp_path) == expected


def test_copy_of_finds_a_settings_module_inside_a_settings_package(shop, copies, unchanged):
    copy = Sandbox.copy_of(shop)
    copies.append(copy)
    assert copy.settings_module == "proj.settings.dev"
    assert copy.settings_file == "proj/settings/dev.py"
    assert copy.db_path == copy.path / "db.sqlite3" and count(copy) == 3
    assert applied(copy) >= ALL_SHOP_MIGRATIONS and ("orders", "0002_order_note") not in applied(copy)
    unchanged()


def test_copy_of_finds_a_settings_package_s_init(shop, copies):
    (shop / "manage.py").write_text((shop / "manage.py").read_text().replace("proj.settings.dev", "proj.settings"))
    (shop / "proj/settings/__init__.py").write_text("from .dev import *  # noqa: F403\n")
    before = tree_digest(shop)
    copy = Sandbox.copy_of(shop)
    copies.append(copy)
    assert copy.settings_module == "proj.settings"
    assert copy.settings_file == "proj/settings/__init__.py"
    assert copy.showmigrations().ok
    assert tree_digest(shop) == before


def test_add_installed_app_edits_the_settings_file_that_lists_the_apps(shop, copies):
    copy = Sandbox.copy_of(shop)
    copies.append(copy)
    dev = copy.read("proj/settings/dev.py")
    assert copy.startapp("reviews").ok
    assert copy.add_installed_app("reviews") is True
    assert '"reviews"' in copy.read("proj/settings/base.py")
    assert copy.read("proj/settings/dev.py") == dev
    assert copy.manage("check").ok


def test_no_changes_detected_blames_only_the_app_missing_from_a_settings_package(shop, copies):
    copy = Sandbox.copy_of(shop)
    copies.append(copy)
    assert copy.startapp("reviews").ok
    result = copy.makemigrations()
    assert "No changes detected" in result.stdout
    assert result.diagnosis is not None and "the app 'reviews' is not in INSTALLED_APPS" in str(result.diagnosis)
    assert copy.add_installed_app("reviews")
    assert copy.makemigrations().diagnosis is None


def test_copy_of_refuses_a_settings_module_that_is_not_there(shop, unchanged):
    with pytest.raises(
        KitError, match=r"The settings module 'proj.settings.staging' is not in the project .*Fix: pass"
    ):
        Sandbox.copy_of(shop, "no-settings", settings="proj.settings.staging")
    with pytest.raises(KitError, match="is not a dotted module name"):
        Sandbox.copy_of(shop, "no-settings", settings="proj.settings; import os")
    assert "no-settings" not in Sandbox.names()
    unchanged()


def test_an_explicit_settings_module_is_used_by_commands_too(shop, copies, unchanged):
    (shop / "proj/settings/demo.py").write_text("from .dev import *  # noqa: F403\n\nDEMO = 'yes'\n")
    copy = Sandbox.copy_of(shop, settings="proj.settings.demo")
    copies.append(copy)
    assert copy.settings_module == "proj.settings.demo" and copy.settings_file == "proj/settings/demo.py"
    shown = copy.shell("from django.conf import settings\nprint(settings.DEMO)")
    assert shown.ok and shown.stdout.strip() == "yes"


# ----- what a copy leaves out ------------------------------------------------------------------


LEFT_OUT = [".venv", "env", "node_modules", ".git", "catalog/__pycache__", "media", "var/uploads", "staticfiles"]


def present(sandbox: Sandbox) -> set[str]:
    return {p for p in LEFT_OUT if os.path.lexists(sandbox.path / p)}


def test_copy_of_leaves_out_venvs_node_modules_vcs_caches_and_media_and_reset_does_too(shop, copies, unchanged):
    copy = Sandbox.copy_of(shop)
    copies.append(copy)
    assert present(copy) == set()
    assert (copy.path / "var").is_dir() and (copy.path / "catalog/models.py").is_file()
    left_out = copy.notices[0]
    for path in (".git", ".venv", "env", "media", "node_modules", "staticfiles", "var/uploads"):
        assert path in left_out
    assert left_out.endswith("Fix: to keep them, copy with include=('media', 'node_modules', 'vcs', 'venv').")
    Sandbox.open(copy.name).reset()
    assert present(copy) == set()
    unchanged()


def test_include_keeps_what_it_names_and_reset_keeps_it_too(shop, copies, unchanged):
    copy = Sandbox.copy_of(shop, include=("venv", "vcs", "media"))
    copies.append(copy)
    kept = {".venv", "env", ".git", "media", "var/uploads", "staticfiles"}
    assert present(copy) == kept
    assert (copy.path / "media").is_symlink()
    copy.reset()
    assert present(copy) == kept
    unchanged()


def test_include_refuses_a_kind_the_copy_never_leaves_out(shop):
    with pytest.raises(KitError, match=r"names 'docs', which a copy never leaves out\. Fix: choose from 'venv', "):
        Sandbox.copy_of(shop, "bad-include", include=("media", "docs"))
    assert "bad-include" not in Sandbox.names()


# ----- links that point outside ----------------------------------------------------------------


def big_files(folder: Path) -> list[str]:
    """Return the regular files under folder as big as the outside file, entering no link."""
    found = []
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(root, name)
            if not path.is_symlink() and path.stat().st_size >= BIG:
                found.append(str(path))
    return found


def test_links_out_and_loops_are_copied_as_links_through_every_step(shop, copies, unchanged, workspace):
    outside = shop.parent / "srv-media"
    copy = Sandbox.copy_of(shop, include=("media",))
    copies.append(copy)
    assert os.readlink(copy.path / "media") == str(outside)
    assert os.readlink(copy.path / "catalog/up") == ".."
    assert copy.outside_links() == [Link("catalog/up", "..", loop=True), Link("media", str(outside))]
    sentence = copy.notices[-1]
    assert f"media -> {outside} (outside)" in sentence and "catalog/up -> .. (a loop" in sentence

    copy.snapshot("start")
    assert copy.shell("from catalog.models import Category\nCategory.objects.create(name='Toys')").ok
    shown = copy.showmigrations()
    assert shown.ok and "[ ] 0002_order_note" in shown.stdout
    migrated = copy.migrate()
    assert migrated.ok, migrated.terminal()
    assert ("orders", "0002_order_note") in applied(copy) and count(copy, CATEGORIES) == 3
    copy.restore("start")
    assert count(copy, CATEGORIES) == 2 and ("orders", "0002_order_note") not in applied(copy)
    assert os.readlink(copy.path / "media") == str(outside)
    copy.reset()
    assert os.readlink(copy.path / "media") == str(outside) and os.readlink(copy.path / "catalog/up") == ".."

    with pytest.raises(SandboxPathError, match="is outside the sandbox"):
        copy.write("media/new.txt", "through the link")
    with pytest.raises(SandboxPathError):
        copy.read("media/logo.txt")
    assert copy.file("catalog/up/manage.py") == copy.path / "manage.py"  # a loop stays inside
    snapshots = workspace / ".kit" / "sandboxes" / copy.name
    assert (snapshots / "snapshots" / "start" / "media").is_symlink()
    assert (snapshots / "before-command" / "media").is_symlink()
    assert big_files(copy.path) == [] and big_files(snapshots) == []
    unchanged()


def test_a_loop_of_links_is_refused_in_one_sentence(shop, copies):
    os.symlink("b", shop / "a")
    os.symlink("a", shop / "b")
    copy = Sandbox.copy_of(shop)
    copies.append(copy)
    with pytest.raises(SandboxPathError, match=r"'a/x.txt' goes round a loop of links\. Fix: "):
        copy.write("a/x.txt", "x")
    assert copy.showmigrations().ok


# ----- databases the kit must not use ------------------------------------------------------------


def test_a_postgresql_project_is_refused_with_the_fix(shop, unchanged):
    with pytest.raises(KitError) as caught:
        Sandbox.copy_of(shop, "prod", settings="proj.settings.prod")
    assert str(caught.value) == (
        "This project's database is PostgreSQL (django.db.backends.postgresql), and the kit explores SQLite "
        "databases only. Fix: copy it with Sandbox.copy_of(path, database='sqlite') to explore it on a fresh "
        "SQLite database inside the sandbox; the original database is never written."
    )
    assert "prod" not in Sandbox.names()
    unchanged()


def test_database_sqlite_explores_a_postgresql_project_on_a_stand_in(shop, copies, unchanged):
    copy = Sandbox.copy_of(shop, "prod", settings="proj.settings.prod", database="sqlite")
    copies.append(copy)
    assert copy.settings_module == "kit_sqlite_settings" and copy.settings_file == "proj/settings/prod.py"
    assert copy.db_path == copy.path / "kit-db.sqlite3"
    notice = copy.notices[1]
    assert notice.startswith(
        "This sandbox runs on its own SQLite database (kit-db.sqlite3, through kit_sqlite_settings.py)"
    )
    assert "instead of the project's PostgreSQL one; the original could not be read (" in notice
    assert notice.endswith("so every migration is applied.")
    assert applied(copy) >= ALL_SHOP_MIGRATIONS | {("orders", "0002_order_note")} and count(copy) == 0

    code = "import os\nfrom django.conf import settings\nprint(os.environ['DJANGO_SETTINGS_MODULE'], settings.DATABASES['default']['ENGINE'], settings.DEBUG)"
    shown = copy.shell(code)
    assert shown.ok and shown.stdout.split() == ["kit_sqlite_settings", "django.db.backends.sqlite3", "False"]
    assert copy.migrate("orders", "0001").ok and ("orders", "0002_order_note") not in applied(copy)
    assert copy.migration_graph().leaf_nodes["orders"] == ["0002_order_note"]
    copy.reset()
    assert (copy.path / "kit_sqlite_settings.py").is_file()
    assert ("orders", "0002_order_note") in applied(copy)
    unchanged()


@pytest.fixture
def shared_db(shop: Path) -> Path:
    """Move the shop's database outside the project and point a settings module at it."""
    database = shop.parent / "shared" / "shop.sqlite3"
    database.parent.mkdir()
    shutil.move(shop / "db.sqlite3", database)
    (shop / "proj/settings/shared.py").write_text(
        f"from .base import *  # noqa: F403\n\nDATABASES = {{'default': {{'ENGINE': 'django.db.backends.sqlite3', 'NAME': {str(database)!r}}}}}\n"
    )
    return database


def test_a_sqlite_database_outside_the_project_is_refused_with_the_fix(shop, shared_db):
    before = shared_db.read_bytes()
    with pytest.raises(
        KitError,
        match=r"database lives outside its folder.*Fix: copy it with Sandbox.copy_of\(path, database='sqlite'\)",
    ):
        Sandbox.copy_of(shop, "shared", settings="proj.settings.shared")
    assert "shared" not in Sandbox.names()
    assert shared_db.read_bytes() == before


def test_database_sqlite_migrates_the_stand_in_to_the_original_s_applied_set(shop, shared_db, copies, unchanged):
    before = shared_db.read_bytes(), sorted(p.name for p in shared_db.parent.iterdir())
    copy = Sandbox.copy_of(shop, "shared", settings="proj.settings.shared", database="sqlite")
    copies.append(copy)
    assert applied(copy) == recorded(shared_db)
    assert ("orders", "0002_order_note") not in applied(copy) and count(copy) == 0
    n = len(recorded(shared_db))
    assert copy.notices[1].endswith(
        f"instead of the project's SQLite one, with the same {n} applied migrations as the original and no rows."
    )
    assert copy.migrate().ok and ("orders", "0002_order_note") in applied(copy)
    copy.reset()
    assert applied(copy) == recorded(shared_db)
    assert (shared_db.read_bytes(), sorted(p.name for p in shared_db.parent.iterdir())) == before
    unchanged()


def test_a_manage_py_that_forces_its_settings_cannot_take_a_stand_in(shop):
    manage = shop / "manage.py"
    manage.write_text(
        manage.read_text().replace(
            'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings.dev")',
            'os.environ["DJANGO_SETTINGS_MODULE"] = "proj.settings.prod"',
        )
    )
    before = tree_digest(shop)
    with pytest.raises(
        KitError,
        match=r"manage.py sets DJANGO_SETTINGS_MODULE with os.environ\[...\] = ..., so the sandbox's commands could not use kit_sqlite_settings",
    ):
        Sandbox.copy_of(shop, "forced", database="sqlite")
    assert "forced" not in Sandbox.names()
    assert tree_digest(shop) == before
