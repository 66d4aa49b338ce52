"""Colour preservation (Gatys, Bethge, Hertzmann & Shechtman, 2017).

Two ways to keep the content's colours: transfer luminance only (the pastiche's
Y channel, the content's Cb and Cr), or match colour statistics (mean and covariance) to the
content's: the style image's before an optimisation, a one-pass network's result after it.
"""

from __future__ import annotations

from typing import Literal, get_args

import torch
from PIL import Image

from nst.base.images import to_image, to_tensor

PreserveColor = Literal["none", "luminance", "histogram"]
"""The style's own colours, the content's chroma under the pastiche's luminance, or the content's
colour statistics."""
PRESERVE_COLOR = get_args(PreserveColor)


def colour_choice(choice: bool | str | None, flag: bool = False) -> str:
    """A :data:`PreserveColor` from what an API caller or an older recipe may give: ``choice`` when
    it is a choice other than ``none``; else ``luminance`` (the one choice there was) when
    ``choice`` is True (an older recipe) or ``flag`` (the API's older yes/no), else ``none``."""
    if isinstance(choice, str) and choice not in ("", "none"):
        return choice
    return "luminance" if choice is True or flag else "none"


def keep_colours(pastiche: Image.Image, content: Image.Image, how: str) -> Image.Image:
    """``pastiche`` with ``content``'s colours kept ``how``: ``luminance``
    (:func:`transfer_luminance`), ``histogram`` (its pixels mapped to the content's colour mean and
    covariance, :func:`match_color`) or ``none`` (as it is)."""
    if how == "none":
        return pastiche
    if how == "luminance":
        return transfer_luminance(pastiche, content)
    if content.size != pastiche.size:
        content = content.resize(pastiche.size, Image.Resampling.BICUBIC)
    return to_image(match_color(to_tensor(pastiche), to_tensor(content)))


def transfer_luminance(pastiche: Image.Image, content: Image.Image) -> Image.Image:
    """The pastiche's luminance Y with the content's chroma (Cb, Cr), in ITU-R BT.601 YCbCr."""
    if content.size != pastiche.size:
        content = content.resize(pastiche.size, Image.Resampling.BICUBIC)
    y, _, _ = pastiche.convert("YCbCr").split()
    _, cb, cr = content.convert("YCbCr").split()
    return Image.merge("YCbCr", (y, cb, cr)).convert("RGB")


def luminance(img: Image.Image) -> Image.Image:
    """The image's luminance as a three-channel grey image."""
    return img.convert("L").convert("RGB")


def _sqrtm(cov: torch.Tensor, power: float) -> torch.Tensor:
    values, vectors = torch.linalg.eigh(cov)
    return vectors @ torch.diag(values.clamp_min(1e-8).pow(power)) @ vectors.T


def match_color(style: torch.Tensor, content: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Map the style's pixels affinely so their mean and covariance equal the content's.

    ``x' = Σ_C^{½} Σ_S^{−½} (x − μ_S) + μ_C`` for each RGB pixel ``x`` ([1, 3, H, W] in
    [0, 1]), then clamped to [0, 1]. ``eps·I`` regularises flat or grey images.
    """
    s = style.reshape(3, -1).to("cpu", torch.float64)
    c = content.reshape(3, -1).to("cpu", torch.float64)
    mu_s, mu_c = s.mean(1, keepdim=True), c.mean(1, keepdim=True)
    eye = eps * torch.eye(3, dtype=s.dtype)
    cov_s = torch.cov(s, correction=0) + eye
    cov_c = torch.cov(c, correction=0) + eye
    transform = _sqrtm(cov_c, 0.5) @ _sqrtm(cov_s, -0.5)
    out = transform @ (s - mu_s) + mu_c
    return out.to(style.device, style.dtype).reshape(style.shape).clamp_(0, 1)
