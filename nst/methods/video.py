"""Video: a clip stylised frame by frame by a one-pass network, steady from frame to frame.

One source of flicker in instance-norm networks is that each frame gets
its own normalisation statistics, so a small change anywhere (a moving object, sensor
noise) shifts the colours of the whole frame. Here every norm holds a running estimate
of its statistics instead (:class:`nst.networks.norms.Running`, the mechanism tiles use to share
an image's statistics): ``μ'_t = ρ·μ'_{t−1} + (1 − ρ)·μ_t`` with ``ρ = steady``, a memory of
about ``1 / (1 − ρ)`` frames (50 by default: 2 s at 25 fps, so lighting that drifts is
followed), restarted at once at a scene cut (a large change of the whole picture).
``steady=0`` gives plain per-frame statistics.

Held statistics steady the picture's colours, not its pixels where the camera moves or the
sensor is noisy. So, by default, each output is also blended with the previous output
warped by the optical flow of the *input* frames, where that flow holds (:class:`FlowBlend`;
Ruder et al. 2016, Lai et al. 2018): ``O_t = α·W(O_{t−1}) + (1 − α)·P_t`` where the
forward-backward test passes, ``O_t = P_t`` elsewhere (occlusions, disocclusions, the frame's
edge), with ``α = flow``. Blending with the unwarped previous output (``blend_previous``,
which smears motion) is available and off by default. The running estimate belongs to the clip's own call: the
cached networks are shared with every other request and are never changed.

Reading and writing go through PyAV (FFmpeg's libraries, shipped in its wheels): the
output is H.264 (yuv420p) at the input's frame rate, and the audio is copied as it is
(or re-encoded as AAC where the MP4 container cannot hold it). Frames run through the
one-pass engine (:mod:`nst.methods.engine`) in batches. A clip's recipe
(:class:`~nst.base.recipes.Recipe`) rides in the MP4's ``comment`` metadata (:func:`read_recipe`).
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
import typing
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from PIL import Image

from nst.base.images import fit_long_side
from nst.base.options import check, check_choice, check_fraction, check_positive, option
from nst.base.recipes import Recipe, RecipeError
from nst.base.settings import current
from nst.methods import arbitrary, engine, fast
from nst.methods.engine import OnePassOptions, OnePassStyle
from nst.networks.norms import Running, norms

if TYPE_CHECKING:  # PyAV loads on first use: importing this module loads nothing
    import av

FlowPreset = Literal["ultrafast", "fast", "medium"]
"""OpenCV's DIS presets, fastest first: at 320×240 about 0.6, 1.5 and 7 ms a flow on this 2-core CPU."""

MP4_AUDIO = ("aac", "mp3", "opus", "alac", "flac", "ac3")
"""Audio codecs copied into the MP4 output as they are; others are re-encoded as AAC."""


class VideoError(ValueError):
    """A clip that cannot be read or written; the message says why in one line."""


@dataclass(frozen=True)
class VideoOptions(OnePassOptions):
    """How a clip is stylised (:class:`~nst.methods.engine.OnePassOptions`), checked when made.

    Strength means what the style's method means by it (:func:`load_style`). ``max_side``
    shrinks frames to that long side (sides are made even, as H.264 needs); ``max_seconds``
    stylises only the clip's start. ``steady`` is the held statistics' momentum ρ (0:
    per-frame statistics); ``cut`` the mean change of the picture, on [0, 1], that counts
    as a scene cut. ``flow`` is the weight α of the previous output warped by the input's
    optical flow (:class:`FlowBlend`; 0: off). ``blend_previous`` mixes each output frame with
    the previous output, unwarped (0: off). The modes: flow-guided (the default), statistics
    only (``flow=0``), per frame (``flow=0, steady=0``). ``batch`` frames go through the network
    at once; ``crf`` is H.264's quality.
    """

    max_seconds: float | None = option(None, "stylise only the clip's first seconds")
    steady: float = option(0.98, "momentum of the held norm statistics; 0 = per frame")
    flow: float = option(0.6, "weight of the previous output warped by optical flow where it holds; 0 = off")
    flow_preset: FlowPreset = option("medium", "the optical flow's DIS preset: medium, or faster and rougher")
    cut: float = option(0.08, "mean change of the picture (0–1) that counts as a scene cut")
    blend_previous: float = option(0.0, "mix each output frame with the previous one (0 = off)")
    batch: int = option(4, "frames per forward pass")
    crf: int = option(18, "H.264 quality: 0 lossless … 51 worst")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.max_seconds is not None:
            check_positive("max_seconds", self.max_seconds)
        check_choice("flow_preset", self.flow_preset, typing.get_args(FlowPreset))
        for name in ("steady", "cut", "flow", "blend_previous"):
            check_fraction(name, getattr(self, name))
        check(self.steady < 1, "steady must be below 1 (1 would never update)")
        check(self.flow < 1, "flow must be below 1 (1 would never show a new frame)")
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
    limit = current().max_image_pixels
    if width * height > limit:
        raise VideoError(
            f"{name} is {width}×{height}; the limit is {limit / 1e6:.0f} megapixels (NST_MAX_PIXELS)."
        )
    if width < 1 or height < 1:
        raise VideoError(f"{name} has frames with no pixels.")
    audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
    return ClipInfo(width, height, Fraction(fps), seconds, frames, audio)


