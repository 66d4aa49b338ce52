"""Video benchmarks: flicker of plain, steady and blended stylisation, and frames per second.

    python -m bench.video [--style builtin_05] [--frames 48] [--quick]

Flicker is the mean absolute difference between consecutive output frames divided by the
same for the input, on synthetic clips (bench/clips.py) written losslessly; "object" is the
same ratio inside the moving disc's path only, to show that motion is kept, and "far" the mean
change (levels) of output pixels in a band the disc never comes near: what statistics alone move.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bench.clips import pan, read_frames, static_scene, write_clip
from bench.run import sync
from nst.methods import fast, video


def flicker(frames_in: np.ndarray, frames_out: np.ndarray, mask: np.ndarray | None = None) -> float:
    """mean |out_t − out_{t−1}| / mean |in_t − in_{t−1}|, over ``mask`` (H×W) if given."""
    d_in, d_out = np.abs(np.diff(frames_in, axis=0)), np.abs(np.diff(frames_out, axis=0))
    if mask is not None:
        d_in, d_out = d_in[:, mask], d_out[:, mask]
    return float(d_out.mean() / d_in.mean())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--style", default="builtin_05")
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--quick", action="store_true", help="6 frames at 160×90: that every case runs")
    args = parser.parse_args(argv)
    w, h = (160, 90) if args.quick else (640, 360)
    length = 6 if args.quick else args.frames
    folder = Path(tempfile.mkdtemp(prefix="nst-video-bench-"))
    model = fast.load_style(args.style)
    variants = {
        "plain per-frame": video.VideoOptions(steady=0.0, crf=0),
        "held, ρ = 0.9": video.VideoOptions(steady=0.9, crf=0),
        "ours (held, ρ = 0.98)": video.VideoOptions(crf=0),
        "0.3 blend with the previous frame": video.VideoOptions(steady=0.0, blend_previous=0.3, crf=0),
    }
    clips = {
        "static camera, moving object": static_scene(w, h, length),
        "static camera, moving object, ±3 noise": static_scene(w, h, length, noise=3),
        "panning camera": pan(w, h, length),
    }
    print(f"\nFlicker ({args.style}, {w}×{h}, {length} frames; lower is steadier)\n")
    print("| clip | " + " | ".join(variants) + " |\n|---|" + "---|" * len(variants))
    for name, frames in clips.items():
        source = write_clip(folder / "in.mp4", frames, audio_hz=None, crf=0)
        decoded = read_frames(source)
        moving = np.abs(np.diff(decoded, axis=0)).max(axis=(0, 3)) > 40  # where the disc passes
        far = np.zeros(moving.shape, bool)
        far[: moving.shape[0] // 6] = True  # a band at the top, beyond the network's reach from the disc
        cells = []
        for options in variants.values():
            for _ in video.stylize_video(source, folder / "out.mp4", model, options):
                pass
            out = read_frames(folder / "out.mp4")
            cell = f"{flicker(decoded, out):.2f}"
            if name.startswith("static"):
                far_change = np.abs(np.diff(out, axis=0))[:, far].mean()
                cell += f" (object {flicker(decoded, out, moving):.2f}, far {far_change:.2f})"
            cells.append(cell)
        print(f"| {name} | " + " | ".join(cells) + " |")
    source = write_clip(folder / "fps.mp4", static_scene(w, h, length), audio_hz=None)
    print(f"\nFrames per second at {w}×{h}, {args.style}, {torch.get_num_threads()} threads\n")
    print("| batch | frames/s |\n|---|---|")
    for batch in (1, 4):
        sync()
        start = time.perf_counter()
        for _ in video.stylize_video(source, folder / "out.mp4", model, video.VideoOptions(batch=batch)):
            pass
        sync()
        print(f"| {batch} | {length / (time.perf_counter() - start):.1f} |")


if __name__ == "__main__":
    main()
