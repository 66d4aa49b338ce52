"""Picture measures shared by the tests and the benchmarks, and a drawn style to measure them on.

Each compares a result with the content or the style it came from, on RGB tensors in [0, 1]
([1, 3, H, W]); none needs a reference picture of ours.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from PIL import Image

LUMA = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)


def stripes(side: int = 160, period: float = 10.0) -> Image.Image:
    """Orange and purple stripes running at 45°: one colour pair, one orientation."""
    y, x = torch.arange(side).view(side, 1), torch.arange(side).view(1, side)
    v = (torch.sin(2 * math.pi * (x + y) / period) + 1) / 2
    orange, purple = (
        torch.tensor([0.95, 0.55, 0.1]).view(3, 1, 1),
        torch.tensor([0.35, 0.1, 0.45]).view(3, 1, 1),
    )
    rgb = orange * v + purple * (1 - v)
    return Image.fromarray((rgb.permute(1, 2, 0) * 255).round().byte().numpy())


def frechet(a: torch.Tensor, b: torch.Tensor) -> float:
    """The Fréchet distance between the Gaussians of two images' RGB pixels."""
    fa, fb = a.flatten(2)[0], b.flatten(2)[0]
    ca, cb = torch.cov(fa), torch.cov(fb)
    values, vectors = torch.linalg.eigh(ca)
    root = vectors @ torch.diag(values.clamp(min=0).sqrt()) @ vectors.T
    cross = torch.linalg.eigvalsh(root @ cb @ root).clamp(min=0).sqrt().sum()
    return ((fa.mean(1) - fb.mean(1)) ** 2).sum().item() + (ca.trace() + cb.trace() - 2 * cross).item()


def _gradients(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    y = (t * LUMA).sum(1)
    return y[:, 1:-1, 2:] - y[:, 1:-1, :-2], y[:, 2:, 1:-1] - y[:, :-2, 1:-1]


def layout(a: torch.Tensor, b: torch.Tensor) -> float:
    """Correlation of two images' edge strengths at 1/8 scale, where strokes average out."""
    ea, eb = (torch.hypot(*_gradients(F.avg_pool2d(t, 8))).flatten() for t in (a, b))
    return torch.corrcoef(torch.stack([ea, eb]))[0, 1].item()


def diagonal(t: torch.Tensor) -> float:
    """``Σ 2·gx·gy / Σ (gx² + gy²)``, the gradient energy's sin 2θ: 1 for stripes at 45°, about 0 for
    horizontal and vertical edges."""
    gx, gy = _gradients(t)
    return ((2 * gx * gy).sum() / (gx.square() + gy.square()).sum()).item()


def squares(t: torch.Tensor) -> float:
    """How much of a picture is flat, axis-aligned squares: about 1 for paintings and photos, 2 and more
    for a mosaic of blocks.

    A block's edges are exactly horizontal or vertical wherever it sits, so the energy of its
    steps lies on the axes of the image's 2-D spectrum, whatever lattice (or lattices: each scale
    of a run has its own) the blocks sit on; a single frequency would see one lattice only. The
    measure is the mean power within 3° of the axes over the mean power 6–20° off them, at
    periods of 2 to 8 pixels (0.12–0.5 cycles a pixel), of the Hann-windowed luminance. Strokes
    and edges at any angle spread their energy over the angles, so both sides are alike.
    """
    x = t.mean(dim=(0, 1))
    x = x - x.mean()
    h, w = x.shape
    window = torch.outer(torch.hann_window(h, periodic=False), torch.hann_window(w, periodic=False))
    power = torch.fft.fft2(x * window).abs().square()
    fy, fx = torch.meshgrid(torch.fft.fftfreq(h).abs(), torch.fft.fftfreq(w).abs(), indexing="ij")
    radius, angle = torch.hypot(fx, fy), torch.rad2deg(torch.atan2(fy, fx))
    off_axis = torch.minimum(angle, 90 - angle)
    band = (radius > 0.12) & (radius <= 0.5)
    return (
        power[band & (off_axis < 3)].mean() / power[band & (off_axis > 6) & (off_axis < 20)].mean()
    ).item()
