"""Draw the migration dependency graph and the schema diagram as Graphviz DOT.

Each view first collects plain data (nodes with their classes, edges), then
writes DOT from it with nodes and edges sorted, so the same state always gives
the same text. The graphs render themselves in Jupyter (see ``render.py``).
Every node and edge carries a ``class`` (``applied``, ``unapplied``,
``conflict``, ``added``, ``removed``...) that ends up in the SVG too.
"""

from __future__ import annotations

import html
from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd

from .diff import diff
from .errors import KitError
from .render import KitDigraph
from .state import MigrationGraph, Plan, State, unknown_app_error

__all__ = ["CONTRIB_APPS", "draw_migration_graph", "draw_schema", "is_contrib_table"]

Key = tuple[str, str]

# Fill and border colours of each kind of node; the legend repeats them.
COLOURS = {
    "applied": ("#c8e6c9", "#2e7d32"),
    "unapplied": ("#ffffff", "#757575"),
    "conflict": ("#ffcc80", "#e65100"),
    "external": ("#eeeeee", "#9e9e9e"),
    "plan": ("#bbdefb", "#1565c0"),
    "added": ("#c8e6c9", "#2e7d32"),
    "removed": ("#ffcdd2", "#c62828"),
    "changed": ("#fff59d", "#f9a825"),
}
_SQUASH_EDGE = "#7b1fa2"
_CROSS_APP_EDGE = "#6a1b9a"
# Graphviz's size, in inches: wider drawings are scaled down to fit a notebook cell.
GRAPH_SIZE = "8,100"
FIT_WIDTH_UP_TO = 80
# Past these sizes dot's cluster ranking fails or takes minutes: drop the app boxes.
MAX_CLUSTERED_NODES = 1500
# Above this many drawn nodes, cross-app dependency ends fold into their runs too
# (the edges stay, between the runs): dot needs minutes for a few thousand nodes.
MAX_DETAILED_NODES = 700

#: Django's own apps, hidden unless include_contrib=True.
CONTRIB_APPS = (
    "admin",
    "admindocs",
    "auth",
    "contenttypes",
    "flatpages",
    "gis",
    "humanize",
    "messages",
    "postgres",
    "redirects",
    "sessions",
    "sitemaps",
    "sites",
    "staticfiles",
    "syndication",
)


# ----- migration graph: data --------------------------------------------------------


@dataclass
class _Node:
    """One drawn node: a migration, a collapsed run of them, or a hidden app's migration."""

    id: str
    app: str
    label: list[str]
    classes: list[str]
    tooltip: str
    external: bool = False


@dataclass
class _Drawing:
    nodes: list[_Node] = field(default_factory=list)
    edges: set[tuple[str, str, str]] = field(default_factory=set)  # (from, to, kind)
    title: str = ""
    legend: list[str] = field(default_factory=list)


class _Facts:
    """What the migration graph says about each migration, in one place."""

    def __init__(self, graph: MigrationGraph) -> None:
        rows = graph.nodes.to_dict("records")
        self.graph = graph
        self.keys: list[Key] = sorted((r["app_label"], r["name"]) for r in rows)
        self.applied = {(r["app_label"], r["name"]): bool(r["applied"]) for r in rows}
        self.recorded = {(r["app_label"], r["name"]): bool(r["recorded"]) for r in rows}
        self.replaces = {(r["app_label"], r["name"]): list(r["replaces"]) for r in rows}
        self.parents: dict[Key, set[Key]] = defaultdict(set)
        self.children: dict[Key, set[Key]] = defaultdict(set)
        for e in graph.edges.itertuples(index=False):
            self.parents[(e.to_app, e.to_name)].add((e.from_app, e.from_name))
            self.children[(e.from_app, e.from_name)].add((e.to_app, e.to_name))
        self.replaced_by = {old: key for key, olds in self.replaces.items() for old in olds}
        self.effective = {k: self._effective(k) for k in self.keys}
        self.frontier = self._frontier()

    def _effective(self, key: Key) -> Key:
        """Return the squashed migration standing in for key, as Django's loader would use it."""
        squash = self.replaced_by.get(key)
        if squash is None:
            return key
        olds = self.replaces[squash]
        partly = any(self.recorded.get(o) for o in olds) and not all(self.recorded.get(o) for o in olds)
        return key if partly else squash

    def _frontier(self) -> set[Key]:
        """Return the applied migrations with no applied successor in their own app."""
        frontier = set()
        for key in self.keys:
            if not self.applied[key] or self.effective[key] != key:
                continue
            members = [key, *(o for o in self.replaces[key] if self.effective.get(o) == key)]
            later = {self.effective.get(c, c) for m in members for c in self.children[m]} - {key}
            if not any(c[0] == key[0] and self.applied.get(c) for c in later):
                frontier.add(key)
        return frontier

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


