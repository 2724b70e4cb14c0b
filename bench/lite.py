"""Time the static site (make lite) in headless Chromium against issue 20's budgets; write bench/results.md.

    .venv/bin/python bench/lite.py                 # build or reuse the site, measure, update bench/results.md
    .venv/bin/python bench/lite.py --output -      # print the section only

What it measures, each in a browser context that reaches no host but 127.0.0.1:

- the site's size on disk (budget 60 MB);
- opening lesson 02 until its setup cell has run: from a cold cache (a new
  context, empty browser storage), then a second visit in the same context
  (budgets 20 s and 8 s);
- each kit command in the browser's Python, timed inside the kernel: a median
  over repeats, after one warm-up (budget 0.5 s each);
- a mouse click on a migration in the panel's graph (lesson 05's sandbox and
  panel) until the rollback preview is shown and the panel is idle (budget
  1 s), over repeats, cancelled in between.

Speed depends on the machine and its load: the load average is printed next
to every figure. Not a test; the tests check behaviour, this checks speed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the site's harness: build, serve, drive notebooks

from browser import CHROMIUM_ARGS, chromium_executable  # noqa: E402
from lite_site import (  # noqa: E402
    LOCAL_ONLY_ARGS,
    SITE,
    Traffic,
    build_site,
    error_outputs,
    new_context,
    open_notebook,
    output_text,
    put_notebook,
    run_all,
    serve_site,
)

RESULTS = REPO / "bench" / "results.md"
START, END = "<!-- lite:start -->", "<!-- lite:end -->"
LESSON_02 = "02-adding-the-views-field.ipynb"
SETUP_CELL = 2  # lesson 02's setup cell: imports the kit, makes and migrates the sandbox

COMMANDS_CELL = """\
import json, statistics, time
from widgets import Sandbox
from widgets.lessons import scenarios

sandbox = Sandbox.fresh("bench-lite")
steps = {
    "makemigrations": lambda: sandbox.makemigrations("boards"),
    "migrate (forwards)": lambda: sandbox.migrate("boards"),
    "showmigrations": lambda: sandbox.showmigrations("boards"),
    "sqlmigrate boards 0003": lambda: sandbox.sqlmigrate("boards", "0003_topic_views"),
    "migrate boards 0002 (backwards)": lambda: sandbox.migrate("boards", "0002"),
}
times = {name: [] for name in steps}
for attempt in range(REPEATS + 1):  # the first round warms Django's imports up and is left out
    sandbox.reset()
    sandbox.edit("boards/models.py", scenarios.STARTER_LINE, scenarios.STARTER_LINE + scenarios.VIEWS_LINE)
    for name, step in steps.items():
        started = time.perf_counter()
        result = step()
        took = time.perf_counter() - started
        assert result.ok, (name, result.stderr)
        if attempt:
            times[name].append(took)
print("COMMANDS", json.dumps({name: statistics.median(values) for name, values in times.items()}))
"""


def load() -> str:
    """Return the 1-minute load average, for next to a figure."""
    return f"{os.getloadavg()[0]:.1f}"


def run_cell(page, index: int) -> None:
    """Run one cell of the open notebook, as Shift+Enter does, and wait until the kernel is idle."""
    page.evaluate(
        """async (index) => {
            const panel = window.jupyterapp.shell.currentWidget;
            panel.content.activeCellIndex = index;
            await window.jupyterapp.commands.execute("notebook:run-cell");
        }""",
        index,
    )
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'", polling=100
    )


def setup_ran(page, site_url: str) -> float:
    """Open lesson 02 and run its setup cell; return the seconds from opening to the setup cell's end."""
    return setup_phases(page, site_url)["total"]


