"""What the loss network reads: the styles' Gram targets (cached in :data:`style_cache`), the loss at
one scale, and the jitter that reads the pastiche through a random shift (:class:`Jittered`).
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from nst.base.color import match_color
from nst.base.images import region_weights, resize_long_side, to_tensor
from nst.base.losses import (
    LayerApply,
    LossLayers,
    PerceptualLoss,
    Scale,
    TVLoss,
    content_terms,
    gram_matrix,
    guided_style_terms,
    style_terms,
)
from nst.methods.gatys.options import DEFAULTS, LAYERS, GatysOptions
from nst.networks.vgg import weights_location


@dataclass
class GramCache:
    """Style targets by (style image, scale, options), least recently used dropped first."""

    maxsize: int = 8
    hits: int = 0
    misses: int = 0
    _entries: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, key: tuple, compute: Callable[[], dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        with self._lock:
            if key in self._entries:
                self.hits += 1
                self._entries.move_to_end(key)
                return self._entries[key]
            self.misses += 1
        value = compute()
        with self._lock:
            self._entries[key] = value
            if len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return value


style_cache = GramCache()


def _digest(img: Image.Image) -> str:
    return hashlib.blake2b(img.tobytes(), digest_size=16).hexdigest() + f"{img.size}{img.mode}"


def _style_targets(
    net: nn.Module,
    layers: LossLayers,
    styles: list[Image.Image],
    blend: list[float],
    long_side: int,
    content: torch.Tensor,
    preserve_color: str,
) -> dict[str, torch.Tensor]:
    """``Σ_k b_k G_l(S_k)`` for each style layer, the styles sized to ``long_side``."""
    targets: dict[str, torch.Tensor] = {}
    for style, b in zip(styles, blend, strict=True):
        s = to_tensor(resize_long_side(style, long_side), content.device)
        if preserve_color != "none":
            s = match_color(s, content)
        with torch.no_grad():
            features = net(s)
        for layer in layers.style:
            targets[layer] = targets.get(layer, 0) + b * gram_matrix(features[layer])
    return targets


def _loss(
    net: nn.Module,
    content: torch.Tensor,
    grams: dict[str, torch.Tensor] | list[dict[str, torch.Tensor]],
    options: GatysOptions,
    regions: torch.Tensor | None = None,
) -> PerceptualLoss:
    """α content + β style + γ TV. ``grams`` is the blended target ``{layer: G_l}``; with
    ``regions`` (the masks' weights at the content's size, [K, 1, H, W]), one such per style,
    each style guided over its region, the weights area-pooled to each style layer's size."""
    layers = LAYERS[options.loss_network]
    with torch.no_grad():
        features = net(content)
    content_target = features[layers.content]
    if regions is not None:
        pooled = {layer: F.adaptive_avg_pool2d(regions, features[layer].shape[-2:]) for layer in layers.style}
    groups = {
        "content": content_terms({layers.content: content_target}, options.content_weight),
        "style": style_terms(grams, layers.style_weights, options.style_weight)
        if regions is None
        else guided_style_terms(grams, pooled, layers.style_weights, options.style_weight),
        "tv": [Scale(LayerApply(TVLoss(), None), options.tv_weight)] if options.tv_weight else [],
    }
    return PerceptualLoss(net, groups)


def _targets(
    net: nn.Module,
    content: torch.Tensor,
    side: int,
    style_imgs: list[Image.Image],
    blend: list[float],
    masks: list[Image.Image] | None,
    keys: tuple[tuple[str, ...], str | None],
    o: GatysOptions,
) -> nn.Module:
    """The loss at one scale (:func:`_loss`): ``content``'s targets and the styles' Gram targets.

    The style targets are the blend's ``Σ_k b_k G_l(S_k)``, or with masks each style's own
    ``G_l(S_k)`` (cached as that style's alone), the styles' long side ``style_scale · side``;
    :data:`style_cache` keeps them by ``keys`` (the styles' digests, and the content's when
    colours are matched to it), the settings and where VGG-19's weights were loaded from. On a
    network with a jitter (:data:`DEFAULTS`) the loss is :class:`Jittered`.
    """
    digests, colour_key = keys
    runs = (
        [(slice(None), blend)] if masks is None else [(slice(k, k + 1), [1.0]) for k in range(len(digests))]
    )
    device, layers = next(net.parameters()).device, LAYERS[o.loss_network]
    style_side = max(1, round(side * o.style_scale))
    weights = weights_location() if o.loss_network == "vgg19" else ()
    setting = (style_side, o.preserve_color, o.loss_network, weights, o.pooling, str(device))
    grams = [
        style_cache.get(
            ((digests[which], colour_key), tuple(b), *setting),
            functools.partial(
                _style_targets, net, layers, style_imgs[which], b, style_side, content, o.preserve_color
            ),
        )
        for which, b in runs
    ]
    targets = grams[0] if masks is None else grams
    size = (content.shape[-1], content.shape[-2])
    regions = None if masks is None else region_weights(masks, size, device)
    stride = DEFAULTS[o.loss_network].jitter
    if not stride:
        return _loss(net, content, targets, o, regions)

    def shifted(pad: tuple[int, int, int, int]) -> PerceptualLoss:
        moved = None if regions is None else F.pad(regions, pad, mode="replicate")
        return _loss(net, F.pad(content, pad, mode="replicate"), targets, o, moved)

    return Jittered(shifted, stride, torch.Generator().manual_seed(o.seed))


class Jittered(nn.Module):
    """The loss read through a random whole-pixel shift of the pastiche, new at each call.

    With ``(dy, dx)`` uniform in ``[0, stride)²``, the pastiche and the photo are edge-padded by
    ``dx`` on the left, ``stride − dx`` on the right (``dy``, ``stride − dy`` on the top and bottom),
    so every pixel falls on each place of the network's lattice in turn. ``build(pad)`` makes the
    loss for one padding (the photo's targets there, one forward pass) at each call and keeps
    nothing: with ``stride²`` = 256 paddings and tens of steps a scale, a padding seldom comes
    again, and kept targets would grow with the steps (about 33 of them at 2048 px).
    """

    def __init__(
        self,
        build: Callable[[tuple[int, int, int, int]], PerceptualLoss],
        stride: int,
        generator: torch.Generator,
    ) -> None:
        super().__init__()
        self.build, self.stride, self.generator = build, stride, generator

    def forward(self, pastiche: torch.Tensor) -> dict[str, torch.Tensor]:
        dy, dx = torch.randint(self.stride, (2,), generator=self.generator).tolist()
        pad = (dx, self.stride - dx, dy, self.stride - dy)
        return self.build(pad)(F.pad(pastiche, pad, mode="replicate"))