def _classes(facts: _Facts, key: Key, marks: dict[Key, str], target: Key | None) -> tuple[list[str], list[str]]:
    """Return the node's classes and the tags shown under its name."""
    classes = ["migration", "applied" if facts.applied[key] else "unapplied"]
    tags = []
    checks = [
        (facts.is_conflict(key), "conflict", "conflicting leaf node"),
        # A conflicting node is a leaf too; its tag already says so.
        (facts.is_leaf(key), "leaf", "" if facts.is_conflict(key) else "leaf node"),
        (key in facts.frontier, "frontier", "applied frontier"),
        (bool(facts.replaces[key]), "squashed", f"squashes {len(facts.replaces[key])}"),
        (key in facts.replaced_by, "replaced", "recorded" if facts.recorded[key] else "not recorded"),
        (key in marks, "plan", marks.get(key, "")),
        (key == target, "target", "target"),
    ]
    for condition, name, tag in checks:
        if condition:
            classes.append(name)
            tags.extend([tag] if tag else [])
    return classes, tags


def _remarkable(facts: _Facts, key: Key, classes: list[str], cross_app: bool) -> bool:
    """Return True for a migration that must stay visible when runs are collapsed."""
    if set(classes) - {"migration", "applied", "unapplied"}:
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
        if parent in plain and facts.applied[parent] == facts.applied[key]:
            continue  # not the start of a run
        run = [key]
        while True:
            (child,) = facts.same_app(facts.children[run[-1]], key[0])
            if child not in plain or facts.applied[child] != facts.applied[key]:
                break
            run.append(child)
        if len(run) >= min_run:
            grouped.update({member: run for member in run})
    return grouped


def _migration_drawing(
    facts: _Facts,
    apps: list[str],
    *,
    plan: Plan | None,
    collapse: bool,
    expand: set[str],
    min_run: int,
    cross_app: bool = True,
) -> _Drawing:
    """Collect the nodes and edges to draw for the chosen apps."""
    marks, target = _plan_marks(facts, plan)
    drawing, shown, node_of = _Drawing(), set(apps), {}
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
            status = "applied" if facts.applied[key] else "not applied"
            tooltip = f"{key[0]}.{key[1]} ({status}{'; ' + '; '.join(tags) if tags else ''})"
            drawing.nodes.append(_Node(_key_id(key), key[0], [key[1], *tags], classes, tooltip))
        elif key == run[0]:
            node_id = f"{key[0]}.{run[0][1]}..{run[-1][1]}"
            node_of.update({member: node_id for member in run})
            state = "applied" if facts.applied[key] else "unapplied"
            label = [f"{len(run)} migrations", f"{run[0][1]}", "…", f"{run[-1][1]}"]
            tooltip = f"{key[0]}: {len(run)} {'applied' if facts.applied[key] else 'unapplied'} migrations in a row"
            drawing.nodes.append(_Node(node_id, key[0], label, ["collapsed", state], tooltip))
    _add_edges(facts, drawing, node_of, shown)
    return drawing


def _key_id(key: Key) -> str:
    return f"{key[0]}.{key[1]}"


