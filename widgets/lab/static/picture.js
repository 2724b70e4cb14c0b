// A picture shown as a cell's output in the browser edition: Graphviz draws the DOT the kit sent, and the
// picture is named for screen readers and never drawn below readable text, as render.py's picture_html does.

function render({ model, el }) {
  const box = document.createElement("div");
  box.className = "mk-picture";
  box.setAttribute("role", "img");
  box.tabIndex = 0; // wider than the cell at readable size: it scrolls sideways, by keyboard too
  box.setAttribute("aria-label", "A diagram drawn by the kit.");
  el.append(box);
  let drawing = 0;
  const show = async () => {
    const generation = ++drawing;
    const fragment = await vizFragment(model.get("markup") || "", model);
    if (generation !== drawing) return;
    box.replaceChildren(fragment);
    const svg = box.querySelector("svg");
    if (!svg) return;
    box.setAttribute("aria-label", vizLabel(svg));
    const narrowest = vizReadableWidth(svg);
    if (narrowest !== null) svg.style.minWidth = `${narrowest}px`;
    el.dataset.drawn = "yes";
  };
  show();
  model.on("change:markup", show);
}

export default { render };
