"""One fingerprint of a project's code for everything that caches on it (warm workers, Django in-process, states).

It lists every Python file (and ``.env*`` file) under the folder with its
size, modification time and inode, without following links or entering
virtual environments, caches and version-control folders.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["code_files", "code_fingerprint", "still_valid"]

_SKIP_DIRS = {"__pycache__", ".git", ".hg", ".svn", "node_modules", ".venv", "venv", ".tox", ".mypy_cache"}


def code_files(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Return every Python file under folder with its size, modification time and inode; links are not followed."""
    files = {}
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS and not os.path.isfile(os.path.join(root, d, "pyvenv.cfg"))]
        for name in names:
            if name.endswith(".py") or name.startswith(".env"):
                path = os.path.join(root, name)
                try:
                    stat = os.stat(path)
                except OSError:
                    continue
                files[path] = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
    return files


def code_fingerprint(folder: Path) -> str:
    """Hash the relative name and the bytes of every Python file under folder.

    By content, not by time: a snapshot put back rewrites every file with the
    same bytes, and nothing that caches on the code (Django set up in-process,
    the graph, the timeline) should start again for that. Each file is read
    again only when its size, time or inode changed since it was last hashed.
    """
    digest = hashlib.sha256()
    for path, stat in sorted(code_files(folder).items()):
        digest.update(os.path.relpath(path, folder).encode() + b"\0" + _content_hash(path, stat) + b"\0")
    return digest.hexdigest()


_HASHES: dict[str, tuple[tuple[int, int, int], bytes]] = {}


def _content_hash(path: str, stat: tuple[int, int, int]) -> bytes:
    """Return the hash of a file's bytes, from the cache while its stat is the same."""
    cached = _HASHES.get(path)
    if cached is not None and cached[0] == stat:
        return cached[1]
    try:
        with open(path, "rb") as file:
            value = hashlib.sha256(file.read()).digest()
    except OSError:  # gone or unreadable since it was listed: its name still counts
        value = b"unreadable"
    _HASHES[path] = (stat, value)
    return value


def _is_migration(path: str) -> bool:
    """Return True for a migration file (not the package's __init__)."""
    folder, name = os.path.split(path)
    return os.path.basename(folder) == "migrations" and name != "__init__.py"


def still_valid(then: dict[str, tuple[int, int, int]], now: dict[str, tuple[int, int, int]]) -> bool:
    """Return True if a Django set up with the files ``then`` still matches the files ``now``.

    Any change to code outside migration files needs a new set-up. A migration
    file that was added or removed does not: Django lists the migrations folder
    each time and imports a new file afresh, so a ``makemigrations`` keeps the
    warm zygote. A migration file that was edited does, since the old module
    is already imported.
    """
    for path in then.keys() | now.keys():
        if then.get(path) != now.get(path) and not (_is_migration(path) and (path not in then or path not in now)):
            return False
    return True
