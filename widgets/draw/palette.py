"""The kit's colours, defined once: graphs, schema diagrams, tables and panels all read them from here.

Two kinds of colour live here. The pictures (graphs, schema diagrams) are
drawn on white "paper" in both of JupyterLab's themes, so ``COLOURS`` and
``EDGE_COLOURS`` have one value each. Everything else (panel text, the
rollback preview, highlighted table rows, the graph's buttons, legend and
hover card) follows the theme: ``UI`` gives each role a light and a dark
value, built on JupyterLab's ``--jp-*`` variables where those are legible,
and ``css_variables`` writes them as ``--mk-*`` custom properties, the dark
set under ``body[data-jp-theme-light="false"]``. ``contrast`` computes the
WCAG 2 ratio that ``TEXT_PAIRS`` must reach in both themes.
"""

from __future__ import annotations

import re

__all__ = [
    "COLOURS",
    "EDGE_COLOURS",
    "JP_THEME",
    "TABLE_STYLES",
    "TEXT_PAIRS",
    "UI",
    "UI_COLOURS",
    "border",
    "contrast",
    "css_variables",
    "fill",
    "resolve",
]

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

#: JupyterLab 4's theme variables the kit uses, at their light and dark values (the fallbacks, and what tests check).
JP_THEME = {
    "layout-color0": ("#ffffff", "#111111"),
    "layout-color1": ("#ffffff", "#212121"),
    "layout-color2": ("#eeeeee", "#424242"),
    "border-color1": ("#bdbdbd", "#616161"),
    "border-color2": ("#e0e0e0", "#424242"),
    "ui-font-color1": ("rgba(0, 0, 0, 0.87)", "rgba(255, 255, 255, 0.87)"),
    "content-font-color1": ("rgba(0, 0, 0, 0.87)", "#ffffff"),
    "content-font-color2": ("rgba(0, 0, 0, 0.54)", "rgba(255, 255, 255, 0.7)"),
    "brand-color0": ("#0d47a1", "#1976d2"),
    "brand-color2": ("#64b5f6", "#64b5f6"),
    "success-color0": ("#1b5e20", "#388e3c"),
    "success-color2": ("#81c784", "#81c784"),
    "error-color0": ("#b71c1c", "#d32f2f"),
    "error-color2": ("#e57373", "#e57373"),
    "warn-color0": ("#e65100", "#f57c00"),
    "warn-color2": ("#ffb74d", "#ffb74d"),
}


def _jp(name: str) -> tuple[str, str]:
    """Return a JupyterLab variable as (light, dark) CSS values, each with that theme's value as fallback."""
    light, dark = JP_THEME[name]
    return f"var(--jp-{name}, {light})", f"var(--jp-{name}, {dark})"


_WHITE = ("#ffffff", "#ffffff")

#: Every themed role as (light, dark): text and backgrounds of the panel, tables, preview, graph controls.
UI = {
    # Text and the surfaces it sits on: JupyterLab's own.
    "text": _jp("content-font-color1"),
    "muted": ("#5e5e5e", _jp("content-font-color2")[1]),
    "page": _jp("layout-color0"),
    "surface": _jp("layout-color1"),
    "note": _jp("layout-color2"),
    "line": _jp("border-color2"),
    "control": _jp("layout-color2"),
    "control-border": _jp("border-color1"),
    "control-text": _jp("ui-font-color1"),
    # Messages: JupyterLab's success and error colours are too light for text on white, and too dark on black.
    "ok": (_jp("success-color0")[0], _jp("success-color2")[1]),
    "fail": (_jp("error-color0")[0], "#ff8a80"),
    "accent": (_jp("brand-color0")[0], _jp("brand-color2")[1]),
    "database": (_jp("success-color0")[0], _jp("success-color2")[1]),
    # A rollback waiting for confirm, and Django's question.
    "attention": ("#fff8c5", "#3d3200"),
    "attention-border": ("#9a6700", _jp("warn-color2")[1]),
    "focus": (_jp("brand-color0")[0], "#90caf9"),
    # Buttons that say what they do by colour: white text on a colour dark enough in both themes.
    "danger": ("#b71c1c", "#b71c1c"),
    "primary": ("#1565c0", "#1565c0"),
    "success": ("#1b5e20", "#1b5e20"),
    "warning": ("#8a4600", "#8a4600"),
    "on-colour": _WHITE,
    # Highlighted rows of tables: pale in the light theme, deep in the dark one, text always the theme's.
    "applied-row": (COLOURS["applied"][0], "#1e4d2b"),
    "added-row": (COLOURS["added"][0], "#1e4d2b"),
    "removed-row": (COLOURS["removed"][0], "#5c1f1f"),
    "changed-row": (COLOURS["changed"][0], "#4a4000"),
    # The terminal is dark in both themes; the pictures are drawn on white paper in both.
    "terminal": ("#1e1e1e", "#1e1e1e"),
    "terminal-text": ("#e8e8e8", "#e8e8e8"),
    "paper": _WHITE,
    "paper-text": ("#212121", "#212121"),
    "paper-focus": ("#000000", "#000000"),
    "match": ("#d81b60", "#d81b60"),
    "selected": (COLOURS["target"][1], COLOURS["target"][1]),
}

