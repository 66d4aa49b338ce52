"""Video benchmarks: the warping error E_warp of each steadiness mode, and frames per second.

    python -m bench.video [--style builtin_05] [--frames 45] [--quick]

**E_warp** (Lai et al. 2018): the mean squared difference, RGB in [0, 1], between each output
frame and the next one warped back by the optical flow of the *input* frames, over the pixels
whose flow passes the forward-backward test (written out in :func:`tests.support.clips.e_warp`; the flow is
OpenCV's DIS, preset MEDIUM). Lower is steadier; the table gives it relative to per-frame too.
The clips are synthetic (bench/clips.py), written losslessly.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bench.timing import sync
from nst.methods import fast, video
from nst.methods.engine import OnePassStyle
from tests.support.clips import e_warp, pan, read_frames, static_scene, write_clip, zoom


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--style", default="builtin_05")
    parser.add_argument("--frames", type=int, default=45)
    parser.add_argument("--quick", action="store_true", help="6 frames at 160×96: that every case runs")
    args = parser.parse_args(argv)
    w, h = (160, 96) if args.quick else (640, 352)
    length = 6 if args.quick else args.frames
    model = fast.load_style(args.style)
    modes = {
        "per frame": video.VideoOptions(steady=0.0, flow=0.0, crf=0),
        "statistics only": video.VideoOptions(flow=0.0, crf=0),
        "flow-guided, α = 0.6 (default)": video.VideoOptions(crf=0),
        "flow-guided, α = 0.8": video.VideoOptions(flow=0.8, crf=0),
        "flow-guided, DIS fast (Live)": video.VideoOptions(flow_preset="fast", crf=0),
    }
    clips = {
        "pan across a texture": pan(w, h, length),
        "zoom into a texture": zoom(w, h, length),
        "still scene, ±3 sensor noise, a moving disc": static_scene(w, h, length, noise=3),
    }
    print(f"\nE_warp × 1000 ({args.style}, {w}×{h}, {length} frames; lower is steadier) and frames/s\n")
    print("| clip | " + " | ".join(modes) + " |\n|---|" + "---|" * len(modes))
    with tempfile.TemporaryDirectory(prefix="nst-video-bench-") as tmp:
        for name, frames in clips.items():
            print(f"| {name} | " + " | ".join(_row(Path(tmp), frames, model, list(modes.values()))) + " |")
    print(f"\n{torch.get_num_threads()} threads; each clip's time includes decoding and H.264 encoding.")


def _row(folder: Path, frames: list[np.ndarray], model: OnePassStyle, modes: list) -> list[str]:
    """One clip's cells, mode by mode: E_warp (and its ratio to the first mode's) and frames/s."""
    source = write_clip(folder / "in.mp4", frames, audio_hz=None, crf=0)
    decoded = read_frames(source)
    cells, plain = [], None
    for options in modes:
        sync()
        start = time.perf_counter()
        for _ in video.stylize_video(source, folder / "out.mp4", model, options):
            pass
        sync()
        rate = len(frames) / (time.perf_counter() - start)
        error = e_warp(decoded, read_frames(folder / "out.mp4"))
        plain = plain or error
        cells.append(f"{1000 * error:.2f} ({error / plain:.2f}×), {rate:.1f} fps")
    return cells


if __name__ == "__main__":
    main()
