"""Video: a clip stylised frame by frame by a one-pass network, steady from frame to frame.

One source of flicker in instance-norm networks is that each frame gets
its own normalisation statistics, so a small change anywhere (a moving object, sensor
noise) shifts the colours of the whole frame. Here every norm holds a running estimate
of its statistics instead (:class:`nst.networks.norms.Running`, the mechanism tiles use to share
an image's statistics): ``μ'_t = ρ·μ'_{t−1} + (1 − ρ)·μ_t`` with ``ρ = steady``, a memory of
about ``1 / (1 − ρ)`` frames (50 by default: 2 s at 25 fps, so lighting that drifts is
followed), restarted at once at a scene cut (a large change of the whole picture).
``steady=0`` gives plain per-frame stylisation. Blending each output
with the previous one (``blend``, the usual remedy, which smears motion) is available
and off by default.

Reading and writing go through PyAV (FFmpeg's libraries, shipped in its wheels): the
output is H.264 (yuv420p) at the input's frame rate, and the audio is copied as it is
(or re-encoded as AAC where the MP4 container cannot hold it). Frames run through the
network in batches.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image
from torch import nn

from nst.base.color import transfer_luminance
from nst.base.device import memory_format
from nst.base.images import MAX_PIXELS, fit_long_side
from nst.base.options import check, check_fraction, check_positive
from nst.networks.norms import Running, holding

if TYPE_CHECKING:  # PyAV loads on first use: importing this module loads nothing
    import av

MP4_AUDIO = ("aac", "mp3", "opus", "alac", "flac", "ac3")
"""Audio codecs copied into the MP4 output as they are; others are re-encoded as AAC."""


class VideoError(ValueError):
    """A clip that cannot be read or written; the message says why in one line."""


@dataclass(frozen=True)
class VideoOptions:
    """How a clip is stylised, checked when made; the CLI and the app take their defaults here.

    ``max_side`` shrinks frames to that long side (sides are made even, as H.264 needs);
    ``max_seconds`` stylises only the clip's start. ``steady`` is the held statistics'
    momentum ρ (0: per-frame statistics); ``cut`` the mean change of the picture, on
    [0, 1], that counts as a scene cut. ``blend`` mixes each output frame with the
    previous output (0: off). ``batch`` frames go through the network at once.
    """

    max_side: int | None = None
    max_seconds: float | None = None
    strength: float = 1.0
    preserve_color: bool = False
    steady: float = 0.98
    cut: float = 0.08
    blend: float = 0.0
    batch: int = 4
    crf: int = 18

    def __post_init__(self) -> None:
        if self.max_side is not None:
            check_positive("max_side", self.max_side)
        if self.max_seconds is not None:
            check_positive("max_seconds", self.max_seconds)
        for name in ("strength", "steady", "cut", "blend"):
            check_fraction(name, getattr(self, name))
        check(self.steady < 1, "steady must be below 1 (1 would never update)")
        check_positive("batch", self.batch)
        check(0 <= self.crf <= 51, f"crf must be 0 to 51, not {self.crf}")


@dataclass(frozen=True)
class ClipInfo:
    """What a clip holds, read from its header."""

    width: int
    height: int
    fps: Fraction
    seconds: float
    frames: int
    audio: str | None


@dataclass(frozen=True)
class VideoProgress:
    """Frames written so far; ``total`` is an estimate from the header."""

    frame: int
    total: int
    elapsed: float


def _open(path: str | os.PathLike) -> av.container.InputContainer:
    import av

    path = Path(path)
    if not path.is_file():
        raise VideoError(f"No video file at {path}.")
    if path.stat().st_size == 0:
        raise VideoError(f"{path.name} is empty (0 bytes).")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, UnicodeDecodeError) as err:
        raise VideoError(f"{path.name} is not a video we can read ({type(err).__name__}).") from err
    if not container.streams.video:
        container.close()
        raise VideoError(f"{path.name} has no video stream.")
    return container


def probe(path: str | os.PathLike) -> ClipInfo:
    """Size, frame rate, duration, frame count and audio codec of the clip at ``path``."""
    with _open(path) as container:
        return _info(container, Path(path).name)


def _info(container: av.container.InputContainer, name: str) -> ClipInfo:
    stream = container.streams.video[0]
    fps = stream.average_rate or stream.guessed_rate or Fraction(25)
    if stream.duration is not None and stream.time_base is not None:
        seconds = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        seconds = container.duration / 1_000_000
    else:
        seconds = 0.0
    frames = stream.frames or round(seconds * fps)
    width, height = stream.codec_context.width, stream.codec_context.height
    if width * height > MAX_PIXELS:
        raise VideoError(
            f"{name} is {width}×{height}; the limit is {MAX_PIXELS / 1e6:.0f} megapixels (NST_MAX_PIXELS)."
        )
    if width < 1 or height < 1:
        raise VideoError(f"{name} has frames with no pixels.")
    audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
    return ClipInfo(width, height, Fraction(fps), seconds, frames, audio)


def first_frame(path: str | os.PathLike) -> Image.Image:
    """The clip's first frame, as an RGB image (e.g. the content whose embedding any-style strength needs)."""
    import av

    with _open(path) as container:
        try:
            frame = next(container.decode(video=0), None)
        except av.FFmpegError as err:
            raise VideoError(f"{Path(path).name} could not be decoded ({type(err).__name__}).") from err
    if frame is None:
        raise VideoError(f"{Path(path).name} has no frames we could decode.")
    return frame.to_image()


