"""The migration graph and schema views, checked on their DOT text in real sandboxes."""

from __future__ import annotations

import re

import pytest

from widgets import KitError, Sandbox, scenarios
from widgets.draw.graphs import COLOURS, draw_migration_graph, draw_schema
from widgets.read.state import MigrationGraph
from widgets.read.table import make_table


def node_line(dot: str, node_id: str) -> str:
    """Return the whole DOT statement of one node (labels may span lines)."""
    match = re.search(rf'^\s*"?{re.escape(node_id)}"? \[(.*?)\]$', dot, re.MULTILINE | re.DOTALL)
    assert match, f"no node {node_id} in:\n{dot}"
    return match.group(1)


def classes(dot: str, node_id: str) -> set[str]:
    return set(re.search(r'class="?([^"\]]*?)"?(?: \w+=|$)', node_line(dot, node_id)).group(1).split())


def edges(dot: str) -> set[tuple[str, str, str]]:
    found = re.findall(r'^\s*"?([^"\s]+)"? -> "?([^"\s]+?)"? \[.*?class="?([\w -]+?)"?[ \]]', dot, re.MULTILINE)
    return set(found)


@pytest.fixture(scope="module")
def views_rolled_back():
    """Add the views field, draw, then roll it back and draw again."""
    sandbox = Sandbox.fresh("graphs-views")
    scenarios.add_views_field(sandbox)
    applied = draw_migration_graph(sandbox).source
    planned = draw_migration_graph(sandbox, target=("boards", "0002")).source
    sandbox.migrate("boards", "0002")
    rolled_back = draw_migration_graph(sandbox).source
    yield applied, planned, rolled_back
    sandbox.delete()


def test_views_field_is_applied_leaf_and_frontier(views_rolled_back):
    applied, _, _ = views_rolled_back
    assert classes(applied, "boards.0003_topic_views") == {"migration", "applied", "leaf", "frontier"}
    assert classes(applied, "boards.0002_post") == {"migration", "applied"}
    assert f'fillcolor="{COLOURS["applied"][0]}"' in node_line(applied, "boards.0003_topic_views")
    assert ("boards.0002_post", "boards.0003_topic_views", "depends") in edges(applied)


def test_rollback_target_marks_the_plan_and_the_target(views_rolled_back):
    _, planned, _ = views_rolled_back
    assert "plan" in classes(planned, "boards.0003_topic_views")
    assert "step 1: unapply" in node_line(planned, "boards.0003_topic_views")
    assert "target" in classes(planned, "boards.0002_post")
    assert "migrate boards 0002 unapplies 1 migration" in planned


def test_rolled_back_views_field_is_unapplied_and_dashed(views_rolled_back):
    _, _, rolled_back = views_rolled_back
    line = node_line(rolled_back, "boards.0003_topic_views")
    assert classes(rolled_back, "boards.0003_topic_views") == {"migration", "unapplied", "leaf"}
    assert "dashed" in line and f'fillcolor="{COLOURS["unapplied"][0]}"' in line
    assert "frontier" in classes(rolled_back, "boards.0002_post")


def test_contrib_apps_hidden_but_their_dependency_ends_shown(views_rolled_back):
    applied, _, _ = views_rolled_back
    assert "cluster_auth" not in applied
    assert classes(applied, "auth.0001_initial") == {"external", "applied"}
    assert ("auth.0001_initial", "boards.0001_initial", "cross-app") in edges(applied)
    assert "legend" in applied


@pytest.fixture(scope="module")
def template_graph() -> MigrationGraph:
    sandbox = Sandbox.fresh("graphs-template")
    yield sandbox.migration_graph()
    sandbox.delete()