def setup_phases(page, site_url: str) -> dict[str, float]:
    """Open lesson 02 and run its setup cell; return the seconds of each phase and the total.

    page: until JupyterLab shows the notebook with a kernel object; kernel: until that kernel is idle
    (Pyodide, the wheels, IPython); setup: the setup cell itself.
    """
    started = time.monotonic()
    page.goto(f"{site_url}/lab/index.html?path={LESSON_02}")
    page.wait_for_function(
        """(path) => {
            const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
            return !!panel && !!panel.context && panel.context.path === path
                && !!(panel.sessionContext.session && panel.sessionContext.session.kernel);
        }""",
        arg=LESSON_02,
        polling=50,
    )
    shown = time.monotonic()
    open_notebook(page, site_url, LESSON_02, navigate=False)
    idle = time.monotonic()
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    run_cell(page, SETUP_CELL)
    done = time.monotonic()
    cells = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.model.toJSON().cells")
    cell = cells[SETUP_CELL]
    if cell.get("execution_count") is None or any(o["output_type"] == "error" for o in cell["outputs"]):
        raise RuntimeError(f"Lesson 02's setup cell did not run cleanly: {cell['outputs']}")
    return {"page": shown - started, "kernel": idle - shown, "setup": done - idle, "total": done - started}


def commands(page, site_url: str, repeats: int) -> dict[str, float]:
    """Return the median seconds of each kit command, timed inside the browser's kernel."""
    put_notebook(page, "bench-commands.ipynb", [f"REPEATS = {repeats}\n" + COMMANDS_CELL])
    open_notebook(page, site_url, "bench-commands.ipynb")
    cells = run_all(page)
    if error_outputs(cells):
        raise RuntimeError(f"The commands notebook failed: {error_outputs(cells)}")
    found = re.search(r"COMMANDS (\{.*\})", output_text(cells[0]))
    return json.loads(found.group(1))


LAB_CELLS = [
    # Lesson 05's sandbox and panel, without the lesson's other cells.
    "from widgets import MigrationLab, Sandbox\n"
    "from widgets.lessons import scenarios\n"
    'sandbox = Sandbox.fresh("bench-lite-lab")\n'
    "scenarios.add_views_field(sandbox)\n"
    "scenarios.create_author_book(sandbox)\n"
    "scenarios.populate_author_book(sandbox)\n"
    'sandbox.manage("loaddata", "boards_demo")',
    'MigrationLab(sandbox, app_label="app")',
]


def clicks(page, site_url: str, repeats: int) -> list[float]:
    """Show lesson 05's panel, click a migration in its graph ``repeats`` times; return each click-to-preview time."""
    put_notebook(page, "bench-lab.ipynb", LAB_CELLS)
    open_notebook(page, site_url, "bench-lab.ipynb")
    cells = run_all(page)
    if error_outputs(cells):
        raise RuntimeError(f"The panel's notebook failed: {error_outputs(cells)}")
    node = page.locator(".mk-lab .mk-graph-view g.node").filter(has=page.locator("title:text-is('app.0001_initial')"))
    node.scroll_into_view_if_needed()
    box = page.locator(".mk-lab .mk-confirm-box")
    taken = []
    for _ in range(repeats):
        started = time.monotonic()
        node.click()
        box.wait_for()
        page.locator(".mk-lab.mk-busy").wait_for(state="detached")
        taken.append(time.monotonic() - started)
        box.locator(".mk-cancel").click()
        box.wait_for(state="hidden")
        page.locator(".mk-lab.mk-busy").wait_for(state="detached")
    return taken


