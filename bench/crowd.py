"""Visitors at once against the app's queue: how many are served and refused, and how long they wait.

    python -m bench.crowd [--visitors 24] [--pictures 3] [--side 512] [--quick]

Starts ``python app.py`` once for each cap: a count, as before (``NST_QUEUE_SIZE=16``,
``NST_QUEUE_SECONDS=0``), and the app's defaults, a cap by the wait (``NST_QUEUE_SECONDS``). In each,
``visitors`` gradio_client clients start together, each asking ``/stylize_fast`` for ``pictures``
pictures of its own ``side``² photo, one after another. A served request's wait is from its submission
to its result; pictures a second are those served over the whole run; RSS is the server's peak.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from pathlib import Path

from PIL import Image

from bench.commit import commit
from tests.support.server import launch, scratch, stop

CAPS = {
    "a count (NST_QUEUE_SIZE=16), before": {"NST_QUEUE_SIZE": "16", "NST_QUEUE_SECONDS": "0"},
    "the wait (NST_QUEUE_SECONDS=90), the default": {},
}


def peak_rss(pid: int) -> float:
    """The process's peak resident memory in GB (Linux's ``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20
    return float("nan")


def visitors(url: str, photos: list[Path], pictures: int) -> dict:
    """Each photo's visitor asks for ``pictures`` pictures, all visitors starting together."""
    from gradio_client import Client, handle_file

    clients = [Client(url, verbose=False) for _ in photos]
    start, waits, refusals = threading.Barrier(len(photos) + 1), [], []

    def visit(client: object, photo: Path) -> None:
        start.wait()
        for _ in range(pictures):
            asked = time.perf_counter()
            try:
                client.predict(content=handle_file(str(photo)), style="builtin_03", api_name="/stylize_fast")
                waits.append(time.perf_counter() - asked)
            except Exception as refused:  # what a visitor is told, kept to count and show
                refusals.append(str(refused).splitlines()[-1])

    threads = [threading.Thread(target=visit, args=pair) for pair in zip(clients, photos, strict=True)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return {"waits": sorted(waits), "refusals": refusals, "seconds": time.perf_counter() - began}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--visitors", type=int, default=24)
    parser.add_argument("--pictures", type=int, default=3, help="pictures each visitor asks for")
    parser.add_argument("--side", type=int, default=512, help="the photos' side, px")
    parser.add_argument("--quick", action="store_true", help="4 visitors, 1 picture of 128²: that it runs")
    args = parser.parse_args(argv)
    if args.quick:
        args.visitors, args.pictures, args.side = 4, 1, 128
    folder = scratch("nst-queue-bench-")
    photos = []
    for k in range(args.visitors):
        photos.append(folder / f"{k}.jpg")
        Image.effect_noise((args.side, args.side), 40 + k).convert("RGB").save(photos[-1], quality=90)
    rows = []
    for cap, env in CAPS.items():
        proc, url = launch(env)
        try:
            runs = visitors(url, photos, args.pictures)
            rows.append((cap, runs, peak_rss(proc.pid)))
        finally:
            stop(proc)
    print(f"\n{args.visitors} visitors at once, {args.pictures} pictures of {args.side}² each ({commit()})\n")
    print("| queue capped by | served | refused | median wait | p95 wait | pictures/s | server peak RSS |")
    print("|---|---|---|---|---|---|---|")
    for cap, runs, rss in rows:
        waits = runs["waits"] or [float("nan")]
        p95 = waits[min(len(waits) - 1, round(0.95 * (len(waits) - 1)))]
        served, refused = len(runs["waits"]), len(runs["refusals"])
        rate = served / runs["seconds"]
        print(
            f"| {cap} | {served} | {refused} | {statistics.median(waits):.1f} s | {p95:.1f} s | "
            f"{rate:.2f} | {rss:.2f} GB |"
        )
    for cap, runs, _ in rows:
        if runs["refusals"]:
            print(f"\n{cap}: a refused visitor is told: {runs['refusals'][0]}")


if __name__ == "__main__":
    main()
