"""The browser edition's renderer: Python sends DOT with the kit's own positions, the page draws it (viz-js)."""

from __future__ import annotations

import html
import re
import sys
import uuid

import pygraphviz
import pytest

from widgets import KitError
from widgets.draw.graphs import draw_migration_graph, draw_schema
from widgets.draw.render import IN_BROWSER, RENDERER_ENV, VIZ_JS, KitDigraph, renderer, save, to_svg
from widgets.lab.graph_widget import GraphView
from widgets.lab.panel_views import as_html
from widgets.lab.viz_widget import VIZ_SOURCES, Picture, viz_module

MARKUP = re.compile(r'<div class="mk-viz" data-engine="([^"]*)" data-dot="([^"]*)">')


def placeholder(markup: str) -> tuple[str, str]:
    """Return the engine and the DOT text a view's HTML asks the page to draw."""
    found = MARKUP.search(markup)
    assert found, markup[:200]
    return html.unescape(found.group(1)), html.unescape(found.group(2))


def titles(svg: str) -> list[tuple[str, str]]:
    """Return every node group's SVG id and title, in drawing order: what graph.js clicks and searches by."""
    return re.findall(r'<g id="(node\d+)" class="node[^"]*">\s*<title>([^<]*)</title>', svg)


def test_the_browser_chooses_viz_js(monkeypatch):
    monkeypatch.delenv(RENDERER_ENV, raising=False)
    monkeypatch.setattr(sys, "platform", "emscripten")
    assert renderer() == VIZ_JS
    monkeypatch.setenv(RENDERER_ENV, "pygraphviz")  # forced choices still win
    assert renderer() == "pygraphviz"


def test_viz_js_sends_the_kits_positions_and_ids(sandbox, monkeypatch):
    native = draw_migration_graph(sandbox)
    native_svg = to_svg(native)
    monkeypatch.setenv(RENDERER_ENV, VIZ_JS)
    graph = draw_migration_graph(sandbox)
    engine, dot = placeholder(graph.picture())
    # Graphviz only draws what the kit placed (neato -n2): every node carries the lane layout's position.
    assert engine == "nop2"
    placed = pygraphviz.AGraph(string=dot)
    assert placed.nodes() and all(re.fullmatch(r"-?[\d.]+,-?[\d.]+", node.attr["pos"] or "") for node in placed.nodes())
    # The same Graphviz on the DOT sent to the page draws the very picture the installed kit shows.
    drawn = placed.draw(format="svg", prog=engine).decode()
    assert titles(drawn) == titles(native_svg) and any(t.startswith("boards.") for _id, t in titles(drawn))
    assert re.sub(r"<!--.*?-->\s*", "", drawn, flags=re.S) == re.sub(r"<!--.*?-->\s*", "", native_svg, flags=re.S)


def test_viz_js_views_and_outputs_carry_dot(sandbox, monkeypatch):
    monkeypatch.setenv(RENDERER_ENV, VIZ_JS)
    schema = draw_schema(sandbox)
    engine, dot = placeholder(as_html(schema))  # what the panel's GraphView and the time machine get
    assert engine == "dot" and dot == schema.source
    # A cell's output is a small widget (JupyterLab runs no script in a static output); without widgets, one sentence.
    bundle = schema._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and "image/svg+xml" not in bundle
    assert placeholder(bundle["text/html"]) == (engine, dot)


def test_viz_js_cannot_write_pictures_but_writes_dot(monkeypatch, tmp_path):
    monkeypatch.setenv(RENDERER_ENV, VIZ_JS)
    small = KitDigraph("g")
    small.edge("boards.0001_initial", "boards.0002_post")
    with pytest.raises(KitError, match=re.escape(IN_BROWSER)):
        save(small, tmp_path / "g.svg")
    assert save(small, tmp_path / "g.dot").read_text() == small.source


def test_the_page_gets_graphviz_from_the_kit(monkeypatch):
    if not any(path.is_file() for path in VIZ_SOURCES):
        pytest.skip("No @viz-js/viz here: make runs npm ci, which installs it into node_modules.")
    module = viz_module()
    # One self-contained ES module: it imports nothing, so the page needs no network to draw.
    assert "export {" in module and "instance" in module and not re.search(r"^import ", module, re.M)
    assert GraphView._esm.index("function vizFragment") < GraphView._esm.index("function render(")


class Recorded(Picture):
    """A Picture whose messages to the page are kept here (no page in a unit test)."""

    def send(self, content: dict, buffers=None) -> None:
        self.__dict__.setdefault("sent", []).append(content)


def test_a_page_gets_graphviz_once_however_often_it_asks():
    if not any(path.is_file() for path in VIZ_SOURCES):
        pytest.skip("No @viz-js/viz here: make runs npm ci, which installs it into node_modules.")
    first, second = Recorded(), Recorded()
    page_a, page_b = uuid.uuid4().hex, uuid.uuid4().hex  # the kit remembers pages for the kernel's lifetime
    # A busy kernel answers late, so the page asks again (viz_draw.js), maybe from another view.
    for view in (first, first, second):
        assert view._answer_viz({"event": "viz", "page": page_a})
    second._answer_viz({"event": "viz", "page": page_b})  # a reloaded page has nothing: it gets it again
    assert [m["module"] == viz_module() for m in first.__dict__.get("sent", [])] == [True]
    assert len(second.__dict__.get("sent", [])) == 1
    assert not first._answer_viz({"event": "click", "id": "boards.0001_initial"})
