"""The graph check of bench/real_projects.py, run on the template project so it needs no download.

``compare`` holds the kit's ``migration_graph()`` against Django's own
``MigrationLoader`` graph, which ``bench/loader_dump.py`` reads in a separate
process; the bench runs it on real projects from PyPI, these tests on the
tutorial project, as it is and after Django's own ``squashmigrations``.
"""

from __future__ import annotations

import sys

import pytest

from widgets import Sandbox
from widgets.run.commands import child_env
from widgets.sandbox.paths import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "bench"))
import real_projects  # noqa: E402
from real_projects import Difference, compare  # noqa: E402


def django_graph(sandbox: Sandbox, *args: str) -> dict:
    """Return Django's loader graph of the sandbox (or another loader_dump answer)."""
    return real_projects.loader_dump(sandbox.path, sandbox.settings_module, child_env(), *(args or ("graph",)))


def squash_boards(sandbox: Sandbox) -> str:
    """Squash boards 0001 and 0002 with Django's squashmigrations; return the squash's name."""
    result = sandbox.manage("squashmigrations", "boards", "0002", "--noinput")
    assert result.ok, result.terminal()
    names = [p.stem for p in (sandbox.path / "boards" / "migrations").glob("0001_squashed_*.py")]
    assert len(names) == 1, names
    return names[0]


@pytest.mark.parametrize("migrated", [False, True], ids=["nothing-applied", "everything-applied"])
def test_template_graph_matches_django(migrated: bool) -> None:
    sandbox = Sandbox.fresh(f"loader-check-{int(migrated)}", migrated=migrated)
    try:
        loader = django_graph(sandbox)
        assert ["boards", "0002_post"] in loader["nodes"]
        assert (["boards", "0002_post"] in loader["applied"]) is migrated
        assert compare(sandbox.migration_graph(), loader) == []
    finally:
        sandbox.delete()


def test_the_dump_leaves_no_database_behind(fresh_sandbox: Sandbox) -> None:
    django_graph(fresh_sandbox)
    assert not fresh_sandbox.db_path.exists()


def test_compare_names_each_difference(sandbox: Sandbox) -> None:
    loader = django_graph(sandbox)
    loader["edges"].remove([["boards", "0001_initial"], ["boards", "0002_post"]])
    loader["nodes"].append(["boards", "0003_only_in_django"])
    loader["applied"].remove(["tracker", "0001_initial"])
    loader["leaf_nodes"]["boards"] = ["0001_initial"]
    loader["conflicts"] = {"boards": ["0001_initial", "0002_post"]}
    assert compare(sandbox.migration_graph(), loader) == [
        Difference("node only in Django", "boards.0003_only_in_django"),
        Difference("edge only in kit", "boards.0001_initial -> boards.0002_post"),
        Difference("applied only in kit", "tracker.0001_initial"),
        Difference("leaf nodes differ", "boards: kit ['0002_post'], Django ['0001_initial']"),
        Difference("conflicts differ", "kit {}, Django {'boards': ['0001_initial', '0002_post']}"),
    ]


def test_a_half_applied_squash_keeps_the_replaced_migrations_in_djangos_graph(fresh_sandbox: Sandbox) -> None:
    squash = squash_boards(fresh_sandbox)
    assert ["boards", squash] in django_graph(fresh_sandbox)["nodes"]
    applied = django_graph(fresh_sandbox, "apply-replaced", "boards", "0001_initial")["applied"]
    assert applied[-1] == ["boards", "0001_initial"]
    loader = django_graph(fresh_sandbox)
    boards = sorted(name for app, name in loader["nodes"] if app == "boards")
    assert boards == ["0001_initial", "0002_post"]
    assert real_projects.pick_squash(loader) == (f"boards.{squash}", ("boards", "0001_initial"))


@pytest.mark.parametrize("half", [False, True], ids=["squash-applied", "squash-half-applied"])
def test_squashed_graph_matches_django(fresh_sandbox: Sandbox, half: bool) -> None:
    squash_boards(fresh_sandbox)
    if half:
        django_graph(fresh_sandbox, "apply-replaced", "boards", "0001_initial")
    else:
        assert fresh_sandbox.migrate().ok
    assert compare(fresh_sandbox.migration_graph(), django_graph(fresh_sandbox)) == []


def test_showmigrations_parse_agrees_with_djangos_loader(fresh_sandbox: Sandbox) -> None:
    squash_boards(fresh_sandbox)
    django_graph(fresh_sandbox, "apply-replaced", "boards", "0001_initial")
    listed, ticked = real_projects.parse_showmigrations(fresh_sandbox.showmigrations().stdout)
    loader = django_graph(fresh_sandbox)
    assert listed == {tuple(key) for key in loader["nodes"]}
    assert ticked == {tuple(key) for key in loader["applied"]} & listed
    assert ("boards", "0001_initial") in ticked and ("boards", "0002_post") in listed - ticked


def block(key: str, when: str) -> str:
    """Return a project's block of the real-projects section, as project_section writes it."""
    return f"### {key}: a title\n\n{when}\n\n| what | cold |\n|---|---|\n| a row | 1.00 s |\n\n"


def test_measuring_one_project_again_keeps_the_others_blocks():
    head = f"{real_projects.START}\n## Real projects\n\nMedians of 3 runs.\n\n"
    old = head + block("wagtail", "old") + block("oscar", "old") + block("pretix", "old") + real_projects.END + "\n"
    new = head + block("pretix", "new") + real_projects.END + "\n"
    result = real_projects.merged(old, new)
    assert result == head + block("wagtail", "old") + block("oscar", "old") + block("pretix", "new") + (
        real_projects.END + "\n"
    )
    assert result.count(real_projects.END) == 1 and "### pretix: a title\n\nold" not in result
