"""A clip stylised into an MP4 (:func:`stylize_video`): read, painted in batches and written."""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from nst.base.recipes import Recipe
from nst.methods import arbitrary, engine, fast
from nst.methods.engine import OnePassStyle
from nst.methods.video.clip import (
    RECIPE_TAG,
    ClipInfo,
    VideoError,
    _even_size,
    _info,
    _open,
    _Output,
    first_frame,
)
from nst.methods.video.options import VideoOptions, VideoProgress
from nst.methods.video.painter import Painter

if TYPE_CHECKING:  # PyAV loads on first use: importing this module loads nothing
    import av


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
