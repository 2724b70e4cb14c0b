"""Pickers are as wide as their longest choice, so long app labels and migration names show whole."""

from __future__ import annotations

import pytest

from widgets.lab.picker_width import ARROW_EM, CHAR_EM, MAXIMUM_EM, fitted_width, labels_of

SQUASH = "0001_squashed_0034_remove_thing_extra_and_more"


def test_a_long_migration_name_gets_room_for_every_character():
    width = float(fitted_width(["zero", "0002_post", SQUASH], 4.5, 16).removesuffix("em"))
    assert width == pytest.approx(4.5 + len(SQUASH) * CHAR_EM + ARROW_EM, abs=0.05)
    assert width > 16


def test_short_choices_keep_the_panel_s_width_and_a_huge_one_stops_at_the_maximum():
    assert fitted_width(["zero", "0001"], 4.5, 16) == "16em"
    assert fitted_width([], 4.5, 12.5) == "12.5em"
    assert fitted_width(["x" * 500], 4.5, 16) == f"{MAXIMUM_EM:g}em"


def test_label_value_pairs_are_measured_by_their_label():
    assert labels_of([("every app, in plan order", ""), ("shop", "shop")]) == ["every app, in plan order", "shop"]
    assert fitted_width([("a" * 40, 1)], 7, 17) == fitted_width(["a" * 40], 7, 17)


def test_the_panel_s_pickers_fit_a_long_target(sandbox):
    from widgets.lab.panels import MigrationLab

    sandbox.write(
        "boards/migrations/0003_" + "a_rather_long_name_for_a_migration_file.py",
        (
            "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n"
            "    dependencies = [('boards', '0002_post')]\n    operations = []\n"
        ),
    )
    lab = MigrationLab(sandbox)
    lab.wait()
    longest = max(labels_of(lab.target_picker.options), key=len)
    assert longest.startswith("0003_a_rather_long_name")
    assert lab.target_picker.layout.width == fitted_width(lab.target_picker.options, 4.5, 16)
    assert float(lab.target_picker.layout.width.removesuffix("em")) > 16
