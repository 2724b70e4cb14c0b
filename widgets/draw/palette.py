"""The kit's colours, defined once: graphs, schema diagrams, tables and panels all read them from here."""

from __future__ import annotations

__all__ = ["COLOURS", "EDGE_COLOURS", "TABLE_STYLES", "UI_COLOURS", "border", "css_variables", "fill"]

#: Fill and border of each kind of thing drawn; legends repeat them.
COLOURS = {
    "applied": ("#c8e6c9", "#2e7d32"),
    "unapplied": ("#ffffff", "#757575"),
    "conflict": ("#ffcc80", "#e65100"),
    "external": ("#eeeeee", "#9e9e9e"),
    "plan": ("#bbdefb", "#1565c0"),
    "target": ("#bbdefb", "#0d47a1"),
    "added": ("#c8e6c9", "#2e7d32"),
    "removed": ("#ffcdd2", "#c62828"),
    "changed": ("#fff59d", "#f9a825"),
    "squash": ("#ffffff", "#7b1fa2"),
    "data": ("#fff3e0", "#ef6c00"),
}

#: Colours of the edges between migrations.
EDGE_COLOURS = {
    "depends": "#616161",
    # Light, so a project's many cross-app dependencies stay in the background of its lanes.
    "cross-app": "#6a1b9a55",
    "replaces": "#7b1fa2",
}

#: CSS for table cells of each status (pandas Styler), from the same colours.
TABLE_STYLES = {
    "applied": f"background-color: {COLOURS['applied'][0]}",
    "added": f"background-color: {COLOURS['added'][0]}",
    "unapplied": f"background-color: {COLOURS['removed'][0]}; text-decoration: line-through",
    "removed": f"background-color: {COLOURS['removed'][0]}; text-decoration: line-through",
    "changed": f"background-color: {COLOURS['changed'][0]}",
}


#: Colours of the panel itself (terminal, messages, highlights), read by its CSS through css_variables().
UI_COLOURS = {
    "ok": "#1a7f37",
    "fail": "#cf222e",
    "terminal": "#1e1e1e",
    "terminal-text": "#e8e8e8",
    "note": "#f6f8fa",
    "attention": "#fff8c5",
    "attention-border": "#d4a72c",
    "match": "#d81b60",
    "selected": COLOURS["target"][1],
    "database": COLOURS["applied"][1],
    "line": "#e0e0e0",
    "muted": "#616161",
}


def css_variables(selector: str = ":root") -> str:
    """Return every colour as a CSS custom property (--mk-applied-fill, --mk-ok...), so CSS repeats none."""
    pairs = [(f"{kind}-fill", colours[0]) for kind, colours in COLOURS.items()]
    pairs += [(f"{kind}-border", colours[1]) for kind, colours in COLOURS.items()]
    pairs += list(UI_COLOURS.items())
    body = " ".join(f"--mk-{name}: {value};" for name, value in pairs)
    return f"{selector} {{ {body} }}"


def fill(kind: str) -> str:
    """Return the fill colour of a kind of thing."""
    return COLOURS[kind][0]


def border(kind: str) -> str:
    """Return the border colour of a kind of thing."""
    return COLOURS[kind][1]
