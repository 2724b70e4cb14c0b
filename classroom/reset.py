"""Empty every learner's kit workspace between lessons, and keep their progress: `make classroom-reset`.

Each workspace loses its sandboxes, snapshots and caches; the progress record
(``.kit/progress.json``) stays, so ``progress()`` still shows what each learner
has done. Symbolic links are removed, never followed.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

WORKSPACE_NAME = "migration-kit-workspace"
KIT = ".kit"
# What a reset keeps in <workspace>/.kit: the progress record, and a damaged one set aside for a human.
KEPT = ("progress.json", "progress.broken.json")


def _remove(path: Path) -> None:
    """Remove a file, a link or a whole folder, without following links."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def reset_workspace(workspace: Path) -> list[str]:
    """Remove everything of a workspace but its progress record; return the names of the files kept."""
    for entry in workspace.iterdir():
        if entry.name == KIT and entry.is_dir() and not entry.is_symlink():
            for inner in entry.iterdir():
                if inner.name not in KEPT or inner.is_symlink() or not inner.is_file():
                    _remove(inner)
        else:
            _remove(entry)
    return [name for name in KEPT if (workspace / KIT / name).is_file()]


def main(argv: list[str]) -> int:
    """Reset every ``<homes>/*/migration-kit-workspace`` and say, per learner, what was kept."""
    homes = Path(argv[0] if argv else "classroom/homes")
    for workspace in sorted(homes.glob(f"*/{WORKSPACE_NAME}")):
        if workspace.is_dir() and not workspace.is_symlink():
            kept = reset_workspace(workspace)
            print(f"reset {workspace}" + (" (progress kept)" if kept else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
