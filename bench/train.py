"""Training steps per second in one process and under ``torchrun`` with several, on this machine.

    python -m bench.train [--steps 8] [--size 256] [--batch 4] [--processes 1 2]
                          [--networks johnson styles3 finetune3] [--quick]

Each row trains a network on synthetic photos through :func:`nst.methods.train.train`: Johnson
et al.'s for one style, a three-style one (Dumoulin et al.), or three new styles' γ/β on the
built-in network's frozen convolutions; in one process or
under ``torchrun`` (this module again, as ``--worker``), and counts the steps per second after
the first (start-up, loading and export left out). The global batch is the same for every row:
several processes split it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.support import ROOT
from tests.support.clips import texture

NETWORKS = {"johnson": (1, False), "styles3": (3, False), "finetune3": (3, True)}
"""Each network row: how many styles, and whether only new γ/β train (on the built-in network)."""


def _worker(folder: Path, network: str, steps: int, size: int, batch: int) -> None:
    """Train, and on rank 0 print the steps per second after the first step; then leave the process
    group, as the command line does."""
    from nst.base import distributed
    from nst.base.images import load_image
    from nst.methods import train

    styles, finetune = NETWORKS[network]
    events = list(
        train.train(
            [load_image(folder / f"style{k}.png") for k in range(styles)],
            folder / "photos",
            folder / "out",
            steps=steps,
            image_size=size,
            batch_size=batch,
            finetune=finetune,
            resume=False,
        )
    )
    if os.environ.get("RANK", "0") == "0":
        print(f"RATE {(steps - 1) / (events[-1].elapsed - events[0].elapsed)}")
    distributed.leave()


def _rate(processes: int, network: str, folder: Path, steps: int, size: int, batch: int) -> float:
    launcher = [sys.executable]
    if processes > 1:
        launcher += ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes)]
    args = ["-m", "bench.train", "--worker", str(folder), "--networks", network]
    args += ["--steps", str(steps), "--size", str(size)]
    result = subprocess.run(
        [*launcher, *args, "--batch", str(batch)], check=True, capture_output=True, text=True, cwd=ROOT
    )
    return float(next(line for line in result.stdout.splitlines() if line.startswith("RATE")).split()[1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--networks", nargs="+", choices=NETWORKS, default=list(NETWORKS))
    parser.add_argument("--quick", action="store_true", help="3 steps at 32²: that every row runs")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    steps, size = (3, 32) if args.quick else (args.steps, args.size)
    if args.worker:
        return _worker(args.worker, args.networks[0], steps, size, args.batch)
    from PIL import Image

    with tempfile.TemporaryDirectory(prefix="nst-train-bench-") as tmp:
        folder = Path(tmp)
        (folder / "photos").mkdir()
        for seed in range(2 * args.batch):
            Image.fromarray(texture(size + 32, size, seed)).save(folder / "photos" / f"{seed}.png")
        for k in range(3):
            Image.fromarray(texture(size, size, 99 + k)).save(folder / f"style{k}.png")
        rates = {
            (net, n): _rate(n, net, folder, steps, size, args.batch)
            for net in args.networks
            for n in args.processes
        }
    print(f"\nTraining, {size}² crops, global batch {args.batch}, {steps} steps\n")
    print("| network | processes | steps/s | × one process |\n|---|---|---|---|")
    for (net, n), rate in rates.items():
        print(f"| {net} | {n} | {rate:.3f} | {rate / rates[net, args.processes[0]]:.2f} |")


if __name__ == "__main__":
    main()
