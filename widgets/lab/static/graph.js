// The kit's interactive migration graph: the SVG the kit draws, with pan, zoom, search, hover cards and clicks.
// An anywidget front-end module shipped as a plain file (no CDN, no build step), after viz_draw.js (viz_widget.py).
// The widget decides nothing: a click only sends the node's id to Python, which answers with a new SVG.

const MIN_SCALE = 0.05;
const MAX_SCALE = 6;
const DRAG_SLOP = 4; // pixels a press may move and still count as a click
const MIN_TEXT_PX = 11; // fit never draws the picture's smallest text smaller than this

function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function nodeId(group) {
  const title = group.querySelector(":scope > title");
  return title ? title.textContent : "";
}

function render({ model, el }) {
  el.classList.add("mk-graph");
  const bar = make("div", "mk-graph-bar");
  const search = make("input", "mk-graph-search");
  search.type = "search";
  search.placeholder = model.get("placeholder") || "find by name";
  search.setAttribute("aria-label", search.placeholder);
  const found = make("span", "mk-graph-found");
  const zoomOut = make("button", "mk-graph-zoom-out", "−");
  const zoomIn = make("button", "mk-graph-zoom-in", "+");
  const fitButton = make("button", "mk-graph-fit", "fit");
  // Screen readers say a button's name: "−" and "+" say nothing.
  zoomOut.setAttribute("aria-label", "zoom out");
  zoomIn.setAttribute("aria-label", "zoom in");
  fitButton.setAttribute("aria-label", "fit");
  zoomOut.title = "zoom out (or Ctrl + wheel)";
  zoomIn.title = "zoom in (or Ctrl + wheel)";
  fitButton.title = "fit the graph in view, at a readable size";
  for (const button of [zoomOut, zoomIn, fitButton]) button.type = "button";
  found.setAttribute("aria-live", "polite");
  const hint = make("span", "mk-graph-hint");
  const partNote = make("span", "mk-graph-found mk-graph-part-note");
  bar.append(search, found, zoomOut, zoomIn, fitButton, partNote, hint);
  const legend = make("div", "mk-graph-legend");
  const viewport = make("div", "mk-graph-viewport");
  const canvas = make("div", "mk-graph-canvas");
  const card = make("div", "mk-graph-card");
  // The picture's text alternative: every node and its state, for screen readers (Python writes it).
  const summary = make("div", "mk-graph-text");
  summary.id = `mk-graph-text-${Math.random().toString(36).slice(2)}`;
  viewport.setAttribute("role", "group");
  viewport.setAttribute("aria-describedby", summary.id);
  viewport.append(canvas, card);
  el.append(bar, legend, viewport, summary);

  let scale = 1;
  let tx = 0;
  let ty = 0;
  let size = null; // the drawn graph's size, to keep the view when only colours change
  let matches = [];
  let current = -1;
  let hovered = null; // the node under the pointer (or focused) and where, to keep its card current
  let viewSize = null; // the viewport's size at the last fit, to fit again when it changes

  const apply = () => {
    canvas.style.transform = `translate(${tx}px, ${ty}px) scale(${scale})`;
  };

  const svgSize = () => {
    const svg = canvas.querySelector("svg");
    if (!svg || !svg.viewBox || !svg.viewBox.baseVal) return null;
    return { width: svg.viewBox.baseVal.width, height: svg.viewBox.baseVal.height };
  };

  // The smallest text the picture draws, in SVG units (Graphviz writes font-size on every text).
  const smallestText = () => {
    const sizes = Array.from(canvas.querySelectorAll("text"))
      .map((text) => parseFloat(text.getAttribute("font-size")))
      .filter((size) => size > 0);
    return sizes.length ? Math.min(...sizes) : 14;
  };

  const fit = () => {
    const drawn = svgSize();
    const width = viewport.clientWidth;
    const height = viewport.clientHeight;
    if (!drawn || !width || !height) return;
    viewSize = { width, height };
    const whole = Math.min(width / drawn.width, height / drawn.height, 1.6);
    // Too small to read when whole: show the top of the picture at a readable size and say how to see the rest.
    const readable = MIN_TEXT_PX / smallestText();
    scale = Math.max(MIN_SCALE, whole, Math.min(readable, 1.6));
    const part = scale > whole + 1e-6;
    tx = part && drawn.width * scale > width ? 0 : (width - drawn.width * scale) / 2;
    ty = Math.max(0, (height - drawn.height * scale) / 2);
    el.classList.toggle("mk-graph-part", part);
    partNote.textContent = part ? "Part of the picture, at a readable size: drag to see the rest, or − to zoom out." : "";
    apply();
  };

  const zoomAt = (factor, x, y) => {
    const next = Math.min(MAX_SCALE, Math.max(MIN_SCALE, scale * factor));
    tx = x - ((x - tx) * next) / scale;
    ty = y - ((y - ty) * next) / scale;
    scale = next;
    apply();
  };

  const zoomCentre = (factor) => zoomAt(factor, viewport.clientWidth / 2, viewport.clientHeight / 2);

  const nodes = () => Array.from(canvas.querySelectorAll("g.node")).filter((g) => !g.classList.contains("app"));

  const mark = () => {
    const selected = model.get("selected");
    for (const group of nodes()) {
      group.classList.toggle("mk-selected", nodeId(group) === selected && selected !== "");
    }
  };

  const showLegend = () => {
    legend.replaceChildren();
    for (const [text, fill, border] of model.get("legend") || []) {
      const item = make("span", "mk-graph-legend-item");
      const swatch = make("span", "mk-graph-swatch");
      swatch.style.background = fill;
      swatch.style.borderColor = border;
      // The legend's words say how the node is drawn: match them in the swatch.
      if (text.includes("(dashed)")) swatch.style.borderStyle = "dashed";
      if (text.includes("(double)")) swatch.style.borderStyle = "double";
      if (text.includes("(thick)") || text.includes("(double)")) swatch.style.borderWidth = "3px";
      item.append(swatch, make("span", "", text));
      legend.append(item);
    }
  };

  let drawing = 0; // the latest picture asked for: one drawn in the page may finish after a newer one
  const showSvg = async () => {
    // Redrawing replaces every node: the one with keyboard focus gets it back, so Enter can be pressed again.
    const focused = document.activeElement && canvas.contains(document.activeElement)
      ? document.activeElement.closest("g.node") : null;
    const focusedId = focused ? nodeId(focused) : "";
    const markup = model.get("svg") || "";
    if (markup.includes('class="mk-viz"')) {
      // The browser edition: DOT to draw here with Graphviz as WebAssembly (viz_draw.js).
      const generation = ++drawing;
      const fragment = await vizFragment(markup, model);
      if (generation !== drawing) return;
      canvas.replaceChildren(fragment);
    } else {
      drawing += 1;
      canvas.innerHTML = markup;
    }
    const svg = canvas.querySelector("svg");
    if (svg && svg.viewBox && svg.viewBox.baseVal) {
      // One SVG unit to one CSS pixel at scale 1; the transform does the zooming.
      svg.setAttribute("width", svg.viewBox.baseVal.width);
      svg.setAttribute("height", svg.viewBox.baseVal.height);
    }
    // The hover card replaces the browser's own tooltips.
    for (const link of canvas.querySelectorAll("a")) link.removeAttribute("xlink:title");
    const cards = model.get("nodes") || {};
    for (const group of nodes()) {
      group.classList.add("mk-clickable");
      // Reachable by Tab, in the drawing's order; Enter or Space does what a click does.
      const info = cards[nodeId(group)];
      group.setAttribute("tabindex", "0");
      group.setAttribute("role", "button");
      const words = info ? [info.title, ...(info.lines || []).slice(0, 1), info.action].filter(Boolean) : [];
      group.setAttribute("aria-label", words.join(", ") || nodeId(group));
    }
    const drawn = svgSize();
    const same = drawn && size && drawn.width === size.width && drawn.height === size.height;
    size = drawn;
    if (!same) requestAnimationFrame(fit);
    mark();
    find(search.value, false);
    if (focusedId) {
      const again = nodes().find((g) => nodeId(g) === focusedId);
      if (again) again.focus({ preventScroll: true });
    }
    refreshCard();
  };

  const centreOn = (group) => {
    const box = group.getBoundingClientRect();
    const view = viewport.getBoundingClientRect();
    tx += view.width / 2 - (box.left - view.left + box.width / 2);
    ty += view.height / 2 - (box.top - view.top + box.height / 2);
    apply();
  };

  function find(text, move) {
    const query = text.trim().toLowerCase();
    const data = model.get("nodes") || {};
    matches = [];
    for (const group of nodes()) {
      const id = nodeId(group);
      const members = (data[id] && data[id].members) || [];
      const hit = query !== "" && [id, ...members].some((name) => name.toLowerCase().includes(query));
      group.classList.toggle("mk-match", hit);
      // "current" only ever marks a match: a search changed or cleared leaves no node marked.
      group.classList.remove("mk-current");
      if (hit) matches.push(group);
    }
    if (!move) current = -1;
    found.textContent = query === "" ? "" : `${matches.length} found`;
    if (move && matches.length) {
      current = (current + 1) % matches.length;
      if (scale < 0.8) zoomCentre(0.8 / scale);
      centreOn(matches[current]);
      matches.forEach((group, i) => group.classList.toggle("mk-current", i === current));
    }
  }

  search.addEventListener("input", () => {
    current = -1;
    find(search.value, true);
  });
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") find(search.value, true);
  });
  zoomIn.addEventListener("click", () => zoomCentre(1.25));
  zoomOut.addEventListener("click", () => zoomCentre(0.8));
  fitButton.addEventListener("click", fit);

  viewport.addEventListener(
    "wheel",
    (event) => {
      // Ctrl + wheel (and a trackpad pinch) zooms; a plain wheel pans, so the page still scrolls past.
      if (!event.ctrlKey && !event.metaKey) return;
      event.preventDefault();
      const view = viewport.getBoundingClientRect();
      zoomAt(Math.exp(-event.deltaY * 0.002), event.clientX - view.left, event.clientY - view.top);
    },
    { passive: false },
  );

  let press = null;
  viewport.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    press = { x: event.clientX, y: event.clientY, tx, ty, moved: false };
  });
  viewport.addEventListener("pointermove", (event) => {
    if (press) {
      const dx = event.clientX - press.x;
      const dy = event.clientY - press.y;
      if (!press.moved && Math.hypot(dx, dy) > DRAG_SLOP) {
        press.moved = true;
        viewport.classList.add("mk-dragging");
        viewport.setPointerCapture(event.pointerId);
      }
      if (press.moved) {
        tx = press.tx + dx;
        ty = press.ty + dy;
        apply();
        return;
      }
    }
    showCard(event);
  });
  const release = (event) => {
    if (!press) return;
    const wasDrag = press.moved;
    press = null;
    viewport.classList.remove("mk-dragging");
    if (wasDrag || event.type !== "pointerup") return;
    const group = event.target.closest ? event.target.closest("g.node") : null;
    activate(group);
  };
  const activate = (group) => {
    if (group && !group.classList.contains("app") && !model.get("busy")) {
      group.classList.add("mk-clicked");
      model.send({ event: "click", id: nodeId(group) });
    }
  };
  canvas.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" && event.key !== " ") return;
    const group = event.target.closest ? event.target.closest("g.node") : null;
    if (!group) return;
    event.preventDefault();
    activate(group);
  });
  canvas.addEventListener("focusin", (event) => {
    const group = event.target.closest ? event.target.closest("g.node") : null;
    if (!group || !group.matches(":focus-visible")) return;
    // A node reached by Tab comes into view, with its card beside it.
    const box = group.getBoundingClientRect();
    const view = viewport.getBoundingClientRect();
    if (box.left < view.left || box.right > view.right || box.top < view.top || box.bottom > view.bottom) {
      centreOn(group);
    }
    const placed = group.getBoundingClientRect();
    showCardFor(group, placed.right, placed.bottom);
  });
  canvas.addEventListener("focusout", () => {
    hovered = null;
    card.style.display = "none";
  });
  viewport.addEventListener("pointerup", release);
  viewport.addEventListener("pointercancel", release);
  viewport.addEventListener("pointerleave", () => {
    hovered = null;
    card.style.display = "none";
  });

  function showCard(event) {
    const group = event.target.closest ? event.target.closest("g.node") : null;
    showCardFor(group, event.clientX, event.clientY);
  }

  function showCardFor(group, clientX, clientY) {
    const id = group ? nodeId(group) : "";
    const info = (model.get("nodes") || {})[id];
    if (!info) {
      hovered = null;
      card.style.display = "none";
      return;
    }
    hovered = { id, clientX, clientY };
    card.replaceChildren(make("div", "mk-graph-card-title", info.title));
    for (const line of info.lines || []) card.append(make("div", "mk-graph-card-line", line));
    if (info.action) card.append(make("div", "mk-graph-card-action", info.action));
    card.style.display = "block";
    const view = viewport.getBoundingClientRect();
    const x = clientX - view.left + 14;
    const y = clientY - view.top + 14;
    card.style.left = `${Math.min(x, Math.max(0, view.width - card.offsetWidth - 4))}px`;
    card.style.top = `${Math.min(y, Math.max(0, view.height - card.offsetHeight - 4))}px`;
  }

  // After a click the node's state changes: the card over it must say the new state, not the old one.
  function refreshCard() {
    if (!hovered) return;
    const group = nodes().find((g) => nodeId(g) === hovered.id);
    showCardFor(group || null, hovered.clientX, hovered.clientY);
  }

  const setHeight = () => {
    viewport.style.height = model.get("height") || "480px";
  };
  const setBusy = () => {
    el.classList.toggle("mk-graph-busy", Boolean(model.get("busy")));
    hint.textContent = model.get("hint") || "";
  };

  const setSummary = () => {
    summary.textContent = model.get("summary") || "";
  };

  setHeight();
  setBusy();
  showLegend();
  setSummary();
  showSvg();
  model.on("change:svg", showSvg);
  model.on("change:nodes", refreshCard);
  model.on("change:summary", setSummary);
  model.on("change:legend", showLegend);
  model.on("change:selected", mark);
  model.on("change:height", () => {
    setHeight();
    fit();
  });
  model.on("change:busy", setBusy);
  model.on("change:hint", setBusy);
  // Fit again whenever the view's size changes: shown from a closed tab, the window or the page zoom resized.
  const observer = new ResizeObserver(() => {
    const width = viewport.clientWidth;
    const height = viewport.clientHeight;
    if (!width || !height) return;
    if (viewSize && viewSize.width === width && viewSize.height === height) return;
    viewport.dataset.fitted = "yes";
    fit();
  });
  observer.observe(viewport);
  return () => observer.disconnect();
}

export default { render };
