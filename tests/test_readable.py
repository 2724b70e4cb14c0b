"""Readable for everyone: the kit's HTML in the dark theme, names for screen readers, focus, and glitches fixed.

The browser test checks the same in a real page (axe-core, measured contrast,
focus); these tests check, without a browser, the HTML and widget traits the
kit generates.
"""

from __future__ import annotations

import re

import pytest

from widgets.draw.graphs import draw_migration_graph, migration_view
from widgets.draw.palette import UI, contrast
from widgets.draw.render import picture_html, readable_width
from widgets.draw.tables import _style
from widgets.lab.graph_widget import GraphView, graph_summary
from widgets.lab.lab_widgets import LiveStatus, ModelEditor, QuestionBox, RollbackBox
from widgets.lab.session import PendingRollback
from widgets.read.rollback import DROP_COLUMNS, RollbackPreview
from widgets.read.state import Plan, PlanStep, graph_from_answer
from widgets.read.table import StyledTable, make_table

DARK = 'body[data-jp-theme-light="false"]'


def _node(app: str, name: str, applied: bool = True) -> dict:
    return {
        "app_label": app,
        "name": name,
        "applied": applied,
        "recorded": applied,
        "replaces": [],
        "replaces_recorded": 0,
        "recorded_replaced": [],
        "replaced_by": None,
        "initial": name.startswith("0001"),
        "operations": [f"Create model {name}"],
        "data": False,
    }


def _graph(auth_applied: bool = True):
    """Django's auth (not drawn: another app) and a shop app of two migrations, the second not applied."""
    nodes = [_node("auth", "0001_initial", auth_applied), _node("shop", "0001_initial", auth_applied)]
    nodes.append(_node("shop", "0002_price", False))
    edges = [[["auth", "0001_initial"], ["shop", "0001_initial"]], [["shop", "0001_initial"], ["shop", "0002_price"]]]
    return graph_from_answer(
        {
            "nodes": nodes,
            "edges": edges,
            "leaf_nodes": {"auth": ["0001_initial"], "shop": ["0002_price"]},
            "conflicts": {},
            "apps": {
                "auth": {"module": "django.contrib.auth", "contrib": True},
                "shop": {"module": "shop", "contrib": False},
            },
            "recorded_unknown": [],
        }
    )


def _dot_style(dot: str, node_id: str) -> str:
    attributes = re.search(rf'"{re.escape(node_id)}" \[(.*?)\]', dot, re.S).group(1)
    return re.search(r'style="([^"]*)"', attributes).group(1)


def _preview(reversible: bool = True) -> RollbackPreview:
    operation = {"description": "Add field price to item", "reversible": reversible}
    step = PlanStep("shop", "0002_price", True, [operation])
    drops = make_table(
        [{"step": 1, "migration": "shop.0002_price", "table": "shop_item", "column": "price", "rows_lost": 3}],
        DROP_COLUMNS,
    )
    return RollbackPreview(
        "shop", "0001_initial", Plan("shop", "0001_initial", [step]), [("shop", "0002_price", "DROP")], drops
    )


# ----- contrast: the HTML outputs take every colour from the palette, light and dark ----------------------


def test_highlighted_rows_bring_their_dark_colours() -> None:
    frame = make_table([("shop", "0001_initial", "applied"), ("shop", "0002_price", "")], ["app", "name", "change"])
    page = _style(frame, ["applied", ""], [])._repr_html_()
    assert page.startswith('<div class="mk-table"><style>')
    assert f"{DARK} .mk-table {{" in page and f"--mk-applied-row: {UI['applied-row'][1]};" in page
    assert "background-color: var(--mk-applied-row, #c8e6c9)" in page and "color: var(--mk-text, #212121)" in page
    # The dark row with the dark theme's text: legible (white on pale green was 1.4:1).
    assert contrast(UI["text"][1], UI["applied-row"][1]) >= 4.5
    assert contrast("#ffffff", "#c8e6c9") < 1.5


def test_the_rollback_preview_has_no_colour_of_its_own_and_wraps() -> None:
    page = _preview(reversible=False)._repr_html_()
    assert (
        "Irreversible" in page
        and page.startswith('<div class="mk-rollback"><style>')
        and f"{DARK} .mk-rollback" in page
    )
    assert ".mk-rollback td, .mk-rollback th { white-space: normal; overflow-wrap: break-word; }" in page
    assert "<td>shop.<wbr>0002_<wbr>price</td>" in page  # long names wrap at their joints, not mid-word
    body = page.split("</style>", 1)[1]
    # A colour only as the fallback of a palette variable, never a light background the theme's white text lands on.
    assert "background" not in body
    assert re.findall(r"#[0-9a-fA-F]{3,8}\b|rgb", body) == ["#b71c1c"] and "var(--mk-fail, #b71c1c)" in body


