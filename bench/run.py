"""Measure the kit against the bare terminal and write the table to bench/results.md.

Run: ``make bench`` (or ``.venv/bin/python bench/run.py``; ``--quick`` for a
smoke run with fewer repeats, no 5,000-migration graph and no notebooks).
Every number is a median over repeated runs on this machine. Sandboxes live in
a temporary workspace that is deleted afterwards; nothing in the repository
changes except bench/results.md.

Sections: (a) each panel action through the kit versus the same
``python manage.py ...`` run bare; (b) ``Sandbox.fresh()`` versus copying the
project and migrating by hand; (c) refreshing every view after an action;
(d) the 1,000- and 5,000-migration graph views (``bench/graphs.py``);
(e) each notebook's run time and the kernel's peak memory; (f) the same
actions, ``fresh`` and refresh on a PostgreSQL sandbox (the embedded server)
next to SQLite, plus the PostgreSQL-only views (side-by-side SQL, risks).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

from widgets import Sandbox, scenarios  # noqa: E402
from widgets.run import worker  # noqa: E402
from widgets.run.commands import child_env  # noqa: E402
from widgets.run.runner import RUNNER_ENV  # noqa: E402
from widgets.sandbox.paths import TEMPLATE_DIR, WORKSPACE_ENV  # noqa: E402

RESULTS = ROOT / "bench" / "results.md"
NOTEBOOKS = ROOT / "notebooks"
STARTER = '    starter = models.ForeignKey(User, on_delete=models.CASCADE, related_name="topics")\n'
VIEWS = "    views = models.PositiveIntegerField(default=0)\n"
_MARKER = "@@bench@@"


@dataclass
class Row:
    """One line of the results table; times in seconds."""

    section: str
    what: str
    kit: float | None
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """Return kit time over baseline time."""
        return self.kit / self.baseline if self.kit is not None and self.baseline else None


def median_time(action: Callable[[], object], setup: Callable[[], object] | None, repeats: int) -> float:
    """Return the median seconds of ``action`` over repeats, ``setup`` run untimed before each."""
    times = []
    for _ in range(repeats):
        if setup is not None:
            setup()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def paired(kit: Callable, bare: Callable, setup: Callable | None, repeats: int) -> tuple[float, float]:
    """Time two ways of doing the same thing, alternating them so drift hits both alike."""
    kit_times, bare_times = [], []
    for index in range(repeats):
        order = [(kit, kit_times), (bare, bare_times)]
        for action, times in order if index % 2 == 0 else reversed(order):
            times.append(median_time(action, setup, 1))
    return statistics.median(kit_times), statistics.median(bare_times)


def bare(sandbox: Sandbox, *args: str) -> None:
    """Run ``python manage.py *args`` as a terminal would: a fresh interpreter, output captured."""
    process = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=sandbox.path,
        env=child_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
    )
    if process.returncode != 0:
        raise RuntimeError(f"bare {' '.join(args)} failed: {process.stderr.decode()[-300:]}")


def checked(result) -> None:
    """Stop the benchmark if a kit command failed: a fast failure proves nothing."""
    if not result.ok:
        raise RuntimeError(result.terminal())


def without_worker(action: Callable[[], object]) -> Callable[[], object]:
    """Wrap an action so it runs with the fast path switched off."""

    def run() -> object:
        os.environ[worker.DISABLE_ENV] = "0"
        try:
            return action()
        finally:
            del os.environ[worker.DISABLE_ENV]

    return run


# ----- (a) panel actions -------------------------------------------------------------


def tutorial_starts(name: str) -> Sandbox:
    """Return a sandbox with the tutorial's starting points as snapshots (migrated, at-0001, edited), migrated."""
    sandbox = Sandbox.fresh(name)
    sandbox.snapshot("migrated")
    checked(sandbox.migrate("boards", "0001"))
    sandbox.snapshot("at-0001")
    sandbox.restore("migrated")
    sandbox.edit("boards/models.py", STARTER, STARTER + VIEWS)
    sandbox.snapshot("edited")
    sandbox.restore("migrated")
    return sandbox