def _add_edges(facts: _Facts, drawing: _Drawing, node_of: dict[Key, str], shown: set[str]) -> None:
    """Add dependency and 'replaces' edges; a hidden app's end becomes a grey outside node."""
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
        for old in facts.replaces[child]:
            if old in node_of:
                drawing.edges.add((node_of[child], node_of[old], "replaces"))
    for key in sorted(external):
        state = "applied" if facts.applied[key] else "unapplied"
        drawing.nodes.append(
            _Node(_key_id(key), key[0], [f"{key[0]}.{key[1]}"], ["external", state], f"{key[0]} (hidden app)", True)
        )


# ----- migration graph: DOT ----------------------------------------------------------


def _migration_node_attrs(node: _Node) -> dict[str, str]:
    """Return the Graphviz attributes that show a node's classes."""
    classes = set(node.classes)
    kind = next(c for c in ("external", "plan", "conflict", "applied", "unapplied") if c in classes)
    fill, border = COLOURS[kind]
    if kind == "plan":
        fill = COLOURS["applied" if "applied" in classes else "unapplied"][0]
    styles = ["rounded", "filled"]
    if "unapplied" in classes or "external" in classes:
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
    if classes & {"frontier", "plan", "conflict"}:
        attrs["penwidth"] = "3"
    if "target" in classes:
        attrs.update(fillcolor=COLOURS["plan"][0], penwidth="4")
    if "squashed" in classes:
        attrs["shape"] = "box3d"
    if classes & {"squashed", "replaced"} and kind in ("applied", "unapplied"):
        attrs["color"] = _SQUASH_EDGE
    if "collapsed" in classes:
        attrs["shape"] = "folder"
    return attrs


_EDGE_ATTRS = {
    "depends": {"color": "#616161"},
    # Not a ranking constraint: each app stays one left-to-right row instead of a staircase.
    "cross-app": {"color": _CROSS_APP_EDGE, "penwidth": "1.5", "constraint": "false"},
    "replaces": {
        "color": _SQUASH_EDGE,
        "style": "dashed",
        "arrowhead": "odot",
        "label": "replaces",
        "fontsize": "8",
        "constraint": "false",
    },
}


def _legend_rows(drawing: _Drawing) -> list[tuple[str, str, str]]:
    """Return (text, fill, border) for every kind of node present in the drawing."""
    present = {c for n in drawing.nodes for c in n.classes}
    rows = [
        ("applied", *COLOURS["applied"]),
        ("not applied (dashed)", *COLOURS["unapplied"]),
        ("applied frontier (thick border)", COLOURS["applied"][0], COLOURS["applied"][1]),
        ("leaf node (double border)", "#ffffff", "#424242"),
    ]
    optional = [
        ("conflict", "conflict: two leaf nodes in one app", *COLOURS["conflict"]),
        ("squashed", "squashed migration (3-D box)", "#ffffff", _SQUASH_EDGE),
        ("replaced", "replaced by a squash (recorded = still in django_migrations)", "#ffffff", _SQUASH_EDGE),
        ("plan", "in the plan of the target", *COLOURS["plan"]),
        ("collapsed", "collapsed run (folder)", "#ffffff", "#424242"),
        ("external", "hidden app's migration", *COLOURS["external"]),
    ]
    return rows + [(text, fill, border) for cls, text, fill, border in optional if cls in present]


def _legend_label(rows: list[tuple[str, str, str]]) -> str:
    cells = "".join(
        f'<TR><TD BGCOLOR="{fill}" COLOR="{border}" BORDER="2" WIDTH="18"> </TD><TD ALIGN="LEFT">{html.escape(text)}</TD></TR>'
        for text, fill, border in rows
    )
    return (
        f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="2"><TR><TD COLSPAN="2"><B>Legend</B></TD></TR>{cells}</TABLE>>'
    )


