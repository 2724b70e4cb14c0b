"""Copying a project of one's own into a sandbox: its settings read from manage.py, what to leave out, its database.

``Sandbox.copy_of`` lands here. The original is only read: its folder is
copied as ``widgets.sandbox.copying`` says (links as links, bulky folders
left out), the settings module is read from manage.py with ``ast`` (never
run), and a database the kit must not use is refused or replaced by a SQLite
stand-in (``widgets.sandbox.stand_in``).
"""

from __future__ import annotations

import ast
import os
import re
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from widgets.errors import KitError
from widgets.run.runner import run_probe
from widgets.sandbox import backends, copying, disk, outside_paths, settings_origin, stand_in, upload
from widgets.sandbox.files import module_file
from widgets.sandbox.workspace import Place
from widgets.sandbox.workspace import root as workspace_root

if TYPE_CHECKING:  # the facade imports this module: no cycle at run time
    from widgets.sandbox.facade import Sandbox

__all__ = ["copy_of", "reset_copy"]

_MODULE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
# Migrating a copied project's stand-in database can take a while on a big project.
_SETUP_TIMEOUT = 600.0


def copy_of(
    make: Callable[[str, Path], Sandbox],
    project: Path | str,
    name: str | None,
    workspace: Path | str | None,
    *,
    settings: str | None,
    include: Iterable[str],
    database: str | None,
    python: Path | str | None,
) -> Sandbox:
    """Copy a Django project into a sandbox ``make(name, workspace)`` gives; see ``Sandbox.copy_of``."""
    engine = backends.engine(database or "sqlite")
    if upload.is_archive(project):  # an upload in a browser: unpacked once into the workspace, then copied
        project = upload.unpacked(project, workspace_root(workspace))
    source = Path(project).expanduser().resolve()
    interpreter = _interpreter(python)
    if not (source / "manage.py").is_file():
        raise KitError(f"There is no manage.py in '{source.name}'. Fix: pass the folder that holds manage.py.")
    if database not in (None, "sqlite", "postgresql"):
        raise KitError(
            f"database={database!r} is not an option. Fix: leave it out, or pass database='sqlite' or 'postgresql'."
        )
    include = _check_include(include)
    named, forced = _manage_settings(source)
    settings = _check_settings(source, settings or named, interpreter)
    settings_path = module_file(source, settings)
    refusal = upload.browser_refusal(source, source / settings_path if settings_path else None)
    if refusal:
        raise KitError(refusal)
    name = name or re.sub(r"[^A-Za-z0-9_-]", "-", source.name)[:64].strip("-_") or "copy"
    sandbox = make(name, workspace_root(workspace))
    place = Place(sandbox.name, sandbox.workspace)
    if sandbox.path.resolve() == source or source in sandbox.path.resolve().parents:
        raise KitError("That project is this sandbox itself. Fix: copy a project from outside the workspace.")
    if settings != named and forced:
        raise _forced_settings_error(settings)
    meta = {
        "origin": str(source),
        "migrated": False,
        "settings": settings,
        "project_settings": settings,
        "set_settings": settings != named,
        "database": None,
        "include": include,
        "leave_out": [],
        "notices": [],
    }
    if interpreter is not None:
        meta["python"] = interpreter
    with place.lock("Sandbox.copy_of()", make=True):
        existed = place.exists()
        failed = f"The project '{source.name}' was not copied"
        kept = f"the sandbox '{name}' is as it was" if existed else "no sandbox was made"
        with disk.refused(failed, kept), place.undone_on_failure(existed):
            left_out = reset_copy(place, meta)  # swapped in whole, or not at all
        # The copy is in place now: a failure from here on removes it whole.
        kept = f"the sandbox '{name}' was removed" if existed else "no sandbox was made"
        with disk.refused(failed, kept), place.undone_on_failure(existed=False):
            _copy_project(sandbox, place, meta, None if engine == "postgresql" else database, forced, left_out)
            if engine == "postgresql":
                backends.forget_old_database(place)
                meta |= {"engine": engine, "postgres_database": backends.postgres_name(place)}
                place.write_meta(meta)
                backends.of(place, meta).from_copy()
    return sandbox


def reset_copy(place: Place, meta: dict) -> list[tuple[str, str]]:
    """Copy the origin project again as its meta says; return what the copy left out."""
    origin = Path(meta["origin"])
    if not (origin / "manage.py").is_file():
        raise KitError(f"The project this sandbox was copied from is gone ({origin.name}). Fix: make a new sandbox.")
    selection = copying.Selection(
        categories=frozenset(copying.CATEGORIES) - set(meta.get("include", ())),
        paths=frozenset(meta.get("leave_out", ())),
    )
    extra, databases = {}, {}
    if meta.get("settings") == stand_in.MODULE:
        extra[f"{stand_in.MODULE}.py"] = stand_in.module_text(meta["project_settings"])
        if place.stand_in_cache.is_file():
            databases[stand_in.DATABASE_FILE] = place.stand_in_cache
    with place.lock("reset()"):
        left_out = place.replace_project(origin, selection, databases, extra)
        outside_paths.rewrite(place.path, origin, meta.get("rewritten", []))  # what rewrite_outside_paths() did
        return left_out