def bench_actions(repeats: int) -> list[Row]:
    """Time each panel action through the kit and bare, from the same starting point."""
    sandbox = tutorial_starts("bench-actions")
    actions = [
        ("makemigrations", "edited", lambda: checked(sandbox.makemigrations("boards")), ["makemigrations", "boards"]),
        ("migrate (forwards)", "at-0001", lambda: checked(sandbox.migrate()), ["migrate"]),
        ("migrate boards 0001 (backwards)", "migrated", lambda: checked(sandbox.migrate("boards", "0001")), None),
        ("showmigrations", "migrated", lambda: checked(sandbox.showmigrations()), ["showmigrations"]),
        ("sqlmigrate boards 0002", "migrated", lambda: checked(sandbox.sqlmigrate("boards", "0002")), None),
    ]
    rows = []
    for name, start, kit, args in actions:
        args = args or name.split(" (")[0].split()
        setup = (lambda label=start: sandbox.restore(label)) if start else None
        setup()
        kit()  # warm-up: starts the zygote once, fills the file cache
        kit_time, bare_time = paired(kit, lambda a=args: bare(sandbox, *a), setup, repeats)
        plain = median_time(without_worker(kit), setup, max(1, repeats // 2))
        rows.append(
            Row(
                "a",
                name,
                kit_time,
                bare_time,
                "bare `python manage.py`",
                "<= 0.3x bare",
                kit_time <= 0.3 * bare_time,
                f"kit without the worker: {plain * 1000:.0f} ms",
            )
        )
    sandbox.delete()
    return rows + [zygote_start()]


def bench_inprocess(repeats: int) -> list[Row]:
    """Time each tutorial command with Django inside this interpreter (the browser's runner), warm and cold."""
    sandbox = tutorial_starts("bench-inprocess")
    commands = [
        ("makemigrations", "edited", lambda: checked(sandbox.makemigrations("boards"))),
        ("migrate (forwards)", "at-0001", lambda: checked(sandbox.migrate())),
        ("migrate boards 0001 (backwards)", "migrated", lambda: checked(sandbox.migrate("boards", "0001"))),
        ("showmigrations", "migrated", lambda: checked(sandbox.showmigrations())),
        ("sqlmigrate boards 0002", "migrated", lambda: checked(sandbox.sqlmigrate("boards", "0002"))),
    ]
    rows = []
    for name, start, command in commands:
        setup = lambda label=start: sandbox.restore(label)  # noqa: E731
        setup()
        command()  # warm-up: the process runner starts its zygote, the in-process one sets Django up
        process = median_time(command, setup, repeats)
        with _runner("inprocess"):
            setup()
            command()
            inprocess = median_time(command, setup, repeats)
        cold = _cold_inprocess(sandbox, start, name)
        rows.append(
            Row(
                "g",
                name,
                inprocess,
                process,
                "the process runner",
                "<= 50 ms",
                inprocess <= 0.05,
                f"in-process, first call in a fresh interpreter (imports Django): {_seconds(cold)}",
            )
        )
    sandbox.delete()
    return rows


@contextlib.contextmanager
def _runner(name: str):
    """Use this runner for the block."""
    saved = os.environ.get(RUNNER_ENV)
    os.environ[RUNNER_ENV] = name
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(RUNNER_ENV, None)
        else:
            os.environ[RUNNER_ENV] = saved


COLD_COMMANDS = {
    "makemigrations": "sandbox.makemigrations('boards')",
    "migrate (forwards)": "sandbox.migrate()",
    "migrate boards 0001 (backwards)": "sandbox.migrate('boards', '0001')",
    "showmigrations": "sandbox.showmigrations()",
    "sqlmigrate boards 0002": "sandbox.sqlmigrate('boards', '0002')",
}


def _cold_inprocess(sandbox: Sandbox, start: str, name: str) -> float:
    """Time a command's first in-process call in a fresh interpreter, from the same starting point."""
    sandbox.restore(start)
    code = (
        "import sys, time\n"
        "from widgets import Sandbox\n"
        "sandbox = Sandbox.open(sys.argv[1], workspace=sys.argv[2])\n"
        "began = time.perf_counter()\n"
        f"result = {COLD_COMMANDS[name]}\n"
        f"print('{_MARKER}', time.perf_counter() - began, result.ok)\n"
    )
    env = child_env() | {RUNNER_ENV: "inprocess"}
    done = subprocess.run(
        [sys.executable, "-c", code, sandbox.name, str(sandbox.workspace)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    line = next((line for line in done.stdout.splitlines() if line.startswith(_MARKER)), None)
    if line is None or not line.endswith("True"):
        raise RuntimeError(f"cold in-process {name} failed: {done.stderr[-300:]}")
    return float(line.split()[1])


def zygote_start() -> Row:
    """Time starting the zygote, paid once per kernel before its first command."""
    worker.shutdown()
    started = time.perf_counter()
    worker.worker(child_env())
    took = time.perf_counter() - started
    return Row("a", "zygote start (once per kernel)", took, note="imports Django; runs beside the kernel")


# ----- (b) fresh sandboxes -----------------------------------------------------------


def bench_fresh(repeats: int, workspace: Path) -> list[Row]:
    """Time Sandbox.fresh against copying the template and migrating by hand."""
    first_workspace = workspace / "first-fresh"
    started = time.perf_counter()
    Sandbox.fresh("bench-first", workspace=first_workspace)
    first = time.perf_counter() - started
    Sandbox.fresh("bench-fresh")  # builds this workspace's template database cache

    def by_hand() -> None:
        target = workspace / "by-hand"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(TEMPLATE_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3"))
        process = subprocess.run(
            [sys.executable, "manage.py", "migrate"], cwd=target, env=child_env(), capture_output=True, timeout=120
        )
        if process.returncode != 0:
            raise RuntimeError(process.stderr.decode()[-300:])

    warm, hand = paired(lambda: Sandbox.fresh("bench-fresh"), by_hand, None, repeats)
    empty = median_time(lambda: Sandbox.fresh("bench-fresh", migrated=False), None, repeats)
    baseline = "copy + bare `migrate`"
    return [
        Row("b", "Sandbox.fresh() (migrated, cached)", warm, hand, baseline, "< 50 ms", warm < 0.05),
        Row("b", "Sandbox.fresh(migrated=False)", empty, hand, baseline, "< 50 ms", empty < 0.05),
        Row("b", "Sandbox.fresh() first time (builds the cache)", first, hand, baseline, note="once per template"),
    ]


# ----- (c) refreshing the views ------------------------------------------------------


def bench_refresh(repeats: int) -> list[Row]:
    """Time reading every view's data and drawing it after an action."""
    sandbox = Sandbox.fresh("bench-refresh")
    before = sandbox.state()
    scenarios.add_views_field(sandbox)
    rows = []
    parts = {
        "state (django_migrations, schema, rows)": sandbox.state,
        "migration_graph() (probe)": sandbox.migration_graph,
        "plan('boards', '0001') (probe)": lambda: sandbox.plan("boards", "0001"),
    }
    drawings, missing = _drawings(sandbox, before)
    parts.update(drawings)
    for name, action in parts.items():
        action()
        rows.append(Row("c", name, median_time(action, None, repeats)))

    def everything() -> None:
        for action in parts.values():
            action()

    everything()
    total = median_time(everything, None, repeats)
    note = "; ".join(missing) or "state + graph + plan + both diagrams as SVG"
    rows.append(Row("c", "all views by hand", total, target="< 300 ms", met=total < 0.3, note=note))
    rows.extend(_panel_refresh(sandbox, before, repeats))
    sandbox.delete()
    return rows


def _drawings(sandbox: Sandbox, before) -> tuple[dict[str, Callable], list[str]]:
    """Return the diagram steps that exist in this tree, and notes for those that do not."""
    steps, missing = {}, []
    try:
        from widgets.draw.graphs import draw_migration_graph, draw_schema
        from widgets.draw.render import to_svg
    except ImportError as error:
        return steps, [f"diagrams not measured ({error})"]
    steps["draw_migration_graph + SVG"] = lambda: to_svg(draw_migration_graph(sandbox.migration_graph()))
    django = sandbox.migration_graph().contrib_tables()
    steps["draw_schema (diff) + SVG"] = lambda: to_svg(
        draw_schema(sandbox.state(), previous=before, contrib_tables=django)
    )
    return steps, missing


def _panel_refresh(sandbox: Sandbox, before, repeats: int) -> list[Row]:
    """Time the panel's own refresh, when the panel exists."""
    try:
        from widgets.lab.panels import MigrationLab
    except ImportError as error:
        return [Row("c", "MigrationLab.refresh()", None, note=f"not measured ({error})")]
    lab = MigrationLab(sandbox)
    took = median_time(lambda: lab.refresh(before), None, repeats)
    rows = [Row("c", "MigrationLab.refresh() (the panel)", took, target="< 300 ms", met=took < 0.3)]
    if not hasattr(lab, "click_node"):
        return rows

    def preview() -> None:
        lab.click_node("boards.0001_initial")  # backwards, told by the graph: one preview probe, graph redrawn
        lab.cancel()

    clicked = median_time(preview, None, repeats)
    rows.append(
        Row(
            "c",
            "click a migration: rollback preview shown",
            clicked,
            note="one preview probe (its plan is reused on confirm), graph",
        )
    )
    lab.views.selected_index = lab.views.titles.index("time machine")
    machine = lab.time_machine
    steps = [value for _label, value in machine.slider.options]

    def slide() -> None:
        for value in steps:
            machine.slider.value = value

    moved = median_time(slide, None, repeats) / max(len(steps), 1)
    note = "Django's state read once per code change; no database access"
    rows.append(Row("c", "time machine: one step of the slider", moved, target="< 100 ms", met=moved < 0.1, note=note))
    return rows


# ----- (d) big graphs ------------------------------------------------------------------


def bench_graphs(repeats: int, quick: bool) -> list[Row]:
    """Time the migration graph view on the synthetic 1,000- and 5,000-migration projects."""
    try:
        import graphs
    except ImportError as error:
        return [Row("d", "big migration graphs", None, note=f"not measured: bench/graphs.py missing ({error})")]
    rows = []
    for apps, per_app, target in graphs.SIZES[:1] if quick else graphs.SIZES:
        sandbox = graphs.build(apps, per_app)
        graphs.measure(sandbox)
        runs = [graphs.measure(sandbox) for _ in range(max(1, min(repeats, 3)))]
        best = sorted(runs, key=lambda run: run["total"])[len(runs) // 2]
        stages = f"probe {best['probe']:.2f} s, DOT {best['dot']:.2f} s, SVG {best['svg']:.2f} s"
        rows.append(
            Row(
                "d",
                f"{best['migrations']:,} migrations in {apps} apps ({best['drawn']} nodes drawn)",
                best["total"],
                target=f"< {target:g} s",
                met=best["total"] < target,
                note=stages,
            )
        )
        sandbox.delete()
    return rows


# ----- (e) notebooks ---------------------------------------------------------------------

MEMORY_CELL = f"""
import json, resource, sys
zygote = sys.modules.get("widgets.run.worker")
pid = zygote.zygote_pid() if zygote else None
peak = None
if pid:
    for line in open(f"/proc/{{pid}}/status"):
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1])
print("{_MARKER}" + json.dumps({{"kernel_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "zygote_kib": peak}}))
"""


def bench_notebooks(workspace: Path) -> list[Row]:
    """Run each notebook top to bottom in a fresh kernel; report time and the kernel's peak memory."""
    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError as error:
        return [Row("e", "notebooks", None, note=f"not measured ({error})")]
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    if not paths:
        return [Row("e", "notebooks", None, note="not measured: no notebooks/*.ipynb yet")]
    copy = workspace / "notebooks"
    shutil.copytree(NOTEBOOKS, copy, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    os.environ[WORKSPACE_ENV] = str(workspace / "notebook-workspace")
    rows, total = [], 0.0
    for path in paths:
        notebook = nbformat.read(copy / path.name, as_version=4)
        notebook.cells.append(nbformat.v4.new_code_cell(MEMORY_CELL))
        client = NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": copy}})
        started = time.perf_counter()
        try:
            client.execute()
        except Exception as error:  # A failing notebook is a result to report, not a crash of the benchmark.
            rows.append(Row("e", path.name, None, note=f"failed: {type(error).__name__}: {str(error)[-200:]}"))
            continue
        took = time.perf_counter() - started
        total += took
        memory = _memory(notebook)
        note = f"kernel peak {memory['kernel_kib'] / 1024:.0f} MiB"
        note += f", zygote peak {memory['zygote_kib'] / 1024:.0f} MiB" if memory.get("zygote_kib") else ""
        rows.append(Row("e", path.name, took, note=note))
    rows.append(Row("e", "all notebooks, one after another", total, target="< 180 s", met=total < 180))
    return rows


def _memory(notebook) -> dict:
    """Return the memory figures the appended cell printed."""
    for output in notebook.cells[-1].get("outputs", []):
        for line in output.get("text", "").splitlines():
            if line.startswith(_MARKER):
                return json.loads(line[len(_MARKER) :])
    return {"kernel_kib": 0}


# ----- (f) PostgreSQL next to SQLite ----------------------------------------------------------


def bench_postgres(repeats: int) -> list[Row]:
    """Time fresh, each panel action and the refresh on PostgreSQL, with the SQLite time as the baseline."""
    from widgets.sandbox import postgres

    reason = postgres.available()
    if reason is not None:
        return [Row("f", "PostgreSQL sandboxes", None, note=f"not measured: {reason}")]
    started = time.perf_counter()
    Sandbox.fresh("bench-pg", database="postgresql")
    first = time.perf_counter() - started
    timings = {engine: _engine_timings(engine, repeats) for engine in ("postgresql", "sqlite")}
    rows = [Row("f", "server start + first Sandbox.fresh (once per workspace)", first)]
    for what, pg_time in timings["postgresql"].items():
        lite = timings["sqlite"].get(what)
        target, met = ("< 1 s", pg_time < 1) if what.startswith("Sandbox.fresh") else ("", None)
        rows.append(Row("f", what, pg_time, lite, "SQLite" if lite is not None else "", target, met))
    return rows


def _engine_timings(engine: str, repeats: int) -> dict[str, float]:
    """Return the median time of each measured step on one database engine."""
    sandbox = Sandbox.fresh(f"bench-{engine}", database=engine)
    checked(sandbox.migrate("boards", "0001"))
    sandbox.snapshot("at-0001")
    checked(sandbox.migrate())
    sandbox.snapshot("migrated")
    sandbox.edit("boards/models.py", STARTER, STARTER + VIEWS)
    sandbox.snapshot("edited")
    sandbox.restore("migrated")
    steps = [
        ("Sandbox.fresh() (server running)", None, lambda: Sandbox.fresh(f"bench-{engine}-fresh", database=engine)),
        ("makemigrations", "edited", lambda: checked(sandbox.makemigrations("boards"))),
        ("migrate (forwards)", "at-0001", lambda: checked(sandbox.migrate())),
        ("migrate boards 0001 (backwards)", "migrated", lambda: checked(sandbox.migrate("boards", "0001"))),
        ("showmigrations", "migrated", lambda: checked(sandbox.showmigrations())),
        ("sqlmigrate boards 0002", "migrated", lambda: checked(sandbox.sqlmigrate("boards", "0002"))),
        ("snapshot", "migrated", lambda: sandbox.snapshot("bench")),
        ("restore", "migrated", lambda: sandbox.restore("bench")),
    ]
    timings = {}
    for what, start, action in steps:
        setup = (lambda label=start: sandbox.restore(label)) if start else None
        if setup:
            setup()
        action()  # warm-up
        timings[what] = median_time(action, setup, repeats)
    sandbox.restore("migrated")
    scenarios.add_views_field(sandbox)
    from widgets.lab.panels import MigrationLab
    from widgets.read.rollback import rollback_preview
    from widgets.run.compare import compare_sql

    reads = {
        "state (django_migrations, schema, rows)": sandbox.state,
        "migration_graph() (probe)": sandbox.migration_graph,
        "plan('boards', '0001') (probe)": lambda: sandbox.plan("boards", "0001"),
        "rollback_preview('boards', '0002')": lambda: rollback_preview(sandbox, "boards", "0002"),
        "compare_sql('boards', '0003'): SQL side by side": lambda: compare_sql(sandbox, "boards", "0003"),
    }
    lab = MigrationLab(sandbox)
    reads["MigrationLab.refresh() (the panel)"] = lab.refresh
    for what, action in reads.items():
        action()
        timings[what] = median_time(action, None, repeats)
    if engine == "postgresql":
        from widgets.run.risks import risk_report

        checked(sandbox.migrate("boards", "0002"))
        risks = lambda: risk_report(sandbox, "boards", "0003")  # noqa: E731
        risks()
        timings["risk_report('boards', '0003'): probe + squawk"] = median_time(risks, None, repeats)
    return timings


# ----- the table ---------------------------------------------------------------------------

SECTIONS = {
    "a": "(a) panel actions: kit vs bare `python manage.py ...`",
    "b": "(b) a fresh sandbox",
    "c": "(c) refreshing the views after an action (after adding Topic.views)",
    "d": "(d) big migration graphs (probe + DOT + SVG)",
    "e": "(e) notebooks, each in a fresh kernel",
    "f": "(f) PostgreSQL (embedded server) next to SQLite",
    "g": "(g) the tutorial's commands with Django inside the kernel (the in-process runner, as in the browser)",
}


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def table(rows: list[Row]) -> str:
    """Return the results as Markdown, one table per section."""
    out = []
    for section, title in SECTIONS.items():
        chosen = [row for row in rows if row.section == section]
        if not chosen:
            continue
        out += [
            f"### {title}",
            "",
            "| what | kit | baseline | ratio | target | met | note |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in chosen:
            baseline = f"{_seconds(row.baseline)} ({row.baseline_name})" if row.baseline is not None else "-"
            ratio = f"{row.ratio:.2f}x" if row.ratio is not None else "-"
            met = {True: "yes", False: "**no**", None: ""}[row.met]
            out.append(
                f"| {row.what} | {_seconds(row.kit)} | {baseline} | {ratio} | {row.target} | {met} | {row.note} |"
            )
        out.append("")
    return "\n".join(out)


def header(repeats: int, load: tuple[float, float]) -> str:
    """Describe the machine and the run, so the numbers can be read in context."""
    return (
        "# Benchmark results\n\n"
        f"Written by `bench/run.py` (`make bench`). Medians of {repeats} runs; "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, Django {django.get_version()}, "
        f"{platform.system()} {platform.machine()}; load average {load[0]:.1f} before and {load[1]:.1f} after "
        'the run (other work on the machine slows both columns). Times are wall-clock; "kit" is the kit\'s '
        'Python API (what a panel button calls), "bare" is the same command run as a fresh '
        "`python manage.py ...` process with the same environment.\n\n"
    )


def run_section(rows: list[Row], section: str, measure: Callable[[], list[Row]]) -> None:
    """Run one section and keep going if it fails, recording the failure as a row."""
    print(f"measuring {SECTIONS[section]} ...", flush=True)
    try:
        rows.extend(measure())
    except Exception as error:
        traceback.print_exc()
        rows.append(Row(section, "section failed", None, note=f"{type(error).__name__}: {str(error)[-200:]}"))


def main() -> None:
    """Measure every section and print and save the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats, 1,000-migration graph only, no notebooks")
    parser.add_argument("--repeats", type=int, help="runs per measurement (default 7, 3 with --quick)")
    parser.add_argument("--no-notebooks", action="store_true", help="skip running the notebooks")
    parser.add_argument("--sections", default="abcdefg", help="which sections to run, for example 'af' (default all)")
    parser.add_argument(
        "--output", type=Path, help="where to write the table (default bench/results.md; --quick only prints)"
    )
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 7)
    rows: list[Row] = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="kit-bench-") as tmp:
        workspace = Path(tmp)
        os.environ[WORKSPACE_ENV] = str(workspace)
        measures = {
            "a": lambda: bench_actions(repeats),
            "b": lambda: bench_fresh(repeats, workspace),
            "c": lambda: bench_refresh(repeats),
            "d": lambda: bench_graphs(repeats, args.quick),
            "e": lambda: bench_notebooks(workspace),
            "f": lambda: bench_postgres(repeats),
            "g": lambda: bench_inprocess(repeats),
        }
        for section, measure in measures.items():
            skipped = section == "e" and (args.quick or args.no_notebooks)
            if section in args.sections and not skipped:
                run_section(rows, section, measure)
        worker.shutdown()
        if "widgets.sandbox.postgres" in sys.modules:  # stop the workspace's server before its folder goes
            sys.modules["widgets.sandbox.postgres"].release(workspace)
    text = header(repeats, (load_before, os.getloadavg()[0])) + table(rows)
    print("\n" + text)
    output = args.output or (None if args.quick else RESULTS)
    if output is not None:
        output.write_text(text + _real_projects_section(output), encoding="utf-8")
        print(f"written to {output}")


def _real_projects_section(path: Path) -> str:
    """Return the section bench/real_projects.py wrote into the results file, to keep it."""
    from real_projects import END, START

    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    if START not in old or END not in old:
        return ""
    return "\n" + START + old.split(START, 1)[1].split(END, 1)[0] + END + "\n"


if __name__ == "__main__":
    main()
