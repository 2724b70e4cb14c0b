"""The kit's table values: a pandas DataFrame where pandas imports, otherwise the kit's own light ``Table``.

The browser (Pyodide) has no pandas, so every table the kit returns is built by
one factory, ``make_table``, and read by the neutral helpers below
(``records``, ``column``, ``where``, ``concat``, ...), which work on either
kind. The kit decides in plain Python over lists and dicts and converts at the
boundary: the same columns, and the same values, with or without pandas.
``StyledTable`` shows a table with highlighted rows or cells in the kit's
palette, as one HTML of its own in both cases.
"""

from __future__ import annotations

import html
import importlib
import re
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any

__all__ = [
    "Column",
    "StyledTable",
    "Table",
    "TableLike",
    "column",
    "concat",
    "is_missing",
    "is_table",
    "keyed",
    "make_table",
    "pandas_or_none",
    "records",
    "same_rows",
    "select",
    "sort_by",
    "table_html",
    "table_text",
    "where",
    "with_column",
]

#: What the kit's table functions return: a pandas DataFrame, or a ``Table`` where pandas is missing.
TableLike = Any

#: Column kinds that matter for values: "datetime" (timestamps), "int", "Int64" (whole numbers that may be
#: missing), "bool". Anything else keeps the values as given.
Dtypes = dict[str, str]


@cache
def pandas_or_none():
    """Return the pandas module, or None where it cannot be imported (the browser)."""
    try:
        return importlib.import_module("pandas")
    except ImportError:
        return None


class Column(list):
    """One column of a ``Table``: a list of its values, with the few Series-like methods lessons use."""

    def tolist(self) -> list:
        """Return the values as a plain list."""
        return list(self)

    def unique(self) -> list:
        """Return the distinct values in the order they first appear."""
        return list(dict.fromkeys(self))


class Table:
    """Ordered columns and rows: the kit's table value where pandas is missing, shown as a plain table."""

    def __init__(self, rows: Iterable[Sequence] = (), columns: Sequence[str] = ()):
        self.columns = list(columns)
        self.rows = [tuple(row) for row in rows]
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"A row has {len(row)} values for {len(self.columns)} columns: {row!r}.")

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def empty(self) -> bool:
        """Return True when the table has no rows."""
        return not self.rows

    @property
    def shape(self) -> tuple[int, int]:
        """Return (rows, columns)."""
        return (len(self.rows), len(self.columns))

    def __iter__(self) -> Iterator[str]:
        # As a DataFrame does: iterating a table gives its column names.
        return iter(self.columns)

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def __getitem__(self, key):
        if isinstance(key, str):
            index = self._index(key)
            return Column(row[index] for row in self.rows)
        if isinstance(key, list) and all(isinstance(k, str) for k in key):
            return select(self, key)
        raise TypeError(
            f"A table takes a column name or a list of names, not {key!r}. "
            "Fix: filter rows with widgets.read.table.where(table, lambda row: ...)."
        )

    def _index(self, name: str) -> int:
        try:
            return self.columns.index(name)
        except ValueError:
            raise KeyError(f"There is no column called {name!r}; the columns are {self.columns}.") from None

    def itertuples(self, index: bool = False, name: str | None = "Row") -> Iterator[tuple]:
        """Yield each row as a named tuple (a plain tuple with ``name=None``), as DataFrame.itertuples does."""
        if index:
            raise ValueError("A Table has no index. Fix: call itertuples(index=False).")
        if name is None:
            yield from self.rows
            return
        kind = namedtuple(name, self.columns, rename=True)
        for row in self.rows:
            yield kind(*row)

    def to_dict(self, orient: str = "records") -> list[dict]:
        """Return the rows as dicts, column name -> value (only orient='records')."""
        if orient != "records":
            raise ValueError(f"A Table gives its rows as records only, not {orient!r}. Fix: call to_dict('records').")
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def head(self, n: int = 5) -> Table:
        """Return the first ``n`` rows."""
        return Table(self.rows[:n], self.columns)

    def copy(self) -> Table:
        """Return a copy (rows are tuples, so sharing them is safe)."""
        return Table(self.rows, self.columns)

    def equals(self, other) -> bool:
        """Return True when ``other`` has the same columns and the same rows in the same order."""
        return same_rows(self, other)

    def to_string(self, index: bool = False) -> str:
        """Return the table as aligned plain text, one line per row."""
        cells = [self.columns] + [[_cell_text(value) for value in row] for row in self.rows]
        widths = [max(len(line[i]) for line in cells) for i in range(len(self.columns))]
        return "\n".join(
            " ".join(text.rjust(width) for text, width in zip(line, widths, strict=True)) for line in cells
        )

    def to_html(self, index: bool = False) -> str:
        """Return the table as a plain HTML table."""
        return _html(self.columns, self.rows)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return self.to_string() if self.columns else "Empty table"


_SHORT = 12  # names up to this long never need a break
_NAME_JOINT = re.compile(r"([_.])(?=\w)")


