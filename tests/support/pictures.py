"""Pictures made here (photos, paintings, a drawn landscape) and the picture measures.

No picture of a third party: each is drawn or seeded here. Each measure compares a result with
the content or the style it came from, on RGB tensors in [0, 1]
([1, 3, H, W]); none needs a reference picture of ours.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

LUMA = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)


def diagonal_stripes(side: int = 160, period: float = 10.0) -> Image.Image:
    """Orange and purple stripes running at 45°: one colour pair, one orientation."""
    y, x = torch.arange(side).view(side, 1), torch.arange(side).view(1, side)
    v = (torch.sin(2 * math.pi * (x + y) / period) + 1) / 2
    orange, purple = (
        torch.tensor([0.95, 0.55, 0.1]).view(3, 1, 1),
        torch.tensor([0.35, 0.1, 0.45]).view(3, 1, 1),
    )
    rgb = orange * v + purple * (1 - v)
    return Image.fromarray((rgb.permute(1, 2, 0) * 255).round().byte().numpy())


def synthetic(width: int, height: int, seed: int = 0) -> Image.Image:
    """A smooth colourful photo with some texture: gradients plus seeded noise."""
    g = torch.Generator().manual_seed(seed)
    y = torch.linspace(0, 1, height).view(height, 1).expand(height, width)
    x = torch.linspace(0, 1, width).view(1, width).expand(height, width)
    rgb = torch.stack([x, y, (torch.sin(6.28 * (x + y)) + 1) / 2]) * 200
    rgb = rgb + 55 * torch.rand(3, height, width, generator=g)
    array = rgb.clamp(0, 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return Image.fromarray(array, "RGB")


def stripes(colour: tuple[int, int, int], period: int, side: int = 64) -> Image.Image:
    """A painting of horizontal stripes, ``colour`` on white, ``period`` px each."""
    rows = (torch.arange(side) // period % 2).bool()
    rgb = torch.full((side, side, 3), 240, dtype=torch.uint8)
    rgb[rows] = torch.tensor(colour, dtype=torch.uint8)
    return Image.fromarray(rgb.numpy(), "RGB")


def drawn_scene(width: int = 384, height: int = 256) -> Image.Image:
    """A small landscape drawn here (sky, hills, sun, a house): a content picture that is ours to show."""
    scene = Image.new("RGB", (384, 256), (120, 170, 230))
    draw = ImageDraw.Draw(scene)
    draw.rectangle((0, 170, 384, 256), fill=(70, 140, 60))
    draw.ellipse((270, 30, 340, 100), fill=(250, 220, 90))
    draw.polygon([(40, 170), (130, 60), (220, 170)], fill=(110, 100, 95))
    draw.polygon([(150, 170), (250, 90), (350, 170)], fill=(90, 110, 120))
    draw.rectangle((240, 130, 300, 190), fill=(190, 60, 50))
    draw.polygon([(232, 132), (270, 100), (308, 132)], fill=(120, 40, 40))
    for x in range(0, 384, 24):
        draw.line((x, 200, x + 12, 256), fill=(50, 110, 45), width=3)
    return scene.resize((width, height), Image.Resampling.LANCZOS)


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
