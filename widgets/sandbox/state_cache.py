"""Answers read from Django's migration states, kept on disk in the sandbox per code fingerprint.

Django's states depend on the code alone (migrations, models, settings), not on
the database, so what a probe read from them stays true until a Python file
changes. They are kept in the sandbox's bookkeeping folder (``.kit/sandboxes/
<name>/states/``), so a new kernel on the same sandbox reads them at once; a
few recent ones are kept, the oldest removed. Two kinds share it: the time
machine's schema after every migration (``states``), and each step of a plan
or preview as read from the state before it (``steps``: its operations, what
they create and drop, its SQL), which plans and previews of any target reuse.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from widgets.run.env import child_env
from widgets.sandbox.fingerprint import code_fingerprint

__all__ = ["KEEP", "cache_key", "file_of", "keep_steps", "load", "store"]

#: How many answers a sandbox keeps (a few code versions back and forth, as an undo would need).
KEEP = 6


def cache_key(project: Path, *parts: str) -> str:
    """Return the key of an answer: the code's fingerprint, the probe's own code, and what else it depends on."""
    # The hash seed orders some of sqlmigrate's statements (widgets/run/env.py): another seed, other text.
    seed = child_env()["PYTHONHASHSEED"]
    return hashlib.sha256(repr((code_fingerprint(project), _probe_version(), seed, parts)).encode()).hexdigest()[:32]


def _probe_version() -> str:
    """Return a hash of the probe's source: a kit whose probe answers differently reads everything again."""
    if "probe" not in _VERSION:
        from widgets.run import _probe  # read as a file: the runner, not this module, runs it

        _VERSION["probe"] = hashlib.sha256(Path(_probe.__file__).read_bytes()).hexdigest()[:16]
    return _VERSION["probe"]


_VERSION: dict[str, str] = {}


def file_of(folder: Path, kind: str, key: str) -> Path:
    """Return the file that keeps one answer of this kind and key (it may not exist yet)."""
    return Path(folder) / "states" / f"{kind}-{key}.json"


_file = file_of


def load(folder: Path, kind: str, key: str) -> dict | None:
    """Return the answer kept for this key, or None (never kept, or unreadable: read it again)."""
    try:
        return json.loads(_file(folder, kind, key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def store(folder: Path, kind: str, key: str, answer: dict) -> None:
    """Keep an answer for this key, written whole or not at all; drop the oldest beyond KEEP."""
    target = _file(folder, kind, key)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(answer), encoding="utf-8")
        partial.replace(target)  # a reader sees the old file or the new one, never half of one
        kept = sorted(target.parent.glob(f"{kind}-*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in kept[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:  # a full or read-only disk: the answer is simply read again next time
        return


def keep_steps(folder: Path, key: str, steps: list[dict]) -> None:
    """Add a plan's or preview's steps to those kept for this key, without the rows counted in this database."""
    kept = load(folder, "steps", key) or {}
    for step in steps:
        step_key = f"{step['app_label']} {step['name']} {'b' if step['backwards'] else 'f'}"
        if "sql" in step or "sql" not in kept.get(step_key, {}):
            kept[step_key] = _without_rows(step)
    store(folder, "steps", key, kept)


def _without_rows(step: dict) -> dict:
    """Return a step with its row counts left out: they belong to the database, not the code."""
    bare = {k: v for k, v in step.items() if k != "rows"}
    if "rows" in step:  # None: the probe could not tell which tables the step touches
        bare["rows"] = None if step["rows"] is None else dict.fromkeys(step["rows"], None)
    bare["operations"] = [
        {**op, "drops": [{k: v for k, v in d.items() if k != "rows_lost"} for d in op["drops"]]}
        for op in step["operations"]
    ]
    return bare
