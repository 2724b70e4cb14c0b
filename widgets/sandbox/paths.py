"""Where the template project and the workspace of sandboxes live."""

from __future__ import annotations

import os
from pathlib import Path

from widgets.sandbox import browser_storage

__all__ = ["EXAMPLE_PROJECTS", "REPO_ROOT", "TEMPLATE_DIR", "WORKSPACE_ENV", "workspace_root"]

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIR = REPO_ROOT / "sandbox_project"
# Realistic projects the lessons treat as "a project of your own" (copied, never run in place).
EXAMPLE_PROJECTS = REPO_ROOT / "notebooks" / "projects"
# Each user of a shared server points this at their own home.
WORKSPACE_ENV = "MIGRATION_KIT_WORKSPACE"


def workspace_root() -> Path:
    """Return the workspace folder, from the environment or next to the template."""
    browser_storage.prepare()  # in a browser: the IndexedDB-backed folder, loaded before first use
    configured = os.environ.get(WORKSPACE_ENV)
    root = Path(configured).expanduser() if configured else REPO_ROOT / "workspace"
    return root.resolve()
