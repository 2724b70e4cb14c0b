"""The kit as a static site: JupyterLite and Pyodide in headless Chromium, with no host but 127.0.0.1.

The site is built by scripts/build_lite.py (make lite), which reuses the last
build when its inputs are unchanged, and served from lite/_output/ by
scripts/serve_lite.py. Every request the page or its workers make to any
other host is refused and recorded; the test fails if there was one.

The helpers (``open_notebook``, ``put_notebook``, ``run_all``, ``error_outputs``)
take a page and a path, so a test can run a lesson end to end the same way.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser import ARTIFACTS, CHROMIUM_ARGS, browser_skip_reason, chromium_executable

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
SITE = REPO / "lite" / "_output"
BUILD_TIMEOUT = 1200  # seconds: a cold build downloads Pyodide and the wheels
KERNEL_TIMEOUT = 120_000  # milliseconds: Pyodide, the kernel and the preloaded wheels
CELL_TIMEOUT = 120_000
# Chromium resolves no name but the loopback address: a request the router cannot see still goes nowhere.
LOCAL_ONLY_ARGS = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]

DJANGO_CELL = """\
import io, os, sys, time
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Pyodide's kernel runs inside an event loop
import django
from django.conf import settings
from django.core.management import call_command
started = time.perf_counter()
settings.configure(
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "/tmp/lite-check.sqlite3"}},
    USE_TZ=True,
)
django.setup()
set_up = time.perf_counter()
out = io.StringIO()
call_command("migrate", stdout=out, no_color=True)
migrated = time.perf_counter()
from django.db import connection
print("django", django.get_version(), "python", sys.version.split()[0], sys.platform)
print(out.getvalue())
print("tables", sorted(connection.introspection.table_names()))
print(f"TIMINGS setup={set_up - started:.3f} migrate={migrated - set_up:.3f}")
"""
# The kit finds its template beside its package (widgets/paths.py), without importing the kit.
TEMPLATE_CELL = """\
import importlib.util
from pathlib import Path
root = Path(importlib.util.find_spec("widgets").origin).resolve().parent.parent
print("template", (root / "sandbox_project" / "manage.py").is_file(), (root / "notebooks" / "projects").is_dir())
"""


@dataclass
class Traffic:
    """Requests the browser made: those to 127.0.0.1 were served, all others refused."""

    local: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def build_site() -> Path:
    """Build the site with make lite's script (a no-op when its inputs are unchanged); return its folder."""
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_lite.py")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    if result.returncode != 0:
        pytest.fail(f"make lite failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return SITE


def _serve_module():
    spec = importlib.util.spec_from_file_location("serve_lite", REPO / "scripts" / "serve_lite.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site_url() -> Iterator[str]:
    """Build (or reuse) the site and serve it on a free loopback port for the module."""
    reason = browser_skip_reason()
    if reason:
        pytest.skip(reason)
    site = build_site()
    server = _serve_module().start(site)
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def lite_chromium(site_url) -> Iterator:
    """Launch Debian's Chromium headless, its service workers' requests visible to the router."""
    # Without this, requests a service worker makes bypass context.route (Chromium only).
    os.environ["PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS"] = "1"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_executable()),
            headless=True,
            args=[*CHROMIUM_ARGS, *LOCAL_ONLY_ARGS],
            timeout=30_000,
        )
        yield browser
        browser.close()


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


@pytest.fixture
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture
def lite_context(lite_chromium, traffic: Traffic, request: pytest.FixtureRequest) -> Iterator:
    """A fresh context (cold cache, empty IndexedDB) that must not reach any other host."""
    context = new_context(lite_chromium, traffic)
    yield context
    for page in context.pages:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"last-{request.node.name}.png"))
    context.close()
    assert not traffic.refused, f"The site asked hosts other than 127.0.0.1: {sorted(set(traffic.refused))[:10]}"


# --- helpers for any notebook ----------------------------------------------------------------------


