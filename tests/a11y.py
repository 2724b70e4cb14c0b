"""Accessibility checks of a page's outputs for the browser tests: axe-core, measured contrast, overflow, focus.

axe-core comes from npm (``node_modules/axe-core``, installed by the
Makefile's npm step), never from the network. axe leaves many widget texts
"incomplete" (it cannot tell their background), so the contrast of every
visible text is also measured here: the page reports each text's colour and
the colour of the first opaque background under it, and the palette's WCAG
formula decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from widgets.draw.palette import contrast

__all__ = ["AXE", "Text", "axe_violations", "clipped", "low_contrast", "texts"]

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
OUTPUTS = ".jp-OutputArea-output"

_AXE_RUN = """
async (selector) => {
  const results = await axe.run(
    { include: [[selector]] },
    { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] }, resultTypes: ["violations"] },
  );
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.join(" "), html: n.html.slice(0, 160), summary: n.failureSummary })),
  }));
}
"""

# Every element with text of its own, visible, outside SVG pictures: its colour, its background, its size.
_TEXTS = """
(selector) => {
  const parse = (value) => {
    const m = value.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => [0, 1, 2].map((i) => top[3] * top[i] + (1 - top[3]) * bottom[i]).concat([1]);
  const backdrop = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const style = getComputedStyle(e);
      if (style.backgroundImage !== "none" && !style.backgroundImage.startsWith("linear-gradient")) return null;
      const colour = parse(style.backgroundColor);
      if (colour && colour[3] > 0) {
        layers.push(colour);
        if (colour[3] >= 1) break;
      }
    }
    let result = [255, 255, 255, 1];
    for (const layer of layers.reverse()) result = over(layer, result);
    return result;
  };
  const seen = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const style = getComputedStyle(e);
      if (style.display === "none" || style.visibility === "hidden" || Number(style.opacity) < 0.99) return false;
    }
    const box = el.getBoundingClientRect();
    return box.width > 1 && box.height > 1;
  };
  const found = [];
  for (const root of document.querySelectorAll(selector)) {
    for (const el of root.querySelectorAll("*")) {
      if (el.closest("svg, .mk-graph-text, option, script, style")) continue;
      const own = Array.from(el.childNodes).filter((n) => n.nodeType === 3 && n.textContent.trim()).map((n) => n.textContent.trim());
      if (!own.length || !seen(el)) continue;
      if (el.closest("button:disabled, input:disabled, select:disabled")) continue; // WCAG exempts inactive controls
      const style = getComputedStyle(el);
      const colour = parse(style.color);
      const back = backdrop(el);
      if (!colour || !back) continue;
      found.push({
        text: own.join(" ").slice(0, 60),
        colour: `rgba(${colour.join(", ")})`,
        background: `rgba(${back.join(", ")})`,
        size: parseFloat(style.fontSize),
        bold: Number(style.fontWeight) >= 700,
        where: `${el.tagName.toLowerCase()}.${Array.from(el.classList).join(".")}`,
      });
    }
  }
  return found;
}
"""

# Elements that clip or scroll their content sideways: the outputs themselves, and anything inside them.
_CLIPPED = """
(selector) => {
  const found = [];
  // Panned and zoomed by design, scrolled by design (code keeps its indentation), or visually hidden on purpose.
  const skip = ".mk-graph-viewport, .mk-graph-canvas, textarea, select, svg, .mk-graph-text";
  for (const root of document.querySelectorAll(selector)) {
    for (const el of [root, ...root.querySelectorAll("*")]) {
      if (el.closest(skip)) continue;
      const style = getComputedStyle(el);
      if (style.display === "none" || el.getClientRects().length === 0) continue;
      if (!["hidden", "clip", "auto", "scroll"].includes(style.overflowX)) continue;
      // A picture wider than the cell at readable text size shows a part, if a visible sentence says how to see the rest.
      const more = el.matches(".mk-picture") && el.parentElement.querySelector(":scope > .mk-picture-more");
      if (more && getComputedStyle(more).display !== "none") continue;
      if (el.scrollWidth > el.clientWidth + 1) {
        found.push({
          where: `${el.tagName.toLowerCase()}.${Array.from(el.classList).join(".")}`,
          text: (el.innerText || "").trim().slice(0, 60),
          width: el.clientWidth,
          content: el.scrollWidth,
        });
      }
    }
  }
  return found;
}
"""


@dataclass(frozen=True)
class Text:
    """One visible text of the page, with what it is drawn on."""

    text: str
    colour: str
    background: str
    size: float
    bold: bool
    where: str

    @property
    def ratio(self) -> float:
        """Return its contrast ratio against its background."""
        return contrast(self.colour, self.background)

    @property
    def minimum(self) -> float:
        """Return the ratio WCAG AA asks of it: 3:1 for large text (24 px, or 18.66 px bold), else 4.5:1."""
        large = self.size >= 24 or (self.bold and self.size >= 18.66)
        return 3.0 if large else 4.5


def axe_violations(page, selector: str = OUTPUTS) -> list[dict]:
    """Run axe-core's WCAG 2 A and AA rules on the outputs and return its violations."""
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(_AXE_RUN, selector)


def texts(page, selector: str = OUTPUTS) -> list[Text]:
    """Return every visible text of the outputs with its colour and background."""
    return [Text(**found) for found in page.evaluate(_TEXTS, selector)]


def low_contrast(page, selector: str = OUTPUTS) -> list[Text]:
    """Return the texts below WCAG AA contrast."""
    return [text for text in texts(page, selector) if text.ratio < text.minimum]


def clipped(page, selector: str = OUTPUTS) -> list[dict]:
    """Return the elements whose content is wider than they are (cut off, or scrolled sideways)."""
    return page.evaluate(_CLIPPED, selector)
