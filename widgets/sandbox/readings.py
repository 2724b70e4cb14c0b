"""What a sandbox reads through the runner: the migration graph (cached per fingerprint), plans and SQL previews.

Every reading is read-only. Probes run Django in the runner (a process, or
this interpreter); the sandbox only says where the project is, which settings
and interpreter to use and, on PostgreSQL, writes the settings override first.
"""

from __future__ import annotations

from widgets.read import state as _state
from widgets.run import timeouts
from widgets.sandbox import backends
from widgets.sandbox.fingerprint import code_fingerprint
from widgets.sandbox.workspace import Place

__all__ = ["Readings"]


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

    def fingerprint(self) -> tuple:
        """Return the code's fingerprint and the database's (its file's size and time, or PostgreSQL's)."""
        return code_fingerprint(self.place.path), self.backend().fingerprint()

    def plan(self, app_label: str, target: str, *, timeout: float | None = None) -> _state.Plan:
        """Return the plan ``migrate app_label target`` would run, each operation described."""
        backend = self.prepared()
        python = backend.meta.get("python")
        with timeouts.named(f"sandbox.plan({app_label!r}, {target!r}, timeout={{timeout}})"):
            return _state.plan(self.place.path, backend.settings(), app_label, target, python=python, timeout=timeout)

    def preview(self, app_label: str, target: str, *, sql_on: str | None = None, timeout: float | None = None) -> dict:
        """Return the plan with each step's SQL and the rows its drops lose, read in one process."""
        backend = self.prepared()
        other = backends.other_database(self.place.workspace, sql_on, backend.engine) if sql_on else None
        python = backend.meta.get("python")
        with timeouts.named(f"sandbox.preview({app_label!r}, {target!r}, timeout={{timeout}})"):
            return _state.preview(
                self.place.path, backend.settings(), app_label, target, python=python, other=other, timeout=timeout
            )

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
