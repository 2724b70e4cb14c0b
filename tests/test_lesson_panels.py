"""After Run All, and in Voila (which runs every cell), a lesson's panel shows only what the learner did with it.

The lessons' own cells show their outputs in their cells: none of them may
leave a status, a preview, a command or a question in a panel displayed
above them. Each lesson with a panel runs here cell by cell, in plain Python,
as Run All would run it.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from widgets.lab import panel_views as views
from widgets.lab.panels import _IDLE_TERMINAL, MigrationLab

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
WITH_PANELS = sorted(
    p for p in NOTEBOOKS.glob("[0-9][0-9]-*.ipynb") if "MigrationLab(" in p.read_text(encoding="utf-8")
)


def run_every_cell(lesson: Path) -> dict:
    """Run a lesson's code cells in order in one namespace, as Run All does; return the namespace."""
    namespace: dict = {}
    for number, cell in enumerate(nbformat.read(lesson, as_version=4).cells):
        if cell.cell_type == "code":
            exec(compile(cell.source, f"{lesson.name}, cell {number}", "exec"), namespace)  # noqa: S102
    return namespace


def test_the_lessons_with_a_panel_are_found() -> None:
    assert [p.name[:2] for p in WITH_PANELS] == ["05", "10"]


@pytest.mark.parametrize("lesson", WITH_PANELS, ids=lambda p: p.name[:2])
def test_a_panel_starts_neutral_after_every_cell_ran(
    lesson: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIGRATION_KIT_WORKSPACE", str(tmp_path))
    monkeypatch.chdir(NOTEBOOKS)
    panels = [value for value in run_every_cell(lesson).values() if isinstance(value, MigrationLab)]
    assert panels, f"{lesson.name} shows no panel"
    for lab in panels:
        lab.wait()
        session = lab.session
        assert session.history == () and session.outcomes == (), [h.command for h in session.history]
        assert session.status is None and session.pending is None and session.question is None, session.status
        assert _IDLE_TERMINAL in lab.terminal.value and lab.status.value == views.note_html(None)
        assert lab.rollback_box.layout.display == "none"  # no preview waits for a confirm
