"""Keep the workspace in the browser's IndexedDB, so that sandboxes and progress survive a page reload.

Only under Pyodide (``sys.platform == "emscripten"``); everywhere else every
function here does nothing. JupyterLite's own ``/drive`` is not used: SQLite
databases written there get corrupted. The workspace is an IDBFS mount at
``/kit-workspace`` instead: plain memory while the kernel runs, copied to
IndexedDB by Emscripten's ``FS.syncfs``.

Order matters. ``syncfs(populate=True)`` makes memory match IndexedDB, deleting
whatever was written before it finished, and it is asynchronous. So the first
access to the workspace waits for it (``pyodide.ffi.run_sync``, which needs
JSPI) before anything is written; where waiting is impossible, the kit refuses
to write and says to run the cell again once loading has finished. After that,
``persist()`` copies what changed (``populate=False``) after every cell and
every panel action, and waits for the copy where it can, so that a reload right
after a cell keeps what the cell wrote; elsewhere one copy runs at a time.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from widgets.errors import KitError

__all__ = ["MOUNT", "active", "persist", "prepare"]

#: Where the workspace lives in the browser: an IDBFS mount, never JupyterLite's /drive.
MOUNT = "/kit-workspace"
_WORKSPACE_ENV = "MIGRATION_KIT_WORKSPACE"  # widgets.sandbox.paths imports this module: no import back
# One kernel, one state: "loading" until populate finished, then "ready"; "off" when not ours to keep.
_state = {"phase": "new", "syncing": False, "again": False, "error": ""}


def active() -> bool:
    """Return True when the workspace is the IndexedDB-backed mount and loaded."""
    return _state["phase"] == "ready"


def prepare() -> None:
    """Mount the workspace and load it from IndexedDB once, before the kit first touches it."""
    if sys.platform != "emscripten" or _state["phase"] in ("ready", "off"):
        return
    if _state["phase"] == "loading":
        _still_loading()
    configured = os.environ.get(_WORKSPACE_ENV)
    if configured and Path(configured).expanduser().resolve() != Path(MOUNT):
        _state["phase"] = "off"  # the learner chose another folder: theirs to keep
        return
    import js

    if not hasattr(js, "indexedDB"):  # Pyodide under Node: no browser storage to keep anything in
        _state["phase"] = "off"
        return
    os.environ[_WORKSPACE_ENV] = MOUNT
    _mount()
    _load()
    _persist_after_each_cell()


def persist() -> None:
    """Copy what changed in the workspace to IndexedDB: waiting for it where JSPI allows, else in the background."""
    if not active():
        return
    from pyodide.ffi import can_run_sync, run_sync

    if can_run_sync():
        # Waited for: a reload right after the cell (a reset, then F5) must find what the cell wrote.
        run_sync(_copied())
        return
    if _state["syncing"]:
        _state["again"] = True  # the running copy may have missed the latest write: copy once more after it
        return
    from pyodide.ffi import create_once_callable
    from pyodide_js import FS

    _state["syncing"] = True
    FS.syncfs(False, create_once_callable(_persisted))


def _copied():
    """Return a JS Promise of one copy of the workspace to IndexedDB (resolved when Emscripten says it is done)."""
    from js import Promise
    from pyodide.ffi import create_once_callable
    from pyodide_js import FS

    def start(resolve, reject) -> None:
        def finished(error=None) -> None:
            _state["error"] = str(error) if error else ""
            resolve(None)

        FS.syncfs(False, create_once_callable(finished))

    return Promise.new(create_once_callable(start))


def _persisted(error=None) -> None:
    """Note the end of a copy; start the one asked for meanwhile."""
    _state["syncing"] = False
    _state["error"] = str(error) if error else ""
    if _state["again"]:
        _state["again"] = False
        persist()


def _mount() -> None:
    """Mount IDBFS at MOUNT unless this interpreter already did."""
    from pyodide_js import FS

    os.makedirs(MOUNT, exist_ok=True)
    if not FS.isMountpoint(FS.lookupPath(MOUNT).node):
        FS.mount(FS.filesystems.IDBFS, {}, MOUNT)


def _load() -> None:
    """Make the mount hold what IndexedDB keeps: wait for it where JSPI allows, else refuse until done."""
    from js import Promise
    from pyodide.ffi import can_run_sync, create_once_callable, run_sync
    from pyodide_js import FS

    def start(resolve, reject) -> None:
        def finished(error=None) -> None:
            _state["phase"] = "ready"  # a failed load leaves an empty workspace, still usable
            _state["error"] = str(error) if error else ""
            resolve(None)

        FS.syncfs(True, create_once_callable(finished))

    _state["phase"] = "loading"
    loaded = Promise.new(create_once_callable(start))
    if can_run_sync():
        run_sync(loaded)
    if _state["phase"] == "loading":
        _still_loading()


def _still_loading() -> None:
    """Refuse to touch the workspace while IndexedDB is still being read (a write now would be lost)."""
    raise KitError(
        "The browser is still loading your saved sandboxes. Fix: run this cell again in a moment; nothing was changed."
    )


def _persist_after_each_cell() -> None:
    """Register persist() to run after every cell of this kernel."""
    try:
        from IPython import get_ipython
    except ImportError:  # no IPython: plain Pyodide (Node), where nothing reloads
        return
    shell = get_ipython()
    if shell is not None:
        shell.events.register("post_run_cell", lambda _result: persist())
