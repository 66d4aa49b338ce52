"""Video benchmarks: the warping error E_warp of each steadiness mode, and frames per second.

    python -m bench.video [--style builtin_05] [--frames 45] [--quick]

**E_warp** (Lai et al. 2018): the mean squared difference, RGB in [0, 1], between each output
frame and the next one warped back by the optical flow of the *input* frames, over the pixels
whose flow passes the forward-backward test (written out in :func:`e_warp`; the flow is
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

from bench.clips import pan, read_frames, static_scene, write_clip, zoom
from bench.timing import sync
from nst.methods import fast, video
from nst.methods.engine import OnePassStyle


def e_warp(frames_in: np.ndarray, frames_out: np.ndarray) -> float:
    """Lai et al.'s warping error of ``frames_out`` ([T, H, W, 3], 0–255) by ``frames_in``'s flow.

    For each t: the backward flow b (frame t + 1 → t) and forward flow f (t → t + 1) of the
    input; a pixel x of frame t + 1 counts when x + b(x) lies in the frame and
    ``|b(x) + f(x + b(x))|² ≤ 0.01·(|b(x)|² + |f(x + b(x))|²) + 0.5`` (no occlusion); there,
    the error is ``|O_{t+1}(x) − O_t(x + b(x))|²`` averaged over channels.
    """
    import cv2

    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    luma = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    h, w = frames_in.shape[1:3]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    total, count = 0.0, 0
    for t in range(len(frames_in) - 1):
        now, after = ((frames_in[i] @ luma).round().astype(np.uint8) for i in (t, t + 1))
        back, fwd = dis.calc(after, now, None), dis.calc(now, after, None)
        map_x, map_y = xs + back[..., 0], ys + back[..., 1]
        there = cv2.remap(fwd, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        holds = (
            np.square(back + there).sum(-1)
            <= 0.01 * (np.square(back).sum(-1) + np.square(there).sum(-1)) + 0.5
        )
        holds &= (map_x >= 0) & (map_x <= w - 1) & (map_y >= 0) & (map_y <= h - 1)
        warped = cv2.remap(frames_out[t] / 255, map_x, map_y, cv2.INTER_LINEAR)
        error = np.square(frames_out[t + 1] / 255 - warped).mean(-1)
        total, count = total + float(error[holds].sum()), count + int(holds.sum())
    return total / max(count, 1)


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