def _migration_dot(drawing: _Drawing, facts: _Facts, clustered: bool) -> KitDigraph:
    """Write the drawing as DOT: one cluster per app, nodes and edges sorted."""
    dot = KitDigraph("migrations")
    dot.attr(rankdir="LR", newrank="true", fontname="Helvetica", fontsize="12", label=drawing.title, labelloc="t")
    if len(drawing.nodes) <= FIT_WIDTH_UP_TO:
        # A lesson-sized graph is scaled down to a notebook's width instead of being cut off;
        # a big one keeps its size, so its labels stay legible (save it to a file to pan around).
        dot.attr(size=GRAPH_SIZE)
    dot.attr("node", shape="box", fontname="Helvetica", fontsize="10")
    dot.attr("edge", arrowsize="0.7")
    by_app: dict[str, list[_Node]] = defaultdict(list)
    for node in sorted(drawing.nodes, key=lambda n: n.id):
        if node.external or not clustered:
            dot.node(node.id, **_migration_node_attrs(node))
        else:
            by_app[node.app].append(node)
    for app in sorted(by_app):
        with dot.subgraph(name=f"cluster_{app}") as cluster:
            conflict = facts.graph.conflicts.get(app)
            label = f"{app}: CONFLICT, {len(conflict)} leaf nodes" if conflict else app
            colour = COLOURS["conflict"][1] if conflict else "#424242"
            cluster.attr(label=label, color=colour, fontcolor=colour, style="rounded", **{"class": "app"})
            for node in by_app[app]:
                cluster.node(node.id, **_migration_node_attrs(node))
    for start, end, kind in sorted(drawing.edges):
        dot.edge(start, end, **{"class": kind, **_EDGE_ATTRS[kind]})
    dot.node("legend", label=_legend_label(_legend_rows(drawing)), shape="plaintext", **{"class": "legend"})
    return dot


def _title(apps: list[str], plan: Plan | None, hidden: int) -> str:
    parts = [f"Migrations of {', '.join(apps)}" if apps else "No app has migrations"]
    if hidden:
        parts.append(f"({hidden} Django apps hidden)")
    if plan is not None:
        verb = {"forwards": "applies", "backwards": "unapplies", "nothing": "changes nothing"}[plan.direction]
        count = f" {len(plan.steps)} migration{'s' if len(plan.steps) != 1 else ''}" if plan.steps else ""
        parts.append(f"\nmigrate {plan.app_label} {plan.target} {verb}{count}")
    return " ".join(parts)


def _nodes_table(facts: _Facts, apps: list[str]) -> pd.DataFrame:
    """Return the graph's facts as a table, shown when no picture can be drawn."""
    rows = [
        {
            "app_label": k[0],
            "name": k[1],
            "applied": facts.applied[k],
            "leaf": facts.is_leaf(k),
            "frontier": k in facts.frontier,
            "conflict": facts.is_conflict(k),
            "replaces": ", ".join(f"{a}.{n}" for a, n in facts.replaces[k]),
        }
        for k in facts.keys
        if k[0] in apps
    ]
    return pd.DataFrame(rows, columns=["app_label", "name", "applied", "leaf", "frontier", "conflict", "replaces"])


