"""widgets.sandbox.browser_storage outside a browser: it does nothing (the site's tests cover the browser)."""

from __future__ import annotations

import os
from pathlib import Path

from widgets.sandbox import browser_storage
from widgets.sandbox.paths import WORKSPACE_ENV, workspace_root


def test_outside_a_browser_the_workspace_stays_where_configured(tmp_path: Path, monkeypatch):
    """prepare() leaves the configured workspace alone, mounts nothing and persist() is a no-op."""
    monkeypatch.setenv(WORKSPACE_ENV, str(tmp_path))
    browser_storage.prepare()
    browser_storage.persist()
    assert os.environ[WORKSPACE_ENV] == str(tmp_path)
    assert workspace_root() == tmp_path.resolve()
    assert not browser_storage.active()
    assert not Path(browser_storage.MOUNT).exists()


def test_in_a_browser_the_template_database_is_kept_in_the_workspace(tmp_path: Path, monkeypatch):
    """With the workspace in IndexedDB, the migrated template goes to its cache: beside the template is memory."""
    from widgets.sandbox import templates
    from widgets.sandbox.paths import REPO_ROOT

    monkeypatch.delenv(templates.CACHE_ENV, raising=False)
    monkeypatch.setitem(browser_storage._state, "phase", "ready")  # what prepare() sets once IndexedDB is loaded
    database = templates.migrated_template_db(tmp_path)
    assert database.parent == tmp_path / ".kit" / "cache", database
    assert database.is_file()
    assert not database.is_relative_to(REPO_ROOT / ".kit-cache")
