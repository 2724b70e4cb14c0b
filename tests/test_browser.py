"""The kit in a real browser: JupyterLab and Voila driven in headless Chromium."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from a11y import AXE, axe_violations, clipped, low_contrast
from browser import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    JupyterServer,
    browser_skip_reason,
    chromium_executable,
    launch_chromium,
    start_server,
)
from lite_site import LOCAL_ONLY_ARGS

from widgets.draw.palette import contrast

pytestmark = [pytest.mark.browser, pytest.mark.processes("JupyterLab runs as a server process")]

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
    # The size the panel is designed for: nothing may be clipped at 1,400 x 900.
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
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
    """Return the django_migrations row of a migration in the panel's django_migrations tab."""
    return panel.locator(".mk-view-django-migrations table tr").filter(has_text=name).first


def open_tab(panel, title: str) -> None:
    """Show one of the panel's views."""
    panel.locator(".mk-views > .lm-TabBar .lm-TabBar-tab").filter(has_text=title).first.click()


def graph_node(panel, node_id: str):
    """Return a node of the interactive graph by its id ('app.name'), the text of its SVG title."""
    return panel.locator(".mk-graph-view g.node").filter(has=panel.page.locator(f"title:text-is('{node_id}')"))


def idle(page) -> None:
    """Wait until the panel has run its action and redrawn every view."""
    page.locator(".mk-lab.mk-busy").wait_for(state="detached")


def fits(page, selector: str) -> None:
    """Fail if the element sticks out of the 1,400 px wide page (clipped or scrolled sideways)."""
    box = page.locator(selector).first.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 1400, f"{selector} is clipped: {box}"


def travel_by_clicking(page, prefix: str) -> None:
    """Click the migration before the app's leaf in the graph, confirm the rollback, check every view."""
    panel = page.locator(".mk-lab").first
    panel.locator(".mk-graph-view svg g.node").first.wait_for()
    panel.scroll_into_view_if_needed()
    assert_widgets_rendered(page)
    fits(page, ".mk-lab .mk-columns")
    target = panel.locator(".widget-dropdown").filter(has=page.locator("label", has_text="target")).locator("select")
    app = panel.locator(".widget-dropdown").filter(has=page.locator("label", has_text="app")).locator("select")
    # The app's last migration and the one before it (the picker lists them in order, then zero):
    # the notebook may have left another target picked.
    app_label, options = app.input_value(), target.locator("option").all_inner_texts()
    before, leaf = [name for name in options if name != "zero"][-2:]
    shoot(page, f"{prefix}-panel")

    graph_node(panel, f"{app_label}.{leaf}").hover()
    card = panel.locator(".mk-graph-view .mk-graph-card")
    card.wait_for()
    assert leaf in card.inner_text() and "applied" in card.inner_text()

    graph_node(panel, f"{app_label}.{before}").click()
    confirm_box = panel.locator(".mk-confirm-box")
    confirm_box.wait_for()
    idle(page)
    assert f"migrate {app_label} {before}" in confirm_box.inner_text() and leaf in confirm_box.inner_text()
    assert "mk-selected" in graph_node(panel, f"{app_label}.{before}").get_attribute("class")
    shoot(page, f"{prefix}-rollback-preview")

    confirm_box.locator(".mk-confirm").click()
    confirm_box.wait_for(state="hidden")
    panel.locator(".mk-status .mk-ok").wait_for()
    idle(page)
    # The graph updated in place: the leaf is no longer applied.
    assert "unapplied" in graph_node(panel, f"{app_label}.{leaf}").get_attribute("class")
    assert_widgets_rendered(page)
    shoot(page, f"{prefix}-after-rollback")
    shoot(panel.locator(".mk-graph-view"), f"{prefix}-graph")

    open_tab(panel, "django_migrations")
    assert "unapplied" in migrations_row(panel, leaf).inner_text()
    check_time_machine(page, panel, app_label, before, leaf, prefix)