RECIPE_TAG = "comment"
"""The MP4 metadata tag that holds a clip's recipe (FFmpeg writes it as the ``©cmt`` atom)."""


def read_recipe(path: str | os.PathLike) -> Recipe:
    """The recipe :func:`stylize_video` wrote into the MP4 at ``path``; a clip without one, or with a
    damaged or newer one, is a :class:`~nst.base.recipes.RecipeError` of one line."""
    name = Path(path).name
    try:
        with _open(path) as container:
            text = container.metadata.get(RECIPE_TAG, "")
    except VideoError as err:
        raise RecipeError(str(err)) from err
    if not text.lstrip().startswith("{"):
        raise RecipeError(f"{name} carries no recipe: only clips nst wrote do.")
    return Recipe.from_json(text, name)


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


def _is_cut(previous: np.ndarray | None, thumb: np.ndarray, threshold: float) -> bool:
    """Whether the picture changed as a whole: mean absolute change of a 32×32 thumbnail."""
    if previous is None:
        return False
    return float(np.abs(previous - thumb).mean()) / 255 > threshold


def _thumb(frame: Image.Image) -> np.ndarray:
    return np.asarray(frame.resize((32, 32), Image.Resampling.BOX), dtype=np.float32)


def load_style(
    source: str | os.PathLike,
    style: str | Sequence[str] | Sequence[Image.Image],
    options: VideoOptions | None = None,
) -> OnePassStyle:
    """The style a clip is painted in: catalogue name(s), or any style image(s).

    Strength means what each method means by it: the pixel blend for catalogue styles
    (:func:`nst.methods.fast.load_style`); for style images, the embedding moved towards
    the clip's first frame's (:func:`nst.methods.arbitrary.load_style`), one embedding for
    the whole clip so that it does not flicker.
    """
    o = options or VideoOptions()
    if isinstance(style, str) or all(isinstance(s, str) for s in style):
        return fast.load_style(style, o)
    content = first_frame(source) if o.strength < 1 else None
    return arbitrary.load_style(list(style), o, content)


def stylize_video(
    source: str | os.PathLike,
    target: str | os.PathLike,
    style: str | Sequence[str] | Sequence[Image.Image] | OnePassStyle,
    options: VideoOptions | None = None,
    *,
    recipe: Recipe | None = None,
    **changes: object,
) -> Iterator[VideoProgress]:
    """Stylise the clip at ``source`` into an MP4 at ``target``, yielding progress after each batch.

    ``style``: catalogue name(s) or style image(s) (:func:`load_style`), or a style object,
    used as it is. ``options`` (default :class:`VideoOptions`) with ``changes`` to any of its
    fields. A ``recipe`` goes into the MP4's ``comment`` metadata (:func:`read_recipe`). The
    output appears at ``target`` only when the whole clip is done; a run
    stopped early (the caller stops iterating) leaves nothing.
    """
    import av

    o = dataclasses.replace(options or VideoOptions(), **changes)
    if isinstance(style, OnePassStyle):
        engine.check_prebuilt(o)
    else:
        style = load_style(source, style, o)
    target = Path(target)
    partial = target.with_name(f".{target.stem}.partial{target.suffix or '.mp4'}")
    start = time.perf_counter()
    name = Path(source).name
    with _open(source) as container:
        info = _info(container, name)
        try:
            written = yield from _transcode(container, info, name, partial, style, o, start, recipe)
        except av.FFmpegError as err:
            partial.unlink(missing_ok=True)
            raise VideoError(f"{name} could not be read to the end ({type(err).__name__}).") from err
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    os.replace(partial, target)
    yield VideoProgress(written, written, time.perf_counter() - start)


