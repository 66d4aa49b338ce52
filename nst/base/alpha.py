"""Transparency: a picture's alpha channel set apart while its colours are painted, then put back.

A sticker or a cut-out keeps its shape: :func:`split` gives the colours the methods paint and the
alpha channel, :func:`restore` puts that alpha on the painted picture. Only the visible part should
take the style, so the colours under transparent pixels (often black, or whatever the editor left)
are replaced first by the visible colours around them (:func:`fill_transparent`): otherwise the
networks' receptive fields carry them into the edges as a dark halo.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from nst.base.images import to_image, to_tensor


@torch.no_grad()
def fill_transparent(colours: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """[B, 3, H, W] colours under [B, 1, H, W] alpha in [0, 1] → each pixel ``α·c + (1 − α)·f``.

    ``f`` is the alpha-weighted mean of the visible colours nearby (push–pull): the pyramid of
    ``(α·c, α)`` halved by 2×2 means down to one pixel, then, from the coarsest level up, each level's
    mean ``Σα·c / Σα`` blended with the coarser level's by its coverage ``Σα``. A transparent pixel takes
    the colours of the nearest visible ones; an opaque one keeps its own exactly.
    """
    levels = [(colours * alpha, alpha)]
    while max(levels[-1][1].shape[-2:]) > 1:
        weighted, coverage = levels[-1]
        levels.append((F.avg_pool2d(weighted, 2, ceil_mode=True), F.avg_pool2d(coverage, 2, ceil_mode=True)))
    weighted, coverage = levels.pop()
    filled = weighted / coverage.clamp_min(1e-8)
    for weighted, coverage in reversed(levels):  # coverage · mean = weighted
        coarse = F.interpolate(filled, size=weighted.shape[-2:], mode="bilinear", align_corners=False)
        filled = weighted + (1 - coverage) * coarse
    return filled


def split(img: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """An RGBA picture → its colours (RGB, transparent pixels filled by :func:`fill_transparent`) and
    its alpha channel (``L``); any other picture comes back as it is, with None."""
    if img.mode != "RGBA":
        return img, None
    alpha = img.getchannel("A")
    a = torch.from_numpy(np.asarray(alpha, dtype=np.float32) / 255)[None, None]
    return to_image(fill_transparent(to_tensor(img.convert("RGB")), a)), alpha


def restore(picture: Image.Image, alpha: Image.Image | None) -> Image.Image:
    """``picture`` with ``alpha`` (None: as it is) as its alpha channel, stretched to its size."""
    if alpha is None:
        return picture
    if alpha.size != picture.size:
        alpha = alpha.resize(picture.size, Image.Resampling.LANCZOS)
    painted = picture.convert("RGB")
    painted.putalpha(alpha)
    return painted
