"""Where a project's settings module comes from: a file in the project, or a module its Python can import.

A real project may keep its settings inside an installed package (``pip install
-e .``, a ``.pth`` file, PYTHONPATH): Django finds it by import, not by a path.
The kit asks the project's own interpreter, in the project folder, where the
module is, as Django would find it there.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["importable_file", "module_file"]

# Only Python's import machinery runs: importing the parent package runs its __init__, as Django would.
_FIND = """\
import importlib.util, os, sys
sys.path[0] = os.getcwd()
try:
    spec = importlib.util.find_spec(sys.argv[1])
except Exception:
    spec = None
print(spec.origin if spec is not None and spec.origin else "")
"""
_SECONDS = 60.0


def module_file(root: Path, module: str) -> str | None:
    """Return the file of a dotted module under root: 'a/b.py' or, for a package, 'a/b/__init__.py'."""
    base = module.replace(".", "/")
    return next((f for f in (f"{base}.py", f"{base}/__init__.py") if (root / f).is_file()), None)


def importable_file(project: Path, module: str, python: str | None = None) -> str | None:
    """Return the absolute file of a module the project's Python imports from the project folder, or None."""
    if sys.platform in ("emscripten", "wasi"):  # no processes in a browser: this interpreter is the project's
        return _find_here(project, module)
    try:
        found = subprocess.run(
            [python or sys.executable, "-c", _FIND, module],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=_SECONDS,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    origin = found.stdout.strip().splitlines()[-1] if found.stdout.strip() else ""
    return origin if origin and os.path.isfile(origin) else None


def _find_here(project: Path, module: str) -> str | None:
    """Return the module's file as this interpreter finds it with the project folder first on sys.path."""
    sys.path.insert(0, str(project))
    try:
        spec = importlib.util.find_spec(module)
    except Exception:  # the parent package failed to import: not importable
        spec = None
    finally:
        sys.path.remove(str(project))
    return spec.origin if spec is not None and spec.origin and os.path.isfile(spec.origin) else None
