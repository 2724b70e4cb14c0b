"""A sandbox's life: made fresh from the template, found again, put back to its origin, deleted.

Each step is all or nothing: the new project is staged and swapped in
(``workspace.Place``), the bookkeeping is written before anything changes, and
a failure leaves the sandbox as it was or, for one being made, nothing of it.
"""

from __future__ import annotations

from widgets.errors import KitError
from widgets.sandbox import backends, disk, project_copy
from widgets.sandbox.workspace import Place

__all__ = ["delete", "fresh", "must_exist", "reset", "reset_to_origin"]


def fresh(place: Place, engine: str, *, migrated: bool) -> None:
    """Make (or remake) a sandbox from the template, migrated if asked, on the engine's database."""
    meta = {"origin": "template", "migrated": migrated, "settings": "djsandbox.settings", "database": "db.sqlite3"}
    if engine == "postgresql":
        meta |= {"engine": engine, "database": None, "postgres_database": backends.postgres_name(place)}
    with place.lock("Sandbox.fresh()", make=True):
        backends.forget_old_database(place, keep=meta.get("postgres_database"))
        existed = place.exists()
        outcome = f"The sandbox '{place.name}' was not {'remade' if existed else 'made'}"
        kept = "it is as it was" if existed else "nothing of it is left"
        with place.undone_on_failure(existed), disk.refused(outcome, kept):
            staged = place.stage_meta(meta)  # written first: a full disk fails here, before any change
            reset_to_origin(place, meta)
            staged.replace(place.meta_file)


def must_exist(place: Place) -> None:
    """Raise KitError if there is no sandbox at this place."""
    if not (place.path / "manage.py").is_file() or not place.meta_file.is_file():
        raise KitError(
            f"There is no sandbox called '{place.name}' in this workspace. "
            f"Fix: make it with Sandbox.fresh('{place.name}')."
        )


def reset(place: Place) -> None:
    """Put the sandbox back to its origin: the template or the copied project, copied the same way."""
    with place.lock("reset()"):
        with disk.refused(f"The sandbox '{place.name}' was not reset", "it is as it was"):
            reset_to_origin(place, place.meta())


def reset_to_origin(place: Place, meta: dict) -> None:
    """Copy the origin in place of the project, all or nothing; raise OSError if the disk refuses."""
    backend = backends.of(place, meta)
    if meta["origin"] == "template":
        backend.from_template(meta["migrated"])
    else:
        project_copy.reset_copy(place, meta)
        backend.from_copy()


def delete(place: Place) -> None:
    """Remove the sandbox, its snapshots, its bookkeeping and its PostgreSQL database if it has one."""
    with place.lock("delete()"):
        backends.forget_old_database(place)
        error = place.remove()
        if error is not None:
            raise disk.workspace_error(error, f"The sandbox '{place.name}' was not deleted", "what is left stays")
