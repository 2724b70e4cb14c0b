"""A preview's SQL is sqlmigrate's text even where Django orders statements by iterating a set."""

from __future__ import annotations

import os
import subprocess
import sys

from widgets.read.rollback import rollback_preview
from widgets.run.env import child_env

# Six unique_together pairs dropped in one step: Django drops them in the order of a set of
# string tuples, which the hash seed decides (720 orders), as pretix's 0309 drops two.
PAIRS_INITIAL = """from django.db import models


class Pair(models.Model):
    a = models.IntegerField()
    b = models.IntegerField()
    c = models.IntegerField()
    d = models.IntegerField()
"""
PAIRS = (
    PAIRS_INITIAL
    + """
    class Meta:
        unique_together = [("a", "b"), ("a", "c"), ("a", "d"), ("b", "c"), ("b", "d"), ("c", "d")]
"""
)


def _make_pairs(sandbox) -> None:
    assert sandbox.startapp("pairs").ok
    sandbox.write("pairs/models.py", PAIRS_INITIAL)
    sandbox.add_installed_app("pairs")
    assert sandbox.makemigrations("pairs").ok
    sandbox.write("pairs/models.py", PAIRS)
    assert sandbox.makemigrations("pairs", name="together").ok
    assert sandbox.migrate().ok


def _bare_sqlmigrate(sandbox, env: dict[str, str]) -> str:
    """Return `manage.py sqlmigrate --backwards pairs 0002` as a fresh interpreter prints it."""
    argv = [sys.executable, "manage.py", "sqlmigrate", "--backwards", "pairs", "0002_together"]
    done = subprocess.run(argv, cwd=sandbox.path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_set_ordered_statements_follow_djangos_order(sandbox, kit_runner):
    _make_pairs(sandbox)
    preview = rollback_preview(sandbox, "pairs", "0001")
    [(app, name, sql)] = preview.sql
    assert (app, name) == ("pairs", "0002_together")
    assert sql.count("DROP INDEX") == 6
    # The kit's own sqlmigrate runs Django's command where the preview read it (a child, or this interpreter).
    assert sql == sandbox.sqlmigrate("pairs", "0002_together", backwards=True).stdout.strip()
    if kit_runner == "process":
        # A terminal's sqlmigrate with the seed the kit gives its children says the same text.
        assert sql == _bare_sqlmigrate(sandbox, child_env())


def test_the_hash_seed_decides_djangos_order(sandbox):
    """Why the kit pins one seed: two seeds give two texts for the same step (so no fixed text could match both)."""
    _make_pairs(sandbox)
    texts = {_bare_sqlmigrate(sandbox, child_env() | {"PYTHONHASHSEED": seed}) for seed in ("0", "1", "2")}
    assert len(texts) > 1
    assert all(sorted(t.splitlines()) == sorted(next(iter(texts)).splitlines()) for t in texts)


def test_a_seed_the_user_chose_is_kept(monkeypatch):
    monkeypatch.setenv("PYTHONHASHSEED", "7")
    assert child_env()["PYTHONHASHSEED"] == "7"
    monkeypatch.delenv("PYTHONHASHSEED")
    assert child_env()["PYTHONHASHSEED"] == "0"
    assert os.environ.get("PYTHONHASHSEED") is None
