"""What importing our surfaces costs beyond ``import torch``, each in a fresh interpreter.

    python -m bench.imports [--quick]

Each row is the median of fresh ``python -c "import X"`` runs, interleaved; the last column is
the time beyond ``import torch`` (the goal: at most 0.5 s for the command line and the app).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from bench.commit import commit
from tests.support import ROOT

MODULES = ("torch", "nst.cli", "app", "nst.space.layout")


def _seconds(module: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, check=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one run each: that every case runs")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else 7
    for module in MODULES:
        _seconds(module)  # warm the file cache
    runs: dict[str, list[float]] = {m: [] for m in MODULES}
    for _ in range(repeats):
        for module in MODULES:
            runs[module].append(_seconds(module))
    times = {m: statistics.median(t) for m, t in runs.items()}
    print(f"\nImport times (median of {repeats} fresh interpreters, interleaved; {commit()})\n")
    print("| import | seconds | beyond torch |\n|---|---|---|")
    for module in MODULES:
        print(f"| `{module}` | {times[module]:.2f} s | {times[module] - times['torch']:+.2f} s |")


if __name__ == "__main__":
    main()