def _copy_project(
    sandbox: Sandbox, place: Place, meta: dict, database: str | None, forced: bool, left_out: list[tuple[str, str]]
) -> None:
    """With the origin copied in place, leave out MEDIA_ROOT and STATIC_ROOT and settle which database it uses."""
    answer = run_probe(sandbox.path, meta["settings"], "database", python=meta.get("python"))
    roots = [] if "media" in meta["include"] else _roots_inside(sandbox.path, answer)
    if roots:
        meta["leave_out"] = roots
        left_out = reset_copy(place, meta)
    inside = _inside(sandbox.path, answer["name"], real=True) if "sqlite3" in answer["engine"] else None
    if inside is not None:
        meta["database"] = inside
        meta["notices"] = [copying.left_out_sentence(left_out)]
    elif database is None:
        raise _database_error(answer["engine"])
    else:
        if forced:
            raise _forced_settings_error(stand_in.MODULE)
        meta["notices"] = [copying.left_out_sentence(left_out), _stand_in(sandbox, place, meta, answer["engine"])]
    meta["notices"].append(outside_paths.sentence(find_outside_paths(place, meta)))
    meta["notices"] = [notice for notice in meta["notices"] if notice]
    place.write_meta(meta)


def find_outside_paths(place: Place, meta: dict) -> list[outside_paths.OutsidePath]:
    """Ask the settings, in the sandbox, which absolute paths they reach, and keep those outside it."""
    if meta.get("origin") == "template":
        return []
    module = meta.get("project_settings") or meta["settings"]
    answer = run_probe(place.path, meta["settings"], "paths", module, python=meta.get("python"))
    return outside_paths.find(answer, place.path, Path(meta["origin"]))


def rewrite_outside_paths(place: Place) -> list[str]:
    """Point every rewritable outside path at the sandbox's copy, in the sandbox's files; return the files changed."""
    meta = place.meta()
    files = sorted({item.written_in for item in find_outside_paths(place, meta) if item.written_in})
    with place.lock("rewrite_outside_paths()"):
        changed = outside_paths.rewrite(place.path, Path(meta["origin"]), files)
        meta["rewritten"] = sorted({*meta.get("rewritten", []), *changed})
        meta["notices"] = [n for n in meta.get("notices", []) if not n.startswith(outside_paths.SENTENCE_START)]
        meta["notices"].append(outside_paths.sentence(find_outside_paths(place, meta)))
        meta["notices"] = [notice for notice in meta["notices"] if notice]
        place.write_meta(meta)
    return changed


def _stand_in(sandbox: Sandbox, place: Place, meta: dict, engine: str) -> str:
    """Put the copy on its own SQLite database, migrated like the original if it can be read; say what was done."""
    try:
        recorded = run_probe(
            sandbox.path, meta["settings"], "database", "recorded", timeout=30, python=meta.get("python")
        )
    except KitError as error:  # e.g. no answer in time: keep the sentence, not its fix, as the reason
        recorded = {"applied": None, "reason": str(error).split(" Fix:")[0]}
    meta.update(settings=stand_in.MODULE, set_settings=True, database=stand_in.DATABASE_FILE)
    place.write_meta(meta)
    reset_copy(place, meta)
    applied = recorded["applied"]
    if applied is None:
        result = sandbox.manage("migrate", "--noinput", timeout=_SETUP_TIMEOUT)
    else:
        result = sandbox.shell(stand_in.replay_code([tuple(key) for key in applied]), timeout=_SETUP_TIMEOUT)
    if not result.ok:
        raise KitError(
            f"The project's migrations do not run on SQLite ({result.message}). "
            f"Fix: this project needs its own {stand_in.engine_name(engine)} database to explore; the kit cannot stand in for it."
        )
    if sandbox.db_path.is_file():
        shutil.copyfile(sandbox.db_path, place.stand_in_cache)
    where = f"its own SQLite database ({stand_in.DATABASE_FILE}, through {stand_in.MODULE}.py)"
    instead = f"instead of the project's {stand_in.engine_name(engine)} one"
    if applied is None:
        return (
            f"This sandbox runs on {where} {instead}; the original could not be read "
            f"({recorded['reason'].rstrip('.')}), so every migration is applied."
        )
    return f"This sandbox runs on {where} {instead}, with the same {len(applied)} applied migrations as the original and no rows."


def _roots_inside(project: Path, answer: dict) -> list[str]:
    """Return MEDIA_ROOT and STATIC_ROOT relative to the copy when they are folders strictly inside it."""
    roots = {_inside(project, answer.get(key) or "") for key in ("media_root", "static_root")}
    return sorted(root for root in roots if root and root != ".")


