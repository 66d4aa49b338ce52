"""Gradio components with the app's own conversions: uploads that reach it undecoded, URLs refused in one
line, frames sent inline."""

from __future__ import annotations

import base64
import io

import gradio as gr
from gradio.components import Component
from gradio.data_classes import FileData, ImageData
from gradio_client.utils import is_http_url_like
from PIL import Image

QUIET = {"api_visibility": "private", "show_progress": "hidden", "queue": False}
"""A UI helper's event: out of the API, no spinner, and off the queue (it answers at once)."""


def _fetch_in_one_line(component: Component) -> Component:
    """``component`` with the reason a URL given to it cannot be fetched (a private or loopback host,
    which Gradio refuses; a host that does not resolve; an error status) as a one-line ``gr.Error``,
    which reaches API and MCP callers, rather than Gradio's generic message."""
    fetch = component.async_move_resource_to_block_cache

    async def fetched(url_or_path: str | None) -> str | None:
        try:
            return await fetch(url_or_path)
        except Exception as err:  # safehttpx's ValueError, an HTTP status, httpx's network errors
            if not is_http_url_like(str(url_or_path)):
                raise
            reason = (str(err).splitlines() or [type(err).__name__])[0]
            if "failed validation" in reason:
                reason = "this app fetches only from public addresses, not private or loopback ones"
            raise gr.Error(f"Cannot fetch {url_or_path}: {reason}.", print_exception=False) from err

    component.async_move_resource_to_block_cache = fetched
    return component


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
    return _fetch_in_one_line(component)


def clip_upload(label: str, **kwargs: object) -> gr.Video:
    """A video input whose URL, when one cannot be fetched, is refused in one line."""
    return _fetch_in_one_line(gr.Video(label=label, **kwargs))


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