def _transcode(
    container: av.container.InputContainer,
    info: ClipInfo,
    name: str,
    partial: Path,
    style: OnePassStyle,
    o: VideoOptions,
    start: float,
    recipe: Recipe | None,
) -> Generator[VideoProgress, None, int]:
    """Read the clip's frames (:func:`_frames`), paint them in batches (:class:`Painter`) and write
    them to ``partial`` (:class:`_Output`) with the ``recipe`` in its metadata, yielding progress
    after each batch; returns the count written."""
    import av

    size = _even_size(info, o.max_side)
    total = info.frames
    if o.max_seconds is not None:
        total = min(total or math.inf, math.ceil(o.max_seconds * info.fps))
    video_in = container.streams.video[0]
    video_in.thread_type = "AUTO"
    audio_in = container.streams.audio[0] if container.streams.audio else None
    with av.open(str(partial), "w", format="mp4") as out:
        if recipe is not None:
            out.metadata[RECIPE_TAG] = recipe.to_json()
        output = _Output(out, info, audio_in, size, o.crf)
        painter = Painter(style, o)
        for frame in _frames(container, video_in, output, painter, total, o.max_seconds, size):
            painter.add(frame)
            if painter.full():
                output.write(painter.flush())
                yield VideoProgress(output.written, max(total, output.written), time.perf_counter() - start)
        output.write(painter.flush())
        if output.written == 0:
            raise VideoError(f"{name} has no frames we could decode.")
        output.finish()
    return output.written


def _frames(
    container: av.container.InputContainer,
    video_in: av.video.VideoStream,
    output: _Output,
    painter: Painter,
    total: int,
    max_seconds: float | None,
    size: tuple[int, int],
) -> Iterator[Image.Image]:
    """The clip's frames at ``size``, in order; with ``max_seconds`` only until ``painter`` has seen
    ``total`` (and none once ``output`` has written them). Audio packets met on the way go to
    ``output`` (:meth:`_Output.audio`)."""
    audio_in = output.audio_in
    width, height = size
    for packet in container.demux(*(s for s in (video_in, audio_in) if s is not None)):
        if max_seconds is not None and output.written >= total:
            break
        if packet.stream is audio_in:
            output.audio(packet, max_seconds)
            continue
        for frame in packet.decode():
            if max_seconds is not None and painter.seen >= total:
                break
            yield frame.to_image(width=width, height=height)


class _Output:
    """The MP4 being written: H.264 (yuv420p) at the input's frame rate, at ``size`` and quality
    ``crf``, the input's audio copied (:data:`MP4_AUDIO`) or re-encoded as AAC, and the count of
    frames ``written`` so far."""

    def __init__(
        self,
        out: av.container.OutputContainer,
        info: ClipInfo,
        audio_in: av.audio.AudioStream | None,
        size: tuple[int, int],
        crf: int,
    ) -> None:
        self.out, self.audio_in, self.written = out, audio_in, 0
        self.copy_audio = info.audio in MP4_AUDIO
        self.video = out.add_stream("libx264", rate=info.fps)
        self.video.width, self.video.height, self.video.pix_fmt = *size, "yuv420p"
        self.video.options = {"crf": str(crf), "preset": "veryfast"}
        self.audio_out = None
        if audio_in is not None:
            if self.copy_audio:
                self.audio_out = out.add_stream_from_template(audio_in)
            else:
                self.audio_out = out.add_stream("aac", rate=audio_in.codec_context.sample_rate)

    def write(self, frames: list[Image.Image]) -> None:
        """Encode ``frames`` as the next frames of the video."""
        self.written = _write(frames, self.video, self.out, self.written)

    def audio(self, packet: av.Packet, max_seconds: float | None) -> None:
        """One packet of the input's audio, up to ``max_seconds`` (:func:`_audio`)."""
        _audio(packet, self.audio_in, self.audio_out, self.out, max_seconds, self.copy_audio)

    def finish(self) -> None:
        """Flush the encoders."""
        for packet in self.video.encode(None):
            self.out.mux(packet)
        if self.audio_out is not None and not self.copy_audio:
            for packet in self.audio_out.encode(None):
                self.out.mux(packet)


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
    frames: list[Image.Image], stream: av.video.VideoStream, out: av.container.OutputContainer, written: int
) -> int:
    """Encode ``frames`` as the next frames of ``stream``; returns the count written so far."""
    import av

    for image in frames:
        frame = av.VideoFrame.from_image(image)
        frame.pts = written
        written += 1
        for packet in stream.encode(frame):
            out.mux(packet)
    return written


PHOTOMETRIC = 24
"""Luminance levels by which a pixel may differ from where the flow says it was, and still count as seen."""


