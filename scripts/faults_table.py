"""Write docs/faults.md, the fault catalogue, from the @fault entries of tests/test_faults.py.

Run: ``.venv/bin/python scripts/faults_table.py`` (``--check`` only says whether the file is up to date).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

import test_faults  # noqa: E402  (registers every fault)
from fault_catalogue import table  # noqa: E402


def main() -> int:
    """Write the table, or with --check compare it with the file; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if docs/faults.md is stale")
    options = parser.parse_args()
    text = table()
    if options.check:
        stale = test_faults.DOC.read_text(encoding="utf-8") != text
        print("docs/faults.md is out of date: run scripts/faults_table.py" if stale else "docs/faults.md is up to date")
        return int(stale)
    test_faults.DOC.write_text(text, encoding="utf-8")
    print(f"wrote {test_faults.DOC.relative_to(ROOT)}: {len(test_faults.FAULTS)} faults")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