def test_a_table_keeps_its_plain_text_form() -> None:
    table = StyledTable(make_table([("shop_item", 3)], ["table", "rows"]))
    assert repr(table).split() == ["table", "rows", "shop_item", "3"]


# ----- keyboard and screen reader ---------------------------------------------------------------------------


def test_every_text_box_has_a_name_a_screen_reader_says() -> None:
    """A tooltip without a description becomes the input's title, its accessible name in ipywidgets 8."""
    for box in [QuestionBox().default_text, ModelEditor().editor]:
        assert box.tooltip and not box.description, box


def test_the_status_line_is_announced() -> None:
    status = LiveStatus(value="<p class='mk-ok'>✔ migrated</p>")
    assert status.live == "polite"
    assert (
        'setAttribute("aria-live", model.get("live"))' in status._esm
        and 'setAttribute("role", "status")' in status._esm
    )
    assert repr(status) == "LiveStatus(\"<p class='mk-ok'>✔ migrated</p>\")"


def test_a_new_preview_takes_the_focus_once() -> None:
    box = RollbackBox()
    assert (box.focus_mover.scope, box.focus_mover.target) == (".mk-confirm-box", ".mk-confirm")
    assert "mk-confirm" in box.confirm_button._dom_classes and box.focus_mover.requests == 0
    pending = PendingRollback(_preview().plan, _preview())
    box.display(pending)
    assert box.focus_mover.requests == 1 and box.layout.display == ""
    box.display(pending)  # redrawn after another view changed: the learner's focus stays where it is
    assert box.focus_mover.requests == 1
    box.display(None)
    box.display(PendingRollback(_preview().plan, _preview()))
    assert box.focus_mover.requests == 2


def test_the_graph_has_a_text_alternative() -> None:
    drawing, dot = migration_view(_graph(), legend=False)
    view = GraphView()
    view.show(drawing, "<svg></svg>", {"shop.0002_price": "click to migrate shop to here"})
    lines = view.summary.splitlines()
    assert lines[0] == f"The migration graph has {len(drawing.nodes)} node(s), in the order Tab visits them:"
    assert any(line.startswith("shop.0002_price") and "click to migrate shop to here" in line for line in lines)
    assert len(lines) == len(drawing.nodes) + 1
    assert graph_summary({}) == ""


# ----- glitches ---------------------------------------------------------------------------------------


def test_another_apps_applied_migration_is_not_drawn_dashed() -> None:
    _drawing, dot = migration_view(_graph(auth_applied=True), legend=False)
    assert "dashed" not in _dot_style(dot.source, "auth.0001_initial")
    assert "dashed" in _dot_style(dot.source, "shop.0002_price")  # not applied: dashed, as the legend says
    _drawing, dot = migration_view(_graph(auth_applied=False), legend=False)
    assert "dashed" in _dot_style(dot.source, "auth.0001_initial")


def test_a_static_picture_has_a_text_alternative() -> None:
    """JupyterLab draws image/svg+xml as an <img> without alt: the HTML form it prefers is named."""
    bundle = draw_migration_graph(_graph())._repr_mimebundle_()
    page = bundle["text/html"]
    assert page.startswith('<div class="mk-picture-box" data-needs="')
    assert '<div class="mk-picture" role="img" tabindex="0" aria-label="A diagram of 3 node(s): ' in page
    label = page.split('aria-label="', 1)[1].split('"', 1)[0]
    assert label == "A diagram of 3 node(s): auth.0001_initial, shop.0001_initial, shop.0002_price."
    assert "<svg" in page and "<?xml" not in page and bundle["image/svg+xml"].count("<svg") == 1


def test_a_static_picture_uses_the_cells_width_but_never_shrinks_text_below_11_px() -> None:
    svg = draw_migration_graph(_graph())._repr_mimebundle_()["image/svg+xml"]
    assert 'class="graph" transform="scale(1 1)' in svg  # no cap at 8 inches (768 px): the cell decides
    width = float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1)) * 4 / 3
    smallest = min(float(s) for s in re.findall(r'font-size="([\d.]+)"', svg)) * 4 / 3
    narrowest = readable_width(svg)
    assert narrowest == pytest.approx(width * 11 / smallest, abs=0.1) and narrowest < width
    assert readable_width(svg, smallest=100) == pytest.approx(width, abs=0.1)  # never wider than drawn
    page = picture_html(svg)
    assert f'<svg style="min-width: {narrowest}px" ' in page and "overflow-x: auto" in page and 'tabindex="0"' in page
    # Narrower than that, a sentence under the picture says how to see the rest (and only then).
    assert f"@container (max-width: {narrowest - 0.5:g}px)" in page and "scroll it sideways" in page