def test_contrib_runs_collapse_and_expand(template_graph):
    collapsed = draw_migration_graph(template_graph, include_contrib=True).source
    run = "auth.0002_alter_permission_name_max_length..0005_alter_user_last_login_null"
    assert classes(collapsed, run) == {"collapsed", "applied"}
    assert "4 migrations" in node_line(collapsed, run)
    # The cross-app dependency end (contenttypes 0002 -> auth 0006) stays visible.
    assert classes(collapsed, "auth.0006_require_contenttypes_0002") == {"migration", "applied"}
    for expanded in (
        draw_migration_graph(template_graph, include_contrib=True, collapse=False).source,
        draw_migration_graph(template_graph, include_contrib=True, expand=["auth"]).source,
    ):
        assert run not in expanded
        assert classes(expanded, "auth.0003_alter_user_email_max_length") == {"migration", "applied"}


def test_same_state_gives_same_dot(template_graph):
    assert draw_migration_graph(template_graph).source == draw_migration_graph(template_graph).source


def test_one_app_only_and_unknown_app(template_graph):
    dot = draw_migration_graph(template_graph, app_label="tracker").source
    assert '"lane:tracker"' in dot and '"lane:boards"' not in dot
    with pytest.raises(KitError, match="did you mean 'boards'"):
        draw_migration_graph(template_graph, app_label="board")
    with pytest.raises(KitError, match="needs the sandbox"):
        draw_migration_graph(template_graph, app_label="boards", target="0001")


def test_two_conflicting_0003_migrations_are_warned(sandbox):
    scenarios.make_conflicting_migrations(sandbox)
    dot = draw_migration_graph(sandbox).source
    for name in ("0003_topic_views", "0003_topic_pinned"):
        assert classes(dot, f"boards.{name}") == {"migration", "unapplied", "conflict", "leaf"}
        assert f'fillcolor="{COLOURS["conflict"][0]}"' in node_line(dot, f"boards.{name}")
    assert "boards: CONFLICT, 2 leaf nodes" in dot
    assert "conflict" not in classes(dot, "boards.0002_post")


def test_squashed_migration_is_one_node_expanded_on_request(sandbox):
    scenarios.make_squashed_migration(sandbox)
    dot = draw_migration_graph(sandbox, app_label="boards").source
    squash = "boards.0001_squashed_0002_post"
    assert classes(dot, squash) == {"migration", "applied", "leaf", "frontier", "squashed"}
    assert "box3d" in node_line(dot, squash) and "squashes 2 (2 recorded)" in node_line(dot, squash)
    assert '"boards.0001_initial"' not in dot and "replaces" not in {kind for *_, kind in edges(dot)}
    expanded = draw_migration_graph(sandbox, app_label="boards", expand=[squash]).source
    for old in ("boards.0001_initial", "boards.0002_post"):
        assert classes(expanded, old) == {"replaced-part"}
        assert "recorded" in node_line(expanded, old)
        assert (squash, old, "replaces") in edges(expanded)
    assert draw_migration_graph(sandbox, app_label="boards", expand_squashes=True).source == expanded


def test_half_applied_squash_draws_what_django_uses(sandbox):
    scenarios.make_squashed_migration(sandbox)
    sandbox.migrate("boards", "0001_initial")  # Django unapplies 0002_post: the squash is half recorded now
    graph = sandbox.migration_graph()
    assert ("boards", "0001_squashed_0002_post") not in graph.keys()
    dot = draw_migration_graph(graph, app_label="boards").source
    assert classes(dot, "boards.0001_initial") == {"migration", "applied", "frontier", "replaced"}
    assert classes(dot, "boards.0002_post") == {"migration", "unapplied", "leaf", "replaced"}
    # The squash's numbers only: its whole name is on its own node, and would make each replaced node as wide.
    assert "squashed into 0001_squashed_0002…" in node_line(dot, "boards.0001_initial")
    assert "squashed into 0001_squashed_0002_post" not in node_line(dot, "boards.0001_initial")
    assert ("boards.0001_initial", "boards.0002_post", "depends") in edges(dot)
    unused = "boards.0001_squashed_0002_post"
    assert classes(dot, unused) == {"squash-unused"} and "not used: 1 of 2 recorded" in node_line(dot, unused)
    assert (unused, "boards.0001_initial", "replaces") in edges(dot)


