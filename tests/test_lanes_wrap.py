"""A squash of many migrations, expanded, wraps its replaced migrations into rows under it."""

from __future__ import annotations

import re

from widgets.draw.graphs import draw_migration_graph
from widgets.draw.lanes import GAP_Y, MAX_WIDTH, Box, layout
from widgets.read.state import graph_from_answer

SQUASH = "0001_squashed_0034_change_34"
OLD = [f"{n:04d}_change_{n}" for n in range(1, 35)]


def _parts(anchor: str) -> list[Box]:
    return [Box(f"core.{name}", "core", (name, "recorded"), below=anchor) for name in OLD]


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_34_replaced_migrations_wrap_into_rows_no_wider_than_the_page():
    anchor = Box(f"core.{SQUASH}", "core", (SQUASH, "squashes 34 (34 recorded)"))
    parts = _parts(anchor.id)
    placed = layout([anchor, *parts], [], lane_labels={"core": "core"})
    assert placed.width <= MAX_WIDTH
    rows = sorted({placed.positions[p.id][1] for p in parts})
    assert len(rows) >= 2
    assert all(later - earlier >= parts[0].height + GAP_Y for earlier, later in zip(rows, rows[1:], strict=False))
    assert min(rows) > placed.positions[anchor.id][1]  # under the squash
    # Read row by row, left to right, the parts keep the squash's order.
    reading = sorted(parts, key=lambda p: (placed.positions[p.id][1], placed.positions[p.id][0]))
    assert [p.id for p in reading] == [p.id for p in parts]
    boxes = [
        (x - b.width / 2, y - b.height / 2, x + b.width / 2, y + b.height / 2)
        for b in [anchor, *parts]
        for x, y in [placed.positions[b.id]]
    ]
    assert not any(_overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def test_a_few_replaced_migrations_still_hang_in_one_row_under_the_squash():
    anchor = Box("core.0001_squashed_0003", "core", ("0001_squashed_0003", "squashes 3"))
    parts = _parts(anchor.id)[:3]
    placed = layout([anchor, *parts], [], lane_labels={"core": "core"})
    assert len({placed.positions[p.id][1] for p in parts}) == 1
    left = placed.positions[anchor.id][0] - anchor.width / 2
    assert placed.positions[parts[0].id][0] - parts[0].width / 2 == left


def _node(name: str, replaces: list | None = None, replaced_by: str | None = None) -> dict:
    return {
        "app_label": "core",
        "name": name,
        "applied": True,
        "recorded": True,
        "replaces": replaces or [],
        "replaces_recorded": len(replaces or []),
        "recorded_replaced": replaces or [],
        "replaced_by": replaced_by,
        "initial": name.startswith("0001"),
        "operations": [],
        "data": False,
    }


def test_the_expanded_squash_s_dot_positions_stay_inside_the_page():
    answer = {
        "nodes": [_node(SQUASH, [["core", n] for n in OLD]), _node("0035_change_35")],
        "edges": [[["core", SQUASH], ["core", "0035_change_35"]]],
        "leaf_nodes": {"core": ["0035_change_35"]},
        "conflicts": {},
        "apps": {"core": {"module": "core", "contrib": False}},
        "unmigrated_apps": [],
        "recorded_unknown": [],
        "unused_squashes": [],
        "tables": {},
    }
    dot = draw_migration_graph(graph_from_answer(answer), expand=[f"core.{SQUASH}"]).source
    found = re.findall(r'"core\.(\d{4}_change_\d+)" \[[^\]]*pos="([\d.]+),(-?[\d.]+)"', dot)
    placed = {name: (float(x), float(y)) for name, x, y in found if name in OLD}
    assert sorted(placed) == sorted(OLD)
    assert max(x for x, _ in placed.values()) <= MAX_WIDTH
    assert len({y for _, y in placed.values()}) >= 2  # rows, not one row thousands of points wide
