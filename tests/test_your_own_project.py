"""A project of your own, copied: the example shop with a settings package, a squash and data."""

from __future__ import annotations

import pytest

from widgets import Sandbox, rollback_preview, scenarios
from widgets.read.state import tables
from widgets.read.table import records, where


@pytest.fixture(scope="module")
def shop():
    original = scenarios.example_project("shop")
    sandbox = Sandbox.copy_of(original, "own-project-shop")
    yield original, sandbox
    sandbox.delete()


def test_the_copy_finds_the_settings_package_and_the_squash(shop):
    _, sandbox = shop
    assert sandbox.settings_module == "shop.settings.dev"
    assert sandbox.settings_file == "shop/settings/dev.py"
    graph = sandbox.migration_graph()
    [squash] = records(where(graph.nodes, name="0001_squashed_0003_product_sku"))
    assert squash["applied"] and len(squash["replaces"]) == 3
    assert ("catalog", "0002_product_price") not in graph.keys()


def test_a_rollback_counts_each_lost_row_once(shop):
    _, sandbox = shop
    preview = rollback_preview(sandbox, "orders", "zero")
    lost = {(r.table, r.column if isinstance(r.column, str) else None): r.rows_lost for r in preview.drops.itertuples()}
    assert lost == {("orders_order", "status"): 4, ("orders_order", None): 4, ("orders_orderline", None): 6}
    assert preview.rows_lost == 10
    assert "column orders_order.status: 4 value(s) lost" in str(preview)


def test_running_it_on_the_copy_leaves_the_original_alone(shop):
    original, sandbox = shop
    before = scenarios.digest(original)
    assert sandbox.migrate("orders", "zero").ok
    assert "orders_order" not in set(sandbox.tables()["table"])
    assert scenarios.digest(original) == before
    rows = {row["table"]: row["rows"] for row in records(tables(original / "db.sqlite3"))}
    assert rows["orders_order"] == 4 and rows["orders_orderline"] == 6
