"""The interactive migration graph: the kit's SVG with pan, zoom, search, hover cards and clicks (anywidget).

The widget only shows what it is given and forwards clicks: its JavaScript
sends the id of the node clicked ("app.name", a folded run "app.first..last",
a squash) and Python decides what that means. Its front end is plain files
in ``widgets/lab/static/``, shipped with the package: no CDN, no build step, so it
works offline in JupyterLab, Notebook and Voila. In the browser edition the SVG
is DOT that the page draws with Graphviz as WebAssembly (``viz_widget``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import anywidget
import traitlets

from widgets.draw.graphs import MigrationDrawing, legend_rows
from widgets.draw.palette import css_variables
from widgets.lab.viz_widget import VizHost, viz_script

__all__ = ["GraphView", "graph_summary", "node_cards"]

STATIC = Path(__file__).with_name("static")


def node_cards(drawing: MigrationDrawing, actions: dict[str, str] | None = None) -> dict[str, dict]:
    """Return the hover card of every drawn node: its title, its state and operations, what a click does."""
    actions = actions or {}
    cards = {}
    for node in drawing.nodes:
        title, *lines = node.tooltip.split("\n")
        cards[node.id] = {
            "title": title,
            "lines": [op for line in lines for op in line.split("; ")],
            "members": [name for _app, name in node.members],
            "action": actions.get(node.id, ""),
        }
    return cards


def graph_summary(cards: dict[str, dict], what: str = "migration graph") -> str:
    """Return the picture's text alternative: every node in drawing order with its state, what a click does."""
    if not cards:
        return ""
    lines = [f"The {what} has {len(cards)} node(s), in the order Tab visits them:"]
    for card in cards.values():
        words = [card["title"], *card["lines"][:1], card["action"]]
        lines.append("; ".join(w for w in words if w) + ".")
    return "\n".join(lines)


class GraphView(VizHost, anywidget.AnyWidget):
    """Show a migration graph's SVG to pan, zoom, search and click; clicks go to ``on_click`` callbacks."""

    _esm = viz_script("graph.js")
    _css = css_variables(".mk-graph") + "\n" + (STATIC / "graph.css").read_text(encoding="utf-8")

    svg = traitlets.Unicode("").tag(sync=True)
    nodes = traitlets.Dict().tag(sync=True)
    legend = traitlets.List().tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    hint = traitlets.Unicode("").tag(sync=True)
    height = traitlets.Unicode("480px").tag(sync=True)
    placeholder = traitlets.Unicode("find a migration by name").tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)  # the picture's text alternative, for screen readers

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._callbacks: list[Callable[[str], None]] = []
        self.on_msg(self._message)

    def __repr__(self) -> str:
        # anywidget's repr is the object's address, which changes on every run.
        return f"GraphView({len(self.nodes)} nodes)"

    def show(self, drawing: MigrationDrawing, svg: str, actions: dict[str, str] | None = None) -> None:
        """Show a drawing (its SVG, hover cards and legend) in place: the view keeps its pan and zoom."""
        with self.hold_sync():
            self.nodes = node_cards(drawing, actions)
            self.legend = [list(row) for row in legend_rows(drawing)]
            self.summary = graph_summary(self.nodes)
            self.svg = svg

    def on_click(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(node_id)`` when the learner clicks a node."""
        self._callbacks.append(callback)

    def click(self, node_id: str) -> None:
        """Do what a click on the node does in the browser (tests and notebooks use it)."""
        for callback in self._callbacks:
            callback(node_id)

    def _message(self, _widget, content: dict, _buffers) -> None:
        if self._answer_viz(content):
            return
        if isinstance(content, dict) and content.get("event") == "click" and isinstance(content.get("id"), str):
            self.click(content["id"])
