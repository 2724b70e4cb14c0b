"""A project whose apps have the migration-graph shapes of Django's own migration tests."""

from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "shapes-project-for-tests-only"
DEBUG = True
INSTALLED_APPS = [
    "squashed",
    "complex",
    "multi1",
    "multi2",
    "runbefore",
    "runbefore_other",
    "first",
    "first_other",
    "conflict",
    "merge",
    "irreversible",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
