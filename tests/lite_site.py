"""Harness for the static site (make lite): build it, serve it on loopback, drive notebooks in it.

The site is built by scripts/build_lite.py, which reuses the last build when its
inputs are unchanged, and served from lite/_output/ by scripts/serve_lite.py.
A browser context from ``new_context`` serves only 127.0.0.1: every request to
any other host is refused and recorded in a ``Traffic``.

Notebook helpers take a Playwright page and a path, so that any lesson can be
opened, run top to bottom and checked for errors the same way:
``open_notebook``, ``put_notebook``, ``run_all``, ``output_text``, ``error_outputs``.
``pyodide_node`` runs Python under Pyodide in Node with the site's wheels.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

__all__ = [
    "SITE",
    "TEST_WHEELS",
    "Traffic",
    "build_site",
    "cells_of",
    "error_outputs",
    "new_context",
    "not_run",
    "open_notebook",
    "output_text",
    "put_file",
    "put_notebook",
    "pyodide_node",
    "run_all",
    "serve_site",
]

REPO = Path(__file__).resolve().parent.parent
SITE = REPO / "lite" / "_output"
# pytest, pluggy and iniconfig for Pyodide, downloaded by make lite (lite/wheels-test.txt), not shipped.
TEST_WHEELS = REPO / "lite" / ".cache" / "wheels" / "test"
BUILD_TIMEOUT = 1800  # seconds: a cold build downloads Pyodide and the wheels on a busy machine
KERNEL_TIMEOUT = 240_000  # milliseconds: Pyodide, the kernel and the preloaded wheels, on 2 busy cores
CELL_TIMEOUT = 240_000
# Chromium resolves no name but the loopback address: a request the router cannot see still goes nowhere.
LOCAL_ONLY_ARGS = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


@dataclass
class Traffic:
    """Requests the browser made: those to 127.0.0.1 were served, all others refused."""

    local: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def build_site() -> Path:
    """Build the site as make lite does (a no-op when its inputs are unchanged); return its folder."""
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_lite.py")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    if result.returncode != 0:
        raise RuntimeError(f"make lite failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return SITE


def serve_site(site: Path = SITE):
    """Serve the site on a free loopback port in a thread; return the server (stop: shutdown, server_close)."""
    spec = importlib.util.spec_from_file_location("serve_lite", REPO / "scripts" / "serve_lite.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.start(site)


def new_context(browser, traffic: Traffic):
    """Return a browser context that serves only 127.0.0.1, refuses the rest and exposes the app to tests."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(CELL_TIMEOUT)

    def route(route):
        url = route.request.url
        if urlsplit(url).hostname != "127.0.0.1":
            traffic.refused.append(url)
            route.abort("blockedbyclient")
            return
        traffic.local.append(url)
        if urlsplit(url).path == "/jupyter-lite.json":
            # Tests drive the app through window.jupyterapp, which the site itself does not expose.
            response = route.fetch()
            config = response.json()
            config["jupyter-config-data"]["exposeAppInBrowser"] = "true"
            route.fulfill(response=response, body=json.dumps(config))
            return
        route.continue_()

    context.route("**/*", route)
    return context


def open_notebook(page, site_url: str, path: str, *, timeout: float = KERNEL_TIMEOUT, navigate: bool = True) -> float:
    """Open a notebook by its path in JupyterLite (or wait for the page opening it); wait until its kernel is idle."""
    started = time.monotonic()
    if navigate:
        page.goto(f"{site_url}/lab/index.html?path={path}")
    page.wait_for_function(
        """(path) => {
            const app = window.jupyterapp;
            const panel = app && app.shell.currentWidget;
            if (!panel || !panel.context || panel.context.path !== path) return false;
            const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
            return !!kernel && kernel.status === "idle" && panel.context.isReady;
        }""",
        arg=path,
        timeout=timeout,
        polling=100,
    )
    return time.monotonic() - started


