"""Copying trees: links copied as links and never followed, bulky folders left out, links reported."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from widgets.sandbox.copying import (
    KEEP_ALL,
    Link,
    Selection,
    copy_tree,
    left_out_sentence,
    links_sentence,
    outside_links,
    tree_digest,
)

BIG = 1024 * 1024


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Return a project folder with every kind of link, next to a folder outside it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "big.bin").write_bytes(b"x" * BIG)
    top = tmp_path / "project"
    (top / "app" / "static").mkdir(parents=True)
    (top / "app" / "models.py").write_text("# models\n")
    (top / "app" / "static" / "site.css").write_text("body {}\n")
    os.symlink(outside, top / "absolute")  # absolute, to a folder outside
    os.symlink("../../outside", top / "app" / "escaping")  # relative, climbing out
    os.symlink("..", top / "app" / "up")  # to the project itself: a loop
    os.symlink(".", top / "app" / "here")  # to its own folder: a loop too
    os.symlink("static/site.css", top / "app" / "css")  # inside: fine
    os.symlink("static", top / "app" / "assets")  # a folder inside: fine
    os.symlink("nowhere.txt", top / "app" / "dangling")  # broken, but inside
    os.symlink("escaping", top / "app" / "chained")  # inside by name, out through another link
    return top


def regular_files(folder: Path) -> dict[str, int]:
    """Return the size of every regular file under folder, entering no link."""
    sizes = {}
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(root, name)
            if not path.is_symlink():
                sizes[path.relative_to(folder).as_posix()] = path.stat().st_size
    return sizes


def test_copy_tree_copies_every_link_as_a_link_and_enters_none(tree, tmp_path):
    target = tmp_path / "copy"
    assert copy_tree(tree, target) == []
    for link in (
        "absolute",
        "app/escaping",
        "app/up",
        "app/here",
        "app/css",
        "app/assets",
        "app/dangling",
        "app/chained",
    ):
        assert (target / link).is_symlink(), link
        assert os.readlink(target / link) == os.readlink(tree / link)
    assert regular_files(target) == {"app/models.py": 9, "app/static/site.css": 8}


def test_outside_links_names_links_that_escape_or_loop_and_no_others(tree):
    outside = str(tree.parent / "outside")
    assert outside_links(tree) == [
        Link("absolute", outside),
        Link("app/chained", "escaping"),
        Link("app/escaping", "../../outside"),
        Link("app/here", ".", loop=True),
        Link("app/up", "..", loop=True),
    ]


def test_an_absolute_link_counts_as_outside_even_when_it_points_inside(tmp_path):
    (tmp_path / "top" / "app").mkdir(parents=True)
    os.symlink(tmp_path / "top" / "app", tmp_path / "top" / "again")
    assert outside_links(tmp_path / "top") == [Link("again", str(tmp_path / "top" / "app"))]


def test_links_sentence_is_one_sentence_naming_each_link(tree):
    sentence = links_sentence(outside_links(tree))
    assert sentence.startswith("Copied as links and never followed: absolute -> ")
    assert "app/up -> .. (a loop to a folder above it)" in sentence
    assert "app/escaping -> ../../outside (outside)" in sentence
    assert re.search(r"\w\. [A-Z]", sentence) is None and sentence.endswith(".") and "\n" not in sentence
    assert links_sentence([]) == ""


def test_tree_digest_reads_link_targets_never_what_they_point_to(tree):
    before = tree_digest(tree)
    (tree.parent / "outside" / "big.bin").write_bytes(b"y" * BIG)
    assert tree_digest(tree) == before
    os.remove(tree / "app" / "css")
    os.symlink("static/other.css", tree / "app" / "css")
    assert tree_digest(tree) != before


def test_tree_digest_changes_with_a_file_s_bytes(tree):
    before = tree_digest(tree)
    (tree / "app" / "models.py").write_text("# models, edited\n")
    assert tree_digest(tree) != before


# ----- what a copy leaves out ------------------------------------------------------------


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    top = tmp_path / "checkout"
    for relative in (
        "manage.py",
        "db.sqlite3",
        "db.sqlite3-journal",
        ".venv/pyvenv.cfg",
        "tools/env/pyvenv.cfg",
        "tools/env/lib/site.py",
        "venv/bin/python",
        "frontend/node_modules/x/index.js",
        ".git/HEAD",
        ".hg/store",
        "app/__pycache__/models.cpython-311.pyc",
        "app/legacy.pyc",
        ".mypy_cache/x",
        ".ruff_cache/x",
        ".pytest_cache/x",
        ".tox/x",
        "media/avatar.png",
        "app/media/kept.txt",
        "var/uploads/a.txt",
        "var/keep.txt",
        "media_app/media/__init__.py",
    ):
        (top / relative).parent.mkdir(parents=True, exist_ok=True)
        (top / relative).write_text(relative)
    return top


def kept(folder: Path) -> set[str]:
    return set(regular_files(folder))


def test_a_copy_leaves_out_venvs_node_modules_vcs_caches_and_media(checkout, tmp_path):
    left_out = copy_tree(checkout, tmp_path / "copy", Selection(paths=frozenset({"var/uploads"})))
    assert kept(tmp_path / "copy") == {
        "manage.py",
        "db.sqlite3",
        "db.sqlite3-journal",
        "app/media/kept.txt",
        "var/keep.txt",
        "media_app/media/__init__.py",
    }
    assert dict(left_out) == {
        ".venv": "venv",
        "tools/env": "venv",
        "venv": "venv",
        "frontend/node_modules": "node_modules",
        ".git": "vcs",
        ".hg": "vcs",
        "app/__pycache__": "caches",
        "app/legacy.pyc": "caches",
        ".mypy_cache": "caches",
        ".ruff_cache": "caches",
        ".pytest_cache": "caches",
        ".tox": "caches",
        "media": "media",
        "var/uploads": "media",
    }


def test_a_top_level_media_package_is_code_and_is_kept(tmp_path):
    (tmp_path / "top" / "media").mkdir(parents=True)
    (tmp_path / "top" / "media" / "__init__.py").write_text("")
    assert copy_tree(tmp_path / "top", tmp_path / "copy", Selection()) == []
    assert kept(tmp_path / "copy") == {"media/__init__.py"}


def test_a_selection_keeps_the_categories_left_out_of_it(checkout, tmp_path):
    selection = Selection(categories=frozenset({"caches", "node_modules"}), databases=True)
    copy_tree(checkout, tmp_path / "copy", selection)
    files = kept(tmp_path / "copy")
    assert {".venv/pyvenv.cfg", "tools/env/lib/site.py", ".git/HEAD", "media/avatar.png", "var/uploads/a.txt"} <= files
    assert not {f for f in files if "node_modules" in f or "cache" in f or f.endswith(".pyc") or "sqlite3" in f}


def test_a_venv_behind_a_link_is_not_entered_to_be_recognised(tmp_path):
    venv = tmp_path / "elsewhere-venv"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (tmp_path / "top").mkdir()
    os.symlink(venv, tmp_path / "top" / "tools")
    assert copy_tree(tmp_path / "top", tmp_path / "copy", Selection()) == []
    assert os.readlink(tmp_path / "copy" / "tools") == str(venv)


def test_left_out_sentence_says_what_and_how_to_keep_it_but_not_caches():
    sentence = left_out_sentence([(".venv", "venv"), ("app/__pycache__", "caches"), ("media", "media")])
    assert sentence == (
        "Left out of the copy (media files, virtual environments): .venv, media. "
        "Fix: to keep them, copy with include=('media', 'venv')."
    )
    assert left_out_sentence([("node_modules", "node_modules")]).endswith("include=('node_modules',).")
    assert left_out_sentence([("app/__pycache__", "caches")]) == ""


def test_keep_all_keeps_everything(checkout, tmp_path):
    assert copy_tree(checkout, tmp_path / "copy", KEEP_ALL) == []
    assert kept(tmp_path / "copy") == kept(checkout)
