"""Draw Django's migration graph as lanes: one row per app, the applied frontier, leaf nodes, squashes, a plan.

The view first collects plain data (nodes with their classes and label lines,
edges with their kind), then places it with ``lanes.layout`` and writes DOT
with fixed positions, nodes and edges sorted, so the same graph always gives
the same text and Graphviz only draws (no layout search). Every node and edge
carries a ``class`` (``applied``, ``unapplied``, ``conflict``, ``squashed``,
``collapsed``...) that ends up in the SVG too.

The graph is the one Django's loader uses: a squash is one node when Django
uses it, with what it replaces kept as data (expand it to see them); when
Django cannot use a squash (only some of what it replaces is recorded), the
replaced migrations are drawn, with the unused squash hanging under them.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from widgets.draw import lanes
from widgets.draw.palette import COLOURS, EDGE_COLOURS
from widgets.draw.render import KitDigraph
from widgets.draw.schema_diagram import draw_schema
from widgets.errors import KitError, unknown_app_error
from widgets.read.state import MigrationGraph, Plan
from widgets.read.table import TableLike, make_table, records

__all__ = [
    "COLOURS",
    "draw_migration_graph",
    "draw_schema",
    "legend_rows",
    "migration_drawing",
    "migration_view",
]

Key = tuple[str, str]

# Above this many drawn nodes, cross-app dependency ends fold into their runs too
# (the edges stay, between the runs), so a 5,000-migration project stays a readable overview.
MAX_DETAILED_NODES = 400
# Names longer than this break at an underscore, so a column stays narrow.
WRAP_NAME_AT = 24


# ----- migration graph: data --------------------------------------------------------


@dataclass
class DrawnNode:
    """One drawn node: a migration, a folded run of them, a hidden app's migration, or a squash's part."""

    id: str
    app: str
    label: list[str]
    classes: list[str]
    tooltip: str
    below: str | None = None  # hangs under this node (an expanded squash's parts, an unused squash)
    members: list[Key] = field(default_factory=list)


@dataclass
class MigrationDrawing:
    """What a migration graph view shows, before any placing or drawing."""

    nodes: list[DrawnNode] = field(default_factory=list)
    edges: set[tuple[str, str, str]] = field(default_factory=set)  # (from, to, kind)
    title: str = ""
    lane_labels: dict[str, str] = field(default_factory=dict)
    overview: bool = False

    def classes_present(self) -> set[str]:
        """Return every class some node has."""
        return {c for n in self.nodes for c in n.classes}


class _Facts:
    """What the migration graph says about each migration, in one place."""

    def __init__(self, graph: MigrationGraph) -> None:
        rows = records(graph.nodes)
        self.graph = graph
        self.keys: list[Key] = sorted((r["app_label"], r["name"]) for r in rows)
        self.row = {(r["app_label"], r["name"]): r for r in rows}
        self.parents: dict[Key, set[Key]] = defaultdict(set)
        self.children: dict[Key, set[Key]] = defaultdict(set)
        for e in graph.edges.itertuples(index=False):
            self.parents[(e.to_app, e.to_name)].add((e.from_app, e.from_name))
            self.children[(e.from_app, e.from_name)].add((e.to_app, e.to_name))
        self.frontier = {k for k in self.keys if self.applied(k) and not self._applied_later(k)}

    def applied(self, key: Key) -> bool:
        return bool(self.row[key]["applied"])

    def _applied_later(self, key: Key) -> bool:
        return any(c[0] == key[0] and self.applied(c) for c in self.children[key])

    def replaces(self, key: Key) -> list[Key]:
        return list(self.row[key].get("replaces") or [])

    def is_leaf(self, key: Key) -> bool:
        return key[1] in self.graph.leaf_nodes.get(key[0], [])

    def is_conflict(self, key: Key) -> bool:
        return key[1] in self.graph.conflicts.get(key[0], [])

    def same_app(self, keys: set[Key], app: str) -> list[Key]:
        return sorted(k for k in keys if k[0] == app)


def _resolve_target(facts: _Facts, app_label: str, target: str) -> Key | None:
    """Return the migration a target names (a unique prefix works), or None for zero."""
    if target == "zero":
        return None
    names = [n for a, n in facts.keys if a == app_label and n.startswith(target)]
    return (app_label, names[0]) if len(names) == 1 else None


def _plan_marks(facts: _Facts, plan: Plan | None) -> tuple[dict[Key, str], Key | None]:
    """Return each planned migration's tag ('step 2: unapply') and the target migration."""
    if plan is None:
        return {}, None
    marks = {
        (s.app_label, s.name): f"step {i}: {'unapply' if s.backwards else 'apply'}" for i, s in enumerate(plan.steps, 1)
    }
    return marks, _resolve_target(facts, plan.app_label, plan.target)


