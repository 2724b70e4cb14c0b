"""Every numbered lesson has the same skeleton: what you will learn, setup, steps, what just happened, exercises, summary."""

from __future__ import annotations

import re

import nbformat
import pytest

from widgets.sandbox.paths import REPO_ROOT

LESSONS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
# The headings every lesson has, in this order (others may sit between them).
REQUIRED = ["Setup", "Step 1", "What just happened", "Exercises", "Summary"]


def headings(book) -> list[tuple[int, str]]:
    """Return (cell index, text) of every second-level heading."""
    found = []
    for index, cell in enumerate(book.cells):
        if cell.cell_type == "markdown":
            found += [(index, text) for text in re.findall(r"^## (.+)$", cell.source, re.MULTILINE)]
    return found


def test_every_numbered_lesson_is_checked():
    numbers = [path.name[:2] for path in LESSONS]
    assert {"01", "02", "03", "04", "05", "06", "11"} <= set(numbers)


@pytest.mark.parametrize("path", LESSONS, ids=[p.name for p in LESSONS])
def test_the_lesson_follows_the_skeleton(path):
    book = nbformat.read(path, as_version=4)
    first = book.cells[0].source
    assert first.startswith(f"# {path.name[:2]} · "), "the first cell is the title, numbered as the file"
    assert "**What you will learn**" in first and re.search(r"^- .+", first, re.MULTILINE), "goals as a list"
    found = headings(book)
    texts = [text for _, text in found]
    positions = []
    for required in REQUIRED:
        match = [i for i, text in enumerate(texts) if text.startswith(required)]
        assert match, f"no '## {required}' heading"
        positions.append(match[0])
    assert positions == sorted(positions), f"the headings are out of order: {texts}"
    steps = [text for text in texts if text.startswith("Step ")]
    assert [s.split(" ·")[0] for s in steps] == [f"Step {n}" for n in range(1, len(steps) + 1)], "steps are numbered"
    setup = found[positions[0]][0]
    assert book.cells[setup + 1].cell_type == "code" and "Sandbox" in book.cells[setup + 1].source
    exercises, summary = found[positions[3]][0], found[positions[4]][0]
    checks = [c for c in book.cells[exercises:summary] if c.cell_type == "code" and "check." in c.source]
    assert checks, "every exercise has a check cell"
    assert summary == len(book.cells) - 1, "the summary is the last cell"