def check_time_machine(page, panel, app_label: str, before: str, leaf: str, prefix: str) -> None:
    """Move the time machine's slider one step on: the schema pane changes, the database does not."""
    open_tab(panel, "time machine")
    machine = panel.locator(".mk-time-machine")
    headline = machine.locator(".mk-time-headline")
    headline.filter(has_text=f"the database is at {app_label}.{before}").wait_for()
    assert f"{app_label}.{before}" in headline.inner_text()
    machine.locator(".mk-time-slider .noUi-handle").first.focus()
    page.keyboard.press("ArrowRight")
    headline.filter(has_text=f"{app_label}.{leaf} (not applied)").wait_for()
    changes = machine.locator(".mk-time-changes").inner_text()
    assert changes.startswith("+ "), changes  # the leaf adds a table or a column
    added = changes.split()[2].split(".")[0]  # "+ table boards_post" or "+ column app_book.author_id (...)"
    assert machine.locator(".mk-time-schema svg g.node").filter(has_text=added).count() == 1
    assert_widgets_rendered(page)
    fits(page, ".mk-lab .mk-time-machine")
    shoot(page, f"{prefix}-time-machine")
    # Moving the slider read Django's state only: the database still has the leaf unapplied.
    open_tab(panel, "django_migrations")
    assert "unapplied" in migrations_row(panel, leaf).inner_text()


def test_lab_runs_notebook_and_rolls_back(lab: JupyterServer, page) -> None:
    """Run the notebook in JupyterLab, click a migration in the graph, confirm, move the time machine."""
    page.goto(lab.url())
    page.wait_for_selector(".jp-Notebook")
    # Fold the file browser away so the panel gets the page's width.
    page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click()
    run_all_cells(page, lab)
    travel_by_clicking(page, "lab")


VIZ_NOTEBOOK = REPO / "tests" / "fixtures" / "viz-js.ipynb"
LOCAL_HOSTS = ("127.0.0.1", "localhost")


@pytest.fixture
def viz_lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[JupyterServer]:
    """Serve a notebook whose kernel draws as the browser edition does: DOT in, Graphviz as WebAssembly in the page."""
    monkeypatch.setenv("MIGRATION_KIT_RENDERER", "viz-js")  # the server's kernels inherit it
    yield from serve("lab", VIZ_NOTEBOOK, tmp_path)


@pytest.fixture
def offline_page(chromium, request: pytest.FixtureRequest) -> Iterator[tuple[object, list[str]]]:
    """Open a page in a Chromium that resolves no host but loopback; return it and the requests it tried elsewhere."""
    # Refused by Chromium itself, not a route handler: the sync API only runs handlers while the test calls it,
    # and the test waits for the kernel outside of it. A second browser of the module's Playwright, with that rule.
    browser = chromium.browser_type.launch(
        executable_path=str(chromium_executable()), headless=True, args=[*CHROMIUM_ARGS, *LOCAL_ONLY_ARGS]
    )
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(WAIT)
    page = context.new_page()
    elsewhere: list[str] = []

    def note(sent) -> None:
        parts = urlsplit(sent.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS:
            elsewhere.append(sent.url)

    page.on("request", note)
    yield page, elsewhere
    shoot(page, f"last-{request.node.name}")
    browser.close()


def drawn_ids(element) -> list[list[str]]:
    """Return each drawn node's SVG id and title (its kit id), in drawing order."""
    return element.evaluate(
        """(el) => Array.from(el.querySelectorAll("svg g.node"))
          .map((g) => [g.id, g.querySelector(":scope > title").textContent])"""
    )


def test_lab_draws_with_graphviz_in_the_page(viz_lab: JupyterServer, offline_page) -> None:
    """With the viz-js renderer: same node ids as pygraphviz, a click reaches Python, static pictures draw, offline."""
    page, refused = offline_page
    page.goto(viz_lab.url())
    page.wait_for_selector(".jp-Notebook")
    page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click()
    run_every_cell(page, viz_lab)
    cells = page.locator(".jp-Notebook .jp-Cell")
    printed = cells.nth(5).locator(".jp-OutputArea-output").filter(has_text="pygraphviz ids:")
    printed.wait_for()
    native = json.loads(printed.inner_text().split("pygraphviz ids:", 1)[1])
    # The static migration graph (a cell's output): Graphviz in the page gave every node pygraphviz's id.
    graph_picture = cells.nth(4).locator(".mk-picture")
    graph_picture.locator("svg g.node").first.wait_for()
    assert drawn_ids(graph_picture) == native and any(title.startswith("boards.") for _id, title in native)
    # The static schema diagram: drawn, named for screen readers, never narrower than readable text.
    schema = cells.nth(3).locator(".mk-picture")
    schema.locator("svg g.node").first.wait_for()
    assert schema.get_attribute("aria-label").startswith("A diagram of ") and "boards_" in schema.get_attribute(
        "aria-label"
    )
    assert schema.locator("svg").evaluate("(svg) => parseFloat(svg.style.minWidth)") > 0
    # The panel: its graph drawn in the page, a click goes to Python and back, the time machine's schema redraws.
    panel = page.locator(".mk-lab").first
    panel.locator(".mk-graph-view svg g.node").first.wait_for()
    panel_ids = {title for _id, title in drawn_ids(panel.locator(".mk-graph-view"))}
    assert {title for _id, title in native if not title.startswith("lane:")} <= panel_ids
    travel_by_clicking(page, "viz-js")
    assert_widgets_rendered(page)
    load, start, drawings = page.evaluate(
        "() => ['LoadMs', 'ImportMs', 'RenderMs'].map((name) => globalThis[`__migrationKitViz${name}`])"
    )
    print(f"viz-js: asked to ready {load:.0f} ms (import {start:.0f} ms), drawings {[round(d) for d in drawings]} ms")
    assert refused == [], f"the page asked other hosts: {refused[:5]}"


def test_voila_page_buttons_work(voila: JupyterServer, page) -> None:
    """Load the notebook as a Voila app, click a migration in the graph, confirm, move the time machine."""
    page.goto(voila.url(), timeout=90_000)
    travel_by_clicking(page, "voila")


# ----- readable for everyone: both themes, axe-core, contrast, overflow, focus --------------------------------

THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}
LESSONS = {"02": "02-adding-the-views-field.ipynb", "05": "05-rollback-playground.ipynb"}
SERIOUS = ("serious", "critical")


