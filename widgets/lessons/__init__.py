"""Lessons: scenarios, exercises and their checks, the catalogue, authoring helpers, progress."""
