"""Synthetic clips made here (no third-party footage): a textured static scene with one small moving
object (and optional sensor noise), a pan across a larger texture, a zoom into one, and a cut between
two scenes; with an optional tone as audio. And the warping error of a painted clip."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def texture(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A smooth colourful texture: blurred seeded noise over a gradient, uint8 RGB."""
    rng = np.random.default_rng(seed)
    noise = Image.fromarray(rng.integers(0, 256, (height // 8, width // 8, 3), dtype=np.uint8))
    noise = noise.resize((width, height), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(3))
    y, x = np.mgrid[0:height, 0:width]
    gradient = np.stack([x / width, y / height, 0.5 + 0.5 * np.sin(x / 23.0)], -1) * 120
    return np.clip(np.asarray(noise, dtype=np.float32) * 0.6 + gradient, 0, 255).astype(np.uint8)


def static_scene(width: int, height: int, frames: int, seed: int = 0, noise: int = 0) -> list[np.ndarray]:
    """A fixed textured scene, a small red disc crossing it, and ± ``noise`` levels of noise per frame."""
    rng = np.random.default_rng(seed + 1)
    scene, radius, out = texture(width, height, seed), max(3, height // 12), []
    for t in range(frames):
        img = Image.fromarray(scene)
        cx = int(width * (0.2 + 0.6 * t / max(1, frames - 1)))
        cy = int(height * (0.5 + 0.2 * math.sin(t / 5)))
        ImageDraw.Draw(img).ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=(220, 30, 40))
        noisy = np.asarray(img, dtype=np.int16) + rng.integers(-noise, noise + 1, (height, width, 3))
        out.append(np.clip(noisy, 0, 255).astype(np.uint8))
    return out


def pan(width: int, height: int, frames: int, seed: int = 0, speed: int = 4) -> list[np.ndarray]:
    """A camera panning right across a texture ``speed`` pixels a frame."""
    wide = texture(width + speed * frames, height, seed)
    return [wide[:, speed * t : speed * t + width] for t in range(frames)]


def zoom(width: int, height: int, frames: int, seed: int = 0, rate: float = 0.01) -> list[np.ndarray]:
    """A camera zooming into the middle of a texture, ``rate`` (1%) closer each frame."""
    big = Image.fromarray(texture(width * 2, height * 2, seed))
    out = []
    for t in range(frames):
        scale = 2 * (1 + rate) ** -t  # the crop's size, in the texture's pixels per output pixel
        cw, ch = width * scale / 2, height * scale / 2
        box = (width - cw, height - ch, width + cw, height + ch)
        out.append(np.asarray(big.resize((width, height), Image.Resampling.BICUBIC, box=box)))
    return out


def write_clip(
    path: Path,
    frames: list[np.ndarray],
    fps: int = 12,
    audio_hz: float | None = 440.0,
    codec: str = "aac",
    crf: int = 18,
) -> Path:
    """``frames`` as an H.264 clip at ``fps`` (``crf`` 0: lossless), with a sine tone of ``audio_hz``
    (None: no audio) in ``codec``."""
    import av

    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"crf": str(crf)}
        audio = out.add_stream(codec, rate=22050) if audio_hz else None
        for i, array in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame))
        if audio is not None:
            seconds, rate = len(frames) / fps, 22050
            t = np.arange(int(seconds * rate)) / rate
            tone = (0.3 * np.sin(2 * np.pi * audio_hz * t)).astype(np.float32)
            for start in range(0, len(tone), 1024):
                samples = tone[None, start : start + 1024]
                chunk = av.AudioFrame.from_ndarray(samples, format="flt", layout="mono")
                chunk.sample_rate, chunk.pts, chunk.time_base = rate, start, Fraction(1, rate)
                out.mux(audio.encode(chunk))
            out.mux(audio.encode(None))
        out.mux(video.encode(None))
    return path


def read_frames(path: Path) -> np.ndarray:
    """Every frame of the clip at ``path`` as float32 RGB, [T, H, W, 3]."""
    import av

    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)]).astype(np.float32)


def write_camera_clip(path: Path, frames: list[np.ndarray], fps: int = 30) -> Path:
    """``frames`` as raw YUV 4:2:0 in a ``.y4m`` file: what Chromium's fake camera plays
    (``--use-file-for-fake-video-capture``), looping."""
    import av

    height, width = frames[0].shape[:2]
    with av.open(str(path), "w", format="yuv4mpegpipe") as out:
        stream = out.add_stream("rawvideo", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i, array in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


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
