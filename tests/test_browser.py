"""The kit in a real browser: JupyterLab and Voila driven in headless Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import ARTIFACTS, JupyterServer, browser_skip_reason, launch_chromium, start_server

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
# Either notebook can be swapped for another that shows a MigrationLab panel.
LAB_NOTEBOOK = Path(os.environ.get("MIGRATION_KIT_LAB_NOTEBOOK", REPO / "tests" / "fixtures" / "migration-lab.ipynb"))
VOILA_NOTEBOOK = Path(
    os.environ.get("MIGRATION_KIT_VOILA_NOTEBOOK", REPO / "notebooks" / "05-rollback-playground.ipynb")
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
def page(chromium, request: pytest.FixtureRequest) -> Iterator:
    """Open a fresh browser page at a size that suits screenshots; keep its last view for diagnosis."""
    # Tall enough that the whole panel is on screen: element screenshots are clipped to the viewport.
    context = chromium.new_context(viewport={"width": 1280, "height": 2400})
    context.set_default_timeout(WAIT)
    page = context.new_page()
    yield page
    shoot(page, f"last-{request.node.name}")
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


def shoot(target, name: str) -> Path:
    """Save a screenshot of a page or an element under test-artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    target.screenshot(path=str(path))
    return path


def assert_widgets_rendered(page) -> None:
    """Fail if any widget shows an error box instead of itself."""
    text = page.inner_text("body")
    for error in WIDGET_ERRORS:
        assert error not in text, f"a widget failed to render: {error!r} is on the page"


def run_all_cells(page, server: JupyterServer) -> None:
    """Run every cell from JupyterLab's Run menu, once the notebook's kernel is settled."""
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    server.wait_for_kernel()
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


def migrations_row(panel, name: str):
    """Return the django_migrations row of a migration in the panel's overview tab."""
    return panel.locator(".mk-views .mk-view table tr").filter(has_text=name).first


def roll_back_one_step(page, prefix: str) -> None:
    """With the panel on the page, migrate its app back one migration, confirm, and check every view."""
    panel = page.locator(".mk-lab").first
    panel.locator(".mk-views svg").first.wait_for()
    assert_widgets_rendered(page)
    target = panel.locator(".widget-dropdown").filter(has=page.locator("label", has_text="target")).locator("select")
    options = target.locator("option").all_inner_texts()
    leaf = target.input_value()
    # The option before the leaf is the previous migration; 'zero' when the app has one migration.
    before = options[options.index(leaf) - 1] if options.index(leaf) > 0 else "zero"
    assert "unapplied" not in migrations_row(panel, leaf).inner_text()
    shoot(panel, f"{prefix}-panel")

    target.select_option(label=before)
    panel.locator(".mk-migrate").click()
    confirm_box = panel.locator(".mk-confirm-box")
    confirm_box.wait_for()
    assert leaf in confirm_box.inner_text()
    shoot(panel, f"{prefix}-rollback-preview")

    confirm_box.locator(".mk-confirm").click()
    confirm_box.wait_for(state="hidden")
    panel.locator(".mk-status .mk-ok").wait_for()
    # The panel drops its busy class only after every view is redrawn.
    page.locator(".mk-lab.mk-busy").wait_for(state="detached")
    assert "unapplied" in migrations_row(panel, leaf).inner_text()
    assert panel.locator(".mk-views svg .node").count() >= 2
    assert_widgets_rendered(page)
    shoot(panel, f"{prefix}-after-rollback")
    shoot(page, f"{prefix}-page")

    panel.locator(".mk-views .lm-TabBar-tab").filter(has_text="graph").click()
    graph = panel.locator(".mk-view-graph")
    graph.locator("svg .node").first.wait_for()
    assert leaf in graph.inner_text()
    shoot(graph, f"{prefix}-graph")


def test_lab_runs_notebook_and_rolls_back(lab: JupyterServer, page) -> None:
    """Run the notebook in JupyterLab, roll an app back with the panel, see the table and graph change."""
    page.goto(lab.url())
    page.wait_for_selector(".jp-Notebook")
    # Fold the file browser away so the panel gets the page's width.
    page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click()
    run_all_cells(page, lab)
    roll_back_one_step(page, "lab")


def test_voila_page_buttons_work(voila: JupyterServer, page) -> None:
    """Load the notebook as a Voila app, roll an app back with the panel's buttons, see the page change."""
    page.goto(voila.url(), timeout=90_000)
    roll_back_one_step(page, "voila")
