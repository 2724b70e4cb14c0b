"""What ``Sandbox.write`` and ``Sandbox.edit`` return: a file that displays as its place in the sandbox."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["WrittenFile"]


@dataclass(frozen=True)
class WrittenFile(os.PathLike):
    """A file just written in a sandbox; usable wherever a path is, shown without the machine's folders."""

    path: Path
    relative: str
    lines: int

    def __fspath__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        # The same on every machine, so a notebook stores it and nbval compares it.
        unit = "line" if self.lines == 1 else "lines"
        return f"wrote {self.relative} ({self.lines} {unit})"

    def read_text(self, encoding: str = "utf-8") -> str:
        """Return the file's text."""
        return self.path.read_text(encoding=encoding)
