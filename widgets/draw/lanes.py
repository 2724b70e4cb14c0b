"""Lay a migration history out as lanes: one row per app, its migrations in order along it.

A migration history is mostly one chain per app, so the kit places nodes
itself instead of asking a general layout engine to untangle it: apps are
lanes, ordered so that apps other apps depend on come first; a migration's
column is its distance from the start of its app; branches of one app (two
leaf nodes, a merge) stack inside the lane; a lane wider than the page wraps
onto a second row. Graphviz then only draws the given positions (``neato
-n2``), which takes milliseconds where ``dot`` needed seconds on real projects.
Pure functions of plain values: no I/O.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from dataclasses import dataclass, field

__all__ = ["Box", "Layout", "layout", "text_width"]

# Sizes in points (1/72 inch), as Graphviz measures them.
CHAR_WIDTH = 5.4  # Helvetica 10 pt: an average character, with a little to spare
LINE_HEIGHT = 13.0
PAD_X, PAD_Y = 14.0, 10.0
GAP_X = 34.0  # between two columns: room for an arrow
GAP_Y = 14.0  # between two rows of one lane
LANE_GAP = 26.0
LABEL_GAP = 18.0
MAX_WIDTH = 2600.0  # lanes wrap past this, so a picture stays under 3,000 pt a side
MAX_HEIGHT = 2600.0  # lanes continue in a second column past this
COLUMN_GAP = 60.0


def text_width(lines: list[str], char_width: float = CHAR_WIDTH) -> float:
    """Return the estimated width of a node whose label has these lines."""
    return max((len(line) for line in lines), default=0) * char_width + PAD_X


@dataclass(frozen=True)
class Box:
    """One node to place: its id, lane, label lines, and the node it hangs under, if any."""

    id: str
    lane: str
    lines: tuple[str, ...]
    below: str | None = None  # placed in a row under this node instead of in the lane's columns

    @property
    def width(self) -> float:
        return text_width(list(self.lines))

    @property
    def height(self) -> float:
        return len(self.lines) * LINE_HEIGHT + PAD_Y


@dataclass
class Layout:
    """Centres of nodes and lane labels, in points, y growing downwards."""

    positions: dict[str, tuple[float, float]] = field(default_factory=dict)
    lanes: dict[str, tuple[float, float]] = field(default_factory=dict)  # lane -> centre of its label
    lane_order: list[str] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0


def _topological(ids: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Return each id's index in a topological order (ties by id); cycles are broken, never fatal."""
    children: dict[str, list[str]] = defaultdict(list)
    waiting = dict.fromkeys(ids, 0)
    for start, end in edges:
        if start in waiting and end in waiting and start != end:
            children[start].append(end)
            waiting[end] += 1
    ready = [i for i, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    order: dict[str, int] = {}
    while len(order) < len(ids):
        if not ready:  # a cycle (possible once runs are folded): take the smallest id left
            heapq.heappush(ready, min(i for i in ids if i not in order))
        current = heapq.heappop(ready)
        if current in order:
            continue
        order[current] = len(order)
        for child in children[current]:
            waiting[child] -= 1
            if waiting[child] == 0 and child not in order:
                heapq.heappush(ready, child)
    return order


def _columns(boxes: list[Box], edges: list[tuple[str, str]], order: dict[str, int]) -> dict[str, int]:
    """Return each box's column: one more than its latest parent in the same lane."""
    lane_of = {b.id: b.lane for b in boxes}
    parents: dict[str, list[str]] = defaultdict(list)
    for start, end in edges:
        if start in lane_of and end in lane_of and lane_of[start] == lane_of[end] and start != end:
            parents[end].append(start)
    column: dict[str, int] = {}
    for box in sorted(boxes, key=lambda b: order[b.id]):
        earlier = [column[p] for p in parents[box.id] if p in column]
        column[box.id] = max(earlier) + 1 if earlier else 0
    return column


def _lane_rows(lane_boxes: list[Box], column: dict[str, int], order: dict[str, int], max_width: float):
    """Split a lane's columns into rows no wider than max_width; return rows of columns of boxes."""
    by_column: dict[int, list[Box]] = defaultdict(list)
    for box in sorted(lane_boxes, key=lambda b: order[b.id]):
        by_column[column[box.id]].append(box)
    rows: list[list[list[Box]]] = [[]]
    used = 0.0
    for index in sorted(by_column):
        stack = by_column[index]
        width = max(b.width for b in stack) + GAP_X
        if rows[-1] and used + width > max_width:
            rows.append([])
            used = 0.0
        rows[-1].append(stack)
        used += width
    return rows


def layout(
    boxes: list[Box],
    edges: list[tuple[str, str]],
    *,
    lane_labels: dict[str, str],
    max_width: float = MAX_WIDTH,
    max_height: float = MAX_HEIGHT,
) -> Layout:
    """Place every box: lanes top to bottom, columns left to right, hanging boxes under their anchor.

    Lanes that together are taller than ``max_height`` continue in a second
    column of lanes beside the first, as a newspaper does, so that a project
    of a hundred apps stays under 3,000 pt a side.
    """
    placed = [b for b in boxes if b.below is None]
    order = _topological(sorted(b.id for b in placed), edges)
    column = _columns(placed, edges, order)
    by_lane: dict[str, list[Box]] = defaultdict(list)
    for box in placed:
        by_lane[box.lane].append(box)
    hanging: dict[str, list[Box]] = defaultdict(list)
    for box in boxes:
        if box.below is not None:
            hanging[box.below].append(box)
    lane_order = sorted(by_lane, key=lambda lane: (min(order[b.id] for b in by_lane[lane]), lane))
    label_width = max((text_width([lane_labels.get(lane, lane)], 6.6) for lane in lane_order), default=0.0)
    blocks = [_lane_block(by_lane[lane], hanging, column, order, label_width, max_width) for lane in lane_order]
    result = Layout(lane_order=lane_order)
    for group, left in _newspaper(blocks, max_height):
        top = 0.0
        for index in group:
            block = blocks[index]
            for box_id, (x, y) in block.positions.items():
                result.positions[box_id] = (left + x, top + y)
            label_x, label_y = block.lanes[""]
            result.lanes[lane_order[index]] = (left + label_x, top + label_y)
            result.width = max(result.width, left + block.width)
            top += block.height + LANE_GAP
        result.height = max(result.height, top - LANE_GAP)
    return result


def _lane_block(
    lane_boxes: list[Box],
    hanging: dict[str, list[Box]],
    column: dict[str, int],
    order: dict[str, int],
    label_width: float,
    max_width: float,
) -> Layout:
    """Place one lane on its own, its label at x=0 and its top at y=0."""
    block = Layout()
    left = label_width + LABEL_GAP
    rows = _lane_rows(lane_boxes, column, order, max_width - left)
    y = 0.0
    for row in rows:
        y, right = _place_row(row, left, y, block)
        block.width = max(block.width, right)
    # The label sits level with the lane's first row of migrations.
    block.lanes[""] = (label_width / 2, block.positions[rows[0][0][0].id][1])
    y = _place_hanging(lane_boxes, hanging, y, block, left, max_width)
    block.height = y - GAP_Y
    return block


def _newspaper(blocks: list[Layout], max_height: float) -> list[tuple[list[int], float]]:
    """Split lanes, in order, into side-by-side columns of about equal height; return (lanes, left x) each."""
    total = sum(b.height for b in blocks) + LANE_GAP * max(len(blocks) - 1, 0)
    count = max(1, math.ceil(total / max_height))
    share = total / count
    groups: list[list[int]] = [[]]
    height = 0.0
    for index, block in enumerate(blocks):
        if groups[-1] and height + block.height > share and len(groups) < count:
            groups.append([])
            height = 0.0
        groups[-1].append(index)
        height += block.height + LANE_GAP
    placed, left = [], 0.0
    for group in groups:
        placed.append((group, left))
        left += max(blocks[i].width for i in group) + COLUMN_GAP
    return placed


def _place_row(row: list[list[Box]], left: float, top: float, result: Layout) -> tuple[float, float]:
    """Place one row of columns, stacked boxes on shared lines; return the y below it and its right edge."""
    depth = max(len(stack) for stack in row)
    heights = [max(stack[i].height for stack in row if i < len(stack)) for i in range(depth)]
    centres = [top + sum(heights[:i]) + GAP_Y * i + heights[i] / 2 for i in range(depth)]
    x = left
    for stack in row:
        width = max(b.width for b in stack)
        for i, box in enumerate(stack):
            result.positions[box.id] = (x + width / 2, centres[i])
        x += width + GAP_X
    return top + sum(heights) + GAP_Y * depth, x - GAP_X


def _place_hanging(
    lane_boxes: list[Box], hanging: dict[str, list[Box]], top: float, result: Layout, left: float, max_width: float
) -> float:
    """Place the boxes that hang under this lane's nodes, in rows under each anchor; return the y below.

    A squash of 34 migrations expanded would make one row thousands of points
    wide: the parts wrap into rows no wider than the lane, starting under their
    anchor when there is room for a few of them there, else at the lane's left.
    """
    y = top
    for anchor in sorted((b for b in lane_boxes if b.id in hanging), key=lambda b: result.positions[b.id][0]):
        parts = hanging[anchor.id]
        start = result.positions[anchor.id][0] - anchor.width / 2
        if max_width - start < 4 * max(box.width + GAP_X / 2 for box in parts):
            start = left
        x, height = start, 0.0
        for box in parts:
            if x > start and x + box.width > max_width:  # wrap: a new row under this one
                x, y, height = start, y + height + GAP_Y, 0.0
            result.positions[box.id] = (x + box.width / 2, y + box.height / 2)
            x += box.width + GAP_X / 2
            height = max(height, box.height)
            result.width = max(result.width, x)
        y += height + GAP_Y
    return y
