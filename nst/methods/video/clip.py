"""A clip through PyAV: its header (:func:`probe`), its first frame and recipe, and the MP4 being written
(:class:`_Output`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from nst.base.images import fit_long_side
from nst.base.recipes import Recipe, RecipeError
from nst.base.settings import current

if TYPE_CHECKING:  # PyAV loads on first use: importing this module loads nothing
    import av

MP4_AUDIO = ("aac", "mp3", "opus", "alac", "flac", "ac3")
"""Audio codecs copied into the MP4 output as they are; others are re-encoded as AAC."""


class VideoError(ValueError):
    """A clip that cannot be read or written; the message says why in one line."""


@dataclass(frozen=True)
class ClipInfo:
    """What a clip holds, read from its header."""

    width: int
    height: int
    fps: Fraction
    seconds: float
    frames: int
    audio: str | None


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