def _squash_tag(row: dict) -> str:
    count = len(row["replaces"])
    return f"squashes {count} ({row.get('replaces_recorded', 0)} recorded)"


def _short_squash(name: str | None) -> str:
    """Shorten a squash's name to its numbers ('0001_squashed_0004…'): the squash's own node carries it whole."""
    match = re.match(r"\d+_squashed_\d+", name or "")
    return f"{match.group()}…" if match and match.group() != name else str(name)


def _classes(facts: _Facts, key: Key, marks: dict[Key, str], target: Key | None) -> tuple[list[str], list[str]]:
    """Return the node's classes and the tags shown under its name."""
    row = facts.row[key]
    classes = ["migration", "applied" if row["applied"] else "unapplied"]
    tags = []
    checks = [
        (facts.is_conflict(key), "conflict", "conflicting leaf node"),
        # A conflicting node is a leaf too; its tag already says so.
        (facts.is_leaf(key), "leaf", "" if facts.is_conflict(key) else "leaf node"),
        (key in facts.frontier, "frontier", "applied frontier"),
        (bool(row["replaces"]), "squashed", _squash_tag(row) if row["replaces"] else ""),
        (bool(row.get("replaced_by")), "replaced", f"squashed into {_short_squash(row.get('replaced_by'))}"),
        (bool(row.get("data")), "data", "data migration"),
        (key in marks, "plan", marks.get(key, "")),
        (key == target, "target", "target"),
    ]
    for condition, name, tag in checks:
        if condition:
            classes.append(name)
            tags.extend([tag] if tag else [])
    return classes, tags


# Classes that never hide a migration inside a folded run.
_PLAIN = {"migration", "applied", "unapplied", "data"}


def _remarkable(facts: _Facts, key: Key, classes: list[str], cross_app: bool) -> bool:
    """Return True for a migration that must stay visible when runs are folded."""
    if set(classes) - _PLAIN:
        return True
    parents, children = facts.parents[key], facts.children[key]
    if cross_app and any(k[0] != key[0] for k in parents | children):
        return True
    return len(facts.same_app(parents, key[0])) != 1 or len(facts.same_app(children, key[0])) != 1


def _runs(facts: _Facts, keys: list[Key], plain: set[Key], min_run: int) -> dict[Key, list[Key]]:
    """Group unremarkable migrations into linear runs; return member -> run for runs long enough."""
    grouped: dict[Key, list[Key]] = {}
    for key in keys:
        if key not in plain or key in grouped:
            continue
        (parent,) = facts.same_app(facts.parents[key], key[0])
        if parent in plain and facts.applied(parent) == facts.applied(key):
            continue  # not the start of a run
        run = [key]
        while True:
            (child,) = facts.same_app(facts.children[run[-1]], key[0])
            if child not in plain or facts.applied(child) != facts.applied(key):
                break
            run.append(child)
        if len(run) >= min_run:
            grouped.update({member: run for member in run})
    return grouped


def _name_lines(name: str) -> list[str]:
    """Break a long migration name at the underscore nearest its middle."""
    if len(name) <= WRAP_NAME_AT or "_" not in name:
        return [name]
    cuts = [i for i, ch in enumerate(name) if ch == "_"]
    cut = min(cuts, key=lambda i: abs(i - len(name) / 2))
    return [name[: cut + 1], name[cut + 1 :]]


def _key_id(key: Key) -> str:
    return f"{key[0]}.{key[1]}"


def migration_drawing(
    graph: MigrationGraph,
    apps: list[str],
    *,
    plan: Plan | None = None,
    collapse: bool = True,
    expand: Iterable[str] = (),
    min_run: int = 3,
    cross_app: bool = True,
) -> MigrationDrawing:
    """Collect the nodes and edges to draw for the chosen apps; expand names apps or squashes ('app.name')."""
    return _drawing(
        _Facts(graph), apps, plan=plan, collapse=collapse, expand=expand, min_run=min_run, cross_app=cross_app
    )