def _cell_text(value) -> str:
    if is_missing(value):
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def _html(columns: list[str], rows: list[Sequence], styles: list[list[str]] | None = None, caption: str = "") -> str:
    """Return a plain HTML table; ``styles`` gives each cell's inline CSS (the palette's TABLE_STYLES)."""
    head = "".join(f"<th>{html.escape(str(name))}</th>" for name in columns)
    body = []
    for r, row in enumerate(rows):
        cells = []
        for c, value in enumerate(row):
            style = styles[r][c] if styles else ""
            attribute = f' style="{html.escape(style)}"' if style else ""
            cells.append(f"<td{attribute}>{breakable(_cell_text(value))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    title = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f'<table class="mk-plain-table">{title}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def breakable(text: str) -> str:
    """Return text escaped for HTML, with a line-break opportunity after each ``_`` and ``.`` of a long name."""
    escaped = html.escape(text)
    # A narrow table then wraps "0002_added_Book_model" after "0002_", not mid-word ("contentty/pes").
    return _NAME_JOINT.sub(r"\1<wbr>", escaped) if len(text) > _SHORT else escaped


def is_missing(value) -> bool:
    """Return True for a missing value: None, NaN, or pandas' NA and NaT."""
    if value is None:
        return True
    if type(value).__name__ in ("NAType", "NaTType"):
        return True
    if isinstance(value, float):
        return value != value
    return False


def _native(value):
    """Return a value as plain Python: missing values become None, numpy scalars Python ones."""
    if is_missing(value):
        return None
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        return item()
    return value


def _to_datetime(value):
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _converted(value, kind: str):
    if value is None:
        return None
    if kind == "datetime":
        return _to_datetime(value)
    if kind in ("int", "Int64"):
        return int(value)
    if kind == "bool":
        return bool(value)
    return value


def make_table(rows: Iterable = (), columns: Sequence[str] = (), *, dtypes: Dtypes | None = None) -> TableLike:
    """Build the kit's table value from rows (sequences or dicts): a DataFrame with pandas, else a ``Table``."""
    pd = pandas_or_none()
    if pd is None:
        return light_table(rows, columns, dtypes=dtypes)
    columns = list(columns)
    listed = [[row.get(name) for name in columns] if isinstance(row, dict) else list(row) for row in rows]
    frame = pd.DataFrame(listed, columns=columns)
    for name, kind in (dtypes or {}).items():
        if kind == "datetime":
            frame[name] = pd.to_datetime(frame[name], format="ISO8601")
        elif kind == "int":
            frame[name] = frame[name].astype("int64")
        elif kind == "Int64":
            frame[name] = frame[name].astype("Int64")
        elif kind == "bool":
            frame[name] = frame[name].astype(bool)
    return frame


def light_table(rows: Iterable = (), columns: Sequence[str] = (), *, dtypes: Dtypes | None = None) -> Table:
    """Build the kit's own ``Table`` from rows (sequences or dicts), pandas or not: for values that stay inside the kit."""
    columns = list(columns)
    kinds = [(dtypes or {}).get(name, "") for name in columns]
    listed = ([row.get(name) for name in columns] if isinstance(row, dict) else row for row in rows)
    return Table(([_converted(v, k) for v, k in zip(row, kinds, strict=True)] for row in listed), columns)


def as_kit_table(table: TableLike) -> TableLike:
    """Return a table as the value the kit hands out here: a DataFrame where pandas imports (see make_table)."""
    return make_table(table.rows, table.columns) if isinstance(table, Table) else table


def is_table(value) -> bool:
    """Return True for the kit's table values: a ``Table``, or a pandas DataFrame (pandas is never imported for it)."""
    if isinstance(value, Table):
        return True
    return any(kind.__name__ == "DataFrame" and kind.__module__.startswith("pandas") for kind in type(value).__mro__)


def records(table: TableLike) -> list[dict]:
    """Return a table's rows as plain dicts, column name -> value; missing values are None."""
    if isinstance(table, Table):
        return table.to_dict("records")
    return [{name: _native(value) for name, value in row.items()} for row in table.to_dict("records")]


def keyed(table: TableLike, *names: str) -> dict:
    """Return the rows as dicts keyed by one column's value, or by a tuple of several columns' values."""
    if len(names) == 1:
        return {row[names[0]]: row for row in records(table)}
    return {tuple(row[name] for name in names): row for row in records(table)}


def column(table: TableLike, name: str) -> list:
    """Return one column's values as a plain list; missing values are None."""
    if isinstance(table, Table):
        return [_native(value) for value in table[name]]
    return [_native(value) for value in table[name].tolist()]


def _dtypes_of(table: TableLike) -> Dtypes:
    """Return the column kinds of a DataFrame worth keeping when it is rebuilt."""
    kinds = {}
    for name, dtype in table.dtypes.items():
        text = str(dtype)
        if text.startswith("datetime64"):
            kinds[name] = "datetime"
        elif text == "Int64":
            kinds[name] = "Int64"
        elif text == "bool":
            kinds[name] = "bool"
        elif text == "int64":
            kinds[name] = "int"
    return kinds


def _rebuilt(
    table: TableLike, rows: list[dict], columns: list[str], extra: Dtypes | None = None, new: str | None = None
) -> TableLike:
    kinds = {} if isinstance(table, Table) else _dtypes_of(table)
    kinds.pop(new, None)  # a column given new values takes their kind, or the one asked for
    kinds = {name: kind for name, kind in {**kinds, **(extra or {})}.items() if name in columns}
    # A whole-number column that gains a missing value must allow it, as pandas' Int64 does.
    for name, kind in list(kinds.items()):
        if kind == "int" and any(row.get(name) is None for row in rows):
            kinds[name] = "Int64"
        if kind == "bool" and any(row.get(name) is None for row in rows):
            del kinds[name]
    # A Table stays a Table, pandas or not: the kit's inner work on it must not pay for DataFrames.
    build = light_table if isinstance(table, Table) else make_table
    return build(rows, columns, dtypes=kinds)


def where(table: TableLike, keep: Callable[[dict], bool] | None = None, /, **equal) -> TableLike:
    """Return the rows for which ``keep(row)`` is true and each named column equals its value, columns unchanged.

    ``where(graph.nodes, app_label="app")``, or ``where(sandbox.tables(), lambda row: row["rows"] > 0)``;
    ``row`` is a dict of plain values.
    """
    rows = [
        row
        for row in records(table)
        if (keep is None or keep(row)) and all(row[name] == value for name, value in equal.items())
    ]
    return _rebuilt(table, rows, list(table.columns))


def select(table: TableLike, columns: Sequence[str]) -> TableLike:
    """Return only the columns named, in that order."""
    if not isinstance(table, Table):
        return table[list(columns)].reset_index(drop=True)
    indexes = [table._index(name) for name in columns]
    return Table(([row[i] for i in indexes] for row in table.rows), columns)


def with_column(table: TableLike, name: str, values, *, at: int | None = None, dtype: str | None = None) -> TableLike:
    """Return the table with a column set to ``values`` (a list, or one value for every row), at position ``at``."""
    rows = records(table)
    listed = list(values) if isinstance(values, (list, tuple, range)) else [values] * len(rows)
    for row, value in zip(rows, listed, strict=True):
        row[name] = value
    columns = list(table.columns)
    if name not in columns:
        columns.insert(len(columns) if at is None else at, name)
    return _rebuilt(table, rows, columns, {name: dtype} if dtype else None, new=name)


def concat(tables: Sequence[TableLike], columns: Sequence[str] | None = None) -> TableLike:
    """Return the rows of every table, one after the other, in the columns of the first (or ``columns``)."""
    first = tables[0]
    names = list(columns if columns is not None else first.columns)
    rows = [{name: row.get(name) for name in names} for table in tables for row in records(table)]
    kinds: Dtypes = {}
    for table in reversed(tables):
        if not isinstance(table, Table):
            kinds.update(_dtypes_of(table))
    return _rebuilt(first, rows, names, kinds)


def sort_by(table: TableLike, *names: str) -> TableLike:
    """Return the rows sorted by the columns named (stable; missing values last)."""
    rows = sorted(
        records(table), key=lambda row: [(row[n] is None, row[n] if row[n] is not None else 0) for n in names]
    )
    return _rebuilt(table, rows, list(table.columns))


def same_rows(a: TableLike, b: TableLike) -> bool:
    """Return True when two tables have the same columns and the same rows in the same order."""
    return list(a.columns) == list(b.columns) and records(a) == records(b)


def table_text(table: TableLike) -> str:
    """Return a table as plain text, without an index."""
    return table.to_string(index=False)


def table_html(table: TableLike) -> str:
    """Return a table as HTML, without an index."""
    return table.to_html(index=False)


class StyledTable:
    """A table shown with some rows or cells highlighted in the kit's palette; its plain text is the visible table.

    ``styles`` holds each cell's inline CSS (from ``widgets.draw.palette.TABLE_STYLES``); ``hidden``
    names columns kept in ``data`` but not shown. The HTML is the kit's own, with or without pandas.
    """

    def __init__(
        self,
        data: TableLike,
        *,
        styles: list[list[str]] | None = None,
        hidden: Sequence[str] = (),
        caption: str = "",
        css: str = "",
    ):
        self.data = data
        self.styles = styles
        self.hidden = [name for name in hidden if name in data.columns]
        self.caption = caption
        self.css = css

    def _shown(self) -> tuple[list[str], list[int]]:
        names = list(self.data.columns)
        keep = [i for i, name in enumerate(names) if name not in self.hidden]
        return [names[i] for i in keep], keep

    def to_html(self) -> str:
        """Return the table's HTML: visible columns, each cell's style."""
        names, keep = self._shown()
        rows = [[row[name] for name in names] for row in records(self.data)]
        styles = [[line[i] for i in keep] for line in self.styles] if self.styles else None
        return _html(names, rows, styles, self.caption)

    def _repr_html_(self) -> str:
        style = f"<style>{self.css}</style>" if self.css else ""
        return f'<div class="mk-table">{style}{self.to_html()}</div>'

    def __repr__(self) -> str:
        names, _ = self._shown()
        return table_text(select(self.data, names))
