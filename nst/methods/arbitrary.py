"""Any style in one pass (Ghiasi et al. 2017): a style image becomes an embedding, which steers a network.

The style prediction network maps a style image (its centre square at 256²) to a
100-number embedding ``e(S)``; the style transformer network paints the content with the
conditional instance norms that ``e`` selects. The transformer is fully convolutional, so
it runs at the content's own resolution (no working size, no upscaling).

- Several styles blend by embedding: ``e = Σ_k b_k e(S_k)``, ``b`` summing to 1.
- Strength ``s`` interpolates from the content's own embedding, as in the paper:
  ``e_s = s·e + (1 − s)·e(C)``; 0 gives about the content back.
- Colour preservation keeps the content's chroma (:func:`~nst.base.color.transfer_luminance`).

The weights are the Apache-2.0 Magenta networks shipped in a package (:mod:`nst.base.weights`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch
from PIL import Image, ImageOps
from torch import nn

from nst.base.color import transfer_luminance
from nst.base.device import default_device
from nst.base.images import to_image, to_tensor
from nst.base.options import blend_weights, check, check_fraction
from nst.base.weights import WeightsError, package_weights
from nst.networks import ghiasi
from nst.networks.ghiasi import StylePredictor, StyleTransformer

STYLE_SIDE = 256
"""The style prediction network's input side, as trained."""


@functools.cache
def networks(device: torch.device | None = None) -> tuple[StylePredictor, StyleTransformer]:
    """The style prediction and style transformer networks, from the package, on ``device`` (cached)."""
    device = device or default_device()
    predictor, transformer = StylePredictor(), StyleTransformer()
    predictor.load_state_dict(package_weights("arbitrary_predict", ghiasi.predictor_state))
    transformer.load_state_dict(package_weights("arbitrary_transform", ghiasi.transformer_state))
    return (
        predictor.eval().requires_grad_(False).to(device, memory_format=torch.channels_last),
        transformer.eval().requires_grad_(False).to(device, memory_format=torch.channels_last),
    )


def unavailable() -> list[str]:
    """Why the method cannot run now, one line per source; empty when it can."""
    try:
        networks()
    except WeightsError as err:
        return [str(err)]
    return []


@torch.inference_mode()
def embedding(image: Image.Image, device: torch.device | None = None) -> torch.Tensor:
    """``e(image)``, [1, 100]: the style prediction network on the image's centre square at 256²."""
    predictor, _ = networks(device)
    square = ImageOps.fit(image, (STYLE_SIDE, STYLE_SIDE), Image.Resampling.LANCZOS)
    return predictor(to_tensor(square, next(predictor.parameters()).device, torch.channels_last))


class EmbeddedStyle(nn.Module):
    """The style transformer at a fixed embedding, mapping RGB [0, 255] to RGB [0, 255] like the
    other one-pass networks (for video)."""

    def __init__(self, transformer: StyleTransformer, embedding: torch.Tensor) -> None:
        super().__init__()
        self.transformer = transformer
        self.register_buffer("embedding", embedding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.transformer(x / 255, self.embedding) * 255


@torch.inference_mode()
def style_embedding(
    styles: Sequence[Image.Image],
    style_blend: Sequence[float] | None = None,
    strength: float = 1.0,
    content: Image.Image | None = None,
    device: torch.device | None = None,
) -> torch.Tensor:
    """``e = Σ_k b_k e(S_k)``, moved towards ``e(content)`` when ``strength`` < 1: ``s·e + (1 − s)·e(C)``."""
    shares = blend_weights(style_blend, len(styles))
    check_fraction("strength", strength)
    e = sum(b * embedding(s, device) for s, b in zip(styles, shares, strict=True))
    if strength < 1:
        check(content is not None, "strength below 1 needs the content, whose own embedding it moves towards")
        e = torch.lerp(embedding(content, device), e, strength)
    return e


def load_style(
    styles: Sequence[Image.Image],
    style_blend: Sequence[float] | None = None,
    strength: float = 1.0,
    content: Image.Image | None = None,
    device: torch.device | None = None,
) -> EmbeddedStyle:
    """The network painting in ``styles`` (see :func:`style_embedding`), in [0, 255]."""
    _, transformer = networks(device)
    return EmbeddedStyle(transformer, style_embedding(styles, style_blend, strength, content, device))


@torch.inference_mode()
def stylize(
    content: Image.Image,
    styles: Sequence[Image.Image],
    *,
    style_blend: Sequence[float] | None = None,
    strength: float = 1.0,
    preserve_color: bool = False,
    device: torch.device | None = None,
) -> Image.Image:
    """Paint ``content`` in the style of ``styles`` (blended by ``style_blend``), at the content's size."""
    _, transformer = networks(device)
    e = style_embedding(styles, style_blend, strength, content, device)
    x = to_tensor(content, next(transformer.parameters()).device, torch.channels_last)
    pastiche = to_image(transformer(x, e))
    return transfer_luminance(pastiche, content) if preserve_color else pastiche
