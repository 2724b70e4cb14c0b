"""The palette: every text the kit draws is legible in JupyterLab's light and dark themes (WCAG 2 contrast)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from widgets.draw.palette import JP_THEME, TABLE_STYLES, TEXT_PAIRS, UI, contrast, css_variables, resolve

THEMES = Path(sys.prefix) / "share" / "jupyter" / "lab" / "themes" / "@jupyterlab"


@pytest.mark.parametrize(("foreground", "background", "minimum"), TEXT_PAIRS)
@pytest.mark.parametrize(("theme", "index"), [("light", 0), ("dark", 1)])
def test_every_pair_is_legible_in_both_themes(foreground, background, minimum, theme, index) -> None:
    ratio = contrast(UI[foreground][index], UI[background][index])
    assert ratio >= minimum, f"{foreground} on {background} in the {theme} theme: {ratio:.2f}:1 < {minimum}:1"


def test_contrast_follows_the_wcag_formula() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the classic AA grey
    # Translucent text is seen over its background: JupyterLab's 87 % black on white.
    assert contrast("rgba(0, 0, 0, 0.87)", "white") == pytest.approx(contrast("#212121", "#ffffff"), abs=0.05)
    # What the issue measured: the preview's inherited white text on its pale yellow box.
    assert contrast("#ffffff", "#fff8c5") == pytest.approx(1.08, abs=0.01)


def test_a_variable_is_read_through_its_fallback() -> None:
    assert resolve("var(--jp-layout-color0, #111111)") == (17.0, 17.0, 17.0, 1.0)
    with pytest.raises(ValueError, match="Fix:"):
        resolve("papayawhip")


def _theme_values(theme: str) -> dict[str, str]:
    css = (THEMES / f"theme-{theme}-extension" / "index.css").read_text(encoding="utf-8")
    values = {}
    for name, value in re.findall(r"--jp-([\w-]+):([^;}]+)", css):
        values.setdefault(name, value.strip())
    return values


@pytest.mark.parametrize(("theme", "index"), [("light", 0), ("dark", 1)])
def test_the_palette_knows_jupyterlabs_own_values(theme, index) -> None:
    """The fallbacks and the contrast test use JupyterLab's real theme values, not guesses."""
    installed = _theme_values(theme)
    for name, values in JP_THEME.items():
        assert resolve(values[index]) == pytest.approx(resolve(installed[name])), f"--jp-{name} ({theme})"


def test_dark_values_apply_under_jupyterlabs_dark_theme() -> None:
    css = css_variables(".mk-lab")
    light, dark = css.splitlines()
    assert light.startswith(".mk-lab {") and "--mk-text: var(--jp-content-font-color1, rgba(0, 0, 0, 0.87));" in light
    assert dark.startswith('body[data-jp-theme-light="false"] .mk-lab {')
    assert "--mk-attention: #3d3200;" in dark and "--mk-attention: #fff8c5;" in light
    assert "--mk-applied-fill: #c8e6c9" in light  # the pictures' colours: one value, white paper in both themes


def test_highlighted_rows_set_their_text_colour_too() -> None:
    """A row's background never meets the text colour the theme lets the table inherit."""
    for status, style in TABLE_STYLES.items():
        assert "background-color: var(--mk-" in style and "; color: var(--mk-text, #212121)" in style, status


WIDGETS = Path(__file__).resolve().parent.parent / "widgets"
# A colour written as #rgb, #rrggbb or #rrggbbaa, rgb()/rgba(), or by a CSS name, in code, CSS or JavaScript.
_COLOUR = re.compile(
    r"(?<![&\w])#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})\b|\brgba?\(|"
    r"[\"':=]\s*(?:white|black|red|green|blue|yellow|orange|grey|gray|purple|pink)\b(?![\w-])"
)


def test_no_colour_is_written_outside_the_palette() -> None:
    """One definition per colour: every module, stylesheet and script reads its colours from draw/palette.py."""
    found = []
    for path in sorted(WIDGETS.rglob("*")):
        if path.suffix not in {".py", ".css", ".js"} or path.name == "palette.py" or "node_modules" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("/*")[0] if path.suffix == ".css" else line
            if _COLOUR.search(code) and not code.lstrip().startswith(("#", "//", "*")):
                found.append(f"{path.relative_to(WIDGETS)}:{number}: {line.strip()}")
    assert not found, "colours written outside widgets/draw/palette.py:\n" + "\n".join(found)


def test_the_risk_report_brings_its_dark_colours() -> None:
    from widgets.run.risks import RiskReport, StepRisk

    warning = {"rule": "adding-not-nullable-field", "source": "squawk", "message": "m", "fix": "f"}
    report = RiskReport(
        "boards", "0002", [StepRisk(1, "boards.0002_x", False, ""), StepRisk(2, "b.0003", False, "", [warning])]
    )
    page = report._repr_html_()
    dark = next(
        line for line in page.splitlines() if line.startswith('body[data-jp-theme-light="false"] .mk-risk-report')
    )
    assert f"--mk-ok: {UI['ok'][1]};" in dark and f"--mk-fail: {UI['fail'][1]};" in dark
    verdicts = re.findall(r"color: var\(--mk-(\w+), ", page)
    assert verdicts[0] == "ok" and verdicts[1] in {"caution", "fail"}, verdicts
