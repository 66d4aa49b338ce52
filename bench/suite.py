"""CI's figures: the README's tests, the slow tier, the mutation check and the whole ``.ci/run``.

    python -m bench.suite [--quick]

Clones this checkout's commit (not its uncommitted changes) into a temporary folder, with
``../shared`` beside it as CI has, and runs ``bash .ci/run`` there, as CI does on a fresh clone,
install included; prints the wall time of each of its steps and of the whole (the goals on 2
cores: the README's tests under 5 minutes, the mutation check under 8, all of it under 20).
``--quick`` times one small test file and one mutation in this checkout instead: that the
figures can be made.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.commit import commit
from tests.support import ROOT


def _timed(command: list[str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    last = (done.stdout.strip().splitlines() or [f"exit {done.returncode}"])[-1]
    return time.perf_counter() - start, last


def quick() -> list[tuple[str, float, str]]:
    """One small test file and one mutation, in this checkout."""
    return [
        (
            "pytest tests/test_space.py",
            *_timed([sys.executable, "-m", "pytest", "-q", "tests/test_space.py"], ROOT),
        ),
        ("one mutation", *_timed([sys.executable, "tests/mutations.py", "Gram matrix"], ROOT)),
    ]


def ci() -> list[tuple[str, float, str]]:
    """``bash .ci/run`` in a fresh clone: each step's seconds, as it printed them, and its last line."""
    with tempfile.TemporaryDirectory(prefix="nst-ci-") as folder:
        clone = Path(folder) / "main"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        if (ROOT.parent / "shared").is_dir():
            shutil.copytree(ROOT.parent / "shared", Path(folder) / "shared")
        env = {**os.environ, "CI": "true"}
        done = subprocess.run(["bash", ".ci/run"], cwd=clone, capture_output=True, text=True, env=env)
    printed = done.stdout.splitlines()
    steps = [re.fullmatch(r"ci step: (.+): (\d+) s", line) for line in printed]
    failed = [line for line in printed if line.startswith(("FAILED ", "ERROR ", "survived: "))]
    last = "; ".join(failed) or (printed or [""])[-1]
    outcome = "passed" if done.returncode == 0 else f"exit {done.returncode}: {last}"
    return [(m[1], float(m[2]), outcome) for m in steps if m]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="one test file and one mutation, in this checkout"
    )
    args = parser.parse_args(argv)
    rows = quick() if args.quick else ci()
    print(f"\nThe suite as CI runs it ({commit()})\n")
    print("| step | minutes | outcome |\n|---|---|---|")
    for step, seconds, outcome in rows:
        print(f"| {step} | {seconds / 60:.1f} | {outcome} |")


if __name__ == "__main__":
    main()
