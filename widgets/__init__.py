"""See what Django's makemigrations and migrate do to a database, in a disposable sandbox."""

from .commands import CommandResult
from .diagnose import Diagnosis
from .diff import StateDiff, diff
from .errors import (
    DatabaseFileError,
    EditError,
    KitError,
    SandboxBusyError,
    SandboxNameError,
    SandboxPathError,
    StateError,
    WorkspaceError,
)
from .graphs import draw_migration_graph, draw_schema
from .panels import MigrationLab
from .progress_record import ProgressFrame, progress
from .prompts import Prompt
from .render import KitDigraph, renderer, save
from .rollback import RollbackPreview, rollback_preview
from .sandbox import PageResult, Sandbox
from .state import MigrationGraph, Plan, PlanStep, State
from .tables import (
    migrations_frame,
    migrations_table,
    row_counts_frame,
    row_counts_table,
    schema_frame,
    schema_table,
)

__all__ = [
    "CommandResult",
    "DatabaseFileError",
    "Diagnosis",
    "EditError",
    "KitDigraph",
    "KitError",
    "MigrationGraph",
    "MigrationLab",
    "PageResult",
    "Plan",
    "PlanStep",
    "ProgressFrame",
    "Prompt",
    "RollbackPreview",
    "Sandbox",
    "SandboxBusyError",
    "SandboxNameError",
    "SandboxPathError",
    "State",
    "StateDiff",
    "StateError",
    "WorkspaceError",
    "diff",
    "draw_migration_graph",
    "draw_schema",
    "migrations_frame",
    "migrations_table",
    "progress",
    "renderer",
    "rollback_preview",
    "row_counts_frame",
    "row_counts_table",
    "save",
    "schema_frame",
    "schema_table",
]

# Start Django's pre-warmed worker with the kernel, so its imports overlap the learner's first cells
# instead of delaying the first command (MIGRATION_KIT_WORKER=0 switches it off).
from . import worker as _worker  # noqa: E402

_worker.prewarm()
