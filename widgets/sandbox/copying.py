"""Copy project trees safely: links copied as links, never followed; bulky folders left out.

Every tree the sandbox copies (a fresh sandbox, a copied project, a snapshot, a
restore, the guard taken before a command, the template database build) goes
through :func:`copy_tree`, and every tree it hashes through :func:`tree_digest`.
A SQLite database is copied through SQLite's backup API (``widgets.sandbox.sqlite_copy``),
so a copy taken while the project's server writes is never torn.
A symbolic link is recreated with the same target and never entered, so a link
to a big folder elsewhere, or to a folder above itself (a loop), costs one
directory entry and can never pull outside bytes into the workspace.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from widgets.sandbox import sqlite_copy

__all__ = [
    "CATEGORIES",
    "DATABASE_FILES",
    "Link",
    "Selection",
    "copy_tree",
    "left_out_sentence",
    "links_sentence",
    "outside_links",
    "tree_digest",
]

# What a copy of a project leaves out unless told to keep it: name -> what the learner reads.
CATEGORIES: dict[str, str] = {
    "venv": "virtual environments",
    "node_modules": "node_modules",
    "vcs": "version control folders",
    "caches": "caches",
    "media": "media files",
}
# File and folder names each category leaves out, at any depth ("*x" means: any name ending in x).
_NAMES: dict[str, tuple[str, ...]] = {
    "venv": (".venv", "venv"),
    "node_modules": ("node_modules",),
    "vcs": (".git", ".hg", ".svn", ".bzr"),
    "caches": ("__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox", ".ipynb_checkpoints"),
    "media": (),
}
# Only at the top of the project: an app folder deeper down may well be called "media".
_TOP_NAMES: dict[str, tuple[str, ...]] = {"media": ("media",)}
DATABASE_FILES = ("*.sqlite3", "*.sqlite3-journal", "*.sqlite3-wal", "*.sqlite3-shm")


@dataclass(frozen=True)
class Selection:
    """What a copy leaves out: whole categories, extra paths from the top, and maybe SQLite files.

    ``paths`` are POSIX paths relative to the top (such as a MEDIA_ROOT inside the
    project); they count as "media". A virtual environment is any folder holding
    ``pyvenv.cfg``, whatever its name.
    """

    categories: frozenset[str] = frozenset(CATEGORIES)
    paths: frozenset[str] = frozenset()
    databases: bool = False

    @cached_property
    def _rules(self) -> tuple[dict[str, str], tuple[tuple[str, str], ...], dict[str, str]]:
        """Return (exact name -> category, (ending, category) pairs, top-level name -> category), built once."""
        exact, endings, top = {}, [], {}
        for category in sorted(self.categories):
            for pattern in _NAMES.get(category, ()):
                if pattern.startswith("*"):
                    endings.append((pattern[1:], category))
                else:
                    exact[pattern] = category
            top.update(dict.fromkeys(_TOP_NAMES.get(category, ()), category))
        if self.databases:
            endings += [(pattern[1:], "databases") for pattern in DATABASE_FILES]
        return exact, tuple(endings), top

    def reason(self, top: Path, relative: str, name: str) -> str | None:
        """Return the category that leaves ``relative/name`` out, or None to copy it."""
        exact, endings, top_names = self._rules
        if name in exact:
            return exact[name]
        for ending, category in endings:
            if name.endswith(ending):
                return category
        at_top = relative in ("", ".")
        path = name if at_top else f"{relative}/{name}"
        if at_top and name in top_names and not _holds(os.path.join(top, name), "__init__.py"):
            return top_names[name]
        if path in self.paths and "media" in self.categories:
            return "media"
        if "venv" in self.categories and _holds(os.path.join(top, path), "pyvenv.cfg"):
            return "venv"
        return None


def _holds(folder: str, name: str) -> bool:
    """Return True if folder holds a file called name and is a real folder, not a link to one."""
    # One stat for the common case (a file, or a folder without it); the link check only on a hit.
    return os.path.isfile(os.path.join(folder, name)) and not os.path.islink(folder)


KEEP_ALL = Selection(categories=frozenset())


def copy_tree(source: Path, target: Path, selection: Selection = KEEP_ALL) -> list[tuple[str, str]]:
    """Copy source to the new folder target, links as links, never followed; return (path, category) left out."""
    source = Path(source)
    left_out: list[tuple[str, str]] = []

    def ignore(folder: str, names: list[str]) -> set[str]:
        relative = Path(os.path.relpath(folder, source)).as_posix()
        skipped = set()
        for name in names:
            category = selection.reason(source, relative, name)
            if category is not None:
                skipped.add(name)
                left_out.append((name if relative == "." else f"{relative}/{name}", category))
        # A database's -wal and -journal are read through its backup, never copied beside it.
        return skipped | {name for name in names if name not in skipped and sqlite_copy.companion_of(folder, name)}

    # symlinks=True: every link, to a file or a folder, inside or out, is recreated, not entered.
    shutil.copytree(source, target, symlinks=True, ignore=ignore, copy_function=sqlite_copy.copy_file)
    return sorted(left_out)


def _walk(top: Path, selection: Selection) -> Iterator[tuple[str, list[str]]]:
    """Yield (relative folder, entry names kept) for every real folder under top; links are never entered."""
    for folder, dirs, files in os.walk(top):  # followlinks=False: a link to a folder is listed, not walked
        relative = Path(os.path.relpath(folder, top)).as_posix()
        dirs[:] = sorted(d for d in dirs if selection.reason(top, relative, d) is None)
        kept = [f for f in files if selection.reason(top, relative, f) is None]
        yield relative, sorted(dirs + kept)


def tree_digest(top: Path, selection: Selection = KEEP_ALL) -> str:
    """Hash every kept file's path and bytes and every link's target under top, following no link."""
    digest = hashlib.sha256()
    for relative, names in _walk(top, selection):
        for name in names:
            path = Path(top, relative, name)
            key = (Path(relative, name).as_posix()).encode()
            if path.is_symlink():
                digest.update(b"L" + key + b"\0" + os.readlink(path).encode() + b"\0")
            elif path.is_file():
                digest.update(b"F" + key + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class Link:
    """A symbolic link that points outside the tree holding it, or to a folder above itself (a loop)."""

    path: str
    target: str
    loop: bool = False

    def __str__(self) -> str:
        return f"{self.path} -> {self.target} ({'a loop to a folder above it' if self.loop else 'outside'})"


def outside_links(top: Path) -> list[Link]:
    """Return the links under top that point outside it or to a folder above them; read-only, follows none."""
    top = Path(top).resolve()
    found = []
    for relative, names in _walk(top, KEEP_ALL):
        for name in names:
            path = top / relative / name
            if path.is_symlink():
                link = _outside(top, path)
                if link is not None:
                    found.append(link)
    return sorted(found, key=lambda link: link.path)


def _outside(top: Path, path: Path) -> Link | None:
    """Return the link at path as a Link if it escapes top or loops; None if it stays inside."""
    target = os.readlink(path)
    relative = path.relative_to(top).as_posix()
    # An absolute link keeps pointing at the same place wherever the tree is copied.
    if os.path.isabs(target):
        return Link(relative, target)
    resolved = Path(os.path.realpath(path))  # reads link targets only, never file contents
    if resolved != top and top not in resolved.parents:
        return Link(relative, target)
    if resolved == path.parent or resolved in path.parent.parents:
        return Link(relative, target, loop=True)
    return None


def links_sentence(links: Iterable[Link]) -> str:
    """Return one plain sentence naming the links that point outside or loop, or '' if there are none."""
    links = list(links)
    if not links:
        return ""
    shown = "; ".join(str(link) for link in links[:5]) + (f"; and {len(links) - 5} more" if len(links) > 5 else "")
    return (
        f"Copied as links and never followed: {shown}; snapshots and resets keep only the links, "
        "and sandbox.write refuses any path that leads outside through one."
    )


def left_out_sentence(left_out: Iterable[tuple[str, str]]) -> str:
    """Return one plain sentence saying what a copy left out and how to keep it, or '' if nothing worth saying."""
    # Caches are rebuilt on their own: naming them would only be noise.
    shown = [(path, category) for path, category in left_out if category not in ("caches", "databases")]
    if not shown:
        return ""
    paths = ", ".join(path for path, _ in shown[:8]) + (f" and {len(shown) - 8} more" if len(shown) > 8 else "")
    kinds = sorted({category for _, category in shown})
    keep = ", ".join(repr(kind) for kind in kinds) + ("," if len(kinds) == 1 else "")
    what = ", ".join(CATEGORIES[kind] for kind in kinds)
    return f"Left out of the copy ({what}): {paths}. Fix: to keep them, copy with include=({keep})."
