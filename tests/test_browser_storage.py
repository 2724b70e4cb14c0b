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
