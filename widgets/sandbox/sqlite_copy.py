"""Copy a SQLite database whole, through SQLite's backup API, even while another program writes to it.

Copying the file and its ``-wal`` or ``-journal`` one after the other can catch a
writer between the two and give a torn copy. A read-only connection's backup
reads one consistent snapshot of the committed data instead. When SQLite cannot
open the file read-only (a half-done change whose rollback journal only a writer
may undo, a damaged file), the files are copied byte for byte, companions
included, so the copy shows the same fault the original has.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path
from urllib.parse import quote

__all__ = ["COMPANIONS", "companion_of", "copy_database", "copy_file", "is_database"]

COMPANIONS = ("-wal", "-shm", "-journal")
_HEADER = b"SQLite format 3\x00"
# How long the backup waits for a writer's commit to end before giving up on a consistent read.
_BUSY_SECONDS = 10.0


def is_database(path: str | os.PathLike) -> bool:
    """Return True if path is a regular file (not a link) that starts with SQLite's header."""
    if os.path.islink(path) or not os.path.isfile(path):
        return False
    try:
        with open(path, "rb") as file:
            return file.read(len(_HEADER)) == _HEADER
    except OSError:
        return False


def companion_of(folder: str | os.PathLike, name: str) -> bool:
    """Return True if name is the -wal, -shm or -journal file of a SQLite database in the same folder."""
    for suffix in COMPANIONS:
        if name.endswith(suffix) and is_database(os.path.join(folder, name[: -len(suffix)])):
            return True
    return False


def _uri(path: Path, *, immutable: bool) -> str:
    """Return a read-only SQLite URI for path (immutable: no lock, no -wal or -shm file made beside it)."""
    return f"file:{quote(str(path.resolve()))}?mode=ro" + ("&immutable=1" if immutable else "")


def _in_wal_mode(path: Path) -> bool:
    """Return True if the database header says WAL (file format versions 2 at bytes 18 and 19)."""
    with open(path, "rb") as file:
        header = file.read(20)
    return header[18:20] == b"\x02\x02"


def copy_database(source: Path, target: Path) -> None:
    """Copy a SQLite database to target as one consistent snapshot; fall back to its files if SQLite refuses."""
    source, target = Path(source), Path(target)
    # A read-only connection to a WAL database makes -wal and -shm files beside it; with no -wal there,
    # nobody has it open and every committed page is in the main file, so read it immutable and touch nothing.
    immutable = _in_wal_mode(source) and not Path(f"{source}-wal").exists()
    try:
        reader = sqlite3.connect(_uri(source, immutable=immutable), uri=True, timeout=_BUSY_SECONDS)
        try:
            writer = sqlite3.connect(target)
            try:
                reader.backup(writer)
            finally:
                writer.close()
        finally:
            reader.close()
    except sqlite3.Error:
        _copy_files(source, target)
        return
    shutil.copymode(source, target)


def _copy_files(source: Path, target: Path) -> None:
    """Copy the database and its companions byte for byte, replacing any partial copy."""
    for suffix in ("", *COMPANIONS):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    for suffix in ("", *COMPANIONS):
        if Path(f"{source}{suffix}").is_file():
            shutil.copy2(f"{source}{suffix}", f"{target}{suffix}")


def copy_file(source: str, target: str) -> str:
    """Copy one file for shutil.copytree: a SQLite database through its backup, anything else as it is."""
    if is_database(source):
        copy_database(Path(source), Path(target))
    else:
        shutil.copy2(source, target)
    return target