#: (text, background, minimum ratio) pairs the kit draws: each must reach its WCAG ratio in both themes.
TEXT_PAIRS = [
    ("text", "page", 4.5),
    ("text", "surface", 4.5),
    ("text", "note", 4.5),
    ("muted", "page", 4.5),
    ("muted", "surface", 4.5),
    ("control-text", "control", 4.5),
    ("muted", "control", 4.5),
    ("ok", "page", 4.5),
    ("fail", "page", 4.5),
    ("ok", "surface", 4.5),
    ("fail", "surface", 4.5),
    ("accent", "surface", 4.5),
    ("database", "page", 4.5),
    ("text", "attention", 4.5),
    ("fail", "attention", 4.5),
    ("on-colour", "danger", 4.5),
    ("on-colour", "primary", 4.5),
    ("on-colour", "success", 4.5),
    ("on-colour", "warning", 4.5),
    ("text", "applied-row", 4.5),
    ("text", "added-row", 4.5),
    ("text", "removed-row", 4.5),
    ("text", "changed-row", 4.5),
    ("terminal-text", "terminal", 4.5),
    ("paper-text", "paper", 4.5),
    # Not text: a focus ring (drawn 2 px outside the control) and the box's border must stand out (WCAG 1.4.11).
    ("focus", "attention", 3.0),
    ("focus", "page", 3.0),
    ("focus", "surface", 3.0),
    ("paper-focus", "paper", 3.0),
    ("attention-border", "page", 3.0),
]

#: CSS for table cells of each status (widgets.read.table.StyledTable): the theme's row colours, with the light ones as fallback.
TABLE_STYLES = {
    "applied": f"background-color: var(--mk-applied-row, {UI['applied-row'][0]}); color: var(--mk-text, #212121)",
    "added": f"background-color: var(--mk-added-row, {UI['added-row'][0]}); color: var(--mk-text, #212121)",
    "unapplied": (
        f"background-color: var(--mk-removed-row, {UI['removed-row'][0]}); color: var(--mk-text, #212121); "
        "text-decoration: line-through"
    ),
    "removed": (
        f"background-color: var(--mk-removed-row, {UI['removed-row'][0]}); color: var(--mk-text, #212121); "
        "text-decoration: line-through"
    ),
    "changed": f"background-color: var(--mk-changed-row, {UI['changed-row'][0]}); color: var(--mk-text, #212121)",
}

#: The light value of every themed role (what a page without JupyterLab's theme shows).
UI_COLOURS = {name: values[0] for name, values in UI.items()}

_DARK = 'body[data-jp-theme-light="false"]'


def css_variables(selector: str = ":root", names: list[str] | None = None) -> str:
    """Return the colours as CSS custom properties (--mk-applied-fill, --mk-ok...), light and dark, so CSS repeats none."""
    roles = {name: UI[name] for name in names} if names is not None else UI
    light = [(f"{kind}-fill", colours[0]) for kind, colours in COLOURS.items()] if names is None else []
    light += [(f"{kind}-border", colours[1]) for kind, colours in COLOURS.items()] if names is None else []
    light += [(name, values[0]) for name, values in roles.items()]
    dark = [(name, values[1]) for name, values in roles.items() if values[1] != values[0]]
    blocks = [(selector, light), (", ".join(f"{_DARK} {part.strip()}" for part in selector.split(",")), dark)]
    return "\n".join(
        f"{where} {{ {' '.join(f'--mk-{name}: {value};' for name, value in pairs)} }}"
        for where, pairs in blocks
        if pairs
    )


def fill(kind: str) -> str:
    """Return the fill colour of a kind of thing."""
    return COLOURS[kind][0]


def border(kind: str) -> str:
    """Return the border colour of a kind of thing."""
    return COLOURS[kind][1]


# ----- contrast, as WCAG 2 defines it --------------------------------------------------------------

_VAR = re.compile(r"var\(--[\w-]+,\s*(.+)\)$")
_RGB = re.compile(r"rgba?\(([^)]*)\)$")


def resolve(value: str) -> tuple[float, float, float, float]:
    """Return a CSS colour (#rgb, #rrggbb, #rrggbbaa, rgb(), rgba(), or var(--x, fallback)) as (r, g, b, alpha)."""
    value = value.strip()
    found = _VAR.match(value)
    if found:
        return resolve(found.group(1))
    if value == "white":
        return (255.0, 255.0, 255.0, 1.0)
    if value.startswith("#"):
        digits = value[1:]
        if len(digits) in (3, 4):
            digits = "".join(d * 2 for d in digits)
        channels = [int(digits[i : i + 2], 16) for i in range(0, len(digits), 2)]
        alpha = channels[3] / 255 if len(channels) == 4 else 1.0
        return (float(channels[0]), float(channels[1]), float(channels[2]), alpha)
    found = _RGB.match(value)
    if found:
        parts = [float(p) for p in re.split(r"[\s,/]+", found.group(1).strip()) if p]
        return (parts[0], parts[1], parts[2], parts[3] if len(parts) > 3 else 1.0)
    raise ValueError(
        f"'{value}' is not a colour the kit reads. Fix: write #rrggbb, rgb(), rgba() or var(--x, #rrggbb)."
    )


def _over(top: tuple[float, float, float, float], bottom: tuple[float, float, float, float]) -> tuple[float, ...]:
    """Return a translucent colour as seen over an opaque one."""
    alpha = top[3]
    return tuple(alpha * t + (1 - alpha) * b for t, b in zip(top[:3], bottom[:3], strict=True)) + (1.0,)


def _luminance(colour: tuple[float, ...]) -> float:
    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in colour[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(foreground: str, background: str) -> float:
    """Return the WCAG 2 contrast ratio (1 to 21) of a colour drawn over an opaque background."""
    back = resolve(background)
    if back[3] < 1:
        back = _over(back, (255.0, 255.0, 255.0, 1.0))
    front = _over(resolve(foreground), back)
    lighter, darker = sorted((_luminance(front), _luminance(back)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
