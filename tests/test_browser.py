"""The kit in a real browser: JupyterLab and Voila driven in headless Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import ARTIFACTS, JupyterServer, browser_skip_reason, launch_chromium, start_server

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
FIXTURE_NOTEBOOK = REPO / "tests" / "fixtures" / "browser-smoke.ipynb"
PLAYGROUND = REPO / "notebooks" / "05-rollback-playground.ipynb"
# Either notebook can be swapped for another with these variables.
LAB_NOTEBOOK = Path(os.environ.get("MIGRATION_KIT_LAB_NOTEBOOK", FIXTURE_NOTEBOOK))
VOILA_NOTEBOOK = Path(
    os.environ.get("MIGRATION_KIT_VOILA_NOTEBOOK", PLAYGROUND if PLAYGROUND.exists() else FIXTURE_NOTEBOOK)
)
WIDGET_ERRORS = ("Error displaying widget", "model not found", "Failed to load model class")
WAIT = 30_000  # milliseconds: the longest any one step may take


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    """Launch Debian's Chromium headless once for the module, or skip with the reason."""
    reason = browser_skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium) -> Iterator:
    """Open a fresh browser page at a size that suits screenshots."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT)
    page = context.new_page()
    yield page
    context.close()


def serve(kind: str, notebook: Path, home: Path) -> Iterator[JupyterServer]:
    """Start a server for the test and always stop it afterwards."""
    if not notebook.is_file():
        pytest.fail(f"The notebook {notebook} does not exist.")
    server = start_server(kind, notebook, home)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[JupyterServer]:
    """Serve the lab notebook with JupyterLab on a free loopback port."""
    yield from serve("lab", LAB_NOTEBOOK, tmp_path)


@pytest.fixture
def voila(tmp_path: Path) -> Iterator[JupyterServer]:
    """Serve the app-mode notebook with Voila on a free loopback port."""
    yield from serve("voila", VOILA_NOTEBOOK, tmp_path)


def shoot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_widgets_rendered(page) -> None:
    """Fail if any widget shows an error box instead of itself."""
    text = page.inner_text("body")
    for error in WIDGET_ERRORS:
        assert error not in text, f"a widget failed to render: {error!r} is on the page"


def run_all_cells(page, shown: str) -> None:
    """Run every cell from the Run menu; wait for the ``shown`` selector and an idle kernel."""
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    page.wait_for_selector(shown)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", state="attached")


def test_lab_runs_notebook_and_rolls_back(lab: JupyterServer, page) -> None:
    """Run the notebook in JupyterLab, roll boards back with a click, see the table and graph change."""
    page.goto(lab.url())
    page.wait_for_selector(".jp-Notebook")
    run_all_cells(page, ".smoke-table")
    table = page.locator(".smoke-table")
    table.get_by_text("0002_post").wait_for()
    assert_widgets_rendered(page)
    shoot(page, "lab-before-rollback")

    page.locator(".smoke-rollback").click()
    table.get_by_text("0002_post").wait_for(state="detached")
    assert "0001_initial" in table.inner_text()
    assert page.locator(".smoke-graph svg .node").count() >= 3
    assert_widgets_rendered(page)
    shoot(page, "lab-after-rollback")


def test_voila_page_buttons_work(voila: JupyterServer, page) -> None:
    """Load the notebook as a Voila app, click its button and see the page change."""
    page.goto(voila.url(), timeout=60_000)
    table = page.locator(".smoke-table")
    table.get_by_text("0002_post").wait_for()
    assert_widgets_rendered(page)
    shoot(page, "voila-before-rollback")

    page.locator(".smoke-rollback").click()
    table.get_by_text("0002_post").wait_for(state="detached")
    assert page.locator(".smoke-graph svg .node").count() >= 3
    shoot(page, "voila-after-rollback")
