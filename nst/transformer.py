"""Johnson et al. (2016)'s image transformation network, in both public layouts.

conv 9×9/32 → conv 3×3/64 s2 → conv 3×3/128 s2 → 5 residual blocks at 128 →
two ×2 upsamplings to 64 and 32 → conv 9×9/3, with reflection padding, affine
instance norm and ReLU. Input and output are RGB in [0, 255].

Module names follow the ``maze/FastStyleTransfer`` checkpoints (``ConvBlock``,
``ResidualBlock``, ``DeconvBlock``), which load as they are. Its upsamplings
are transposed convolutions (``upsample="deconv"``); pytorch/examples
upsamples by nearest neighbour then convolves (``upsample="nearest"``), and
:func:`from_examples_layout` renames its keys onto these.
"""

from __future__ import annotations

import re

import torch
import torch.nn.functional as F
from torch import nn


class InstanceNorm(nn.InstanceNorm2d):
    """Affine instance norm ``(x − μ_c) / √(σ²_c + ε) · γ_c + β_c`` over each image's H×W.

    When ``frozen`` holds per-channel ``(μ, σ²)``, those replace the image's own
    statistics, so tiles of one large image are normalised alike. For a single
    image, instance norm is batch norm's training-mode normalisation, which
    (unlike ``instance_norm``) runs on channels-last tensors without copying them.
    """

    def __init__(self, channels: int) -> None:
        super().__init__(channels, affine=True)
        self.frozen: tuple[torch.Tensor, torch.Tensor] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.frozen is not None:
            mean, var = self.frozen
            return F.batch_norm(x, mean, var, self.weight, self.bias, False, 0.0, self.eps)
        if x.shape[0] == 1:
            return F.batch_norm(x, None, None, self.weight, self.bias, True, 0.0, self.eps)
        return super().forward(x)


class ConvLayer(nn.Module):
    """Reflection padding, a convolution and (optionally) instance norm."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, norm: bool = True) -> None:
        super().__init__()
        self.pad = kernel // 2
        self.conv_layer = nn.Conv2d(cin, cout, kernel, stride)
        self.norm_layer = InstanceNorm(cout) if norm else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_layer(F.pad(x, [self.pad] * 4, mode="reflect"))
        return x if self.norm_layer is None else self.norm_layer(x)


class ResidualLayer(nn.Module):
    """``x + IN(conv(ReLU(IN(conv(x)))))``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3)
        self.conv2 = ConvLayer(channels, channels, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


class DeconvLayer(nn.Module):
    """×2 upsampling, 3×3: a transposed convolution, then instance norm."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv_transpose = nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=1)
        self.norm_layer = InstanceNorm(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm_layer(self.conv_transpose(x))


class UpsampleConvLayer(ConvLayer):
    """×2 upsampling, 3×3: nearest-neighbour upsampling, then a padded convolution and instance norm."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(cin, cout, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.interpolate(x, scale_factor=2, mode="nearest"))


UPSAMPLES = {"deconv": DeconvLayer, "nearest": UpsampleConvLayer}


class TransformerNet(nn.Module):
    """The feed-forward stylisation network; any input size gives the same output size."""

    def __init__(self, upsample: str = "nearest") -> None:
        super().__init__()
        if upsample not in UPSAMPLES:
            raise ValueError(f"upsample must be one of {sorted(UPSAMPLES)}, not {upsample!r}")
        self.upsample = upsample
        up = UPSAMPLES[upsample]
        relu = nn.ReLU(inplace=True)
        self.ConvBlock = nn.Sequential(
            ConvLayer(3, 32, 9), relu, ConvLayer(32, 64, 3, 2), relu, ConvLayer(64, 128, 3, 2), relu
        )
        self.ResidualBlock = nn.Sequential(*(ResidualLayer(128) for _ in range(5)))
        self.DeconvBlock = nn.Sequential(up(128, 64), relu, up(64, 32), relu, ConvLayer(32, 3, 9, norm=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, 3, H, W] RGB in [0, 255] → the same shape, clamped to [0, 255] in eval mode.

        Sides are edge-padded to a multiple of 4 (and at least 8) and cropped back.
        Training leaves the output unclamped so that every pixel has a gradient.
        """
        h, w = x.shape[-2:]
        pad_h, pad_w = max(8, -(-h // 4) * 4) - h, max(8, -(-w // 4) * 4) - w
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        y = self.DeconvBlock(self.ResidualBlock(self.ConvBlock(x)))
        y = y[..., :h, :w]
        return y if self.training else y.clamp(0, 255)


_EXAMPLES_RENAMES = [
    (r"^conv(\d)\.conv2d\.", lambda m: f"ConvBlock.{2 * (int(m[1]) - 1)}.conv_layer."),
    (r"^in([123])\.", lambda m: f"ConvBlock.{2 * (int(m[1]) - 1)}.norm_layer."),
    (r"^res(\d)\.conv(\d)\.conv2d\.", lambda m: f"ResidualBlock.{int(m[1]) - 1}.conv{m[2]}.conv_layer."),
    (r"^res(\d)\.in(\d)\.", lambda m: f"ResidualBlock.{int(m[1]) - 1}.conv{m[2]}.norm_layer."),
    (r"^deconv(\d)\.conv2d\.", lambda m: f"DeconvBlock.{2 * (int(m[1]) - 1)}.conv_layer."),
    (r"^in([45])\.", lambda m: f"DeconvBlock.{2 * (int(m[1]) - 4)}.norm_layer."),
]


def from_examples_layout(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename a pytorch/examples ``fast_neural_style`` state dict onto :class:`TransformerNet`.

    Its published checkpoints carry stale ``running_mean``/``running_var`` for the
    instance norms (an old PyTorch default); those are dropped.
    """
    out = {}
    for key, value in state.items():
        if key.endswith(("running_mean", "running_var", "num_batches_tracked")):
            continue
        for pattern, repl in _EXAMPLES_RENAMES:
            key = re.sub(pattern, repl, key)
        out[key] = value
    return out
