"""MobileNetV2 features as a loss network: the any-style method's style prediction network, read inside.

The style prediction network of Ghiasi et al. (:class:`~nst.networks.ghiasi.StylePredictor`)
is an ImageNet-trained MobileNetV2 (then fine-tuned to predict style embeddings) that ships
in a package, so it is there on an offline machine where VGG-19 is not. Its activations name

- ``conv``: the first 3×3/32 stride-2 convolution, after its ReLU6 (½ resolution);
- ``block0`` … ``block16``: the inverted residual blocks' outputs (linear projections plus
  skip), at ½ (block 0), ¼ (1–2), ⅛ (3–5), 1/16 (6–12) and 1/32 (13–16) resolution.

It takes RGB in [0, 1] as it is, without ImageNet normalisation, like the style predictor.

**Borders.** TensorFlow's "SAME" padding pads a stride-2 convolution of an even side at the
bottom/right only, so the top row and left column of the image reach fewer outputs than the
rest: an optimised pastiche grows a one-pixel line there. The image is therefore edge-padded
by :data:`PAD` pixels, and each layer's output cropped by the whole pixels of its own
resolution that the padding makes (``PAD // stride``), so the Gram matrices see no frame.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from nst.base.device import default_device
from nst.networks.ghiasi import pretrained_predictor

LAYER_NAMES: tuple[str, ...] = ("conv", *(f"block{i}" for i in range(17)))
"""Every layer :class:`MobileNetFeatures` can return, shallow to deep."""
STRIDES = dict(zip(LAYER_NAMES, (2, 2, 4, 4, 8, 8, 8, *[16] * 7, *[32] * 4), strict=True))
"""Each layer's stride: the image's side over the layer's."""
PAD = 8
"""Edge padding of the image, in pixels (see the module's notes on borders)."""


class MobileNetFeatures(nn.Module):
    """Activations of the packaged MobileNetV2 at named layers, e.g. ``{"block9": tensor, ...}``.

    The network is cut after the deepest requested layer; the weights are shared with
    the any-style method (one frozen copy per device).
    """

    def __init__(self, layers: Iterable[str], device: torch.device | None = None) -> None:
        super().__init__()
        self.wanted = frozenset(layers)
        unknown = self.wanted - set(LAYER_NAMES)
        if unknown:
            raise ValueError(f"Unknown MobileNetV2 layers {sorted(unknown)}; known: {LAYER_NAMES}")
        predictor = pretrained_predictor(device or default_device())
        depth = max(LAYER_NAMES.index(name) for name in self.wanted)
        self.conv = predictor.conv
        self.blocks = predictor.blocks[:depth]

    @property
    def device(self) -> torch.device:
        return self.conv.weight.device

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """``image``: [B, 3, H, W] RGB in [0, 1] → ``{layer: [B, C, H_l, W_l]}`` (channels-last)."""
        x = F.pad(image.to(self.device), (PAD,) * 4, mode="replicate")
        x = F.relu6(self.conv(x.contiguous(memory_format=torch.channels_last)))
        out = {"conv": x}
        for name, block in zip(LAYER_NAMES[1:], self.blocks, strict=False):
            x = out[name] = block(x)
        return {name: _crop(out[name], PAD // STRIDES[name]) for name in self.wanted}


def _crop(x: torch.Tensor, margin: int) -> torch.Tensor:
    return x[..., margin : x.shape[-2] - margin, margin : x.shape[-1] - margin] if margin else x
