"""Make, store and test a course of your own: ``python -m widgets.course new|store|test``.

python -m widgets.course new DIR                  a working course: one lesson, one exercise, tests, CI
python -m widgets.course store DIR/NN-name.ipynb  execute a lesson and store its outputs
python -m widgets.course test DIR                 nbval, the course's tests, skeleton, hidden answers
"""

from __future__ import annotations

import argparse
import sys

from widgets.errors import KitError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m widgets.course", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("new", help="write a working course into a new folder")
    new.add_argument("folder")
    new.add_argument("--no-store", action="store_true", help="do not execute the first lesson")
    store = commands.add_parser("store", help="execute lessons and store their outputs")
    store.add_argument("lessons", nargs="+")
    test = commands.add_parser("test", help="test a course as CI does")
    test.add_argument("folder")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one course command; bad input ends in one sentence and exit code 2."""
    from widgets.lessons import course_tools  # nbformat and the kit only once a command runs

    args = _parser().parse_args(argv)
    try:
        if args.command == "new":
            course = course_tools.new_course(args.folder, store_lesson=not args.no_store)
            print(f"Made course '{course.name}' in {course.folder}: run python -m widgets.course test {args.folder}")
            return 0
        if args.command == "store":
            for lesson in args.lessons:
                course_tools.store(lesson)
                print(f"stored {lesson}")
            return 0
        report = course_tools.check_course(args.folder)
    except KitError as error:
        print(error, file=sys.stderr)
        return 2
    for problem in report.problems:
        print(f"✘ {problem}")
    print("✔ the course passes" if report.ok else "✘ the course does not pass yet")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
