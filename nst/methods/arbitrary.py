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

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from PIL import Image, ImageOps

from nst.base.alpha import split
from nst.base.device import default_device
from nst.base.health import Health
from nst.base.images import to_tensor
from nst.base.options import blend_weights, check, check_regions
from nst.base.weights import WeightsError
from nst.methods import engine
from nst.methods.engine import EmbeddingStyle, OnePassOptions, OnePassStyle
from nst.networks import ghiasi
from nst.networks.ghiasi import StylePredictor, StyleTransformer

STYLE_SIDE = 256
"""The style prediction network's input side, as trained."""


@dataclass(frozen=True)
class ArbitraryOptions(OnePassOptions):
    """An any-style run (:class:`~nst.methods.engine.OnePassOptions`): ``style_blend`` blends
    the styles' embeddings, and strength moves the embedding from the content's own to the
    style's, ``s·e + (1 − s)·e(C)``, not the pixels."""


def networks(device: torch.device | None = None) -> tuple[StylePredictor, StyleTransformer]:
    """The style prediction and style transformer networks, from the package, on ``device`` (cached)."""
    device = device or default_device()
    return ghiasi.pretrained_predictor(device), ghiasi.pretrained_transformer(device)


def health(device: torch.device | None = None) -> Health:
    """Whether the method can run now: its networks load on ``device``, or why not."""
    try:
        networks(device)
    except WeightsError as err:
        return Health(False, str(err))
    return Health(True)


@torch.inference_mode()
def embedding(image: Image.Image, device: torch.device | None = None) -> torch.Tensor:
    """``e(image)``, [1, 100]: the style prediction network on the image's centre square at 256²
    (a transparent picture's colours as :func:`~nst.base.alpha.split` fills them)."""
    predictor, _ = networks(device)
    square = ImageOps.fit(split(image)[0], (STYLE_SIDE, STYLE_SIDE), Image.Resampling.LANCZOS)
    return predictor(to_tensor(square, next(predictor.parameters()).device, torch.channels_last))


@torch.inference_mode()
def load_style(
    styles: Sequence[Image.Image],
    options: ArbitraryOptions | None = None,
    content: Image.Image | None = None,
    device: torch.device | None = None,
    masks: Sequence[Image.Image] | None = None,
) -> OnePassStyle:
    """The transformer at ``e = Σ_k b_k e(S_k)``, moved towards ``e(content)`` when strength < 1:
    ``s·e + (1 − s)·e(C)``; ``b`` from ``options.style_blend`` (equal by default).

    ``masks``, one per style image, place style k where mask k is white instead, the styles
    meeting inside the network (:func:`~nst.methods.engine.in_regions`); unpainted, the photo stays.
    """
    o = options or ArbitraryOptions()
    if masks is not None:
        check_regions(masks, len(styles), o.style_blend)
        return engine.in_regions([load_style([s], o, content, device) for s in styles], masks)
    shares = blend_weights(o.style_blend, len(styles))
    e = sum(b * embedding(s, device) for s, b in zip(styles, shares, strict=True))
    if o.strength < 1:
        check(content is not None, "strength below 1 needs the content, whose own embedding it moves towards")
        e = torch.lerp(embedding(content, device), e, o.strength)
    return EmbeddingStyle(networks(device)[1], e)


def stylize(
    content: Image.Image,
    styles: Sequence[Image.Image] | OnePassStyle,
    options: ArbitraryOptions | None = None,
    *,
    masks: Sequence[Image.Image] | None = None,
    **changes: object,
) -> Image.Image:
    """Paint ``content`` in the style of ``styles`` at the content's size (or ``max_side``).

    ``options`` (default :class:`ArbitraryOptions`) with ``changes`` to any of its fields. A
    style object (:func:`load_style`) is used as it is: it carries its own strength and blend.
    ``masks``: one per style image, as in :func:`load_style`.
    """
    o = dataclasses.replace(options or ArbitraryOptions(), **changes)
    if isinstance(styles, OnePassStyle):
        engine.check_prebuilt(o)
        check(masks is None, "masks need the style images, one per mask")
    else:
        styles = load_style(styles, o, content, masks=masks)
    return engine.stylize(content, styles, o)