def _drawing(
    facts: _Facts,
    apps: list[str],
    *,
    plan: Plan | None,
    collapse: bool,
    expand: Iterable[str],
    min_run: int,
    cross_app: bool = True,
) -> MigrationDrawing:
    graph = facts.graph
    expand = set(expand)
    marks, target = _plan_marks(facts, plan)
    drawing, shown, node_of = MigrationDrawing(), set(apps), {}
    plain: set[Key] = set()
    info = {}
    for key in (k for k in facts.keys if k[0] in shown):
        classes, tags = _classes(facts, key, marks, target)
        info[key] = (classes, tags)
        if collapse and key[0] not in expand and not _remarkable(facts, key, classes, cross_app):
            plain.add(key)
    runs = _runs(facts, [k for k in facts.keys if k in plain], plain, min_run)
    for key, (classes, tags) in info.items():
        run = runs.get(key)
        if run is None:
            node_of[key] = _key_id(key)
            drawing.nodes.append(_migration_node(facts, key, classes, tags))
        elif key == run[0]:
            drawing.nodes.append(_run_node(facts, run))
            node_of.update({member: drawing.nodes[-1].id for member in run})
    _add_edges(facts, drawing, node_of, shown)
    _add_squash_parts(facts, drawing, node_of, expand)
    drawing.lane_labels = {app: _lane_label(graph, app) for app in {n.app for n in drawing.nodes}}
    drawing.overview = not cross_app
    return drawing


def _migration_node(facts: _Facts, key: Key, classes: list[str], tags: list[str]) -> DrawnNode:
    row = facts.row[key]
    status = "applied" if row["applied"] else "not applied"
    operations = list(row.get("operations") or [])
    shown_ops = "; ".join(operations[:6]) + (f"; and {len(operations) - 6} more" if len(operations) > 6 else "")
    tooltip = f"{key[0]}.{key[1]} ({status}{'; ' + '; '.join(tags) if tags else ''})"
    if shown_ops:
        tooltip += f"\n{shown_ops}"
    return DrawnNode(_key_id(key), key[0], [*_name_lines(key[1]), *tags], classes, tooltip, members=[key])


def _run_node(facts: _Facts, run: list[Key]) -> DrawnNode:
    app, state = run[0][0], "applied" if facts.applied(run[0]) else "unapplied"
    node_id = f"{app}.{run[0][1]}..{run[-1][1]}"
    label = [f"{len(run)} migrations", *_name_lines(run[0][1]), "…", *_name_lines(run[-1][1])]
    tooltip = (
        f"{app}: {len(run)} {state} migrations in a row, {run[0][1]} to {run[-1][1]} (click or expand to see them)"
    )
    return DrawnNode(node_id, app, label, ["collapsed", state], tooltip, members=list(run))


def _add_edges(facts: _Facts, drawing: MigrationDrawing, node_of: dict[Key, str], shown: set[str]) -> None:
    """Add dependency edges; a hidden app's end becomes a grey node in that app's lane."""
    external: set[Key] = set()
    for child in sorted(node_of):
        for parent in sorted(facts.parents[child]):
            if parent[0] not in shown:
                external.add(parent)
            kind = "depends" if parent[0] == child[0] else "cross-app"
            start = node_of.get(parent, _key_id(parent))
            if start != node_of[child]:
                drawing.edges.add((start, node_of[child], kind))
        for later in sorted(facts.children[child]):
            if later[0] not in shown:
                external.add(later)
                drawing.edges.add((node_of[child], _key_id(later), "cross-app"))
    for key in sorted(external):
        state = "applied" if facts.applied(key) else "unapplied"
        tooltip = f"{key[0]}.{key[1]} ({key[0]} is not drawn)"
        drawing.nodes.append(
            DrawnNode(_key_id(key), key[0], _name_lines(key[1]), ["external", state], tooltip, members=[key])
        )


