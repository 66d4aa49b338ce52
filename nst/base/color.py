"""Colour preservation (Gatys, Bethge, Hertzmann & Shechtman, 2017).

Two ways to keep the content's colours: transfer luminance only (the pastiche's
Y channel, the content's Cb and Cr), or match the style image's colour
statistics to the content's before style transfer.
"""

from __future__ import annotations

import torch
from PIL import Image


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
