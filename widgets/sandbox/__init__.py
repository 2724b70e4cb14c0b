"""The sandbox: files and folders (workspace, lifecycle, links, snapshots, copies, database backends).

``Sandbox`` is a facade over the modules here; it never runs Django itself but
hands every command and probe to the runner (``widgets.run``).
"""

from __future__ import annotations

import importlib

__all__ = ["PageResult", "Sandbox"]
# Names the package gave before the facade was split, and where they live now.
_ELSEWHERE = {"CACHE_ENV": "widgets.sandbox.templates", "validate_name": "widgets.sandbox.workspace"}


def __getattr__(name: str):
    # Lazy, so that importing one file helper (paths, disk) does not import the facade and its readers.
    if name in __all__:
        from . import facade

        return getattr(facade, name)
    if name in _ELSEWHERE:
        return getattr(importlib.import_module(_ELSEWHERE[name]), name)
    raise AttributeError(f"module 'widgets.sandbox' has no attribute '{name}'")
