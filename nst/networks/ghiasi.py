"""Ghiasi et al. (2017)'s arbitrary-style networks, ported from Magenta's quantised TFLite/ONNX export.

Ghiasi, Lee, Kudlur, Dumoulin & Shlens, "Exploring the structure of a real-time,
arbitrary neural artistic stylization network" (BMVC 2017): a style prediction
network maps the style image to a 100-d embedding e, and a style transformer
network renders the content image conditioned on e. Each normalisation in the
transformer's residual, upsampling and output layers is a conditional instance norm

    y = γ(e)·(x − μ)/√(σ² + ε) + β(e),    ε = 1e-5,

with μ, σ² the per-image, per-channel mean and (biased) variance over H×W and
γ(e), β(e) affine functions of the embedding (1×1 convolutions of it in the
graph, :class:`torch.nn.Linear` here). These are the mobile networks Magenta
published for TensorFlow Lite: a MobileNetV2 in place of the paper's Inception-v3,
and a transformer a quarter as wide as the paper's.

**Style prediction** (:class:`StylePredictor`): MobileNetV2 (width 1.0) on the
style image as it is, RGB in [0, 1], at 256×256: conv 3×3/32 s2 → 17 inverted
residual blocks (expansion 6 except the first; output channels 16, 24×2, 32×3,
64×4, 96×3, 160×3, 320; stride 2 at blocks 1, 3, 6 and 13; a skip connection
wherever stride is 1 and channels agree) → conv 1×1/1280 → global average pool
→ a 1×1 convolution to the 100-d embedding (the bottleneck, no activation).
ReLU6 after every convolution except the blocks' linear projections and the
bottleneck; batch norm is folded into the biases; TensorFlow "SAME" padding (a
stride-2 convolution of an even side pads only its bottom/right).

**Style transformer** (:class:`StyleTransformer`), content RGB in [0, 1] to
RGB in [0, 1]: contract: conv 9×9/8, conv 3×3/16 s2, conv 3×3/32 s2, each with
ReLU and a bias (batch norm folded, no CIN) → 5 residual blocks at 32 channels,
each ``x + CIN(conv(ReLU(CIN(conv(x)))))`` → expand: two ×2 nearest-neighbour
upsamplings, each followed by conv 3×3 (to 16, then 8), CIN and ReLU → conv
9×9/3, CIN and a sigmoid. Every convolution is preceded by reflection padding
of half its kernel. The 13 CINs each have their own γ and β, predicted straight
from the embedding (no further bottleneck).

The ONNX files hold int8 weights with per-output-channel scales and quantise
every activation to int8; :func:`predictor_state` and :func:`transformer_state`
dequantise the weights, ``(q − zero_point)·scale``, and the port runs in float32
with the activations left unquantised. For speed on CPUs both networks run
channels-last, and the transformer computes its layers that output at ×2
resolution as 2×2 sub-pixel phases (fewer pixels, more channels), exact up to
float rounding.
"""

from __future__ import annotations

import functools
import re
from os import PathLike
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nst.base.device import memory_format
from nst.base.weights import package_weights
from nst.networks.norms import (
    HoldableNorm,
    normalise,
    pad_to_strides,
    phase_outputs,
    upsampled_phase_outputs,
)

EMBEDDING = 100
EPS = 1e-5

# MobileNetV2's stages: (expansion, output channels, blocks, stride of the first block).
_STAGES = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
_BLOCKS = [(t, c, stride if i == 0 else 1) for t, c, n, stride in _STAGES for i in range(n)]


