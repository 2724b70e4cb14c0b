"""Start a learner's Jupyter server: copy the lessons into their home, then run jupyterhub-singleuser.

The hub runs this as the learner (their user, their home as the working folder), so the
copies belong to them. A lesson already in the home is kept: it may hold the learner's
work. Delete ~/notebooks/<lesson> to get the teacher's copy again at the next start.

CLASSROOM_COURSES (course folders, separated by ":") ships courses of the teacher's own
beside the kit's lessons, each into ~/<course folder name>/ with its course.toml and
exercises module, so its check cells find their exercises; CLASSROOM_KIT_LESSONS=no
ships the courses instead of the kit's lessons.
"""

from __future__ import annotations

import os
import shutil
import sys
import tomllib
from pathlib import Path

LESSONS = Path(__file__).resolve().parent.parent / "notebooks"
COURSES_ENV = "CLASSROOM_COURSES"
KIT_LESSONS_ENV = "CLASSROOM_KIT_LESSONS"


def copy_lessons(source: Path, home: Path, *, into: str = "notebooks", names: set[str] | None = None) -> list[str]:
    """Copy every lesson file (or only ``names``) missing from home/into and return the names copied."""
    target = home / into
    target.mkdir(exist_ok=True)
    copied = []
    for lesson in sorted(source.iterdir()):
        if not lesson.is_file() or lesson.name.startswith(".") or (names is not None and lesson.name not in names):
            continue
        try:
            # "x" never overwrites: another start may be copying too, or the learner made the file.
            with lesson.open("rb") as src, (target / lesson.name).open("xb") as dst:
                shutil.copyfileobj(src, dst)
        except FileExistsError:
            continue
        copied.append(lesson.name)
    return copied


def copy_course(course: Path, home: Path) -> list[str]:
    """Copy a course's lessons, course.toml and exercises module into home/<course folder name>."""
    settings = tomllib.loads((course / "course.toml").read_text(encoding="utf-8"))
    names = {"course.toml", settings.get("exercises", "exercises.py")}
    names |= {path.name for path in course.glob("[0-9][0-9]-*.ipynb")}
    return copy_lessons(course, home, into=course.name, names=names)


def main() -> None:
    """Copy the lessons and courses, then replace this process with the single-user server."""
    if os.environ.get(KIT_LESSONS_ENV, "yes").strip().lower() != "no":
        copy_lessons(LESSONS, Path.home())
    for folder in filter(None, os.environ.get(COURSES_ENV, "").split(os.pathsep)):
        copy_course(Path(folder).expanduser().resolve(), Path.home())
    server = str(Path(sys.executable).with_name("jupyterhub-singleuser"))
    os.execv(server, [server, *sys.argv[1:]])


if __name__ == "__main__":
    main()
