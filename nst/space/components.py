"""Gradio components with the app's own conversions: uploads that reach it undecoded, frames sent inline."""

from __future__ import annotations

import base64
import io

import gradio as gr
from gradio.data_classes import FileData, ImageData
from PIL import Image


def _undecoded(payload: FileData | None) -> str | bytes | None:
    if payload is None:
        return None
    if payload.url and payload.url.startswith("data:"):
        return base64.b64decode(payload.url.split(",", 1)[1])
    return payload.path


def image_upload(label: str, **kwargs: object) -> gr.Image:
    """An image input whose upload reaches the app undecoded (a path, or bytes).

    Gradio's own ``preprocess`` opens the file with PIL first, so a text file or a
    decompression bomb would fail there with a generic error; this way all
    decoding, validation and messages happen in ``nst.base.images.load_image``.
    """
    component = gr.Image(label=label, type="filepath", image_mode=None, **kwargs)
    component.preprocess = _undecoded
    return component


def _inline_jpeg(value: Image.Image | None) -> ImageData | None:
    if value is None:
        return None
    buffer = io.BytesIO()
    value.save(buffer, format="JPEG", quality=85)
    return ImageData(url="data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode())


def frame_display(label: str, **kwargs: object) -> gr.Image:
    """An image output sent inline, as a JPEG ``data:`` URL, rather than as a file in Gradio's cache:
    a stream's frames reach the browser without a file each on the server's disk."""
    component = gr.Image(label=label, interactive=False, **kwargs)
    component.postprocess = _inline_jpeg
    return component