def _add_squash_parts(facts: _Facts, drawing: MigrationDrawing, node_of: dict[Key, str], expand: set[str]) -> None:
    """Hang an expanded squash's migrations under it, and an unused squash under what it replaces."""
    every = "*squashes*" in expand
    for key in sorted(k for k in node_of if facts.replaces(k) and (every or _key_id(k) in expand)):
        recorded = {tuple(r) for r in facts.row[key].get("recorded_replaced") or []}
        for old in facts.replaces(key):
            state = "recorded" if old in recorded else "not recorded"
            tooltip = f"{old[0]}.{old[1]}: replaced by {key[1]} ({state} in django_migrations)"
            drawing.nodes.append(
                DrawnNode(_key_id(old), old[0], [*_name_lines(old[1]), state], ["replaced-part"], tooltip, _key_id(key))
            )
            drawing.edges.add((_key_id(key), _key_id(old), "replaces"))
    for squash in facts.graph.unused_squashes:
        drawn = [node_of[tuple(old)] for old in squash["replaces"] if tuple(old) in node_of]
        if not drawn:
            continue
        squash_id = f"{squash['app_label']}.{squash['name']}"
        total, recorded = len(squash["replaces"]), squash["replaces_recorded"]
        label = [*_name_lines(squash["name"]), f"not used: {recorded} of {total} recorded"]
        tooltip = (
            f"{squash_id} squashes {total} migrations, but only {recorded} of them are recorded, "
            "so Django uses the migrations it replaces instead"
        )
        drawing.nodes.append(DrawnNode(squash_id, squash["app_label"], label, ["squash-unused"], tooltip, drawn[0]))
        for target in sorted(set(drawn)):
            drawing.edges.add((squash_id, target, "replaces"))


def _lane_label(graph: MigrationGraph, app: str) -> str:
    conflict = graph.conflicts.get(app)
    return f"{app}: CONFLICT, {len(conflict)} leaf nodes" if conflict else app


# ----- migration graph: DOT ----------------------------------------------------------


def _node_attrs(node: DrawnNode) -> dict[str, str]:
    """Return the Graphviz attributes that show a node's classes."""
    classes = set(node.classes)
    kind = next(
        (c for c in ("external", "conflict", "applied", "unapplied") if c in classes),
        "squash" if classes & {"replaced-part", "squash-unused"} else "unapplied",
    )
    fill, border = COLOURS[kind]
    styles = ["rounded", "filled"]
    # Dashed means "not applied" (the legend says so): another app's applied migration is drawn solid.
    if classes & {"unapplied", "replaced-part", "squash-unused"}:
        styles.append("dashed")
    attrs = {
        "label": "\n".join(node.label),
        "class": " ".join(node.classes),
        "tooltip": node.tooltip,
        "style": ",".join(styles),
        "fillcolor": fill,
        "color": border,
    }
    if "leaf" in classes:
        attrs["peripheries"] = "2"
    if classes & {"frontier", "conflict"}:
        attrs["penwidth"] = "3"
    if "data" in classes:
        attrs["color"] = COLOURS["data"][1]
    if "plan" in classes:
        attrs.update(color=COLOURS["plan"][1], penwidth="3")
    if "target" in classes:
        attrs.update(color=COLOURS["target"][1], penwidth="4", fillcolor=COLOURS["target"][0])
    if classes & {"squashed", "squash-unused"}:
        attrs["shape"] = "box3d"
    if classes & {"squashed", "replaced", "replaced-part", "squash-unused"} and "plan" not in classes:
        attrs["color"] = COLOURS["squash"][1]
    if "collapsed" in classes:
        attrs["shape"] = "folder"
    return attrs


_EDGE_ATTRS = {
    "depends": {"color": EDGE_COLOURS["depends"]},
    "cross-app": {"color": EDGE_COLOURS["cross-app"], "penwidth": "1.2", "arrowsize": "0.5"},
    "replaces": {"color": EDGE_COLOURS["replaces"], "style": "dashed", "arrowhead": "odot"},
}

# (class present in the drawing, legend text, fill, border); the first four are always shown.
_LEGEND = [
    (None, "applied", *COLOURS["applied"]),
    (None, "not applied (dashed)", *COLOURS["unapplied"]),
    ("frontier", "applied frontier (thick)", *COLOURS["applied"]),
    ("leaf", "leaf node (double)", "#ffffff", "#424242"),
    ("conflict", "conflict", *COLOURS["conflict"]),
    ("squashed", "squash (3-D)", *COLOURS["squash"]),
    ("replaced-part", "replaced by the squash", *COLOURS["squash"]),
    ("squash-unused", "squash not used", *COLOURS["squash"]),
    ("data", "data migration", *COLOURS["data"]),
    ("plan", "in the plan", "#ffffff", COLOURS["plan"][1]),
    ("target", "target", *COLOURS["target"]),
    ("collapsed", "folded run", "#ffffff", "#424242"),
    ("external", "other app", *COLOURS["external"]),
]