def _same_pad(x: torch.Tensor, stride: int) -> torch.Tensor:
    """TensorFlow's "SAME" zero padding for a 3×3 convolution: the odd pixel goes bottom/right."""
    pads = []
    for size in (x.shape[-1], x.shape[-2]):
        total = max((-(-size // stride) - 1) * stride + 3 - size, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


class _SameConv(nn.Conv2d):
    """A 3×3 convolution with TensorFlow "SAME" padding at any stride."""

    def __init__(self, cin: int, cout: int, stride: int, groups: int = 1) -> None:
        super().__init__(cin, cout, 3, stride, groups=groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(_same_pad(x, self.stride[0]))


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1×1 expansion, ReLU6, 3×3 depthwise, ReLU6, linear 1×1 projection (+ x)."""

    def __init__(self, cin: int, expansion: int, cout: int, stride: int) -> None:
        super().__init__()
        hidden = cin * expansion
        self.expand = nn.Conv2d(cin, hidden, 1) if expansion != 1 else None
        self.depthwise = _SameConv(hidden, hidden, stride, groups=hidden)
        self.project = nn.Conv2d(hidden, cout, 1)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x if self.expand is None else F.relu6(self.expand(x))
        y = self.project(F.relu6(self.depthwise(y)))
        return x + y if self.skip else y


class StylePredictor(nn.Module):
    """The style prediction network: style image → 100-d embedding.

    Expects 256×256 style images, the size it was trained and exported at; it is
    fully convolutional up to a global average pool, so other sizes run too, but
    give other embeddings. Runs channels-last, like :class:`StyleTransformer`.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv = _SameConv(3, 32, 2)
        blocks, cin = [], 32
        for expansion, cout, stride in _BLOCKS:
            blocks.append(InvertedResidual(cin, expansion, cout, stride))
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.conv_1 = nn.Conv2d(cin, 1280, 1)
        self.bottleneck = nn.Linear(1280, EMBEDDING)
        self.to(memory_format=torch.channels_last)

    def forward(self, style: torch.Tensor) -> torch.Tensor:
        """[B, 3, H, W] RGB in [0, 1] (256×256) → [B, 100]."""
        x = self.blocks(F.relu6(self.conv(style.contiguous(memory_format=torch.channels_last))))
        return self.bottleneck(F.relu6(self.conv_1(x)).mean((2, 3)))


class CondConv(nn.Module, HoldableNorm):
    """Reflection padding, a k×k convolution and conditional instance norm (γ, β from the embedding);
    a call may hold the norm's statistics (:func:`~nst.networks.norms.normalise`)."""

    def __init__(self, cin: int, cout: int, kernel: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, padding=kernel // 2, padding_mode="reflect")
        self.gamma = nn.Linear(EMBEDDING, cout)
        self.beta = nn.Linear(EMBEDDING, cout)

    def norm(self, x: torch.Tensor, embedding: torch.Tensor, relu: bool, phases: int = 1) -> torch.Tensor:
        """Conditional instance norm of the convolution's output ``x``, then ReLU if asked."""
        y = normalise(self, x, self.gamma(embedding), self.beta(embedding), EPS, phases)
        return y.relu_() if relu else y

    def forward(self, x: torch.Tensor, embedding: torch.Tensor, relu: bool = False) -> torch.Tensor:
        return self.norm(self.conv(x), embedding, relu)


class UpsampleCondConv(CondConv):
    """Nearest-neighbour ×2 upsampling, then :class:`CondConv` (3×3), computed at the input's size.

    Reflection padding by 1 of the upsampled image is the upsampled edge padding by 1
    of the input, so one convolution of the edge-padded input gives the four output
    phases, normalised together and pixel-shuffled.
    """

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(cin, cout, 3)

    def forward(self, x: torch.Tensor, embedding: torch.Tensor, relu: bool = False) -> torch.Tensor:
        w, bias = upsampled_phase_outputs(self.conv.weight), self.conv.bias.repeat_interleave(4)
        x = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), w, bias)
        return F.pixel_shuffle(self.norm(x, embedding, relu, phases=4), 2)


class OutputCondConv(CondConv):
    """The last layer, conv 9×9/3, CIN and a sigmoid, computed as four phases.

    A fourth, all-zero output channel makes 16 phase outputs, which the CPU
    convolution runs faster than 12; it is dropped at the end.
    """

    def __init__(self) -> None:
        super().__init__(8, 3, 9)

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        w, bias = F.pad(self.conv.weight, (0, 0, 0, 0, 0, 0, 0, 1)), F.pad(self.conv.bias, (0, 1))
        x = F.conv2d(F.pad(x, (4, 4, 4, 4), mode="reflect"), phase_outputs(w), bias.repeat_interleave(4), 2)
        gamma, beta = F.pad(self.gamma(embedding), (0, 1)), F.pad(self.beta(embedding), (0, 1))
        x = normalise(self, x, gamma, beta, EPS, phases=4)
        return F.pixel_shuffle(x.sigmoid_(), 2)[:, :3]


class ResidualBlock(nn.Module):
    """``x + CIN(conv(ReLU(CIN(conv(x)))))`` at 32 channels."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = CondConv(channels, channels, 3)
        self.conv2 = CondConv(channels, channels, 3)

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1(x, embedding, relu=True), embedding).add_(x)


class StyleTransformer(nn.Module):
    """The style transformer network: (content, embedding) → stylised content, any size.

    For speed on CPUs it runs channels-last, works in place on its own intermediates
    (gradients still flow), and computes the layers that output at ×2 resolution as
    sub-pixel phases, exact up to float rounding.
    """

    def __init__(self) -> None:
        super().__init__()
        self.contract = nn.ModuleDict(
            {
                "conv1": nn.Conv2d(3, 8, 9, padding=4, padding_mode="reflect"),
                "conv2": nn.Conv2d(8, 16, 3, 2, padding=1, padding_mode="reflect"),
                "conv3": nn.Conv2d(16, 32, 3, 2, padding=1, padding_mode="reflect"),
            }
        )
        self.residual = nn.ModuleList(ResidualBlock(32) for _ in range(5))
        self.expand = nn.ModuleDict(
            {"conv1": UpsampleCondConv(32, 16), "conv2": UpsampleCondConv(16, 8), "conv3": OutputCondConv()}
        )
        self.to(memory_format=torch.channels_last)

    def forward(self, content: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        """[B, 3, H, W] RGB in [0, 1] and a [B or 1, 100] embedding → [B, 3, H, W] RGB in [0, 1].

        The embedding may also come as the graph's [1, 1, 1, 100] or as [100].

        Sides are edge-padded to a multiple of 4 (and at least 8) and cropped back.
        """
        e = embedding.flatten(1) if embedding.dim() > 1 else embedding[None]
        if e.shape[1] != EMBEDDING or e.shape[0] not in (1, content.shape[0]):
            raise ValueError(
                f"the embedding must be [1 or {content.shape[0]}, {EMBEDDING}], not {list(embedding.shape)}"
            )
        h, w = content.shape[-2:]
        x = pad_to_strides(content)  # in the caller's memory layout (channels-last on CPUs)
        for conv in self.contract.values():
            x = conv(x).relu_()
        for block in self.residual:
            x = block(x, e)
        x = self.expand["conv2"](self.expand["conv1"](x, e, relu=True), e, relu=True)
        return self.expand["conv3"](x, e)[..., :h, :w]


@functools.cache
def pretrained_predictor(device: torch.device) -> StylePredictor:
    """The packaged style prediction network, frozen, channels-last on ``device``: one copy per device,
    shared by the any-style method and the MobileNetV2 loss network.

    Built outside inference mode whoever asks first, since the loss network differentiates through it.
    """
    with torch.inference_mode(False):
        predictor = StylePredictor()
        predictor.load_state_dict(package_weights("arbitrary_predict", predictor_state))
        return predictor.eval().requires_grad_(False).to(device, memory_format=torch.channels_last)


@functools.cache
def pretrained_transformer(device: torch.device) -> StyleTransformer:
    """The packaged style transformer network, frozen, on ``device`` (one copy per device)."""
    transformer = StyleTransformer()
    transformer.load_state_dict(package_weights("arbitrary_transform", transformer_state))
    return transformer.eval().requires_grad_(False).to(device, memory_format=memory_format(device))


# --- ONNX conversion -------------------------------------------------------------------------------


class _GraphConv(NamedTuple):
    weight: np.ndarray
    bias: np.ndarray
    stride: int


def _read_graph(path: str | PathLike) -> tuple[dict[str, _GraphConv], list[np.ndarray]]:
    """The graph's convolutions by weight name (less ``/weights``), and its other dequantised constants.

    A DequantizeLinear of an int8/int32 initializer is read as ``(q − zero_point)·scale``,
    per tensor or per channel along its ``axis``; activations' Quantize/DequantizeLinear
    pairs are ignored.
    """
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    consts: dict[str, tuple[str, np.ndarray]] = {}
    for node in graph.node:
        if node.op_type != "DequantizeLinear" or node.input[0] not in inits:
            continue
        q, scale = inits[node.input[0]], inits[node.input[1]].astype(np.float32)
        zero = inits[node.input[2]] if len(node.input) > 2 and node.input[2] else np.zeros((), q.dtype)
        if scale.size > 1:
            axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
            shape = [1] * q.ndim
            shape[axis] = -1
            scale, zero = scale.reshape(shape), zero.reshape(shape)
        consts[node.output[0]] = (node.input[0], (q.astype(np.int64) - zero).astype(np.float32) * scale)
    convs, conv_inputs = {}, set()
    for node in graph.node:
        if node.op_type != "Conv":
            continue
        if len(node.input) < 3 or node.input[1] not in consts or node.input[2] not in consts:
            raise ValueError(f"{path}: Conv {node.output[0]!r} lacks a dequantised weight or bias")
        name, weight = consts[node.input[1]]
        strides = next((list(a.ints) for a in node.attribute if a.name == "strides"), [1, 1])
        if strides[0] != strides[-1]:
            raise ValueError(f"{path}: Conv {node.output[0]!r} has strides {strides}")
        convs[re.sub(r"/(depthwise_)?weights$", "", name)] = _GraphConv(
            weight, consts[node.input[2]][1], strides[0]
        )
        conv_inputs.update(node.input[1:3])
    others = [
        consts[i][1]
        for node in graph.node
        if node.op_type != "Conv"
        for i in node.input
        if i in consts and i not in conv_inputs
    ]
    return convs, others


def _to_state(
    path: str | PathLike, module: nn.Module, names: dict[str, str], convs: dict[str, _GraphConv]
) -> dict[str, torch.Tensor]:
    """Lay the graph's convolutions onto ``module``'s keys, ``names`` mapping one's names to the other's."""
    extra = sorted(set(convs) - set(names))
    if extra:
        raise ValueError(f"{path}: unexpected convolution {extra[0]!r} in the graph")
    expected = module.state_dict()
    state = {}
    for graph_name, ours in names.items():
        if graph_name not in convs:
            raise ValueError(f"{path}: no convolution {graph_name!r} in the graph")
        conv, layer = convs[graph_name], module.get_submodule(ours)
        if isinstance(layer, nn.Conv2d) and conv.stride != layer.stride[0]:
            raise ValueError(f"{path}: {graph_name} has stride {conv.stride}, expected {layer.stride[0]}")
        for suffix, value in (("weight", conv.weight), ("bias", conv.bias)):
            target = expected[f"{ours}.{suffix}"].shape
            if value.shape not in (tuple(target), (*target, 1, 1)):
                raise ValueError(
                    f"{path}: {graph_name} {suffix} has shape {list(value.shape)}, expected {list(target)}"
                )
            state[f"{ours}.{suffix}"] = torch.from_numpy(value.reshape(target).copy())
    return state


def predictor_state(path: str | PathLike) -> dict[str, torch.Tensor]:
    """:class:`StylePredictor`'s float32 state dict from ``arbitrary_predict.onnx``.

    Raises ValueError if the graph's convolutions are not the ones expected.
    """
    convs, _ = _read_graph(path)
    names = {"MobilenetV2/Conv": "conv", "MobilenetV2/Conv_1": "conv_1", "mobilenet_conv/Conv": "bottleneck"}
    for i, (expansion, _, _) in enumerate(_BLOCKS):
        prefix = f"MobilenetV2/expanded_conv{f'_{i}' if i else ''}"
        for part in ("expand", "depthwise", "project") if expansion != 1 else ("depthwise", "project"):
            names[f"{prefix}/{part}"] = f"blocks.{i}.{part}"
    return _to_state(path, StylePredictor(), names, convs)


def transformer_state(path: str | PathLike) -> dict[str, torch.Tensor]:
    """:class:`StyleTransformer`'s float32 state dict from ``arbitrary_transform.onnx``.

    Raises ValueError if the graph's convolutions are not the ones expected, or its
    instance norms' ε is not 1e-5.
    """
    convs, others = _read_graph(path)
    if not others or any(v.size != 1 or not np.isclose(v.item(), EPS, rtol=0.01) for v in others):
        raise ValueError(f"{path}: the instance norms' ε is not {EPS}")
    names = {f"transformer/contract/conv{k}": f"contract.conv{k}" for k in (1, 2, 3)}
    layers = [
        (f"residual/residual{i + 1}/conv{j}", f"residual.{i}.conv{j}") for i in range(5) for j in (1, 2)
    ]
    layers += [(f"expand/conv{k}/conv", f"expand.conv{k}") for k in (1, 2, 3)]
    for graph_name, ours in layers:
        names[f"transformer/{graph_name}"] = f"{ours}.conv"
        names[f"style_params/transformer/{graph_name}/StyleNorm/Conv_1"] = f"{ours}.gamma"
        names[f"style_params/transformer/{graph_name}/StyleNorm/Conv"] = f"{ours}.beta"
    return _to_state(path, StyleTransformer(), names, convs)
