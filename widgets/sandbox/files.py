"""Files inside a sandbox: find, read, write, edit, and add an app to INSTALLED_APPS.

Every path is confined to the sandbox: a path that leads outside, through
'..' or through a link, is refused, and so is one that goes round a loop of
links. The kit never follows a link out of a sandbox.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from widgets.errors import EditError, KitError, SandboxPathError
from widgets.sandbox import disk, installed_apps, settings_origin
from widgets.sandbox.written import WrittenFile

if TYPE_CHECKING:  # the facade imports this module: no cycle at run time
    from widgets.sandbox.facade import Sandbox

__all__ = ["absolute_module", "add_installed_app", "edit", "inside", "module_file", "read", "settings_file", "write"]


def inside(project: Path, relative: str | Path) -> Path:
    """Return the absolute path of a file inside a project folder; refuse any path outside it or round a loop."""
    root = project.resolve()
    try:
        # resolve() follows links, so a path leading out through a link is refused like '../x'.
        candidate = (project / relative).resolve()
    except RuntimeError:  # a loop of links, before Python 3.13
        raise _loop_error(relative) from None
    if _loops(candidate):  # from Python 3.13, resolve() leaves a loop unresolved instead of raising
        raise _loop_error(relative)
    if candidate != root and root not in candidate.parents:
        raise SandboxPathError(
            f"'{relative}' is outside the sandbox. Fix: use a path inside it, such as 'boards/models.py'."
        )
    return candidate


def _loops(path: Path) -> bool:
    """Return True if reaching path goes round a loop of links (the system says ELOOP)."""
    try:
        os.stat(path)
    except OSError as error:
        return error.errno == errno.ELOOP
    return False


def _loop_error(relative: str | Path) -> SandboxPathError:
    return SandboxPathError(
        f"'{relative}' goes round a loop of links. Fix: use a path without links, such as 'boards/models.py'."
    )


def read(sandbox: Sandbox, relative: str | Path) -> str:
    """Return the text of a file inside the sandbox."""
    path = sandbox.file(relative)
    if not path.is_file():
        raise KitError(
            f"There is no file '{relative}' in the sandbox. Fix: check the path (for example 'boards/models.py')."
        )
    return path.read_text(encoding="utf-8")


def write(sandbox: Sandbox, relative: str | Path, text: str) -> WrittenFile:
    """Write a whole file inside the sandbox, creating folders as needed."""
    path = sandbox.file(relative)
    if path.is_dir():
        raise KitError(
            f"'{relative}' is a folder in the sandbox. Fix: give the path of a file, such as 'boards/models.py'."
        )
    with sandbox.locked("write()"):
        with disk.refused(f"'{relative}' was not saved", "the file is as it was"):
            disk.write_atomic(path, text.encode("utf-8"))
    return WrittenFile(path, path.relative_to(sandbox.path).as_posix(), len(text.splitlines()))


def edit(sandbox: Sandbox, relative: str | Path, old: str, new: str) -> WrittenFile:
    """Replace the one occurrence of ``old`` with ``new``; refuse if it is missing or repeated."""
    text = sandbox.read(relative)
    count = text.count(old)
    if count != 1:
        problem = "was not found" if count == 0 else f"was found {count} times"
        advice = (
            "copy it exactly from sandbox.read(...), spaces included"
            if count == 0
            else "include more of the surrounding lines so it is unique"
        )
        raise EditError(f"The text to replace {problem} in {relative}. Fix: {advice}.")
    return sandbox.write(relative, text.replace(old, new, 1))


def add_installed_app(sandbox: Sandbox, label: str) -> bool:
    """Add an app label to INSTALLED_APPS in settings.py; return False if it was there."""
    if not label.isidentifier():
        raise KitError(
            f"'{label}' is not a valid app label. Fix: use the app's folder name, a Python identifier such as 'app'."
        )
    settings = _installed_apps_file(sandbox)
    if not sandbox.file(settings).is_file():
        raise KitError(
            f"The settings module '{sandbox.settings_module}' is imported from outside the sandbox, and the kit edits "
            f'only the sandbox\'s files. Fix: add "{label}" to INSTALLED_APPS in a settings file inside the project.'
        )
    try:
        edited = installed_apps.with_installed_app(sandbox.read(settings), label)
    except ValueError as reason:
        raise KitError(f'In {settings}, {reason}. Fix: add "{label}" to INSTALLED_APPS by hand.') from None
    if edited is None:
        return False
    sandbox.write(settings, edited)
    return True


def _installed_apps_file(sandbox: Sandbox, relative: str | None = None, depth: int = 0) -> str:
    """Return the settings file that assigns INSTALLED_APPS, following ``from .base import *`` lines."""
    relative = relative or sandbox.settings_file
    text = sandbox.read(relative) if sandbox.file(relative).is_file() else ""
    if installed_apps.assigns_installed_apps(text) or depth > 4:
        return relative
    module = str(PurePosixPath(relative).with_suffix("")).replace("/", ".").removesuffix(".__init__")
    package = module if relative.endswith("__init__.py") else module.rpartition(".")[0]
    for star in re.findall(r"^from\s+(\.*[\w.]*)\s+import\s+\*", text, re.MULTILINE):
        found = module_file(sandbox.path, absolute_module(star, package))
        if found and found != relative:
            candidate = _installed_apps_file(sandbox, found, depth + 1)
            if installed_apps.assigns_installed_apps(sandbox.read(candidate)):
                return candidate
    return relative


def settings_file(project: Path, meta: dict) -> str:
    """Return the project's own settings file relative to it, from a sandbox's bookkeeping."""
    module = meta.get("project_settings") or meta["settings"]
    return module_file(project, module) or module.replace(".", "/") + ".py"


module_file = settings_origin.module_file


def absolute_module(name: str, package: str) -> str:
    """Return the absolute module an import names, e.g. ('.base', 'mysite.settings') -> 'mysite.settings.base'."""
    dots = len(name) - len(name.lstrip("."))
    if not dots:
        return name
    parts = package.split(".")
    base = parts[: len(parts) - (dots - 1)] if dots > 1 else parts
    return ".".join([*base, *([name[dots:]] if name[dots:] else [])])