def draw_migration_graph(
    sandbox_or_graph,
    *,
    app_label: str | None = None,
    include_contrib: bool = False,
    target: str | tuple[str, str] | None = None,
    plan: Plan | None = None,
    collapse: bool = True,
    expand: tuple[str, ...] | list[str] = (),
    min_run: int = 3,
) -> KitDigraph:
    """Draw the migration graph: apps as boxes, applied frontier, leaf nodes, conflicts, squashes, a target's plan.

    ``sandbox_or_graph`` is a Sandbox or a MigrationGraph. ``target`` is
    ``(app_label, name)``, or a name (``"0001"``, ``"zero"``) of ``app_label``;
    it needs a Sandbox (to ask for the plan) unless ``plan`` is given.
    ``collapse`` folds runs of ``min_run`` or more unremarkable migrations into
    one node, except in the apps listed in ``expand``.
    """
    graph = sandbox_or_graph if isinstance(sandbox_or_graph, MigrationGraph) else sandbox_or_graph.migration_graph()
    facts = _Facts(graph)
    plan = plan if plan is not None else _plan_for(sandbox_or_graph, app_label, target)
    known = graph.app_labels(include_contrib=True)
    if app_label is not None and app_label not in known:
        raise unknown_app_error(app_label, known)
    apps = [app_label] if app_label else graph.app_labels(include_contrib=include_contrib)
    options = {"plan": plan, "collapse": collapse, "expand": set(expand), "min_run": min_run}
    drawing = _migration_drawing(facts, apps, **options)
    if collapse and len(drawing.nodes) > MAX_DETAILED_NODES:
        drawing = _migration_drawing(facts, apps, **options, cross_app=False)
        drawing.legend.append("overview")
    drawing.title = _title(apps, plan, 0 if app_label else len(known) - len(apps))
    if "overview" in drawing.legend:
        drawing.title += "\noverview: cross-app dependency ends folded into runs (draw one app_label for detail)"
    dot = _migration_dot(drawing, facts, clustered=len(drawing.nodes) <= MAX_CLUSTERED_NODES)
    dot.fallback_table = _nodes_table(facts, apps)
    return dot


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


# ----- schema diagram ----------------------------------------------------------------


def is_contrib_table(table: str) -> bool:
    """Return True for a table that belongs to one of Django's own apps."""
    return table.startswith("django_") or table.split("_", 1)[0] in CONTRIB_APPS


@dataclass
class _Column:
    name: str
    type: str
    null: bool
    pk: bool
    status: str = ""  # "", "added", "removed", "changed"
    change: str = ""


def _schema_columns(state: State, previous: State | None) -> dict[str, tuple[str, list[_Column]]]:
    """Return table -> (status, columns), with removed tables and columns kept from previous."""
    changes = diff(previous, state) if previous is not None else None
    added_cols = _pairs(changes.columns_added) if changes else set()
    changed = {(r.table, r.column): r.change for r in changes.columns_changed.itertuples()} if changes else {}
    tables: dict[str, tuple[str, list[_Column]]] = {}
    for row in state.schema.itertuples(index=False):
        status = (
            "added"
            if (row.table, row.column) in added_cols
            else "changed"
            if (row.table, row.column) in changed
            else ""
        )
        column = _Column(
            row.column,
            row.type,
            bool(row.null),
            bool(row.primary_key),
            status,
            changed.get((row.table, row.column), ""),
        )
        table_status = "added" if changes and row.table in changes.tables_added else ""
        tables.setdefault(row.table, (table_status, []))[1].append(column)
    if changes is not None:
        for row in changes.columns_removed.itertuples(index=False):
            table_status = "removed" if row.table in changes.tables_removed else ""
            column = _Column(row.column, row.type, bool(row.null), bool(row.primary_key), "removed")
            tables.setdefault(row.table, (table_status, []))[1].append(column)
    for table in state.tables["table"]:
        tables.setdefault(table, ("", []))
    return dict(sorted(tables.items()))


def _pairs(frame: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(frame["table"], frame["column"], strict=True)) if not frame.empty else set()


def _cell(text: str, status: str, **attrs: str) -> str:
    shown = html.escape(text) or " "
    if status == "removed" and text:
        shown = f"<S>{shown}</S>"
    extra = "".join(f' {k.upper()}="{v}"' for k, v in attrs.items())
    fill = f' BGCOLOR="{COLOURS[status][0]}"' if status else ""
    return f'<TD ALIGN="LEFT"{fill}{extra}>{shown}</TD>'


