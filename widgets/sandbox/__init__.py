"""The sandbox: files and folders (workspace, lifecycle, links, snapshots, copies, database backends).

``Sandbox`` is a facade over the modules here; it never runs Django itself but
hands every command and probe to the runner (``widgets.run``).
"""

from __future__ import annotations

__all__ = ["PageResult", "Sandbox"]


def __getattr__(name: str):
    # Lazy, so that importing one file helper (paths, disk) does not import the facade and its readers.
    if name in __all__ or name in ("CACHE_ENV", "validate_name"):
        from . import facade

        return getattr(facade, name)
    raise AttributeError(f"module 'widgets.sandbox' has no attribute '{name}'")
