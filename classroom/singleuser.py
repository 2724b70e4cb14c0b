"""Start a learner's Jupyter server: copy the lessons into their home, then run jupyterhub-singleuser.

The hub runs this as the learner (their user, their home as the working folder), so the
copies belong to them. A lesson already in the home is kept: it may hold the learner's
work. Delete ~/notebooks/<lesson> to get the teacher's copy again at the next start.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

LESSONS = Path(__file__).resolve().parent.parent / "notebooks"


def copy_lessons(source: Path, home: Path) -> list[str]:
    """Copy every lesson file missing from home/notebooks and return the names copied."""
    target = home / "notebooks"
    target.mkdir(exist_ok=True)
    copied = []
    for lesson in sorted(source.iterdir()):
        if not lesson.is_file() or lesson.name.startswith("."):
            continue
        try:
            # "x" never overwrites: another start may be copying too, or the learner made the file.
            with lesson.open("rb") as src, (target / lesson.name).open("xb") as dst:
                shutil.copyfileobj(src, dst)
        except FileExistsError:
            continue
        copied.append(lesson.name)
    return copied


def main() -> None:
    """Copy the lessons, then replace this process with the single-user server."""
    copy_lessons(LESSONS, Path.home())
    server = str(Path(sys.executable).with_name("jupyterhub-singleuser"))
    os.execv(server, [server, *sys.argv[1:]])


if __name__ == "__main__":
    main()
