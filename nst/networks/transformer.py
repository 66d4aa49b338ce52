"""Johnson et al. (2016)'s image transformation network, in both public layouts.

conv 9×9/32 → conv 3×3/64 s2 → conv 3×3/128 s2 → 5 residual blocks at 128 →
two ×2 upsamplings to 64 and 32 → conv 9×9/3, with reflection padding, affine
instance norm and ReLU. Input and output are RGB in [0, 255].

Module names follow rrmina/fast-neural-style-pytorch (``ConvBlock``, ``ResidualBlock``,
``DeconvBlock``), whose upsamplings are transposed convolutions (``upsample="deconv"``);
pytorch/examples upsamples by nearest neighbour then convolves (``upsample="nearest"``).
:func:`fit_state` loads either, under any key names, by the tensors' shapes.
"""

from __future__ import annotations

import functools
import os

import torch
import torch.nn.functional as F
from torch import nn

from nst.base.device import default_device, memory_format
from nst.base.weights import WeightsError, read_state_dict
from nst.networks.norms import HoldableNorm, normalise, pad_to_strides


class InstanceNorm(nn.InstanceNorm2d, HoldableNorm):
    """Affine instance norm (:func:`~nst.networks.norms.normalise`); a call may hold its statistics."""

    def __init__(self, channels: int) -> None:
        super().__init__(channels, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return normalise(self, x, self.weight, self.bias, self.eps)


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


CHANNELS = ("rgb", "bgr")
HEADS = ("clamp", "tanh150")


class TransformerNet(nn.Module):
    """The feed-forward stylisation network; any input size gives the same output size.

    ``channels`` is the order the network was trained on: ``"bgr"`` networks (e.g. trained
    on ``cv2.imread`` images) get their input and output channels reversed here, so
    callers always speak RGB. ``head`` is how the last convolution becomes pixels:
    ``"clamp"`` to [0, 255], or ``"tanh150"``, ``150·tanh(y)`` as in Johnson et al.'s
    supplementary material (then clamped).
    """

    def __init__(self, upsample: str = "nearest", channels: str = "rgb", head: str = "clamp") -> None:
        super().__init__()
        for label, value, choices in (
            ("upsample", upsample, UPSAMPLES),
            ("channels", channels, CHANNELS),
            ("head", head, HEADS),
        ):
            if value not in choices:
                raise ValueError(f"{label} must be one of {sorted(choices)}, not {value!r}")
        self.upsample, self.channels, self.head = upsample, channels, head
        up = UPSAMPLES[upsample]
        relu = nn.ReLU(inplace=True)
        self.ConvBlock = nn.Sequential(
            ConvLayer(3, 32, 9), relu, ConvLayer(32, 64, 3, 2), relu, ConvLayer(64, 128, 3, 2), relu
        )
        self.ResidualBlock = nn.Sequential(*(ResidualLayer(128) for _ in range(5)))
        self.DeconvBlock = nn.Sequential(up(128, 64), relu, up(64, 32), relu, ConvLayer(32, 3, 9, norm=False))

    def raw(self, x: torch.Tensor) -> torch.Tensor:
        """The last convolution's output for ``x`` as given (the network's own channel order).

        Sides are edge-padded to a multiple of 4 (and at least 8) and cropped back.
        """
        h, w = x.shape[-2:]
        y = self.DeconvBlock(self.ResidualBlock(self.ConvBlock(pad_to_strides(x))))
        return y[..., :h, :w]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, 3, H, W] RGB in [0, 255] → the same shape, clamped to [0, 255] in eval mode.

        Training leaves the output unclamped so that every pixel has a gradient.
        """
        bgr = self.channels == "bgr"
        y = self.raw(x.flip(1) if bgr else x)
        if self.head == "tanh150":
            y = 150 * torch.tanh(y)
        if bgr:
            y = y.flip(1)
        return y if self.training else y.clamp(0, 255)


_NOT_WEIGHTS = ("running_mean", "running_var", "num_batches_tracked")


def fit_state(state: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], str]:
    """Map a state dict of any naming onto :class:`TransformerNet`, by shape and in order.

    rrmina's names (``ConvBlock.0.conv_layer.weight``), the ``maze`` model card's
    (``ConvBlock.0.conv.weight``), pytorch/examples' (``conv1.conv2d.weight``, ``in1.weight``,
    with stale ``running_*`` statistics, which are dropped) and ours all list the same
    tensors in the same order; so does any other faithful export. Our own names are
    matched by name first, in any order. Transposed-convolution
    and nearest-neighbour upsampling differ in their first up-layer's shape, which decides
    ``upsample``. Returns ``(state in our names, upsample)``; raises ``ValueError`` naming
    the first tensor that does not fit.
    """
    tensors = [(k, v) for k, v in state.items() if not k.endswith(_NOT_WEIGHTS)]
    for upsample in UPSAMPLES:  # our own names, in any order (safetensors sorts its keys)
        expected = dict(_shapes(upsample))
        if expected.keys() == {k for k, _ in tensors} and all(v.shape == expected[k] for k, v in tensors):
            return dict(tensors), upsample
    best: tuple[int, str] = (-1, "")
    for upsample in UPSAMPLES:
        expected = _shapes(upsample)
        fits = 0
        while fits < min(len(tensors), len(expected)) and tensors[fits][1].shape == expected[fits][1]:
            fits += 1
        if fits == len(tensors) == len(expected):
            return {name: tensor for (name, _), (_, tensor) in zip(expected, tensors, strict=True)}, upsample
        best = max(best, (fits, upsample))
    fits, upsample = best
    expected = _shapes(upsample)
    if fits == len(expected):
        raise ValueError(f"it has {len(tensors)} tensors, {len(tensors) - fits} more than the network")
    if fits == len(tensors):
        raise ValueError(f"it has {len(tensors)} tensors; the network needs {len(expected)}")
    key, tensor = tensors[fits]
    shape = tuple(expected[fits][1])
    raise ValueError(f"tensor {fits} ({key}) is {tuple(tensor.shape)}; the network needs {shape} there")


@functools.cache
def _shapes(upsample: str) -> list[tuple[str, torch.Size]]:
    return [(k, v.shape) for k, v in TransformerNet(upsample).state_dict().items()]


def load_model(
    path: str | os.PathLike, device: torch.device | None = None, channels: str = "rgb", head: str = "clamp"
) -> TransformerNet:
    """The Johnson network in ``path`` (any key naming, see :func:`fit_state`), in eval mode.

    ``.safetensors`` or a plain ``.pth`` state dict; ``channels`` and ``head`` say how the
    network was trained (see :class:`TransformerNet`). Cached by path and options.
    """
    return _load_model(str(path), device or default_device(), channels, head)


@functools.lru_cache(maxsize=8)
def _load_model(path: str, device: torch.device, channels: str, head: str) -> TransformerNet:
    fix = "Replace it with a Johnson et al. TransformerNet state dict (.pth or .safetensors)."
    state = read_state_dict(path, fix)
    try:
        state, upsample = fit_state(state)
    except ValueError as err:
        raise WeightsError(f"{path} does not fit the transformer network: {err}. {fix}") from err
    model = TransformerNet(upsample, channels, head)
    model.load_state_dict(state, strict=True)
    return model.eval().requires_grad_(False).to(device, memory_format=memory_format(device))
