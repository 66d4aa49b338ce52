"""The tabs' examples: the shipped photos and paintings (``nst/pictures/``, public domain or CC0)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PIL import Image

from nst.base.images import load_image
from nst.base.pictures import PAINTINGS, PHOTOS, picture

FAST_STYLES = ("builtin_19", "builtin_13", "builtin_25", "builtin_16")
"""The built-in style each shipped photo shows in the Fast tab's examples, photo by photo (chosen by
looking: each keeps its photo recognisable)."""


def painting_pairs() -> list[list[str]]:
    """(content photo, style painting) paths for the Any style and Gatys tabs (``page.examples``):
    every shipped photo, with the paintings in turn."""
    return [
        [str(picture(photo)), str(picture(PAINTINGS[i % len(PAINTINGS)]))] for i, photo in enumerate(PHOTOS)
    ]


def catalogue_pairs(ready: Iterable[str]) -> list[list[str]]:
    """(content photo path, built-in style name) for the Fast tab: each shipped photo with its style of
    :data:`FAST_STYLES`, those whose style is among ``ready``."""
    names = set(ready)
    return [
        [str(picture(photo)), style]
        for photo, style in zip(PHOTOS, FAST_STYLES, strict=True)
        if style in names
    ]


VIDEO_EXAMPLE = ("chelsea", "builtin_19")
"""The Video tab's example: a slow zoom into this shipped photo, in this built-in style."""


def example_clip(
    folder: Path, seconds: float = 3.0, fps: int = 12, size: tuple[int, int] = (360, 240)
) -> Path:
    """A ``seconds``-long H.264 clip of ``size`` pixels, zooming slowly (to 1.3×) into the shipped photo
    of :data:`VIDEO_EXAMPLE`, written to ``folder``: the Video tab's example, about 100 kB."""
    import av

    photo = load_image(picture(VIDEO_EXAMPLE[0]))
    (w, h), count = photo.size, round(seconds * fps)
    path = folder / f"{VIDEO_EXAMPLE[0]}_zoom.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        for k in range(count):
            zoom = 1 + 0.3 * k / max(1, count - 1)
            box = (
                w / 2 * (1 - 1 / zoom),
                h / 2 * (1 - 1 / zoom),
                w / 2 * (1 + 1 / zoom),
                h / 2 * (1 + 1 / zoom),
            )
            frame = av.VideoFrame.from_image(photo.resize(size, Image.Resampling.BILINEAR, box=box))
            frame.pts = k
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path