def legend_rows(drawing: MigrationDrawing) -> list[tuple[str, str, str]]:
    """Return (text, fill, border) for every kind of node present in the drawing."""
    present = drawing.classes_present()
    return [(text, fill, border) for cls, text, fill, border in _LEGEND if cls is None or cls in present]


def _graph_label(title: str, rows: list[tuple[str, str, str]]) -> str:
    """Return an HTML-like label: the title, then the legend as one compact row."""
    title_rows = "".join(f'<TR><TD ALIGN="LEFT">{html.escape(line)}</TD></TR>' for line in title.split("\n"))
    cells = "".join(
        f'<TD BGCOLOR="{fill}" COLOR="{border}" BORDER="1" WIDTH="10"> </TD><TD ALIGN="LEFT">{html.escape(text)}</TD>'
        for text, fill, border in rows
    )
    if not rows:
        return f'<<TABLE BORDER="0" CELLSPACING="0">{title_rows}</TABLE>>'
    legend = f'<TABLE ID="legend" BORDER="0" CELLSPACING="3" CELLPADDING="1"><TR>{cells}</TR></TABLE>'
    return f'<<TABLE BORDER="0" CELLSPACING="0">{title_rows}<TR><TD ALIGN="LEFT">{legend}</TD></TR></TABLE>>'


def _boxes(drawing: MigrationDrawing) -> list[lanes.Box]:
    return [lanes.Box(n.id, n.app, tuple(n.label), n.below) for n in sorted(drawing.nodes, key=lambda n: n.id)]


def _migration_dot(drawing: MigrationDrawing, *, legend: bool = True) -> KitDigraph:
    """Place the drawing in lanes and write it as DOT with fixed positions, nodes and edges sorted."""
    placed = lanes.layout(_boxes(drawing), sorted((a, b) for a, b, _ in drawing.edges), lane_labels=drawing.lane_labels)
    dot = KitDigraph("migrations", engine="neato")
    dot.fixed_positions = True  # Graphviz only draws: neato -n2
    dot.attr(
        fontname="Helvetica",
        fontsize="11",
        label=_graph_label(drawing.title, legend_rows(drawing) if legend else []),
        labelloc="t",
        labeljust="l",
        outputorder="edgesfirst",
        splines="true" if len(drawing.nodes) <= 150 else "line",
        bgcolor="white",
    )
    # No size cap: the notebook fits the picture to the cell's width, never below readable text (render.py).
    # No minimum size: each node is as big as its label, as the layout assumed.
    dot.attr("node", shape="box", fontname="Helvetica", fontsize="10", margin="0.08,0.04", width="0", height="0")
    dot.attr("edge", arrowsize="0.7")
    for lane in placed.lane_order:
        x, y = placed.lanes[lane]
        conflict = lane in drawing.lane_labels and "CONFLICT" in drawing.lane_labels[lane]
        colour = COLOURS["conflict"][1] if conflict else "#424242"
        dot.node(
            f"lane:{lane}",
            label=drawing.lane_labels.get(lane, lane),
            shape="plaintext",
            fontsize="11",
            fontcolor=colour,
            pos=_pos(x, y),
            **{"class": "app"},
        )
    for node in sorted(drawing.nodes, key=lambda n: n.id):
        x, y = placed.positions[node.id]
        dot.node(node.id, pos=_pos(x, y), **_node_attrs(node))
    for start, end, kind in sorted(drawing.edges):
        dot.edge(start, end, **{"class": kind, **_EDGE_ATTRS[kind]})
    dot.size_points = (placed.width, placed.height)
    return dot


def _pos(x: float, y: float) -> str:
    """Return a Graphviz position; its y axis points up, the layout's down."""
    return f"{x:.1f},{-y:.1f}"


def _title(apps: list[str], plan: Plan | None, hidden: int, overview: bool) -> str:
    shown = ", ".join(apps) if len(apps) <= 8 else f"{len(apps)} apps"
    parts = [f"Migrations of {shown}" if apps else "No app has migrations"]
    if hidden:
        parts.append(f"({hidden} Django apps hidden)")
    title = " ".join(parts)
    if plan is not None:
        verb = {"forwards": "applies", "backwards": "unapplies", "nothing": "changes nothing"}[plan.direction]
        count = f" {len(plan.steps)} migration{'s' if len(plan.steps) != 1 else ''}" if plan.steps else ""
        title += f"\nmigrate {plan.app_label} {plan.target} {verb}{count}"
    if overview:
        title += "\noverview: cross-app dependency ends folded into runs (draw one app_label for detail)"
    return title