def run_every_cell(page, server: JupyterServer) -> None:
    """Run every cell and wait until each code cell has its execution count."""
    run_all_cells(page, server)
    page.wait_for_function(
        """() => {
          const prompts = Array.from(document.querySelectorAll(".jp-CodeCell .jp-InputPrompt"));
          return prompts.length > 0 && prompts.every((p) => /\\[\\d+\\]/.test(p.textContent));
        }""",
        timeout=240_000,
    )


def open_preview_by_keyboard(page) -> None:
    """Tab to a migration of the graph, press Enter: the preview opens and focus lands on confirm rollback."""
    panel = page.locator(".mk-lab").first
    node = graph_node(panel, "app.0001_initial")
    node.wait_for()
    node.focus()
    page.keyboard.press("Enter")
    panel.locator(".mk-confirm-box").wait_for()
    idle(page)
    page.wait_for_function("() => document.activeElement && document.activeElement.classList.contains('mk-confirm')")
    ring = page.evaluate(
        """() => {
          const style = getComputedStyle(document.activeElement);
          const box = getComputedStyle(document.activeElement.closest('.mk-confirm-box'));
          return { style: style.outlineStyle, width: parseFloat(style.outlineWidth), colour: style.outlineColor,
                   offset: parseFloat(style.outlineOffset), around: box.backgroundColor };
        }"""
    )
    # A ring anyone can see: solid, 2 px or more, outside the red button, 3:1 against the box around it.
    assert ring["style"] == "solid" and ring["width"] >= 2 and ring["offset"] >= 1, ring
    assert contrast(ring["colour"], ring["around"]) >= 3, ring


def smallest_graph_text(view) -> float:
    """Return the size in CSS pixels of the smallest text the interactive graph draws now."""
    return view.evaluate(
        """(el) => {
          const canvas = el.querySelector(".mk-graph-canvas");
          const scale = new DOMMatrix(getComputedStyle(canvas).transform).a;
          const sizes = Array.from(canvas.querySelectorAll("text")).map((t) => parseFloat(t.getAttribute("font-size")));
          return Math.min(...sizes) * scale;
        }"""
    )


