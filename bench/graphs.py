"""Time the migration graph view on big synthetic projects: from reading the project to SVG.

Run: ``.venv/bin/python bench/graphs.py`` (add ``--png DIR`` to keep pictures).
It makes sandboxes in the kit's workspace with 1,000 migrations in 40 apps
and 5,000 in 100 apps (cross-app dependencies, merges, a squashed migration,
part of each app applied), then times Django's loader probe
(``sandbox.migration_graph()``), building the DOT, and the layout to SVG.
Targets on a 2-core machine: under 1 s and under 3 s in total.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from widgets import Sandbox  # noqa: E402
from widgets.draw.graphs import draw_migration_graph  # noqa: E402
from widgets.draw.render import renderer, save, to_svg  # noqa: E402
from widgets.run.commands import child_env  # noqa: E402

SIZES = [(40, 25, 1.0), (100, 50, 3.0)]  # apps, migrations per app, target seconds
MIGRATION = """from django.db import migrations


class Migration(migrations.Migration):
{extra}    dependencies = {dependencies!r}
    operations = []
"""


def _app_migrations(index: int, count: int) -> dict[str, tuple[list, list]]:
    """Return name -> (dependencies, replaces) for one app: a chain with extras that make it realistic."""
    label = f"app{index:03d}"
    names = [f"{n:04d}_step" for n in range(1, count + 1)]
    migrations = {name: ([(label, names[i - 1])] if i else [], []) for i, name in enumerate(names)}
    for i in range(9, count, 10):
        if index:  # every tenth migration depends on the previous app: cross-app edges
            migrations[names[i]][0].append((f"app{index - 1:03d}", names[min(i, count - 1) - 5]))
    if index % 8 == 3 and count > 20:  # a branch and its merge, as two developers would leave
        branch = "0015_branch"
        migrations[branch] = ([(label, names[13])], [])
        migrations[names[15]][0].append((label, branch))
    if index == 0:  # a squash of the first ten migrations
        migrations["0001_squashed_0010_step"] = ([], [(label, n) for n in names[:10]])
    return migrations


def _write_app(sandbox: Sandbox, index: int, count: int) -> list[tuple[str, str]]:
    """Write one app's package and migrations; return the migrations to record as applied."""
    label = f"app{index:03d}"
    sandbox.write(f"{label}/__init__.py", "")
    sandbox.write(f"{label}/migrations/__init__.py", "")
    migrations = _app_migrations(index, count)
    for name, (dependencies, replaces) in migrations.items():
        extra = f"    replaces = {replaces!r}\n" if replaces else ""
        sandbox.write(f"{label}/migrations/{name}.py", MIGRATION.format(extra=extra, dependencies=dependencies))
    chain = sorted(n for n, (_, replaces) in migrations.items() if not replaces and n.endswith("_step"))
    applied = chain[: int(len(chain) * (0.4 + 0.5 * (index % 3) / 2))]  # 40% to 90% applied
    branch = [(label, "0015_branch")] if "0015_branch" in migrations and "0016_step" in applied else []
    return [(label, n) for n in applied] + branch


def build(apps: int, per_app: int) -> Sandbox:
    """Make (or remake) a sandbox holding the synthetic project, part of it recorded as applied."""
    sandbox = Sandbox.fresh(f"bench-{apps}x{per_app}")
    applied = []
    for index in range(apps):
        applied += _write_app(sandbox, index, per_app)
        sandbox.add_installed_app(f"app{index:03d}")
    code = (
        "from django.db.migrations.recorder import MigrationRecorder\n"
        f"rows = {applied!r}\n"
        "MigrationRecorder.Migration.objects.bulk_create("
        "[MigrationRecorder.Migration(app=a, name=n) for a, n in rows])\n"
    )
    result = sandbox.shell(code)
    if not result.ok:
        raise SystemExit(result.terminal())
    return sandbox


COLD = """
import sys, time
from widgets import Sandbox
from widgets.run import worker
from widgets.run.commands import child_env
worker.worker(child_env())  # a kernel that has been open a moment: its zygote is ready
sandbox = Sandbox.open(sys.argv[1])
started = time.perf_counter()
sandbox.migration_graph()
print(time.perf_counter() - started)
"""


def cold(sandbox: Sandbox) -> float:
    """Return the first migration_graph() of a fresh kernel: the warm Django's set-up, then the probe."""
    done = subprocess.run(
        [sys.executable, "-c", COLD, sandbox.name], capture_output=True, text=True, timeout=600, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])


def bare_showmigrations(sandbox: Sandbox) -> float:
    """Return the wall time of a bare ``python manage.py showmigrations`` on the same project."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "showmigrations"],
        cwd=sandbox.path,
        env=child_env(),
        capture_output=True,
        timeout=600,
        check=True,
    )
    return time.perf_counter() - started


def measure(sandbox: Sandbox, **options) -> dict[str, float]:
    """Time one view: probe, DOT, layout; return seconds per stage and the number of nodes drawn."""
    # A new object holds no cached graph: read it again, from the warm Django.
    sandbox = Sandbox(sandbox.name, sandbox.workspace)
    start = time.perf_counter()
    graph = sandbox.migration_graph()
    probed = time.perf_counter()
    dot = draw_migration_graph(graph, include_contrib=False, **options)
    drawn = time.perf_counter()
    svg = to_svg(dot)
    laid_out = time.perf_counter()
    return {
        "migrations": len(graph.nodes),
        "drawn": dot.source.count('class="migration') + dot.source.count('class="collapsed'),
        "probe": probed - start,
        "dot": drawn - probed,
        "svg": laid_out - drawn,
        "total": laid_out - start,
        "svg_kb": len(svg) / 1024,
        "graph": dot,
    }


def main() -> None:
    """Build both projects, time the view on each, and print a table for the README."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--png", type=Path, help="folder to save a PNG of each graph in")
    parser.add_argument("--keep", action="store_true", help="keep the sandboxes afterwards")
    parser.add_argument("--only-1000", action="store_true", help="measure the 1,000-migration project only")
    args = parser.parse_args()
    print(f"renderer: {renderer()}")
    print(
        "migrations  apps  drawn nodes  probe s  dot s  svg s  total s  target      cold read s  bare showmigrations s"
    )
    for apps, per_app, target in SIZES[:1] if args.only_1000 else SIZES:
        sandbox = build(apps, per_app)
        measure(sandbox)  # warm the file cache and imports, as a second look in a notebook would be
        row = measure(sandbox)
        verdict = "ok" if row["total"] < target else "MISSED"
        first, bare = cold(sandbox), bare_showmigrations(sandbox)
        print(
            f"{row['migrations']:>10}  {apps:>4}  {row['drawn']:>11}  {row['probe']:>7.2f}  {row['dot']:>5.2f}"
            f"  {row['svg']:>5.2f}  {row['total']:>7.2f}  < {target:g} s {verdict:<6}  {first:>11.2f}  {bare:>21.2f}"
        )
        if args.png:
            args.png.mkdir(parents=True, exist_ok=True)
            save(row["graph"], args.png / f"migrations-{row['migrations']}.png")
        if not args.keep:
            sandbox.delete()


if __name__ == "__main__":
    main()
