"""INSTALLED_APPS edited through Python's parser: brackets in comments, commented-out entries, odd layouts."""

from __future__ import annotations

import ast

import pytest

from widgets import KitError
from widgets.sandbox.installed_apps import assigns_installed_apps, installed_entries, with_installed_app

BRACKET_IN_COMMENT = """\
INSTALLED_APPS = [
    "django.contrib.auth",  # see docs [admin]
    "django.contrib.contenttypes",
]
DEBUG = True
"""

COMMENTED_OUT = """\
INSTALLED_APPS = [
    "django.contrib.auth",
    # "app",
]
"""


def _apps(text: str) -> list[str]:
    """Evaluate INSTALLED_APPS the way Python would, by running the settings text."""
    scope: dict = {}
    exec(compile(text, "settings.py", "exec"), scope)  # noqa: S102 - the test's own settings text
    return list(scope["INSTALLED_APPS"])


def test_a_bracket_in_a_comment_does_not_end_the_list():
    edited = with_installed_app(BRACKET_IN_COMMENT, "app")
    assert edited is not None
    assert _apps(edited) == ["django.contrib.auth", "django.contrib.contenttypes", "app"]
    assert "# see docs [admin]" in edited
    assert edited.endswith("]\nDEBUG = True\n")


def test_a_commented_out_entry_is_not_already_there():
    edited = with_installed_app(COMMENTED_OUT, "app")
    assert edited is not None
    assert _apps(edited) == ["django.contrib.auth", "app"]
    assert '# "app",' in edited


@pytest.mark.parametrize(
    "entry",
    ['"app"', "'app'", '"app.apps.AppConfig"', '"project.app"'],
)
def test_an_entry_that_installs_the_label_is_already_there(entry):
    text = f'INSTALLED_APPS = [\n    "django.contrib.auth",\n    {entry},\n]\n'
    assert with_installed_app(text, "app") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("INSTALLED_APPS = []\n", ["app"]),
        ('INSTALLED_APPS = ["a", "b"]\n', ["a", "b", "app"]),
        ('INSTALLED_APPS = ["a"  # no comma, a comment [x]\n]\n', ["a", "app"]),
        ('INSTALLED_APPS = (\n    "a",\n)\n', ["a", "app"]),
        ('INSTALLED_APPS = ("a")\nINSTALLED_APPS = [\n  "b",\n]\n', ["b", "app"]),
        ('# é ünïcode before\nINSTALLED_APPS = ["é"]  # ]\n', ["é", "app"]),
    ],
)
def test_the_entry_lands_inside_the_list_in_any_layout(text, expected):
    edited = with_installed_app(text, "app")
    assert edited is not None
    assert _apps(edited) == expected


def test_an_extended_list_counts_for_already_there():
    text = 'INSTALLED_APPS = ["a"]\nINSTALLED_APPS += ["app"]\n'
    assert installed_entries(text) == ["a", "app"]
    assert with_installed_app(text, "app") is None


@pytest.mark.parametrize(
    "text",
    ["INSTALLED_APPS = BASE_APPS + LOCAL_APPS\n", 'INSTALLED_APPS = "a", "b"\n', "DEBUG = True\n"],
)
def test_a_list_that_is_not_written_out_is_refused(text):
    with pytest.raises(ValueError, match="INSTALLED_APPS is"):
        with_installed_app(text, "app")


def test_only_a_real_assignment_counts_as_assigning():
    assert assigns_installed_apps("INSTALLED_APPS = []\n")
    assert not assigns_installed_apps('# INSTALLED_APPS = []\n"""\nINSTALLED_APPS = []\n"""\n')
    assert not assigns_installed_apps("INSTALLED_APPS += ['x']\n")


def test_add_installed_app_with_both_traps_keeps_settings_valid(sandbox):
    settings = sandbox.settings_file
    text = sandbox.read(settings)
    tree = ast.parse(text)
    node = next(n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "INSTALLED_APPS")
    lines = text.splitlines(keepends=True)
    # Put both traps into the template's own list: a bracket in a comment and a commented-out entry.
    first_line = lines[node.lineno - 1]
    lines[node.lineno - 1] = first_line.rstrip("\n") + '  # see docs [admin]\n    # "app",\n'
    sandbox.write(settings, "".join(lines))
    sandbox.write("app/__init__.py", "")
    assert sandbox.add_installed_app("app") is True
    edited = sandbox.read(settings)
    compile(edited, settings, "exec")
    assert [entry for entry in installed_entries(edited) if entry == "app"] == ["app"]
    assert sandbox.add_installed_app("app") is False
    check = sandbox.manage("check")
    assert check.ok, check.terminal()


def test_add_installed_app_names_the_file_when_the_list_is_computed(sandbox):
    settings = sandbox.settings_file
    sandbox.write(settings, sandbox.read(settings) + "\nINSTALLED_APPS = list(INSTALLED_APPS)\n")
    with pytest.raises(KitError, match=rf"In {settings}, INSTALLED_APPS is not a list .*Fix: add \"app\""):
        sandbox.add_installed_app("app")