def measure(repeats: int) -> list[tuple[str, str, str, str]]:
    """Return the table's rows: what, figure (with the load average), budget, met."""
    os.environ["PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS"] = "1"
    from playwright.sync_api import sync_playwright

    build_site()
    size = sum(p.stat().st_size for p in SITE.rglob("*") if p.is_file()) / 1e6
    rows = [("the site (lite/_output)", f"{size:.1f} MB", "<= 60 MB", size <= 60)]
    server = serve_site(SITE)
    site_url = f"http://127.0.0.1:{server.server_port}"
    traffic = Traffic()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(chromium_executable()), headless=True, args=[*CHROMIUM_ARGS, *LOCAL_ONLY_ARGS]
            )
            colds, seconds_, context = [], [], None
            for _ in range(repeats):  # each a learner: a fresh browser profile, then a second visit
                if context is not None:
                    context.close()
                context = new_context(browser, traffic)
                page = context.new_page()
                colds.append(setup_phases(page, site_url))
                seconds_.append(setup_phases(page, site_url))
            cold, second = median_opening(colds), median_opening(seconds_)
            add(rows, "lesson 02 until its setup cell ran, cold cache", openings(colds), "<= 20 s", cold <= 20)
            add(rows, "the same, second visit", openings(seconds_), "<= 8 s", second <= 8)
            for name, seconds in commands(page, site_url, repeats).items():
                add(rows, f"kit command: {name}", f"{seconds * 1000:.0f} ms", "<= 0.5 s", seconds <= 0.5)
            taken = clicks(page, site_url, repeats)
            median = statistics.median(taken)
            shown = f"{median:.2f} s median of {len(taken)}, max {max(taken):.2f} s"
            add(rows, "a node click in the panel until the preview is shown", shown, "<= 1 s", median <= 1)
            context.close()
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    if traffic.refused:
        raise RuntimeError(f"The site asked other hosts: {sorted(set(traffic.refused))[:5]}")
    return [(what, figure, budget, "yes" if met else "**no**") for what, figure, budget, met in rows]


def median_opening(taken: list[dict[str, float]]) -> float:
    """Return the median total of several openings."""
    return statistics.median(t["total"] for t in taken)


def openings(taken: list[dict[str, float]]) -> str:
    """Say the median opening with its phases, and every total."""
    middle = sorted(taken, key=lambda t: t["total"])[len(taken) // 2]
    each = ", ".join(f"{t['total']:.1f}" for t in taken)
    return f"median of {len(taken)}: {phases(middle)}; each: {each} s"


def phases(taken: dict[str, float]) -> str:
    """Say a total with its phases: the page, the kernel's start, the setup cell."""
    return (
        f"{taken['total']:.1f} s (page {taken['page']:.1f} s, kernel start {taken['kernel']:.1f} s, "
        f"setup cell {taken['setup']:.1f} s)"
    )


def add(rows: list, what: str, figure: str, budget: str, met: bool) -> None:
    """Add a row with the load average now, and say it at once (a whole run takes minutes)."""
    rows.append((what, f"{figure} (load {load()})", budget, met))
    print(f"  {what}: {rows[-1][1]}", file=sys.stderr, flush=True)


def section(rows: list[tuple[str, str, str, str]], repeats: int) -> str:
    """Return the Markdown section for bench/results.md."""
    lines = [
        START,
        "## The static site in headless Chromium (`bench/lite.py`, issue 20)",
        "",
        "| what | measured | budget | met |",
        "|---|---|---|---|",
        *(f"| {what} | {figure} | {budget} | {met} |" for what, figure, budget, met in rows),
        "",
        f"Chromium 156 headless, 2 CPUs shared with other work; each load is the 1-minute average when the figure "
        f"was taken. Kit commands: median of {repeats} rounds in the browser's Python after one warm-up round, each "
        "round from `reset()`. A click: until the preview is shown and the panel idle, then cancelled.",
        END,
    ]
    return "\n".join(lines)


def write(text: str, output: Path) -> None:
    """Put the section into the results file, replacing an earlier one."""
    old = output.read_text(encoding="utf-8") if output.exists() else ""
    if START in old and END in old:
        new = old[: old.index(START)] + text + old[old.index(END) + len(END) :]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    output.write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default=str(RESULTS), help="a Markdown file to update, or - to print")
    args = parser.parse_args(argv)
    if chromium_executable() is None:
        print("No chromium: install Debian's chromium (make chromium) first.")
        return 1
    text = section(measure(args.repeats), args.repeats)
    print(text)
    if args.output != "-":
        write(text, Path(args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