def _nodes_table(facts: _Facts, apps: list[str]) -> TableLike:
    """Return the graph's facts as a table, shown when no picture can be drawn."""
    rows = [
        {
            "app_label": k[0],
            "name": k[1],
            "applied": facts.applied(k),
            "leaf": facts.is_leaf(k),
            "frontier": k in facts.frontier,
            "conflict": facts.is_conflict(k),
            "replaces": ", ".join(f"{a}.{n}" for a, n in facts.replaces(k)),
        }
        for k in facts.keys
        if k[0] in apps
    ]
    return make_table(rows, ["app_label", "name", "applied", "leaf", "frontier", "conflict", "replaces"])


def draw_migration_graph(
    sandbox_or_graph,
    *,
    app_label: str | None = None,
    include_contrib: bool = False,
    target: str | tuple[str, str] | None = None,
    plan: Plan | None = None,
    collapse: bool = True,
    expand: Iterable[str] = (),
    expand_squashes: bool = False,
    min_run: int = 3,
) -> KitDigraph:
    """Draw the migration graph in lanes: applied frontier, leaf nodes, conflicts, squashes, a target's plan.

    ``sandbox_or_graph`` is a Sandbox or a MigrationGraph. ``target`` is
    ``(app_label, name)``, or a name (``"0001"``, ``"zero"``) of ``app_label``;
    it needs a Sandbox (to ask for the plan) unless ``plan`` is given.
    ``collapse`` folds runs of ``min_run`` or more unremarkable migrations into
    one node, except in the apps listed in ``expand``. A squash is one node;
    name it in ``expand`` (``"app.0001_squashed_0004"``), or pass
    ``expand_squashes=True``, to hang the migrations it replaces under it.
    """
    graph = sandbox_or_graph if isinstance(sandbox_or_graph, MigrationGraph) else sandbox_or_graph.migration_graph()
    plan = plan if plan is not None else _plan_for(sandbox_or_graph, app_label, target)
    expand = set(expand) | ({"*squashes*"} if expand_squashes else set())
    options = {"plan": plan, "collapse": collapse, "expand": expand, "min_run": min_run}
    return migration_view(graph, app_label=app_label, include_contrib=include_contrib, **options)[1]


def migration_view(
    graph: MigrationGraph,
    *,
    app_label: str | None = None,
    include_contrib: bool = False,
    plan: Plan | None = None,
    collapse: bool = True,
    expand: Iterable[str] = (),
    min_run: int = 3,
    legend: bool = True,
) -> tuple[MigrationDrawing, KitDigraph]:
    """Return what the graph view shows as data (nodes, edges, legend) and as DOT; no I/O.

    With ``legend=False`` the DOT leaves the legend out, for a page that shows
    ``legend_rows(drawing)`` beside the picture instead.
    """
    known = graph.app_labels(include_contrib=True)
    if app_label is not None and app_label not in known:
        raise unknown_app_error(app_label, known)
    apps = [app_label] if app_label else graph.app_labels(include_contrib=include_contrib)
    options = {"plan": plan, "collapse": collapse, "expand": set(expand), "min_run": min_run}
    facts = _Facts(graph)
    drawing = _drawing(facts, apps, **options)
    if collapse and len(drawing.nodes) > MAX_DETAILED_NODES:
        drawing = _drawing(facts, apps, **options, cross_app=False)
    drawing.title = _title(apps, plan, 0 if app_label else len(known) - len(apps), drawing.overview)
    dot = _migration_dot(drawing, legend=legend)
    dot.fallback_table = _nodes_table(facts, apps)
    return drawing, dot


def _plan_for(source, app_label: str | None, target) -> Plan | None:
    """Ask the sandbox for the plan of ``migrate app target``; None when there is no target."""
    if target is None:
        return None
    app, name = target if isinstance(target, tuple) else (app_label, target)
    if app is None:
        raise KitError("A target needs an app label. Fix: pass target=('boards', '0001') or app_label='boards'.")
    if isinstance(source, MigrationGraph):
        raise KitError(
            "A target needs the sandbox to work out the plan. Fix: pass the Sandbox, or plan=sandbox.plan(...)."
        )
    return source.plan(app, name)