def test_cross_app_dependency_edge(sandbox):
    scenarios.make_cross_app_dependency(sandbox)
    dot = draw_migration_graph(sandbox).source
    assert ("boards.0002_post", "tracker.0002_transaction_board", "cross-app") in edges(dot)
    assert classes(dot, "tracker.0002_transaction_board") == {"migration", "applied", "leaf", "frontier"}


def _chain_graph(apps: int, length: int) -> MigrationGraph:
    """Build a MigrationGraph of chains in memory, each app's 0010 depending on the previous app."""
    nodes, edges_ = [], []
    for a in range(apps):
        names = [f"{n:04d}_step" for n in range(1, length + 1)]
        nodes += [(f"app{a}", n, i < length // 2, i < length // 2, [], i == 0) for i, n in enumerate(names)]
        edges_ += [(f"app{a}", p, f"app{a}", c) for p, c in zip(names, names[1:], strict=False)]
        if a:
            edges_.append((f"app{a - 1}", names[4], f"app{a}", names[9]))
    return MigrationGraph(
        nodes=make_table(nodes, ["app_label", "name", "applied", "recorded", "replaces", "initial"]),
        edges=make_table(edges_, ["from_app", "from_name", "to_app", "to_name"]),
        leaf_nodes={f"app{a}": [f"{length:04d}_step"] for a in range(apps)},
        conflicts={},
        apps={f"app{a}": {"contrib": False} for a in range(apps)},
    )


def test_long_chains_keep_roots_leaves_frontier_and_cross_app_ends():
    dot = draw_migration_graph(_chain_graph(2, 30)).source
    for kept in ("app1.0001_step", "app1.0010_step", "app1.0015_step", "app1.0030_step", "app0.0005_step"):
        node_line(dot, kept)
    assert classes(dot, "app1.0015_step") == {"migration", "applied", "frontier"}
    assert classes(dot, "app1.0016_step..0029_step") == {"collapsed", "unapplied"}
    assert "overview" not in dot


def test_very_large_graph_falls_back_to_an_overview():
    dot = draw_migration_graph(_chain_graph(80, 40)).source
    assert "overview: cross-app dependency ends folded" in dot
    # The run swallowed the cross-app end; the edge now joins the runs.
    assert ("app0.0002_step..0019_step", "app1.0002_step..0019_step", "cross-app") in edges(dot)
    assert dot.count("class=collapsed") + dot.count('class="collapsed') == 160


@pytest.fixture(scope="module")
def author_book():
    sandbox = Sandbox.fresh("graphs-author-book")
    before = sandbox.state()
    scenarios.create_author_book(sandbox)
    yield sandbox, before
    sandbox.delete()


def test_schema_diff_colours_added_tables_and_foreign_keys(author_book):
    sandbox, before = author_book
    dot = draw_schema(sandbox, previous=before).source
    assert "app_author [label=<" in dot and 'class="table added"' in node_line(dot, "app_author")
    assert "app_book:author_id__out:e -> app_author:id:w" in dot
    assert 'class="foreign-key added"' in dot
    assert "class=table " in node_line(dot, "boards_topic") or "class=table\n" in node_line(dot, "boards_topic")
    assert "auth_user [label=<" not in dot and 'class="table external"' in node_line(dot, "auth_user")


def test_schema_diff_strikes_removed_columns(sandbox):
    scenarios.add_views_field(sandbox)
    with_views = sandbox.state()
    sandbox.migrate("boards", "0002")
    dot = draw_schema(sandbox, previous=with_views).source
    line = node_line(dot, "boards_topic")
    assert f'<TD ALIGN="LEFT" BGCOLOR="{COLOURS["removed"][0]}" PORT="views"><S>views</S></TD>' in line
    assert "<S>subject</S>" not in line
    plain = draw_schema(sandbox).source
    assert "views" not in plain and "<S>" not in plain


def test_schema_contrib_tables_on_request(author_book):
    sandbox, _ = author_book
    dot = draw_schema(sandbox, include_contrib=True).source
    assert "auth_user [label=<" in dot and "django_migrations [label=<" in dot
