"""The contact sheet (every ready catalogue style on one photo) batched, beside each style painted alone.

    python -m bench.sheet [--quick]

"Batched" is :func:`nst.methods.sheet.contact_sheet`: the styles of one multi-style network in one
pass, a style per batch item. "One by one" is ``fast.stylize(photo, name, max_side=side)`` for each
style in turn, the plain way to the same pictures. The photo is the shipped ``coffee.jpg`` (512×341),
shrunk to each side. Times are medians, the two ways interleaved (this machine's speed drifts), after
a warm-up of each.
"""

from __future__ import annotations

import argparse

import torch

from bench.commit import commit
from bench.timing import interleaved


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a tiny side, 2 runs: that every case runs")
    args = parser.parse_args(argv)
    from nst.base.images import fit_long_side, load_image
    from nst.base.pictures import picture
    from nst.methods import fast, sheet

    photo = load_image(picture("coffee"))
    names = list(fast.ready_styles())
    sides, repeats = ((32,), 2) if args.quick else ((160, 192, 256), 5)
    rows = []
    for side in sides:
        times = interleaved(
            {
                "batched": lambda side=side: sheet.contact_sheet(photo, names, side),
                "one by one": lambda side=side: [fast.stylize(photo, n, max_side=side) for n in names],
            },
            repeats,
        )
        size = "×".join(map(str, fit_long_side(photo.size, min(side, max(photo.size)))))
        for way, seconds in times.items():
            rows.append((size, way, seconds, times["one by one"] / seconds))
    print(
        f"\nThe contact sheet, {len(names)} styles on a {photo.width}×{photo.height} photo (median of "
        f"{repeats}, interleaved; {torch.get_num_threads()} threads; {commit()})\n"
    )
    print("| size | way | seconds | per style | speed-up |\n|---|---|---|---|---|")
    for size, way, seconds, speedup in rows:
        print(f"| {size} | {way} | {seconds:.3f} s | {1000 * seconds / len(names):.1f} ms | {speedup:.2f}× |")


if __name__ == "__main__":
    main()