def _table_label(table: str, status: str, columns: list[_Column]) -> str:
    """Return an HTML-like label: the table name, then one row per column (name, type, null, pk)."""
    header_fill = COLOURS[status][0] if status else "#e0e0e0"
    name = f"<S>{html.escape(table)}</S>" if status == "removed" else html.escape(table)
    rows = [f'<TR><TD COLSPAN="4" BGCOLOR="{header_fill}"><B>{name}</B></TD></TR>']
    for c in columns:
        shown = c.status or status
        rows.append(
            "<TR>"
            + _cell(c.name, shown, PORT=c.name)
            + _cell(c.type, shown)
            + _cell("NULL" if c.null else "", shown)
            + _cell("PK" if c.pk else "", shown, PORT=f"{c.name}__out")
            + "</TR>"
        )
    return f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">{"".join(rows)}</TABLE>>'


def _foreign_keys(state: State, previous: State | None) -> list[tuple[str, str, str, str, str]]:
    """Return (table, column, references_table, references_column, status) for every foreign key."""

    def keys(schema: pd.DataFrame) -> set[tuple[str, str, str, str]]:
        fks = schema[schema["references_table"].notna()]
        return set(zip(fks["table"], fks["column"], fks["references_table"], fks["references_column"], strict=True))

    now = keys(state.schema)
    before = keys(previous.schema) if previous is not None else now
    rows = [(*k, "added" if k not in before else "") for k in now]
    rows += [(*k, "removed") for k in before - now]
    return sorted(rows)


def draw_schema(
    sandbox_or_state, *, previous: State | None = None, include_contrib: bool = False, tables: list[str] | None = None
) -> KitDigraph:
    """Draw one box per table with its columns and foreign keys; with ``previous``, colour what changed.

    Added tables and columns are green, removed ones red and struck through,
    changed ones yellow. Django's own tables are hidden unless
    ``include_contrib``; a hidden table that a foreign key points to is drawn
    as a small grey box. ``tables`` limits the drawing to the tables named.
    """
    state = sandbox_or_state if isinstance(sandbox_or_state, State) else sandbox_or_state.state()
    all_tables = _schema_columns(state, previous)
    wanted = [t for t in all_tables if (include_contrib or not is_contrib_table(t)) and (tables is None or t in tables)]
    dot = KitDigraph("schema")
    dot.attr(rankdir="LR", fontname="Helvetica", fontsize="12", labelloc="t", label=_schema_title(previous, wanted))
    if len(wanted) <= FIT_WIDTH_UP_TO // 5:  # tables are about five migration nodes in size
        dot.attr(size=GRAPH_SIZE)
    dot.attr("node", shape="plaintext", fontname="Helvetica", fontsize="10")
    for table in wanted:
        status, columns = all_tables[table]
        classes = " ".join(["table", *filter(None, [status])])
        dot.node(table, label=_table_label(table, status, columns), **{"class": classes, "tooltip": table})
    outside = set()
    for table, column, ref_table, ref_column, status in _foreign_keys(state, previous):
        if table not in wanted:
            continue
        if ref_table not in wanted:
            outside.add(ref_table)
        colour = COLOURS[status][1] if status else "#616161"
        attrs = {"class": " ".join(["foreign-key", *filter(None, [status])]), "color": colour}
        if status == "removed":
            attrs["style"] = "dashed"
        # Leave from the right edge of the column's row, arrive at the left of the referenced column.
        head = f"{ref_table}:{ref_column}:w" if ref_table in wanted else f"{ref_table}:w"
        tip = f"{table}.{column} -> {ref_table}.{ref_column}"
        dot.edge(f"{table}:{column}__out:e", head, tooltip=tip, **attrs)
    for table in sorted(outside):
        fill, border = COLOURS["external"]
        dot.node(
            table,
            label=table,
            shape="box",
            style="rounded,filled,dashed",
            fillcolor=fill,
            color=border,
            **{"class": "table external"},
        )
    dot.fallback_table = state.schema[state.schema["table"].isin(wanted)].reset_index(drop=True)
    return dot


def _schema_title(previous: State | None, tables: list[str]) -> str:
    title = f"Schema: {len(tables)} table{'s' if len(tables) != 1 else ''}"
    return title + (" (green added, red removed, yellow changed)" if previous is not None else "")