def put_notebook(page, path: str, sources: list[str]) -> None:
    """Save a notebook of code cells into the site's browser storage (the page must show the site)."""
    notebook = {
        "cells": [
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}
            for source in sources
        ],
        "metadata": {"kernelspec": {"name": "python", "display_name": "Python (Pyodide)", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    page.wait_for_function("() => !!window.jupyterapp")
    page.evaluate(
        """([path, content]) => window.jupyterapp.serviceManager.contents.save(
            path, {type: "notebook", format: "json", content})""",
        [path, notebook],
    )


def put_file(page, path: str, content: bytes) -> None:
    """Save a file into the site's browser storage, as the file browser's upload button does."""
    page.wait_for_function("() => !!window.jupyterapp")
    page.evaluate(
        """([path, content]) => window.jupyterapp.serviceManager.contents.save(
            path, {type: "file", format: "base64", content})""",
        [path, base64.b64encode(content).decode("ascii")],
    )


def run_all(page, *, timeout: float = CELL_TIMEOUT) -> list[dict]:
    """Run the open notebook's cells top to bottom, as Run All does (it stops at a cell that raises).

    Return each cell's type, source and outputs; cells after an error have none.
    """
    finished = page.evaluate(
        """(timeout) => Promise.race([
            window.jupyterapp.commands.execute("notebook:run-all-cells").then(() => true),
            new Promise((resolve) => setTimeout(() => resolve(false), timeout)),
        ])""",
        timeout,
    )
    if not finished:
        running = page.evaluate(
            """() => window.jupyterapp.shell.currentWidget.content.widgets.flatMap((cell, index) =>
                cell.model.type === "code" && cell.promptNode.textContent.includes("*") ? [index] : [])"""
        )
        seen = error_outputs(cells_of(page)) or ["no error output"]
        raise TimeoutError(
            f"The notebook's cells did not finish in {timeout / 1000:.0f} s; still running or queued: cells {running}; "
            + "; ".join(seen)
        )
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
        timeout=timeout,
        polling=100,
    )
    return cells_of(page)


def cells_of(page) -> list[dict]:
    """Return the open notebook's cells: type, source, outputs and execution count of each."""
    return page.evaluate(
        """() => window.jupyterapp.shell.currentWidget.content.model.toJSON().cells.map((cell) => ({
            type: cell.cell_type, source: [].concat(cell.source).join(""), outputs: cell.outputs || [],
            count: cell.execution_count ?? null}))"""
    )


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else value


def output_text(cell: dict) -> str:
    """Return a cell's stream and plain-text outputs as one string."""
    parts = []
    for output in cell["outputs"]:
        if output["output_type"] == "stream":
            parts.append(_text(output["text"]))
        elif "data" in output and "text/plain" in output["data"]:
            parts.append(_text(output["data"]["text/plain"]))
    return "".join(parts)


def not_run(cells: list[dict]) -> list[int]:
    """Return the indexes of the code cells that have not run."""
    return [index for index, cell in enumerate(cells) if cell["type"] == "code" and cell.get("count") is None]


def error_outputs(cells: list[dict]) -> list[str]:
    """Return a line per error output and per stderr stream in the cells, with the cell it came from."""
    found = []
    for index, cell in enumerate(cells):
        for output in cell["outputs"]:
            if output["output_type"] == "error":
                found.append(f"cell {index}: {output['ename']}: {output['evalue']}")
            elif output["output_type"] == "stream" and output["name"] == "stderr":
                found.append(f"cell {index} (stderr): {_text(output['text']).strip()[:500]}")
    return found


def pyodide_node(args: list[str], *, cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run scripts/pyodide_node.mjs with ``args`` in ``cwd`` (mounted inside Pyodide); return the result."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("No node on PATH: scripts/pyodide_node.mjs needs Node.js 20 or later.")
    return subprocess.run(
        [node, str(REPO / "scripts" / "pyodide_node.mjs"), "--site", str(SITE), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
