"""The kit's own light table value, and the neutral helpers that read a table of either kind."""

from __future__ import annotations

from datetime import datetime

import pytest

from widgets.read.table import (
    StyledTable,
    Table,
    column,
    concat,
    is_missing,
    is_table,
    keyed,
    make_table,
    pandas_or_none,
    records,
    same_rows,
    select,
    sort_by,
    where,
    with_column,
)

ROWS = [(2, "boards", "0002_post"), (1, "boards", "0001_initial"), (3, "auth", "0001_initial")]
COLUMNS = ["id", "app", "name"]


def test_a_table_has_columns_rows_and_plain_records():
    table = Table(ROWS, COLUMNS)
    assert list(table.columns) == COLUMNS and len(table) == 3 and not table.empty and table.shape == (3, 3)
    assert list(table) == COLUMNS  # as a DataFrame iterates: the column names
    assert table["app"] == ["boards", "boards", "auth"] and table["id"].tolist() == [2, 1, 3]
    assert records(table)[0] == {"id": 2, "app": "boards", "name": "0002_post"}
    assert [row.name for row in table.itertuples(index=False)] == ["0002_post", "0001_initial", "0001_initial"]
    assert Table([], COLUMNS).empty


def test_a_table_says_what_it_takes():
    with pytest.raises(KeyError, match="There is no column called 'views'"):
        Table(ROWS, COLUMNS)["views"]
    with pytest.raises(TypeError, match="Fix: filter rows with widgets.read.table.where"):
        Table(ROWS, COLUMNS)[[True, False, True]]
    with pytest.raises(ValueError, match="A row has 2 values for 3 columns"):
        Table([(1, "boards")], COLUMNS)


def test_a_table_prints_as_a_plain_table_and_escapes_its_html():
    table = Table([(1, "<b>", None)], ["id", "text", "missing"])
    assert table.to_string().splitlines() == ["id text missing", " 1  <b>        "]
    page = table._repr_html_()
    assert "<th>text</th>" in page and "<td>&lt;b&gt;</td>" in page and "None" not in page


def test_the_helpers_filter_select_sort_and_join_a_table():
    table = Table(ROWS, COLUMNS)
    assert records(where(table, app="boards")) == records(where(table, lambda row: row["app"] == "boards"))
    assert column(where(table, lambda row: row["id"] > 1, app="boards"), "name") == ["0002_post"]
    assert list(select(table, ["name", "id"]).columns) == ["name", "id"]
    assert column(sort_by(table, "app", "id"), "id") == [3, 1, 2]
    both = concat([table, Table([(4, "tracker", "0001_initial")], COLUMNS)])
    assert len(both) == 4 and column(both, "app")[-1] == "tracker"
    marked = with_column(table, "change", "applied", at=0)
    assert list(marked.columns) == ["change", *COLUMNS] and set(column(marked, "change")) == {"applied"}
    assert keyed(table, "app", "name")[("auth", "0001_initial")]["id"] == 3
    assert same_rows(table, Table(ROWS, COLUMNS)) and not same_rows(table, sort_by(table, "id"))


def test_the_factory_gives_the_same_values_with_or_without_pandas():
    applied = make_table(
        [(1, "boards", "2026-01-02 03:04:05.678901")], ["id", "app", "applied"], dtypes={"applied": "datetime"}
    )
    assert is_table(applied)
    assert type(applied).__name__ == ("Table" if pandas_or_none() is None else "DataFrame")
    [row] = records(applied)
    assert isinstance(row["applied"], datetime) and row["applied"].microsecond == 678901
    counts = make_table([("a", 1), ("b", None)], ["table", "rows"], dtypes={"rows": "Int64"})
    assert column(counts, "rows") == [1, None] and is_missing(records(counts)[1]["rows"])


def test_a_styled_table_hides_columns_and_colours_cells():
    data = Table([(1, "applied", "x")], ["id", "change", "secret"])
    shown = StyledTable(data, styles=[["color: red", "", ""]], hidden=["secret"], caption="one row")
    page = shown.to_html()
    assert "secret" not in page and '<td style="color: red">1</td>' in page and "<caption>one row</caption>" in page
    assert repr(shown).split() == ["id", "change", "1", "applied"]


def test_long_names_break_after_underscores_and_dots_only() -> None:
    from widgets.read.table import breakable

    assert breakable("0002_added_Book_model") == "0002_<wbr>added_<wbr>Book_<wbr>model"
    assert breakable("django.contrib.auth") == "django.<wbr>contrib.<wbr>auth"
    assert breakable("app_book") == "app_book"  # short: never broken
    assert breakable("<b>_tag_in_a_name") == "&lt;b&gt;_<wbr>tag_<wbr>in_<wbr>a_<wbr>name"
