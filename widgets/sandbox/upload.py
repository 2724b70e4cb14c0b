"""A project that arrives as a zip (a browser's upload), and what a browser cannot run of a project.

``Sandbox.copy_of("mysite.zip")`` unpacks the zip once into the workspace's
``.kit/uploads/`` (the same zip, the same folder, so ``reset()`` copies it
again) and copies the folder that holds ``manage.py``. Members that would land
outside that folder, and links, are refused: nothing is written for them.

In a browser (Pyodide) the project runs in the kit's own interpreter, so
``browser_refusal`` says, in one sentence, what it cannot run there: compiled
extensions, and apps or packages this interpreter does not have.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import re
import shutil
import stat
import sys
import uuid
import zipfile
from pathlib import Path, PurePosixPath

from widgets.errors import KitError

__all__ = ["COMPILED", "browser_refusal", "is_archive", "unpacked"]

#: Files of compiled code, which only run on the machine they were built for.
COMPILED = (".so", ".pyd", ".dylib", ".dll")
_INSTALLED = "the installed kit (make lab, see the README), with your project's own Python"
_SKIPPED = {"venv", ".venv", "env", "node_modules", ".git", "__pycache__", "site-packages"}


def is_archive(project: Path | str) -> bool:
    """Return True if the project was given as a .zip file."""
    return str(project).lower().endswith(".zip")


def unpacked(archive: Path | str, workspace: Path) -> Path:
    """Unpack an uploaded project zip into the workspace (once per content); return the folder with manage.py."""
    path = Path(archive).expanduser()
    if not path.is_file():
        raise KitError(
            f"There is no file '{path.name}' here. Fix: upload the zip into this notebook's folder "
            "(the file browser's upload button), then pass its name, as in Sandbox.copy_of('mysite.zip')."
        )
    if not zipfile.is_zipfile(path):
        raise KitError(f"'{path.name}' is not a zip file. Fix: zip the folder that holds manage.py and upload that.")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    stem = re.sub(r"[^A-Za-z0-9_-]", "-", path.stem)[:40].strip("-_") or "project"
    folder = workspace / ".kit" / "uploads" / f"{stem}-{digest}"
    if not folder.is_dir():
        _extract(path, folder)
    return _project_in(folder, path.name)


def _extract(archive: Path, folder: Path) -> None:
    """Extract every member into a staging folder, then rename it into place: never a half-unpacked project."""
    staging = folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:8]}")
    try:
        with zipfile.ZipFile(archive) as opened:
            for member in opened.infolist():
                _check_member(member, archive.name)
            opened.extractall(staging)
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _check_member(member: zipfile.ZipInfo, name: str) -> None:
    """Refuse a member that is a link or would be written outside the folder it is unpacked into."""
    parts = PurePosixPath(member.filename.replace("\\", "/")).parts
    if member.filename.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
        raise KitError(
            f"'{name}' holds '{member.filename}', which would be written outside its folder. "
            "Fix: zip the project folder itself (for example with `zip -r mysite.zip mysite`)."
        )
    if stat.S_ISLNK(member.external_attr >> 16):
        raise KitError(
            f"'{name}' holds a link, '{member.filename}', and the kit never follows links out of a project. "
            "Fix: zip the project without links (replace each by the file it points to)."
        )


def _project_in(folder: Path, name: str) -> Path:
    """Return the unpacked folder holding manage.py: the top, or the one folder the zip put everything in."""
    if (folder / "manage.py").is_file():
        return folder
    found = sorted(p.parent for p in folder.glob("*/manage.py"))
    if len(found) == 1:
        return found[0]
    raise KitError(
        f"'{name}' has no manage.py at its top or in a single folder under it. "
        "Fix: zip the folder that holds manage.py (for example with `zip -r mysite.zip mysite`)."
    )


def browser_refusal(project: Path, settings_file: Path | None) -> str | None:
    """Return the one sentence saying why a browser cannot run this project, or None if it can (or not a browser)."""
    if sys.platform != "emscripten":
        return None
    return _compiled(project) or _missing_package(project, settings_file)


def _compiled(project: Path) -> str | None:
    """Name the first compiled extension in the project, if any."""
    for path in sorted(project.rglob("*")):
        if path.suffix.lower() in COMPILED and not _SKIPPED & set(path.relative_to(project).parts):
            return (
                f"The project holds compiled code ({path.relative_to(project).as_posix()}), which cannot run in a "
                f"browser. Fix: use {_INSTALLED}."
            )
    return None


def _missing_package(project: Path, settings_file: Path | None) -> str | None:
    """Name the first installed app whose package is neither in the project nor in this interpreter."""
    for app in _installed_apps(settings_file, project) if settings_file else []:
        top = app.split(".")[0]
        if (project / top).is_dir() or (project / f"{top}.py").is_file():
            continue
        if importlib.util.find_spec(top) is None:
            return (
                f"The project needs '{top}' (in INSTALLED_APPS), which this browser does not have: only Django and "
                f"pure-Python apps inside the project run here. Fix: put the app's code in the zip, or use {_INSTALLED}."
            )
    return None


def _installed_apps(settings_file: Path, project: Path, depth: int = 0) -> list[str]:
    """Return the app names written literally in INSTALLED_APPS, following ``from .base import *`` in the project."""
    try:
        tree = ast.parse(settings_file.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError):
        return []
    apps = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names) and depth < 5:
            base = _star_source(settings_file, project, node)
            apps += _installed_apps(base, project, depth + 1) if base else []
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AugAssign) else []
        )
        if any(isinstance(t, ast.Name) and t.id == "INSTALLED_APPS" for t in targets):
            if isinstance(node.value, (ast.List, ast.Tuple)):
                apps += [e.value for e in node.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return apps


def _star_source(settings_file: Path, project: Path, node: ast.ImportFrom) -> Path | None:
    """Return the project file a ``from X import *`` of a settings file reads, or None if it is not in the project."""
    folder = settings_file.parent
    for _ in range(node.level - 1):
        folder = folder.parent
    base = folder if node.level else project
    dotted = (node.module or "").replace(".", "/")
    found = [p for p in (base / f"{dotted}.py", base / dotted / "__init__.py") if dotted and p.is_file()]
    return found[0] if found and project in found[0].resolve().parents else None
