"""Uploads in: decoded and validated by ``nst.base.images``, capped in size, and region masks.

Every problem is a ``gr.Error`` of one line that the visitor (or the API caller) can act on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
from PIL import Image, ImageOps

from nst.base.images import ImageError, load_image, load_mask
from nst.base.weights import WeightsError
from nst.space.results import CACHE_SECONDS, Results

Upload = str | bytes | None
"""What an :func:`~nst.space.components.image_upload` gives a handler: a path, bytes, or nothing."""


@contextmanager
def user_errors() -> Iterator[None]:
    """Library errors (bad image, bad option, missing weights) reach the user as ``gr.Error``."""
    try:
        yield
    except (ImageError, ValueError, WeightsError) as err:
        raise gr.Error(str(err), print_exception=False) from err  # the user's to fix, not a server fault


@dataclass(frozen=True)
class Uploads:
    """Images as the app takes them: up to ``cap_mb`` (``NST_MAX_UPLOAD_MB``; the server itself takes
    files up to the video cap)."""

    cap_mb: int

    def image(self, upload: Upload, what: str, max_side: int | None, *, alpha: bool = False) -> Image.Image:
        """The decoded upload, shrunk to ``max_side`` (RGBA with ``alpha`` where it has transparency);
        refused when missing, gone, too large or no image."""
        if upload is None:
            raise gr.Error(f"Please add a {what} image.")
        return load_image(self.checked(upload, what), max_side=max_side, alpha=alpha)

    def checked(self, upload: str | bytes, what: str) -> str | bytes:
        """``upload``, unless it is over the cap, or gone: a page left open past the cache's cleaning
        (:data:`~nst.space.results.CACHE_SECONDS`) sends the path of an upload the server no longer has."""
        try:
            size = len(upload) if isinstance(upload, bytes) else Path(upload).stat().st_size
        except FileNotFoundError as err:
            raise gr.Error(
                f"The {what} image is no longer on the server (uploads are removed after "
                f"{CACHE_SECONDS // 60} minutes); please add it again.",
                print_exception=False,
            ) from err
        if size > self.cap_mb * 2**20:
            raise gr.Error(
                f"The {what} image is {size / 2**20:.0f} MB; this app takes images up to {self.cap_mb} MB "
                "(NST_MAX_UPLOAD_MB)."
            )
        return upload

    def regions(self, mask: Upload, second_mask: Upload, count: int) -> list[Image.Image] | None:
        """One mask per style for ``count`` styles (1 or 2), or None when none is painted; with two
        styles and one mask, the other style takes the rest."""
        given = [None if m is None else load_mask(self.checked(m, "mask")) for m in (mask, second_mask)]
        given = given[:count]
        painted = [m for m in given if m is not None]
        if not painted:
            return None
        return [ImageOps.invert(painted[0]) if m is None else m for m in given]


def painted_layers(value: dict | None, results: Results) -> tuple[str | None, str | None]:
    """The regions editor's two layers as mask files (their alpha: opaque where painted), None where blank."""
    layers = list((value or {}).get("layers") or [])
    masks: list[str | None] = []
    for layer in [*layers, None, None][:2]:
        alpha = None if layer is None else load_mask(layer)
        if alpha is None or alpha.getextrema()[1] == 0:
            masks.append(None)
            continue
        path = results.fresh(".png")
        alpha.save(path)
        masks.append(str(path))
    return masks[0], masks[1]
