"""Settings for working on the shop on a laptop: DEBUG on, SQLite in the project folder."""

from .base import *  # noqa: F403

DEBUG = True
