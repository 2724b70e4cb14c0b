"""Names the Sandbox's module gave before the split by role keep working for one release, with a warning."""

from __future__ import annotations

import warnings

import pytest

import widgets.sandbox
from widgets.sandbox import facade, templates, workspace


def test_cache_env_from_the_facade_warns_and_names_its_new_home() -> None:
    with pytest.warns(DeprecationWarning, match=r"Fix: import it from widgets\.sandbox\.templates\."):
        assert facade.CACHE_ENV == templates.CACHE_ENV == "MIGRATION_KIT_CACHE"


def test_the_package_still_gives_cache_env_and_validate_name() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the package's own names: no warning
        assert widgets.sandbox.CACHE_ENV == templates.CACHE_ENV
        assert widgets.sandbox.validate_name is facade.validate_name is workspace.validate_name


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nothing_here'"):
        _ = facade.nothing_here