class FlowBlend:
    """A clip's flow-guided blending, frame after frame: ``O_t = α·W(O_{t−1}) + (1 − α)·P_t`` where
    the flow holds, else ``P_t``.

    ``W`` warps by the backward flow ``b`` (each pixel of frame t to where it was at t − 1) of
    the input frames, from OpenCV's DIS (on luminance; preset MEDIUM by default), bicubic: bilinear
    blurred more as the warps accumulated, seen on a zoom. A pixel's flow holds when
    it lands inside the frame, the forward flow ``f`` there brings it back (Ruder et al.'s
    test: ``|b + f(x + b)|² ≤ 0.01·(|b|² + |f(x + b)|²) + 0.5``), and the input looked alike
    there (luminance within :data:`PHOTOMETRIC` levels), which catches a flat object that
    appears, where flow smoothly interpolated passes the first test. The state (the previous input
    and output) is this clip's own; :meth:`reset` forgets it at a scene cut.
    """

    def __init__(self, weight: float, preset: FlowPreset = "medium") -> None:
        import cv2

        self.weight = weight
        self.dis = cv2.DISOpticalFlow_create(getattr(cv2, f"DISOPTICAL_FLOW_PRESET_{preset.upper()}"))
        self.previous: tuple[np.ndarray, np.ndarray] | None = None
        self.grid: np.ndarray | None = None  # pixel coordinates, [2, H, W], kept for the clip's size

    def reset(self) -> None:
        self.previous = None

    def __call__(self, frame: Image.Image, painted: Image.Image) -> Image.Image:
        """The output for input ``frame``, whose own painting is ``painted``."""
        grey = np.asarray(frame.convert("L"))
        out = np.asarray(painted, dtype=np.float32)
        if self.previous is not None:
            reliable, warped = self.warp(self.previous[0], grey, self.previous[1])
            # α·W + (1 − α)·P where the flow holds, P elsewhere: P + α·m·(W − P), m the 0/1 mask.
            warped -= out
            warped *= (self.weight * reliable)[..., None]
            out = out + warped
        self.previous = (grey, out)
        return Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8))

    def warp(self, before: np.ndarray, now: np.ndarray, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where the flow from ``before`` to ``now`` (grey frames) holds, and ``image`` (at ``before``)
        warped to ``now``."""
        import cv2

        backward = self.dis.calc(now, before, None)
        forward = self.dis.calc(before, now, None)
        h, w = now.shape
        if self.grid is None or self.grid.shape[1:] != (h, w):
            self.grid = np.mgrid[0:h, 0:w].astype(np.float32)
        map_x, map_y = self.grid[1] + backward[..., 0], self.grid[0] + backward[..., 1]
        warped = cv2.remap(image, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
        there = cv2.remap(forward, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

        def squared(v: np.ndarray) -> np.ndarray:  # |v|² per pixel
            return np.einsum("hwc,hwc->hw", v, v)

        round_trip = squared(backward + there)
        bound = 0.01 * (squared(backward) + squared(there)) + 0.5
        inside = (map_x >= 0) & (map_x <= w - 1) & (map_y >= 0) & (map_y <= h - 1)
        seen = cv2.remap(before, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        alike = cv2.absdiff(now, seen) <= PHOTOMETRIC
        return (round_trip <= bound) & inside & alike, warped


class Painter:
    """Collects frames into batches and paints them, holding statistics across them.

    The running statistics are this clip's own (one :class:`Running` per norm of the
    style's network, and another set for the detail pass at full size when frames are larger
    than the working size), handed to each engine call, and its :class:`FlowBlend`. A scene cut
    ends the batch before it and restarts both.
    """

    def __init__(self, style: OnePassStyle, options: VideoOptions) -> None:
        self.style, self.options = style, options
        self.held = {norm: Running(options.steady) for norm in norms(style.network)}
        self.detail_held = {norm: Running(options.steady) for norm in norms(style.network)}
        self.frames: list[Image.Image] = []
        self.seen = 0
        self.cut: int | None = None
        self.thumb: np.ndarray | None = None
        self.previous: Image.Image | None = None
        self.flow = FlowBlend(options.flow, options.flow_preset) if options.flow else None

    def add(self, frame: Image.Image) -> None:
        thumb = _thumb(frame)
        if self.cut is None and _is_cut(self.thumb, thumb, self.options.cut):
            self.cut = len(self.frames)
        self.thumb = thumb
        self.frames.append(frame)
        self.seen += 1

    def full(self) -> bool:
        return len(self.frames) >= self.options.batch or self.cut is not None

    def flush(self) -> list[Image.Image]:
        """Paint the frames collected so far."""
        cut, self.cut = self.cut, None
        if cut is None:
            done, self.frames = self._paint(self.frames), []
            return done
        done = self._paint(self.frames[:cut])
        for held in (*self.held.values(), *self.detail_held.values()):
            held.reset()
        if self.flow is not None:
            self.flow.reset()
        self.frames = self.frames[cut:]
        return done + self.flush()

    def _paint(self, frames: list[Image.Image]) -> list[Image.Image]:
        if not frames:
            return []
        painted = engine.stylize(
            frames, self.style, self.options, held=self.held, detail_held=self.detail_held
        )
        if self.flow is not None:
            painted = [self.flow(frame, picture) for frame, picture in zip(frames, painted, strict=True)]
        if not self.options.blend_previous:
            return painted
        for i, frame in enumerate(painted):
            if self.previous is not None:
                painted[i] = Image.blend(frame, self.previous, self.options.blend_previous)
            self.previous = painted[i]
        return painted
