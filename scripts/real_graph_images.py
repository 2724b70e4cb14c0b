"""Draw the README's pictures of a real project's migration graph with the kit's own draw functions.

Run: ``.venv/bin/python scripts/real_graph_images.py`` (or ``make real-graph-images``).
It reuses the benchmark's virtual environment and Wagtail starter project
(``bench/real_projects.py``, under ``${XDG_CACHE_HOME:-~/.cache}/migration-kit-bench/``,
made on first use from PyPI), copies the project into a throw-away sandbox with
``Sandbox.copy_of``, migrates it, rolls one app back a few migrations so the
picture shows applied and unapplied migrations, and writes two PNGs drawn by
``draw_migration_graph`` and rendered by Graphviz:

- ``docs/images/real-project-graph.png``: the whole project (Django's own apps left out, as by default);
- ``docs/images/real-project-app.png``: one app (wagtailcore) with a rollback target's plan.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
PROJECT = "wagtail"
APP_LABEL = "wagtailcore"
ROLLED_BACK = ("wagtailimages", 3)  # an app rolled back n migrations: the whole picture shows both states
TARGET_BACK = 5  # the one-app picture shows the plan of a rollback this many migrations back


def _back(graph, app_label: str, steps: int) -> str:
    """Return the name of the migration ``steps`` back along the app's chain from its leaf node."""
    names = [name for app, name in zip(graph.nodes["app_label"], graph.nodes["name"], strict=True) if app == app_label]
    return sorted(names)[-1 - steps]


def draw(cache: Path, out: Path) -> list[Path]:
    """Copy the project, migrate it, and write both pictures; return their paths."""
    from widgets import Sandbox, draw_migration_graph
    from widgets.draw.render import save
    from widgets.run import worker

    written = []
    with tempfile.TemporaryDirectory(prefix="kit-images-") as workspace:
        sandbox = Sandbox.copy_of(cache / "projects" / PROJECT, PROJECT, workspace=workspace)
        back = _back(sandbox.migration_graph(), *ROLLED_BACK)
        for result in (sandbox.migrate(), sandbox.migrate(ROLLED_BACK[0], back)):
            if not result.ok:
                raise SystemExit(result.terminal())
        whole = draw_migration_graph(sandbox)
        written.append(save(whole, out / "real-project-graph.png"))
        target = _back(sandbox.migration_graph(), APP_LABEL, TARGET_BACK)
        one_app = draw_migration_graph(sandbox, app_label=APP_LABEL, target=target)
        written.append(save(one_app, out / "real-project-app.png"))
        worker.shutdown()
    return written


def main() -> int:
    """Make the bench's environment (outside), or draw the pictures inside it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=IMAGES, help="folder for the PNGs (default docs/images)")
    args = parser.parse_args()
    if args.inside:
        for path in draw(args.cache, args.out):
            print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        return 0
    sys.path.insert(0, str(ROOT / "bench"))
    import real_projects

    cache = real_projects.cache_dir()
    python = real_projects.ensure_environment(cache, rebuild=False)
    argv = [str(python), str(Path(__file__).resolve()), "--inside", "--cache", str(cache), "--out", str(args.out)]
    return subprocess.run(argv).returncode


if __name__ == "__main__":
    sys.exit(main())
