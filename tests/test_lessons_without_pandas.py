"""The lessons call no pandas-only method on the kit's tables: in the browser they are the kit's own Table."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]-*.ipynb"))
# DataFrame methods the kit's Table does not have (widgets.read.table offers where/select/concat instead).
# A .query( whose string is SQL is the kit's own Sandbox.query.
PANDAS_ONLY = re.compile(
    r"\.query\(\s*[\"'](?!\s*(SELECT|WITH|PRAGMA)\b)|\.(loc|iloc|at|iat)\[|\.str\.|\.(assign|merge|groupby|pivot|melt|apply)\("
)


def pandas_only_calls(source: str) -> list[str]:
    """Return the lines of a code cell that call a method only a pandas DataFrame has."""
    return [line.strip() for line in source.splitlines() if PANDAS_ONLY.search(line)]


def test_the_pattern_finds_what_it_looks_for() -> None:
    assert pandas_only_calls("tables(db).query(\"table.str.startswith('x')\")")
    assert pandas_only_calls("frame.loc[frame.rows > 0]")
    assert not pandas_only_calls('sandbox.query("SELECT id FROM app_book")')
    assert not pandas_only_calls('where(sandbox.tables(), table="app_book")')


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_no_lesson_needs_pandas(notebook: Path) -> None:
    cells = nbformat.read(notebook, as_version=4).cells
    found = [line for cell in cells if cell.cell_type == "code" for line in pandas_only_calls(cell.source)]
    assert not found, f"{notebook.name} calls pandas-only methods (use widgets.read.table's helpers): {found}"
