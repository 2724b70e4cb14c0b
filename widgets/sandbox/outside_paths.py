"""Absolute paths a copied project's settings reach outside the sandbox, and the ones the kit can point inside.

A copy of a project is only safe to play with if its commands write inside the
sandbox. Settings often name absolute folders and files (MEDIA_ROOT, a log
handler's file, a data folder, a config file read at import time) that still
point at the original project, or elsewhere on the machine. The probe
``paths`` (``widgets/run/_probe.py``) lists them; this module turns its answer
into values and sentences, and rewrites the ones written out in a file of the
sandbox that names the original project's folder.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SENTENCE_START", "OutsidePath", "find", "rewrite", "sentence"]

#: How the notice starts, so a sandbox can replace it after a rewrite.
SENTENCE_START = "The settings reach "

# Files a settings import opens that are the environment, not the project's data.
_CODE_SUFFIXES = (".py", ".pyc", ".so", ".pth", ".pyi")
# The kit's own settings modules in a sandbox: they import the project's, they never name a path themselves.
_KIT_MODULES = ("kit_sqlite_settings.py", "kit_postgres_settings.py")


def _spelled(origin: Path) -> re.Pattern[str]:
    """Return a pattern for the folder's path as text, whole (not the start of a longer folder name)."""
    return re.compile(re.escape(str(origin)) + r"(?=[/\\'\"\s,;)\]]|$)", re.MULTILINE)


@dataclass(frozen=True)
class OutsidePath:
    """An absolute path outside the sandbox: which setting (or 'read by settings') and where it points.

    ``written_in`` is the sandbox file that spells out the original project's folder
    for it, when there is one: ``Sandbox.rewrite_outside_paths()`` can then point it at
    the sandbox's copy. None means the kit cannot rewrite it.
    """

    setting: str
    path: str
    written_in: str | None = None

    @property
    def rewritable(self) -> bool:
        """Return True if the kit can point this path inside the sandbox."""
        return self.written_in is not None

    def __str__(self) -> str:
        return f"{self.setting} -> {self.path}"


def _inside(path: str, folder: Path) -> bool:
    """Return True if path (made absolute, links resolved) lies in folder."""
    resolved = Path(os.path.realpath(path))
    return resolved == folder or folder in resolved.parents


def _environment() -> list[Path]:
    """Return the folders of the Python environment, whose files are code and packaged data, not the project's."""
    return [Path(os.path.realpath(p)) for p in {sys.prefix, sys.base_prefix, sys.exec_prefix}]


def _read_by_settings(opened: list[str], sandbox: Path) -> list[str]:
    """Return the data files a settings import opened outside the sandbox (config files, .env files)."""
    environment = _environment()
    return [
        path
        for path in opened
        if os.path.isfile(path)
        and not path.endswith(_CODE_SUFFIXES)
        and not _inside(path, sandbox)
        and not any(_inside(path, folder) for folder in environment)
    ]


def _files_naming(origin: Path, opened: list[str], sandbox: Path) -> dict[str, str]:
    """Return relative path -> text of the sandbox files read by settings that spell out the original project's folder."""
    found = {}
    for path in opened:
        if not os.path.isfile(path) or not _inside(path, sandbox) or os.path.islink(path):
            continue
        relative = Path(os.path.realpath(path)).relative_to(sandbox).as_posix()
        if relative in _KIT_MODULES or relative.endswith(".pyc"):
            continue
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if _spelled(origin).search(text):
            found[relative] = text
    return dict(sorted(found.items()))


def find(answer: dict, sandbox: Path, origin: Path | None) -> list[OutsidePath]:
    """Return every absolute path the settings reach outside the sandbox, from the ``paths`` probe's answer."""
    sandbox = Path(os.path.realpath(sandbox))
    origin = Path(os.path.realpath(origin)) if origin is not None else None
    opened = answer.get("opened", [])
    naming = _files_naming(origin, opened, sandbox) if origin is not None else {}
    found: dict[tuple[str, str], OutsidePath] = {}
    settings_file = answer.get("file")
    if settings_file and not _inside(settings_file, sandbox):
        found[("settings module", settings_file)] = OutsidePath("settings module", settings_file)
    items = [(setting, path) for setting, path in answer.get("named", [])]
    items += [("read by settings", path) for path in _read_by_settings(opened, sandbox)]
    for setting, path in items:
        if _inside(path, sandbox):
            continue
        where = None
        if origin is not None and _inside(path, origin) and naming:
            # The file that spells out this very path, else the first that spells out the original folder.
            where = next((file for file, text in naming.items() if path in text), next(iter(naming)))
        found.setdefault((setting, path), OutsidePath(setting, path, where))
    return sorted(found.values(), key=lambda item: (item.setting, item.path))


def sentence(found: list[OutsidePath]) -> str:
    """Return one plain sentence naming the paths outside the sandbox and what to do, or '' if there are none."""
    if not found:
        return ""
    shown = "; ".join(str(item) for item in found[:6]) + (f"; and {len(found) - 6} more" if len(found) > 6 else "")
    fixable = sum(item.rewritable for item in found)
    fix = (
        f"sandbox.rewrite_outside_paths() points the {fixable} inside the original project at the sandbox's copy; "
        "set the others in the settings to paths inside the sandbox"
        if fixable
        else "set them in the settings to paths inside the sandbox (the kit cannot rewrite them)"
    )
    return (
        f"{SENTENCE_START}{len(found)} path(s) outside the sandbox, which its commands may read or write: "
        f"{shown}. Fix: {fix}; sandbox.outside_paths() lists them."
    )


def rewrite(sandbox: Path, origin: Path, files: list[str]) -> list[str]:
    """Replace the original project's folder with the sandbox's in the given sandbox files; return those changed."""
    sandbox, origin = Path(os.path.realpath(sandbox)), Path(os.path.realpath(origin))
    changed = []
    for relative in files:
        path = sandbox / relative
        if path.is_symlink() or not _inside(str(path), sandbox) or not path.is_file():
            continue  # never write through a link out of the sandbox
        text = path.read_text(encoding="utf-8")
        edited = _spelled(origin).sub(lambda _: str(sandbox), text)
        if edited != text:
            path.write_text(edited, encoding="utf-8")
            changed.append(relative)
    return changed