def open_notebook(page, site_url: str, path: str, *, timeout: float = KERNEL_TIMEOUT) -> float:
    """Open a notebook by its path in JupyterLite; wait until its kernel is idle; return the seconds taken."""
    started = time.monotonic()
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
    )
    return time.monotonic() - started


def put_notebook(page, path: str, sources: list[str]) -> None:
    """Save a notebook of code cells into the site's browser storage (needs a loaded app)."""
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


def run_all(page, *, timeout: float = CELL_TIMEOUT) -> list[dict]:
    """Run every cell of the open notebook, top to bottom; return each cell's type, source and outputs."""
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(
        """() => {
            const panel = window.jupyterapp.shell.currentWidget;
            const kernel = panel.sessionContext.session.kernel;
            const cells = panel.content.widgets.filter((cell) => cell.model.type === "code");
            return kernel.status === "idle" && cells.every((cell) => cell.model.executionCount !== null
                && !cell.promptNode.textContent.includes("*"));
        }""",
        timeout=timeout,
    )
    return page.evaluate(
        """() => window.jupyterapp.shell.currentWidget.content.model.toJSON().cells.map((cell) => ({
            type: cell.cell_type, source: [].concat(cell.source).join(""), outputs: cell.outputs || []}))"""
    )


def output_text(cell: dict) -> str:
    """Return a cell's stream and plain-text outputs as one string."""
    parts = []
    for output in cell["outputs"]:
        if output["output_type"] == "stream":
            parts.append("".join(output["text"]) if isinstance(output["text"], list) else output["text"])
        elif "data" in output and "text/plain" in output["data"]:
            text = output["data"]["text/plain"]
            parts.append("".join(text) if isinstance(text, list) else text)
    return "".join(parts)


def error_outputs(cells: list[dict]) -> list[str]:
    """Return a line per error output and per stderr stream in the cells, with the cell it came from."""
    found = []
    for index, cell in enumerate(cells):
        for output in cell["outputs"]:
            if output["output_type"] == "error":
                found.append(f"cell {index}: {output['ename']}: {output['evalue']}")
            elif output["output_type"] == "stream" and output["name"] == "stderr":
                text = "".join(output["text"]) if isinstance(output["text"], list) else output["text"]
                found.append(f"cell {index} (stderr): {text.strip()[:500]}")
    return found


# --- tests ---------------------------------------------------------------------------------------------


def test_site_is_within_budget(site_url):
    """The whole site, Pyodide and every wheel included, stays within 60 MB."""
    size = sum(p.stat().st_size for p in SITE.rglob("*") if p.is_file())
    assert size <= 60e6, f"The site is {size / 1e6:.1f} MB, over the 60 MB budget."


def test_lesson_opens_at_its_repository_name(lite_context, site_url, traffic):
    """lab/index.html?path=02-adding-the-views-field.ipynb opens lesson 02 with an idle Pyodide kernel."""
    page = lite_context.new_page()
    cold = open_notebook(page, site_url, "02-adding-the-views-field.ipynb")
    second = open_notebook(page, site_url, "02-adding-the-views-field.ipynb")
    print(f"kernel idle after {cold:.1f} s (cold cache), {second:.1f} s (second visit)")
    assert any(url.endswith("/static/pyodide/pyodide.asm.wasm") for url in traffic.local)


def test_django_migrates_in_the_browser(lite_context, site_url):
    """A cell sets Django 5.2 up and migrates a SQLite database inside Pyodide, with no error output."""
    page = lite_context.new_page()
    page.goto(f"{site_url}/lab/index.html")
    put_notebook(page, "lite-check.ipynb", [DJANGO_CELL, TEMPLATE_CELL])
    open_notebook(page, site_url, "lite-check.ipynb")
    cells = run_all(page)
    assert not error_outputs(cells), error_outputs(cells)
    text = output_text(cells[0])
    assert "django 5.2." in text and "emscripten" in text, text
    assert "Applying auth.0001_initial... OK" in text, text
    assert "'django_migrations'" in text and "'auth_user'" in text, text
    assert "template True True" in output_text(cells[1]), output_text(cells[1])
    print(text.splitlines()[-1])
