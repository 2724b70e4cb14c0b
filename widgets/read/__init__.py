"""Readings as values: the state of a sandbox, its migration graph, plans, the timeline, diffs, previews."""
