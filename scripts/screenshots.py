"""Copy the browser test's screenshots into docs/images/ for the README.

The browser test (tests/test_browser.py) saves its screenshots in
test-artifacts/, which git ignores. This script copies the ones the README
shows under stable names; with ``--run`` it runs the browser test first.
Every image comes from a test that checked the page had no widget errors.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
IMAGES = ROOT / "docs" / "images"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# README name <- browser test artifact.
SHOTS = {
    "panel-rollback-preview.png": "lab-rollback-preview.png",
    "panel-after-rollback.png": "lab-after-rollback.png",
    "migration-graph.png": "lab-graph.png",
    "voila-playground.png": "voila-rollback-preview.png",
    # Lesson 05's panel with a rollback preview opened by keyboard, in JupyterLab's light and dark themes.
    "panel-light.png": "readable-05-light-panel.png",
    "panel-dark.png": "readable-05-dark-panel.png",
    # Lesson 05 in the static site (tests/test_lite.py): a rollback preview, nothing installed.
    "lite-lesson.png": "lite-05-rollback-preview.png",
}


def run_browser_test() -> None:
    """Run the browser test so that the artifacts are fresh; stop if it fails or is skipped."""
    command = [sys.executable, "-m", "pytest", "-m", "browser", "tests/test_browser.py", "-q", "-rs"]
    command += ["tests/test_lite.py", "-k", "not lite or lesson_runs"]  # the static site's lesson 05 too
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    print(done.stdout[-2000:])
    if done.returncode != 0 or " skipped" in done.stdout:
        sys.exit("The browser test did not pass, so no screenshots were copied. Fix: read its output above.")


def copy_screenshots() -> list[Path]:
    """Copy each README screenshot from test-artifacts/ to docs/images/ and return the copies."""
    missing = [artifact for artifact in SHOTS.values() if not (ARTIFACTS / artifact).is_file()]
    if missing:
        sys.exit(f"No {', '.join(missing)} in test-artifacts/. Fix: run this script with --run (or the browser test).")
    IMAGES.mkdir(parents=True, exist_ok=True)
    copies = []
    for name, artifact in SHOTS.items():
        source = ARTIFACTS / artifact
        if source.read_bytes()[:8] != PNG_MAGIC:
            sys.exit(f"{source.name} is not a PNG image. Fix: run the browser test again.")
        copies.append(Path(shutil.copyfile(source, IMAGES / name)))
    return copies


def main() -> None:
    """Parse the options, optionally run the browser test, copy the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="store_true", help="run the browser test first")
    if parser.parse_args().run:
        run_browser_test()
    for copy in copy_screenshots():
        print(f"wrote {copy.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
