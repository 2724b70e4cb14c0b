"""The kit as a static site: JupyterLite and Pyodide in headless Chromium, with no host but 127.0.0.1.

The site is built as ``make lite`` builds it (reused when its inputs are unchanged)
and served on a free loopback port. Every request the page or its workers make to
any other host is refused and recorded; a test fails if there was one. Timings go to
test-artifacts/lite-timings.json. The helpers live in tests/lite_site.py.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator

import pytest
from browser import ARTIFACTS, CHROMIUM_ARGS, browser_skip_reason, chromium_executable
from lite_site import (
    LOCAL_ONLY_ARGS,
    SITE,
    Traffic,
    build_site,
    error_outputs,
    new_context,
    not_run,
    open_notebook,
    output_text,
    put_file,
    put_notebook,
    run_all,
    serve_site,
)

# A static server and a browser are processes; the site's own kernel is the same under either runner.
pytestmark = [pytest.mark.browser, pytest.mark.processes("serves the site and drives a browser")]

TIMINGS = ARTIFACTS / "lite-timings.json"

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


def record(**values) -> None:
    """Add measurements to test-artifacts/lite-timings.json."""
    ARTIFACTS.mkdir(exist_ok=True)
    known = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {}
    TIMINGS.write_text(json.dumps({**known, **values, "load_average": os.getloadavg()}, indent=1))


@pytest.fixture(scope="module")
def site_url() -> Iterator[str]:
    """Build (or reuse) the site and serve it on a free loopback port for the module."""
    reason = browser_skip_reason()
    if reason:
        pytest.skip(reason)
    try:
        build_site()
    except RuntimeError as error:
        pytest.fail(str(error))
    server = serve_site(SITE)
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


@pytest.fixture
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture
def lite_context(lite_chromium, traffic: Traffic, request: pytest.FixtureRequest) -> Iterator:
    """A fresh context (cold cache, empty browser storage) that must not reach any other host."""
    context = new_context(lite_chromium, traffic)
    yield context
    for page in context.pages:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"last-{request.node.name}.png"))
    context.close()
    assert not traffic.refused, f"The site asked hosts other than 127.0.0.1: {sorted(set(traffic.refused))[:10]}"


# --- tests ---------------------------------------------------------------------------------------------


def test_site_is_within_budget(site_url):
    """The whole site, Pyodide and every wheel included, stays within 60 MB."""
    size = sum(p.stat().st_size for p in SITE.rglob("*") if p.is_file())
    record(site_mb=round(size / 1e6, 1))
    assert size <= 60e6, f"The site is {size / 1e6:.1f} MB, over the 60 MB budget."


def test_lesson_opens_at_its_repository_name(lite_context, site_url, traffic):
    """lab/index.html?path=02-adding-the-views-field.ipynb opens lesson 02 with an idle Pyodide kernel."""
    page = lite_context.new_page()
    cold = open_notebook(page, site_url, "02-adding-the-views-field.ipynb")
    second = open_notebook(page, site_url, "02-adding-the-views-field.ipynb")
    print(f"kernel idle after {cold:.1f} s (cold cache), {second:.1f} s (second visit)")
    record(kernel_idle_cold_s=round(cold, 1), kernel_idle_second_visit_s=round(second, 1))
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
    timings = dict(re.findall(r"(setup|migrate)=([0-9.]+)", text))
    record(django_setup_s=float(timings["setup"]), migrate_s=float(timings["migrate"]))


LESSONS = ["02-adding-the-views-field.ipynb", "05-rollback-playground.ipynb"]


def run_lesson(page, site_url: str, path: str) -> list[dict]:
    """Open a lesson, clear its stored outputs, run every cell; fail on a cell not run or any error output."""
    open_notebook(page, site_url, path)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    cells = run_all(page)
    assert not error_outputs(cells), error_outputs(cells)
    assert not not_run(cells), f"{path}: code cells that did not run: {not_run(cells)}"
    return cells


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_runs_in_the_browser(lesson: str, lite_context, site_url):
    """From a clean browser, every cell runs in Pyodide with no error output; in 05 a click in the graph rolls back."""
    page = lite_context.new_page()
    run_lesson(page, site_url, lesson)
    if lesson.startswith("05"):
        node = graph_node(page, "app.0001_initial")
        node.scroll_into_view_if_needed()
        started = time.monotonic()
        node.click()
        page.locator(".mk-lab .mk-confirm-box").wait_for()
        record(click_to_preview_s=round(time.monotonic() - started, 2))
        preview_then_confirm(page)


def preview_then_confirm(page) -> None:
    """Read the rollback preview in lesson 05's panel, click confirm: the later migration is unapplied."""
    confirm_box = page.locator(".mk-lab .mk-confirm-box")
    # JupyterLab skips drawing cells out of view (windowing): bring the panel into view first.
    page.locator(".mk-lab").first.scroll_into_view_if_needed()
    confirm_box.wait_for()
    page.locator(".mk-lab.mk-busy").wait_for(state="detached")
    assert "migrate app 0001_initial" in confirm_box.inner_text(), confirm_box.inner_text()
    assert "0002_added_Book_model" in confirm_box.inner_text(), confirm_box.inner_text()
    confirm_box.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lite-05-rollback-preview.png"))  # the README's (scripts/screenshots.py)
    confirm_box.locator(".mk-confirm").click()
    confirm_box.wait_for(state="hidden")
    page.locator(".mk-lab .mk-status .mk-ok").wait_for()
    page.locator(".mk-lab.mk-busy").wait_for(state="detached")
    assert "unapplied" in graph_node(page, "app.0002_added_Book_model").get_attribute("class")