def _inside(project: Path, path: str, *, real: bool = False) -> str | None:
    """Return a path Django gave relative to the sandbox, or None if it is empty or lies outside.

    ``real`` follows links to where the file really is (a database reached through a link
    to elsewhere is outside); otherwise the path is taken as written, as a folder to leave out.
    """
    if not path:
        return None
    absolute = (project / path).resolve() if real else Path(os.path.normpath(project / path))
    try:
        return absolute.relative_to(project).as_posix()
    except ValueError:
        return None


def _interpreter(python: Path | str | None) -> str | None:
    """Return the absolute path of a project's own Python, or None for the kit's; refuse one that is missing."""
    if python is None:
        return None
    path = Path(python).expanduser()
    path = path if path.is_absolute() else Path.cwd() / path
    if not path.is_file() or not os.access(path, os.X_OK):
        raise KitError(
            f"There is no Python interpreter at '{python}'. "
            "Fix: pass the project's own, such as python='~/code/mysite/.venv/bin/python'."
        )
    # Not resolved: a virtual environment's python is a link, and resolving it would leave the environment.
    return str(path)


def _manage_settings(project: Path) -> tuple[str | None, bool]:
    """Return the settings module manage.py sets and whether it forces it (``os.environ[...] = ``).

    Read like manage.py runs it: ``os.environ.setdefault("DJANGO_SETTINGS_MODULE", "x")``
    gives ("x", False); ``os.environ["DJANGO_SETTINGS_MODULE"] = "x"`` gives ("x", True).
    """
    text = (project / "manage.py").read_text(encoding="utf-8", errors="replace")
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None, False
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "setdefault"
            and len(node.args) == 2
            and _constant(node.args[0]) == "DJANGO_SETTINGS_MODULE"
            and isinstance(_constant(node.args[1]), str)
        ):
            return _constant(node.args[1]), False
        if (
            isinstance(node, ast.Assign)
            and isinstance(_constant(node.value), str)
            and any(
                isinstance(t, ast.Subscript) and _constant(t.slice) == "DJANGO_SETTINGS_MODULE" for t in node.targets
            )
        ):
            return _constant(node.value), True
    return None, False


def _constant(node: ast.AST) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _check_settings(project: Path, module: str | None, python: str | None = None) -> str:
    """Return the settings module if it is a dotted name of a module in the project or importable there; raise KitError otherwise."""
    if module is None:
        raise KitError(
            "manage.py does not say which settings module to use. "
            "Fix: name it, as in Sandbox.copy_of(path, settings='mysite.settings')."
        )
    if not isinstance(module, str) or not _MODULE.fullmatch(module):
        raise KitError(f"{module!r} is not a dotted module name. Fix: pass one such as settings='mysite.settings.dev'.")
    if module_file(project, module) is None and settings_origin.importable_file(project, module, python) is None:
        path = module.replace(".", "/")
        raise KitError(
            f"The settings module '{module}' is not in the project (no {path}.py or {path}/__init__.py), "
            "and the project's Python cannot import it. Fix: pass the dotted name of its settings file, relative "
            "to manage.py, as settings='mysite.settings.dev', or the project's own interpreter as "
            "python='~/code/mysite/.venv/bin/python'."
        )
    return module


def _check_include(include: Iterable[str]) -> list[str]:
    """Return the categories to keep in a copy, refusing any the copy does not leave out."""
    include = [include] if isinstance(include, str) else list(include)
    unknown = [kind for kind in include if kind not in copying.CATEGORIES]
    if unknown:
        choices = ", ".join(repr(kind) for kind in copying.CATEGORIES)
        raise KitError(
            f"include={tuple(include)!r} names {unknown[0]!r}, which a copy never leaves out. Fix: choose from {choices}."
        )
    return sorted(set(include))


def _database_error(engine: str) -> KitError:
    """Return the refusal for a project whose default database is not a SQLite file inside it."""
    if "sqlite3" in engine:
        return KitError(
            "This project's SQLite database lives outside its folder, so a copy would still write to the original. "
            "Fix: copy it with Sandbox.copy_of(path, database='sqlite') to explore it on a fresh SQLite database "
            "inside the sandbox, or put its DATABASES NAME inside the project folder (e.g. BASE_DIR / 'db.sqlite3')."
        )
    return KitError(
        f"This project's database is {stand_in.engine_name(engine)} ({engine}), and the kit explores SQLite databases only. "
        "Fix: copy it with Sandbox.copy_of(path, database='sqlite') to explore it on a fresh SQLite database "
        "inside the sandbox; the original database is never written."
    )


def _forced_settings_error(settings: str) -> KitError:
    """Return the refusal for a manage.py that would override the settings module the kit must pass."""
    return KitError(
        f"manage.py sets DJANGO_SETTINGS_MODULE with os.environ[...] = ..., so the sandbox's commands could not use {settings}. "
        "Fix: copy a project whose manage.py uses os.environ.setdefault(...), as django-admin startproject writes it."
    )
