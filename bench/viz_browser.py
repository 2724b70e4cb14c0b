"""Time Graphviz as WebAssembly in Chromium (the browser edition's renderer) next to pygraphviz in Python.

Run: ``.venv/bin/python bench/viz_browser.py`` (``--big`` adds the 1,000-migration project of bench/graphs.py).
The page is headless Chromium with nothing but @viz-js/viz and the kit's own
drawing code (widgets/lab/static/viz_draw.js); no Jupyter. For each picture it
times, as medians over repeats: Graphviz alone in the page (``viz.render``),
the kit's whole step (``vizFragment``: render and parse into nodes), and
pygraphviz on the same DOT in Python. It also times loading the module once
(import and instance), which a page pays on its first picture.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

REPEATS = 7
PAGE = "http://127.0.0.1:9/bench.html"

TIMING = """
async ([source, draw, markups, repeats]) => {
  const started = performance.now();
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const viz = await (await import(url)).instance();
  const loaded = performance.now() - started;
  globalThis.__migrationKitViz = Promise.resolve(viz);
  const kit = (0, eval)(draw + "; vizFragment");  // the kit's own code, as the widgets run it
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rows = [];
  for (const markup of markups) {
    const holder = new DOMParser().parseFromString(markup, "text/html").querySelector("div.mk-viz");
    const render = [], whole = [];
    for (let i = 0; i < repeats; i++) {
      let t = performance.now();
      viz.render(holder.dataset.dot, { engine: holder.dataset.engine, format: "svg" });
      render.push(performance.now() - t);
      t = performance.now();
      const fragment = await kit(markup, null);
      whole.push(performance.now() - t);
      if (!fragment.querySelector("svg g.node")) throw new Error("nothing drawn");
    }
    rows.push([median(render), median(whole)]);
  }
  return { loaded, rows };
}
"""


def pictures(big: bool) -> list[tuple[str, object]]:
    """Return (name, KitDigraph) for the tutorial project's views and, with ``big``, the 1,000-migration graph."""
    from widgets import Sandbox
    from widgets.draw.graphs import draw_migration_graph, draw_schema

    sandbox = Sandbox.fresh("bench-viz")
    found = [
        ("tutorial project (lesson 02): schema diagram", draw_schema(sandbox)),
        ("tutorial project (lesson 02): migration graph", draw_migration_graph(sandbox)),
    ]
    if big:
        import graphs

        project = graphs.build(40, 25)
        found.append(("1,027 migrations in 40 apps: migration graph", draw_migration_graph(project.migration_graph())))
    return found


def python_ms(dot) -> float:
    """Return pygraphviz's median time on the same DOT, in ms (no cache: the source changes every time)."""
    import pygraphviz

    from widgets.draw.render import browser_engine

    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        pygraphviz.AGraph(string=dot.source).draw(format="svg", prog=browser_engine(dot))
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="add bench/graphs.py's 1,000-migration project")
    args = parser.parse_args()
    workspace = None if "MIGRATION_KIT_WORKSPACE" in os.environ else tempfile.mkdtemp(prefix="bench-viz-")
    if workspace:
        os.environ["MIGRATION_KIT_WORKSPACE"] = workspace
    try:
        measure(args.big)
    finally:
        if workspace:
            shutil.rmtree(workspace, ignore_errors=True)


def measure(big: bool) -> None:
    """Draw each picture in Chromium and in Python; print one row per picture."""
    import pygraphviz
    from browser import CHROMIUM_ARGS, chromium_executable
    from playwright.sync_api import sync_playwright

    from widgets.draw.render import browser_markup
    from widgets.lab.viz_widget import STATIC, viz_module

    found = pictures(big)
    markups = [browser_markup(dot) for _name, dot in found]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_executable()), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.route(PAGE, lambda route: route.fulfill(body="<!doctype html><body></body>", content_type="text/html"))
        page.goto(PAGE)
        source, draw = viz_module(), (STATIC / "viz_draw.js").read_text(encoding="utf-8")
        result = page.evaluate(TIMING, [source, draw, markups, REPEATS])
        browser.close()
    print(
        f"load average {os.getloadavg()[0]:.2f}; module {len(source) / 1e6:.2f} MB, import + instance "
        f"{result['loaded']:.0f} ms (once per page)"
    )
    print("picture | nodes | DOT kB | viz.render ms | kit step ms | pygraphviz ms")
    for (name, dot), (render, whole) in zip(found, result["rows"], strict=True):
        nodes = pygraphviz.AGraph(string=dot.source).number_of_nodes()
        print(f"{name} | {nodes} | {len(dot.source) / 1024:.0f} | {render:.0f} | {whole:.0f} | {python_ms(dot):.0f}")


if __name__ == "__main__":
    main()
