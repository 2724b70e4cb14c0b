"""What the migration graph offers the panel, and what a click on one of its nodes means.

Pure functions of a ``MigrationGraph`` value: the apps and targets the pickers
offer, whether a migrate goes backwards, and the one place that decides what a
click on a node does (and so what its hover card says).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from widgets.read.table import records

if TYPE_CHECKING:  # types only: the graph arrives as a value
    from widgets.read.state import MigrationGraph, Plan

__all__ = [
    "Travel",
    "app_labels",
    "click_hints",
    "click_meaning",
    "default_target",
    "needs_confirmation",
    "targets",
    "unapplies",
]


@dataclass(frozen=True)
class Travel:
    """What a click on a graph node means: expand or fold a node, migrate an app to a migration, or nothing."""

    kind: str  # "expand", "fold", "migrate" or "ignore"
    node: str = ""
    app_label: str = ""
    target: str = ""
    reason: str = ""
    hint: str = ""  # what the node's hover card says a click does ('' when it does nothing)


def app_labels(graph: MigrationGraph) -> list[str]:
    """Return the project's own app labels that have migrations (Django's apps left out)."""
    return graph.app_labels(include_contrib=False)


def targets(graph: MigrationGraph, app_label: str) -> list[str]:
    """Return the targets ``migrate app_label`` accepts: its migrations, then ``zero``."""
    return [*graph.migrations_of(app_label), "zero"]


def default_target(graph: MigrationGraph, app_label: str) -> str:
    """Return the app's leaf node (its latest migration), or ``zero`` if it has none."""
    leaves = graph.leaf_nodes.get(app_label) or []
    return leaves[-1] if leaves else "zero"


def needs_confirmation(plan: Plan) -> bool:
    """Return True when the plan unapplies migrations: the learner must confirm first."""
    return plan.direction == "backwards"


def unapplies(graph: MigrationGraph, app_label: str, target: str) -> bool | None:
    """Return True when ``migrate app_label target`` goes backwards, as Django's executor decides; no process.

    To ``zero``, an app goes back when any of its migrations is applied; to an
    applied migration, when one of its children in the same app is applied;
    to an unapplied one it goes forwards. None when the graph does not know
    the target (a prefix, a replaced migration): then only a plan can tell.
    """
    nodes = [row for row in records(graph.nodes) if row["app_label"] == app_label]
    applied = {row["name"] for row in nodes if row["applied"]}
    if target == "zero":
        return bool(applied)
    if target not in {row["name"] for row in nodes}:
        return None
    if target not in applied:
        return False
    children = {child for (parent, child) in graph.edge_set() if parent == (app_label, target)}
    return any(app == app_label and name in applied for app, name in children)


def click_meaning(graph: MigrationGraph, node_id: str, expanded: Iterable[str]) -> Travel:
    """Decide what clicking a node of the migration graph does: pure, from the graph alone."""
    expanded = set(expanded)
    app, _, name = node_id.partition(".")
    if ".." in name:  # a folded run: unfold the app's runs
        return Travel("expand", app, reason=f"Unfolded the runs of {app}.", hint="click to unfold this run")
    rows = [row for row in records(graph.nodes) if row["app_label"] == app and row["name"] == name]
    if not rows:
        squash = _squash_of(graph, app, name, expanded)
        if squash:
            return Travel("fold", squash, reason=f"Folded {squash} again.", hint="click to fold the squash again")
        return Travel("ignore", reason=f"{node_id} is not a migration Django uses now: nothing to migrate to.")
    if app in graph.contrib_apps():
        return Travel("ignore", reason=f"{app} is one of Django's own apps: the panel moves your apps only.")
    if rows[0]["replaces"] and node_id not in expanded:
        count = len(rows[0]["replaces"])
        reason = f"{node_id} squashes {count} migrations: they hang under it now."
        return Travel("expand", node_id, reason=reason, hint="click to show the migrations it replaces")
    return Travel("migrate", node_id, app, name, hint=f"click to migrate {app} to here")


def click_hints(graph: MigrationGraph, node_ids: Iterable[str], expanded: Iterable[str]) -> dict[str, str]:
    """Return what a click on each node does, for its hover card (nodes a click ignores left out)."""
    expanded = set(expanded)
    hints = {node_id: click_meaning(graph, node_id, expanded).hint for node_id in node_ids}
    return {node_id: hint for node_id, hint in hints.items() if hint}


def _squash_of(graph: MigrationGraph, app: str, name: str, expanded: set[str]) -> str:
    """Return the expanded squash that replaces a migration, if any ('' when none)."""
    for row in records(graph.nodes):
        squash = f"{app}.{row['name']}"
        if row["app_label"] == app and squash in expanded and (app, name) in row["replaces"]:
            return squash
    return ""