def check_graph_behaviour(page) -> None:
    """Confirm by keyboard under a hover card, search and clear, resize: the glitches of issue 21 stay fixed."""
    panel = page.locator(".mk-lab").first
    view = panel.locator(".mk-graph-view")
    styles = page.evaluate(
        """() => {
          const term = getComputedStyle(document.querySelector(".mk-lab pre.mk-term"));
          const editor = getComputedStyle(document.querySelector(".mk-lab .mk-editor textarea"));
          return { words: term.wordBreak, wrap: term.overflowWrap, code: editor.whiteSpace };
        }"""
    )
    # The terminal wraps between words ("backwards", not "backwar/ds"); code keeps its indentation.
    assert styles == {"words": "normal", "wrap": "break-word", "code": "pre"}, styles
    assert smallest_graph_text(view) >= 10.99
    # Names a screen reader says, the status line it announces, nodes the keyboard reaches.
    for name in ("zoom in", "zoom out", "fit"):
        assert view.get_by_role("button", name=name, exact=True).count() == 1, name
    assert panel.get_by_role("textbox", name="--name", exact=True).count() == 1
    assert panel.locator(".mk-status [role='status'][aria-live='polite']").count() == 1
    nodes = view.locator("g.node.mk-clickable")
    assert nodes.count() > 0 and nodes.count() == view.locator("g.node[tabindex='0'][role='button']").count()
    assert "app.0001_initial" in view.locator(".mk-graph-text").text_content()
    leaf = graph_node(panel, "app.0002_added_Book_model")
    leaf.hover()
    card = view.locator(".mk-graph-card")
    card.filter(has_text=re.compile(r"\(applied\b")).wait_for()
    page.keyboard.press("Enter")  # the focus is on confirm rollback
    panel.locator(".mk-confirm-box").wait_for(state="hidden")
    idle(page)
    # The card under the pointer follows the redraw: the leaf is no longer applied.
    card.filter(has_text=re.compile(r"\(not applied\b")).wait_for()
    assert "(applied" not in card.inner_text()
    search = view.locator(".mk-graph-search")
    search.fill("0001")
    assert view.locator("g.node.mk-match").count() >= 1 and view.locator("g.node.mk-current").count() == 1
    search.fill("")
    # Cleared: no node keeps the search's marks (the last match used to keep a thick border).
    assert view.locator("g.node.mk-current, g.node.mk-match").count() == 0
    before = view.locator(".mk-graph-canvas").evaluate("(el) => el.style.transform")
    page.set_viewport_size({"width": 1000, "height": 900})
    page.wait_for_function(
        "([el, before]) => el.style.transform !== before",
        arg=[view.locator(".mk-graph-canvas").element_handle(), before],
    )
    assert smallest_graph_text(view) >= 10.99  # fitted again to the narrower view, text still readable
    # The rows the rollback changed, highlighted in the panel's tables: legible in this theme too.
    for title in ("django_migrations", "rows"):
        open_tab(panel, title)
        panel.locator(f".mk-view-{title.replace('_', '-')} table td").first.wait_for()
        faint = low_contrast(page, ".mk-lab .mk-views")
        assert not faint, [(t.where, t.text, round(t.ratio, 2)) for t in faint]
    # The table the rollback dropped is highlighted (so the check above measured a coloured row).
    dropped = panel.locator(".mk-view-rows table td").filter(has_text="app_book").first
    assert dropped.evaluate("(el) => getComputedStyle(el).backgroundColor") != "rgba(0, 0, 0, 0)"


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_is_readable(lesson: str, theme: str, page, tmp_path: Path) -> None:
    """Lessons 02 and 05 in both themes, file browser open at 1,400 x 900: axe, contrast, overflow, focus."""
    if not AXE.is_file():
        pytest.skip(f"No {AXE.relative_to(REPO)}. Fix: run 'make proxy' (npm ci installs axe-core).")
    server = start_server("lab", REPO / "notebooks" / LESSONS[lesson], tmp_path, theme=THEMES[theme])
    try:
        page.goto(server.url())
        page.wait_for_selector(".jp-Notebook")
        assert page.locator(".jp-FileBrowser").first.is_visible()  # the default layout: the file browser open
        assert page.evaluate("() => document.body.dataset.jpThemeLight") == str(theme == "light").lower()
        run_every_cell(page, server)
        assert_widgets_rendered(page)
        if lesson == "05":
            open_preview_by_keyboard(page)
            panel = page.locator(".mk-lab").first
            panel.scroll_into_view_if_needed()
            shoot(panel, f"readable-{lesson}-{theme}-panel")
        serious = [v for v in axe_violations(page) if v["impact"] in SERIOUS]
        faint = low_contrast(page)
        cut = clipped(page)
        report = {
            "axe": [(v["id"], v["impact"], len(v["nodes"]), v["nodes"][:3]) for v in serious],
            "contrast": [(t.where, t.text, round(t.ratio, 2), t.colour, t.background) for t in faint[:20]],
            "clipped": cut[:20],
        }
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"readable-{lesson}-{theme}.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
        assert not serious, f"axe-core: {report['axe']}"
        assert not faint, f"{len(faint)} text(s) below WCAG AA contrast: {report['contrast']}"
        assert not cut, f"cut off or scrolled sideways at 1,400 x 900: {report['clipped']}"
        if lesson == "05":
            check_graph_behaviour(page)
    finally:
        server.stop()
