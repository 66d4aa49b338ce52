"""Gradio components with the app's own conversions, as subclasses: uploads that reach the app
undecoded, URLs refused in one line, frames sent inline.

Each is a template of its Gradio component (``is_template``), with that component's constructor:
the page and the API see an ``image`` or a ``video``, its configuration and API description as
they were. Gradio writes a stub of each component class it creates next to its module when there
is none (``components.pyi``); the stub is kept in the repository, so that importing this module
writes nothing.
"""

from __future__ import annotations

import base64
import io

import gradio as gr
from gradio.data_classes import FileData, ImageData
from PIL import Image

from nst.space.fetching import fetches_in_one_line

QUIET = {"api_visibility": "private", "show_progress": "hidden", "queue": False}
"""A UI helper's event: out of the API, no spinner, and off the queue (it answers at once)."""


def undecoded(payload: FileData | None) -> str | bytes | None:
    """An upload's path, or the bytes of a ``data:`` URL; None for none.

    Gradio's own ``preprocess`` opens the file with PIL first, so a text file or a decompression
    bomb would fail there with a generic error; this way all decoding, validation and messages
    happen in ``nst.base.images.load_image``.
    """
    if payload is None:
        return None
    if payload.url and payload.url.startswith("data:"):
        return base64.b64decode(payload.url.split(",", 1)[1])
    return payload.path


def inline_jpeg(value: Image.Image | None) -> ImageData | None:
    """A picture as a JPEG ``data:`` URL, rather than as a file in Gradio's cache: a stream's frames
    reach the browser without a file each on the server's disk."""
    if value is None:
        return None
    buffer = io.BytesIO()
    value.save(buffer, format="JPEG", quality=85)
    return ImageData(url="data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode())


@fetches_in_one_line
class ImageUpload(gr.Image):
    """An image input whose upload reaches the app undecoded (:func:`undecoded`)."""

    is_template = True

    def preprocess(self, payload: FileData | None) -> str | bytes | None:
        return undecoded(payload)


@fetches_in_one_line
class ClipUpload(gr.Video):
    """A video input whose URL, when one cannot be fetched, is refused in one line."""

    is_template = True


class FrameDisplay(gr.Image):
    """An image output sent inline (:func:`inline_jpeg`)."""

    is_template = True

    def postprocess(self, value: Image.Image | None) -> ImageData | None:  # type: ignore[override]
        return inline_jpeg(value)


def image_upload(label: str, **kwargs: object) -> ImageUpload:
    return ImageUpload(label=label, type="filepath", image_mode=None, **kwargs)


def clip_upload(label: str, **kwargs: object) -> ClipUpload:
    return ClipUpload(label=label, **kwargs)


def frame_display(label: str, **kwargs: object) -> FrameDisplay:
    return FrameDisplay(label=label, interactive=False, **kwargs)
