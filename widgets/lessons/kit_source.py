"""Say where this kit came from as a pip requirement, so a course's CI installs the same kit.

The kit is not on PyPI: it is installed from its git repository. A course written with
``python -m widgets.course new`` pins that repository at the commit its author used.
"""

from __future__ import annotations

import json
import re
import subprocess
from importlib import metadata
from pathlib import Path

from widgets.sandbox.paths import REPO_ROOT

DISTRIBUTION = "django-migrations-kit"
UNKNOWN = (
    "# The kit is not on PyPI. Put here where your class installs it from, pinned to a release, e.g.\n"
    f"# {DISTRIBUTION} @ git+https://github.com/ORG/{DISTRIBUTION}@v0.1.0\n"
)


def requirement() -> str:
    """Return requirements.txt text that installs this kit: its git repository at this commit when known."""
    found = _from_pip() or _from_checkout(REPO_ROOT)
    return f"{DISTRIBUTION} @ git+{found[0]}@{found[1]}\n" if found else UNKNOWN


def _from_pip() -> tuple[str, str] | None:
    """Return (repository URL, commit) when pip installed the kit from git (PEP 610's direct_url.json)."""
    try:
        text = metadata.distribution(DISTRIBUTION).read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    record = json.loads(text or "{}")
    vcs = record.get("vcs_info") or {}
    if vcs.get("vcs") == "git" and vcs.get("commit_id") and public_url(record.get("url", "")):
        return public_url(record["url"]), vcs["commit_id"]
    return None


def _from_checkout(folder: Path) -> tuple[str, str] | None:
    """Return (origin's URL, HEAD) when the kit runs from a git clone whose origin others can reach."""
    if not (folder / ".git").exists():
        return None
    try:
        origin = _git(folder, "remote", "get-url", "origin")
        commit = _git(folder, "rev-parse", "HEAD")
    except (OSError, subprocess.CalledProcessError):
        return None  # no git, or no remote called origin
    url = public_url(origin)
    return (url, commit) if url and re.fullmatch(r"[0-9a-f]{40}", commit) else None


def public_url(url: str) -> str | None:
    """Return a URL pip can clone over HTTPS from a git remote (scp-style SSH included); None for a local path."""
    url = url.strip()
    scp = re.fullmatch(r"[\w.-]+@([\w.-]+):(.+)", url)
    if scp:
        url = f"https://{scp.group(1)}/{scp.group(2)}"
    url = re.sub(r"^ssh://[\w.-]+@", "https://", url)
    url = re.sub(r"^git\+", "", url)
    return url if url.startswith("https://") else None


def _git(folder: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(folder), *args], capture_output=True, text=True, check=True, timeout=10
    ).stdout.strip()