def graph_node(page, node_id: str):
    """Return a node of the lab's interactive graph by its id ('app.name'), the text of its SVG title."""
    return page.locator(".mk-lab .mk-graph-view g.node").filter(has=page.locator(f"title:text-is('{node_id}')"))


MIGRATIONS = 'sorted(p.name for p in (sandbox.path / "boards" / "migrations").glob("0*.py"))'
KEPT_CELLS = [
    # Before: a sandbox with the views field, an exercise checked (a progress record written).
    "from widgets import Sandbox, scenarios\n"
    "from widgets import exercises as check\n"
    'sandbox = Sandbox.fresh("02-adding-the-views-field")\n'
    "scenarios.add_views_field(sandbox)\n"
    'check.exercise("02-likes-field")  # not solved yet, but counted\n'
    f"print('migrations', {MIGRATIONS})",
    # After a reload: still there, applied; then reset.
    "from widgets import Sandbox\n"
    "from widgets.lessons.progress_record import record_path\n"
    'sandbox = Sandbox.open("02-adding-the-views-field")\n'
    f"print('migrations', {MIGRATIONS})\n"
    'print(sandbox.showmigrations("boards").stdout)\n'
    "print('progress kept', '02-likes-field' in record_path().read_text())\n"
    "sandbox.reset()\n"
    f"print('after reset', {MIGRATIONS})",
    # After another reload: the reset was kept too.
    "from widgets import Sandbox\n"
    'sandbox = Sandbox.open("02-adding-the-views-field")\n'
    f"print('migrations', {MIGRATIONS})\n"
    'print(sandbox.showmigrations("boards").stdout)',
]


def test_sandbox_survives_a_reload(lite_context, site_url):
    """A sandbox made in one page is there after a reload (IndexedDB); a reset is kept across the next one."""
    made, kept, after = outputs_across_reloads(lite_context.new_page(), site_url, "kept", KEPT_CELLS)
    assert "0003_topic_views.py" in made, made
    assert "migrations ['0001_initial.py', '0002_post.py', '0003_topic_views.py']" in kept, kept
    assert "[X] 0003_topic_views" in kept and "progress kept True" in kept, kept
    assert "after reset ['0001_initial.py', '0002_post.py']" in kept, kept
    assert "0003_topic_views" not in after and "[X] 0002_post" in after, after


