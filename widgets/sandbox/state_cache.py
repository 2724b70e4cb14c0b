"""Answers read from Django's migration states, kept on disk in the sandbox per code fingerprint.

Django's states depend on the code alone (migrations, models, settings), not on
the database, so what a probe read from them stays true until a Python file
changes. They are kept in the sandbox's bookkeeping folder (``.kit/sandboxes/
<name>/states/``), so a new kernel on the same sandbox reads them at once; a
few recent ones are kept, the oldest removed.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from widgets.sandbox.fingerprint import code_fingerprint

__all__ = ["KEEP", "cache_key", "load", "store"]

#: How many answers a sandbox keeps (a few code versions back and forth, as an undo would need).
KEEP = 6


def cache_key(project: Path, *parts: str) -> str:
    """Return the key of an answer: the code's fingerprint and what else it depends on (settings, engine)."""
    return hashlib.sha256(repr((code_fingerprint(project), parts)).encode()).hexdigest()[:32]


def _file(folder: Path, kind: str, key: str) -> Path:
    return Path(folder) / "states" / f"{kind}-{key}.json"


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
