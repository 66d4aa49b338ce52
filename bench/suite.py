"""The test suite's time and the mutation check's, as CI runs them: a figure here, not a timed test.

    python -m bench.suite [--quick]

Runs ``python -m pytest`` and then ``python tests/mutations.py`` in this checkout and prints
their wall times and outcomes (the goals: under 8 minutes and under 5 more on 2 cores).
``--quick`` runs one small test file and one mutation instead: that the figures can be made.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from bench.commit import commit
from tests.support import ROOT


def _timed(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    last = (done.stdout.strip().splitlines() or [f"exit {done.returncode}"])[-1]
    return time.perf_counter() - start, last


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one test file and one mutation")
    args = parser.parse_args(argv)
    tests = ["tests/test_space.py"] if args.quick else []
    words = ["Gram matrix"] if args.quick else []
    rows = [
        ("pytest", *_timed([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests])),
        ("mutation check", *_timed([sys.executable, "tests/mutations.py", *words])),
    ]
    print(f"\nThe suite as CI runs it ({commit()})\n")
    print("| step | minutes | last line |\n|---|---|---|")
    for step, seconds, last in rows:
        print(f"| {step} | {seconds / 60:.1f} | {last} |")


if __name__ == "__main__":
    main()