def outputs_across_reloads(page, site_url: str, prefix: str, sources: list[str]) -> list[str]:
    """Run each source as its own notebook, each in a new page load (a new kernel, memory empty); return its output."""
    page.goto(f"{site_url}/lab/index.html")
    for index, source in enumerate(sources):
        put_notebook(page, f"{prefix}-{index}.ipynb", [source])
    texts = []
    for index in range(len(sources)):
        open_notebook(page, site_url, f"{prefix}-{index}.ipynb")
        cells = run_all(page)
        assert not error_outputs(cells), error_outputs(cells)
        texts.append(output_text(cells[0]))
    return texts


WORKSPACE_CELLS = [
    "from widgets.sandbox.paths import workspace_root\n"
    "root = workspace_root()\n"
    '(root / "notes").mkdir(exist_ok=True)\n'
    '(root / "notes" / "kept.txt").write_text("written before the reload")\n'
    "print('workspace', root)",
    "from widgets.sandbox.paths import workspace_root\n"
    'print(workspace_root(), (workspace_root() / "notes" / "kept.txt").read_text())',
]


def test_workspace_is_kept_in_indexeddb(lite_context, site_url):
    """The workspace is /kit-workspace, not /drive; a file written there is read back after a reload."""
    texts = outputs_across_reloads(lite_context.new_page(), site_url, "workspace", WORKSPACE_CELLS)
    assert texts[0].strip() == "workspace /kit-workspace", texts[0]
    assert texts[1].strip() == "/kit-workspace written before the reload", texts[1]


def test_postgresql_lesson_says_why_in_one_sentence(lite_context, site_url):
    """Lesson 07's setup cell stops with the one sentence saying it needs the installed kit, no traceback."""
    page = lite_context.new_page()
    open_notebook(page, site_url, "07-migrations-in-production.ipynb")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    cells = run_all(page)
    errors = [(i, o) for i, cell in enumerate(cells) for o in cell["outputs"] if o["output_type"] == "error"]
    assert len(errors) == 1, error_outputs(cells)
    index, error = errors[0]
    assert "Sandbox.fresh" in cells[index]["source"], cells[index]["source"]
    assert error["traceback"] == [f"KitError: {error['evalue']}"], error["traceback"]
    assert "needs the installed kit" in error["evalue"] and "make lab" in error["evalue"], error["evalue"]


def shop_zip(*, extra: dict[str, bytes] | None = None) -> bytes:
    """Return the example shop project zipped in one folder, as a learner would zip a project."""
    import io
    import zipfile

    from widgets.sandbox.paths import EXAMPLE_PROJECTS

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as opened:
        for path in sorted((EXAMPLE_PROJECTS / "shop").rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                opened.write(path, "shop/" + path.relative_to(EXAMPLE_PROJECTS / "shop").as_posix())
        for name, content in (extra or {}).items():
            opened.writestr("shop/" + name, content)
    return buffer.getvalue()


UPLOAD_CELLS = [
    "from widgets import Sandbox\n"
    'sandbox = Sandbox.copy_of("shop.zip", "uploaded")\n'
    'print(sandbox.showmigrations("catalog", "orders").stdout)',
    'Sandbox.copy_of("compiled.zip", "compiled")',
]


def test_an_uploaded_project_zip_is_copied(lite_context, site_url):
    """A zip uploaded beside the notebook becomes a sandbox; one with compiled code is refused in one sentence."""
    page = lite_context.new_page()
    page.goto(f"{site_url}/lab/index.html")
    put_file(page, "shop.zip", shop_zip())
    put_file(page, "compiled.zip", shop_zip(extra={"catalog/speedups.so": b"\x7fELF"}))
    put_notebook(page, "upload.ipynb", UPLOAD_CELLS)
    open_notebook(page, site_url, "upload.ipynb")
    cells = run_all(page)
    assert not error_outputs(cells[:1]), error_outputs(cells)
    shown = output_text(cells[0])
    assert "[ ] 0001_squashed_0003_product_sku (3 squashed migrations)" in shown and "0002_order_status" in shown, shown
    (error,) = [o for o in cells[1]["outputs"] if o["output_type"] == "error"]
    assert error["evalue"].startswith("The project holds compiled code (catalog/speedups.so)"), error["evalue"]
    assert error["traceback"] == [f"KitError: {error['evalue']}"], error["traceback"]
