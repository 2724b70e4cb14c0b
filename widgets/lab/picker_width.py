"""How wide a picker must be to show its longest choice whole: a plain function the panel calls.

A dropdown of fixed width cuts a long app label or migration name
("0001_squashed_0034_…"), and the learner cannot tell two such choices apart.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["fitted_width", "labels_of"]

# JupyterLab's widget font, in em: an average character of a name, and the room the arrow and padding take.
CHAR_EM = 0.6
ARROW_EM = 2.6
# Past this, the picker wraps onto its own line rather than grow off the screen.
MAXIMUM_EM = 60.0


def labels_of(options: Iterable) -> list[str]:
    """Return what a dropdown shows for its options: the string, or the label of a (label, value) pair."""
    return [str(option[0]) if isinstance(option, tuple) else str(option) for option in options]


def fitted_width(options: Iterable, description_em: float, minimum_em: float) -> str:
    """Return a CSS width that shows the description and the longest choice whole, never under minimum_em."""
    longest = max((len(label) for label in labels_of(options)), default=0)
    width = description_em + longest * CHAR_EM + ARROW_EM
    return f"{round(min(max(width, minimum_em), MAXIMUM_EM), 1):g}em"
