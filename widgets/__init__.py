"""See what Django's makemigrations and migrate do to a database, in a disposable sandbox."""

from .commands import CommandResult
from .diagnose import Diagnosis
from .diff import StateDiff, diff
from .errors import EditError, KitError, SandboxNameError, SandboxPathError, StateError
from .panels import MigrationLab
from .prompts import Prompt
from .sandbox import PageResult, Sandbox
from .state import MigrationGraph, Plan, PlanStep, State

__all__ = [
    "CommandResult",
    "Diagnosis",
    "EditError",
    "KitError",
    "MigrationGraph",
    "MigrationLab",
    "PageResult",
    "Plan",
    "PlanStep",
    "Prompt",
    "Sandbox",
    "SandboxNameError",
    "SandboxPathError",
    "State",
    "StateDiff",
    "StateError",
    "diff",
]