def _even_size(info: ClipInfo, max_side: int | None) -> tuple[int, int]:
    width, height = info.width, info.height
    if max_side and max(width, height) > max_side:
        width, height = fit_long_side((width, height), max_side)
    return max(2, width // 2 * 2), max(2, height // 2 * 2)


def _is_cut(previous: np.ndarray | None, frame: np.ndarray, threshold: float) -> bool:
    """Whether the picture changed as a whole: mean absolute change of a 32×32 thumbnail."""
    if previous is None:
        return False
    return float(np.abs(previous.astype(np.float32) - frame).mean()) / 255 > threshold


def _thumb(frame: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(frame).resize((32, 32), Image.Resampling.BOX), dtype=np.float32)


def stylize_video(
    source: str | os.PathLike,
    target: str | os.PathLike,
    model: nn.Module,
    options: VideoOptions | None = None,
) -> Iterator[VideoProgress]:
    """Stylise the clip at ``source`` into an MP4 at ``target``, yielding progress after each batch.

    ``model`` maps RGB [B, 3, H, W] in [0, 255] to the same (:func:`nst.methods.fast.load_style`,
    :func:`nst.methods.arbitrary.load_style`). The output appears at ``target`` only when the
    whole clip is done; a run stopped early (the caller stops iterating) leaves nothing.
    """
    import av

    o = options or VideoOptions()
    target = Path(target)
    partial = target.with_name(f".{target.stem}.partial{target.suffix or '.mp4'}")
    start = time.perf_counter()
    device = next(model.parameters()).device
    with _open(source) as container:
        info = _info(container, Path(source).name)
        width, height = _even_size(info, o.max_side)
        total = info.frames
        if o.max_seconds is not None:
            total = min(total or math.inf, math.ceil(o.max_seconds * info.fps))
        video_in = container.streams.video[0]
        video_in.thread_type = "AUTO"
        audio_in = container.streams.audio[0] if container.streams.audio else None
        written = 0
        try:
            with av.open(str(partial), "w", format="mp4") as out:
                video_out = out.add_stream("libx264", rate=info.fps)
                video_out.width, video_out.height, video_out.pix_fmt = width, height, "yuv420p"
                video_out.options = {"crf": str(o.crf), "preset": "veryfast"}
                audio_out = None
                if audio_in is not None:
                    if info.audio in MP4_AUDIO:
                        audio_out = out.add_stream_from_template(audio_in)
                    else:
                        audio_out = out.add_stream("aac", rate=audio_in.codec_context.sample_rate)
                painter = _Painter(model, device, o)
                with holding(model, lambda: Running(o.steady)) as helds:
                    painter.helds = helds
                    for packet in container.demux(*(s for s in (video_in, audio_in) if s is not None)):
                        if o.max_seconds is not None and written >= total:
                            break
                        if packet.stream is audio_in:
                            _audio(packet, audio_in, audio_out, out, o.max_seconds, info.audio in MP4_AUDIO)
                            continue
                        for frame in packet.decode():
                            if o.max_seconds is not None and painter.seen >= total:
                                break
                            painter.add(frame.to_ndarray(width=width, height=height, format="rgb24"))
                            if painter.full():
                                written = _write(painter.flush(), video_out, out, written)
                                yield VideoProgress(written, max(total, written), time.perf_counter() - start)
                    written = _write(painter.flush(), video_out, out, written)
                if written == 0:
                    raise VideoError(f"{Path(source).name} has no frames we could decode.")
                for packet in video_out.encode(None):
                    out.mux(packet)
                if audio_out is not None and info.audio not in MP4_AUDIO:
                    for packet in audio_out.encode(None):
                        out.mux(packet)
        except av.FFmpegError as err:
            partial.unlink(missing_ok=True)
            raise VideoError(
                f"{Path(source).name} could not be read to the end ({type(err).__name__})."
            ) from err
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    os.replace(partial, target)
    yield VideoProgress(written, written, time.perf_counter() - start)


def _audio(
    packet: av.Packet,
    audio_in: av.audio.AudioStream,
    audio_out: av.audio.AudioStream | None,
    out: av.container.OutputContainer,
    max_seconds: float | None,
    copy: bool,
) -> None:
    """Copy (or re-encode as AAC) one audio packet, up to ``max_seconds``."""
    if packet.dts is None or audio_out is None:
        return
    if max_seconds is not None and packet.pts is not None and packet.pts * audio_in.time_base > max_seconds:
        return
    if copy:
        packet.stream = audio_out
        out.mux(packet)
        return
    for frame in packet.decode():
        frame.pts = None
        for encoded in audio_out.encode(frame):
            out.mux(encoded)


def _write(
    frames: list[np.ndarray], stream: av.video.VideoStream, out: av.container.OutputContainer, written: int
) -> int:
    """Encode ``frames`` as the next frames of ``stream``; returns the count written so far."""
    import av

    for array in frames:
        frame = av.VideoFrame.from_ndarray(array, format="rgb24")
        frame.pts = written
        written += 1
        for packet in stream.encode(frame):
            out.mux(packet)
    return written


class _Painter:
    """Collects frames into batches and stylises them, holding statistics across them.

    A scene cut ends the batch before it and restarts the held statistics.
    """

    def __init__(self, model: nn.Module, device: torch.device, options: VideoOptions) -> None:
        self.model, self.device, self.options = model, device, options
        self.frames: list[np.ndarray] = []
        self.helds: list[Running] = []
        self.seen = 0
        self.cut: int | None = None
        self.thumb: np.ndarray | None = None
        self.previous: torch.Tensor | None = None

    def add(self, frame: np.ndarray) -> None:
        thumb = _thumb(frame)
        if self.cut is None and _is_cut(self.thumb, thumb, self.options.cut):
            self.cut = len(self.frames)
        self.thumb = thumb
        self.frames.append(frame)
        self.seen += 1

    def full(self) -> bool:
        return len(self.frames) >= self.options.batch or self.cut is not None

    @torch.inference_mode()
    def flush(self) -> list[np.ndarray]:
        """Stylise the frames collected so far."""
        cut, self.cut = self.cut, None
        if cut is None:
            done, self.frames = self._paint(self.frames), []
            return done
        done = self._paint(self.frames[:cut])
        for held in self.helds:
            held.reset()
        self.frames = self.frames[cut:]
        return done + self.flush()

    def _paint(self, frames: list[np.ndarray]) -> list[np.ndarray]:
        if not frames:
            return []
        o = self.options
        x = torch.from_numpy(np.stack(frames)).to(self.device).permute(0, 3, 1, 2).float()
        y = self.model(x.contiguous(memory_format=memory_format(self.device)))
        if o.strength < 1:
            y = torch.lerp(x, y, o.strength)
        if o.blend:
            blended = []
            for frame in y:
                if self.previous is not None:
                    frame = torch.lerp(frame, self.previous, o.blend)
                blended.append(frame)
                self.previous = frame
            y = torch.stack(blended)
        out = list(y.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy())
        if o.preserve_color:
            pairs = zip(out, frames, strict=True)
            out = [np.asarray(transfer_luminance(Image.fromarray(a), Image.fromarray(f))) for a, f in pairs]
        return out
