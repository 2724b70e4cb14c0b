"""What a sandbox reads through the runner: the migration graph (cached per fingerprint), plans and SQL previews.

Every reading is read-only. What Django's states say depends on the code only:
plans, previews and the time machine keep it on disk in the sandbox's
bookkeeping folder per code fingerprint (``widgets.sandbox.state_cache``), one
store shared by all three, so a new kernel (or another target) reads it again
only for the steps never read. Probes run Django in the runner (a process, or
this interpreter); the sandbox only says where the project is, which settings
and interpreter to use and, on PostgreSQL, writes the settings override first.
"""

from __future__ import annotations

import dataclasses
import threading

from widgets.read import state as _state
from widgets.run import timeouts
from widgets.run.runner import run_probe, runner
from widgets.sandbox import backends, state_cache
from widgets.sandbox.fingerprint import code_fingerprint
from widgets.sandbox.workspace import Place

__all__ = ["FEW_FILES", "Readings"]

#: Below this many migration files in the folder, a time limit counts the migration graph's nodes instead.
FEW_FILES = 50


class Readings:
    """One sandbox's probes, with the last migration graph kept for its code and database fingerprint."""

    def __init__(self, place: Place) -> None:
        self.place = place
        self.graph_cache: tuple[tuple, _state.MigrationGraph] | None = None

    def backend(self) -> backends.Backend:
        """Return the sandbox's database backend, as its bookkeeping names it now."""
        return backends.of(self.place, self.place.meta())

    def migration_graph(self) -> _state.MigrationGraph:
        """Return Django's migration graph, read again only when a Python file or the database changed.

        So refreshing every view after an action that changed neither costs no process.
        """
        key = self.fingerprint()
        if self.graph_cache is not None and self.graph_cache[0] != key:
            cached_key, cached = self.graph_cache
            if cached_key[0] == key[0] and self.backend().engine != "postgresql":
                # Same code, another database (a migrate): without a squash only the applied flags change.
                recorded = _state.applied_migrations(self.backend().source())
                graph = _state.with_recorded(cached, set(zip(recorded["app"], recorded["name"], strict=True)))
                if graph is not None:
                    self.graph_cache = (key, graph)
        if self.graph_cache is None or self.graph_cache[0] != key:
            backend = self.prepared()
            graph = _state.migration_graph(self.place.path, backend.settings(), python=backend.meta.get("python"))
            self.graph_cache = (key, graph)
        return self.graph_cache[1]

    def warm_up(self) -> threading.Thread | None:
        """Start a copied project's Django in the background, so the first reading of a new kernel skips its start.

        Return the thread, or None for a sandbox of the kit's own project (it starts in a fraction of a second).
        """
        if self.place.meta().get("origin") == "template" or runner().name != "process":
            return None  # in this interpreter Django starts with the first command (and a browser has no threads)
        thread = threading.Thread(target=self._warm_up, name="migration-kit-warm-up", daemon=True)
        thread.start()
        return thread

    def _warm_up(self) -> None:
        try:
            backend = self.prepared()  # on PostgreSQL this may start the server: never in the caller's thread
        except Exception:  # only a head start: the first real reading says what is wrong, in full
            return
        runner().prepare_project(self.place.path, backend.settings(), python=backend.meta.get("python"))

    def fingerprint(self) -> tuple:
        """Return the code's fingerprint and the database's (its file's size and time, or PostgreSQL's)."""
        return code_fingerprint(self.place.path), self.backend().fingerprint()

    def plan(self, app_label: str, target: str, *, timeout: float | None = None) -> _state.Plan:
        """Return the plan ``migrate app_label target`` would run, each operation described."""
        backend = self.prepared()
        python = backend.meta.get("python")
        timeout = self.limit(timeout)
        key = self._steps_key(backend, "")
        kept = state_cache.file_of(self.place.kit, "steps", key)
        with timeouts.named(f"sandbox.plan({app_label!r}, {target!r}, timeout={{timeout}})"):
            found = _state.plan(
                self.place.path, backend.settings(), app_label, target, python=python, timeout=timeout, kept=kept
            )
        state_cache.keep_steps(self.place.kit, key, [dataclasses.asdict(step) for step in found.steps])
        return found

    def preview(self, app_label: str, target: str, *, sql_on: str | None = None, timeout: float | None = None) -> dict:
        """Return the plan with each step's SQL and the rows its drops lose, read in one process."""
        backend = self.prepared()
        other = backends.other_database(self.place.workspace, sql_on, backend.engine) if sql_on else None
        python = backend.meta.get("python")
        timeout = self.limit(timeout)
        key = self._steps_key(backend, sql_on or "")
        kept = state_cache.file_of(self.place.kit, "steps", key)
        with timeouts.named(f"sandbox.preview({app_label!r}, {target!r}, timeout={{timeout}})"):
            answer = _state.preview(
                self.place.path,
                backend.settings(),
                app_label,
                target,
                python=python,
                other=other,
                timeout=timeout,
                kept=kept,
            )
        if "error" not in answer:
            state_cache.keep_steps(self.place.kit, key, answer["steps"])
        return answer

    def states(self, *, timeout: float | None = None) -> dict:
        """Return the schema after every migration of the whole plan (the time machine's probe), kept per code."""
        backend = self.prepared()  # on PostgreSQL: column types as PostgreSQL names them
        python = backend.meta.get("python")
        key = state_cache.cache_key(self.place.path, backend.settings(), backend.engine, python or "")
        answer = state_cache.load(self.place.kit, "states", key)
        if answer is None:
            limit = self.limit(timeout)
            answer = run_probe(self.place.path, backend.settings(), "states", python=python, timeout=limit)
            state_cache.store(self.place.kit, "states", key, answer)
        return answer

    def limit(self, timeout: float | None) -> float:
        """Return a reading's time limit: the one given, or one that grows with the project's migrations.

        The files in the folder miss the migrations of apps installed as packages (all of pretix's live
        in site-packages): when the folder holds few, the migration graph's nodes are counted if it was
        read already, else the migration files of the interpreter's installed packages. Never a probe
        of its own: on a big project starting Django to size a limit cost as much as the reading.
        """
        if timeout is not None:
            return float(timeout)
        files = timeouts.migration_files(self.place.path)
        nodes = 0
        if files < FEW_FILES:
            if self.graph_cache is not None:
                nodes = len(self.graph_cache[1].nodes)
            else:
                nodes = files + timeouts.installed_migration_files(self.backend().meta.get("python"))
        return timeouts.scaled(self.place.path, migrations=max(files, nodes))

    def _steps_key(self, backend: backends.Backend, sql_vendor: str) -> str:
        """Return the key of the steps kept for this code, settings, engine, interpreter and SQL dialect."""
        python = backend.meta.get("python") or ""
        return state_cache.cache_key(self.place.path, backend.settings(), backend.engine, python, sql_vendor)

    def sql_compare(self, app_label: str, name: str) -> dict:
        """Return one migration's SQL, forwards and backwards, on SQLite and on PostgreSQL."""
        backend = self.prepared()
        other = backends.other_database(self.place.workspace, "postgresql", backend.engine)
        python = backend.meta.get("python")
        return _state.sql_compare(self.place.path, backend.settings(), app_label, name, python=python, other=other)

    def prepared(self) -> backends.Backend:
        """Return the backend after making the sandbox ready for a probe (PostgreSQL's settings written)."""
        backend = self.backend()
        backend.prepare_probe()
        return backend
