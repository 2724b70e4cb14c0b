"""Graphviz as WebAssembly in the page, for where Python cannot draw (the browser edition).

With the ``viz-js`` renderer (widgets/draw/render.py) the kit's views get HTML
holding DOT instead of SVG. Their JavaScript (``static/viz_draw.js``) asks the
kernel once per page for @viz-js/viz, a 1.2 MB ES module from npm that the kit
ships beside it (never a CDN), keeps it on ``globalThis`` and draws there.
``Picture`` is the small widget that shows a graph or schema diagram as a
cell's output, since JupyterLab does not run a static output's scripts.
"""

from __future__ import annotations

import functools
import typing
from pathlib import Path

import anywidget
import traitlets

from widgets.sandbox.paths import REPO_ROOT

__all__ = ["VIZ_SOURCES", "Picture", "VizHost", "viz_module"]

STATIC = Path(__file__).with_name("static")
# The wheel carries the module in the package (scripts/build_lite.py); a checkout has it from `make` in node_modules.
VIZ_SOURCES = (STATIC / "vendor" / "viz.js", REPO_ROOT / "node_modules" / "@viz-js" / "viz" / "dist" / "viz.js")
MISSING = (
    "The kit cannot find Graphviz for the browser (@viz-js/viz). "
    "Fix: run make (npm ci installs it into node_modules), or install the kit's wheel built by make lite."
)


@functools.cache
def viz_module() -> str:
    """Return the text of the @viz-js/viz ES module the kit ships; raise FileNotFoundError with the fix if absent."""
    for path in VIZ_SOURCES:
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise FileNotFoundError(MISSING)


def viz_script(name: str) -> str:
    """Return a front-end module with the shared drawing code (viz_draw.js) in front of it."""
    return (STATIC / "viz_draw.js").read_text(encoding="utf-8") + "\n" + (STATIC / name).read_text(encoding="utf-8")


class VizHost:
    """Answer a view's request for @viz-js/viz: the first view on a page asks, the page keeps it."""

    # Pages already sent the module (a page asks again while a busy kernel has not answered yet).
    _viz_pages: typing.ClassVar[set[str]] = set()

    def _answer_viz(self, content: dict) -> bool:
        """Send the module if ``content`` asks for it and its page has none yet; return whether it asked."""
        if not (isinstance(content, dict) and content.get("event") == "viz"):
            return False
        page = str(content.get("page", ""))
        if page and page in VizHost._viz_pages:
            return True
        try:
            self.send({"event": "viz", "module": viz_module()})  # type: ignore[attr-defined]
        except FileNotFoundError as exc:
            self.send({"event": "viz", "error": str(exc)})  # type: ignore[attr-defined]
            return True
        VizHost._viz_pages.add(page)
        return True


class Picture(VizHost, anywidget.AnyWidget):
    """Show one graph or schema diagram, drawn in the page from the DOT in ``markup`` (render.browser_markup)."""

    _esm = viz_script("picture.js")
    _css = ".mk-picture { overflow-x: auto; } .mk-picture svg { max-width: 100%; height: auto; }"

    markup = traitlets.Unicode("").tag(sync=True)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.on_msg(lambda _widget, content, _buffers: self._answer_viz(content))

    def __repr__(self) -> str:
        # anywidget's repr is the object's address, which changes on every run.
        return "Picture()"
