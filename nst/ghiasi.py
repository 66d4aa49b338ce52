"""Ghiasi et al. (2017)'s arbitrary-style networks, ported from Magenta's quantised TFLite/ONNX export.

Ghiasi, Lee, Kudlur, Dumoulin & Shlens, "Exploring the structure of a real-time,
arbitrary neural artistic stylization network" (BMVC 2017): a style prediction
network maps the style image to a 100-d embedding e, and a style transformer
network renders the content image conditioned on e. Every normalisation in the
transformer's residual and upsampling layers is a conditional instance norm

    y = γ(e)·(x − μ)/√(σ² + ε) + β(e),    ε = 1e-5,

with μ, σ² the per-image, per-channel mean and (biased) variance over H×W and
γ(e), β(e) affine functions of the embedding (1×1 convolutions of it in the
graph, :class:`torch.nn.Linear` here). This is the mobile version (Magenta's
``arbitrary_image_stylization`` distilled for TFLite):

**Style prediction** (:class:`StylePredictor`): MobileNetV2 (width 1.0) on the
style image as it is, RGB in [0, 1], trained at 256×256: conv 3×3/32 s2 →
17 inverted residual blocks (expansion 6 except the first; output channels
16, 24×2, 32×3, 64×4, 96×3, 160×3, 320; stride 2 at blocks 1, 3, 6 and 13;
a skip connection wherever stride is 1 and channels agree) → conv 1×1/1280 →
global average pool → a 1×1 convolution to the 100-d embedding (the
bottleneck, no activation). ReLU6 after every convolution except the blocks'
linear projections and the bottleneck; batch norm is folded into the biases;
TensorFlow "SAME" padding (a stride-2 convolution of an even side pads only
its bottom/right).

**Style transformer** (:class:`StyleTransformer`), content RGB in [0, 1] to
RGB in [0, 1]: contract: conv 9×9/8, conv 3×3/16 s2, conv 3×3/32 s2, each with
ReLU and a bias (batch norm folded) → 5 residual blocks at 32 channels, each
``x + CIN(conv(ReLU(CIN(conv(x)))))`` → expand: two ×2 nearest-neighbour
upsamplings, each followed by conv 3×3 (to 16, then 8), CIN and ReLU → conv
9×9/3, CIN and a sigmoid. Every convolution is preceded by reflection padding
of half its kernel. Each CIN has its own γ and β, 13 pairs predicted straight
from the embedding (no further bottleneck).

The ONNX files hold int8 weights with per-output-channel scales and quantise
every activation to int8; :func:`predictor_state` and :func:`transformer_state`
dequantise the weights, ``(q − zero_point)·scale``, and the port runs in float32
with the activations left unquantised.
"""

from __future__ import annotations

import re
from os import PathLike

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

EMBEDDING = 100
EPS = 1e-5

# MobileNetV2's inverted residual blocks: (expansion, output channels, stride).
_BLOCKS = (
    [(1, 16, 1)]
    + [(6, 24, 2), (6, 24, 1)]
    + [(6, 32, 2)] + [(6, 32, 1)] * 2
    + [(6, 64, 2)] + [(6, 64, 1)] * 3
    + [(6, 96, 1)] * 3
    + [(6, 160, 2)] + [(6, 160, 1)] * 2
    + [(6, 320, 1)]
)


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

    Trained on 256×256 style images (Magenta resizes the style image to 256×256
    first); it is fully convolutional up to a global average pool, so other sizes
    run, but 256×256 gives the embeddings the transformer was trained with.
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

    def forward(self, style: torch.Tensor) -> torch.Tensor:
        """[B, 3, H, W] RGB in [0, 1] → [B, 100]."""
        x = self.blocks(F.relu6(self.conv(style)))
        return self.bottleneck(F.relu6(self.conv_1(x)).mean((2, 3)))


def _instance_norm_(
    x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, relu: bool, phases: int = 1
) -> torch.Tensor:
    """Conditional instance norm of ``x`` [B, C·phases, H, W] in place, then ReLU if asked.

    ``gamma`` and ``beta`` are [B or 1, C]. With ``phases`` > 1, each run of that
    many consecutive channels holds the sub-pixel phases of one channel (before a
    pixel shuffle), which share its statistics and its γ, β. The mean is taken
    out before the variance is summed, so flat images lose no precision.
    """
    b, c, h, w = x.shape
    mean = x.mean((2, 3)).view(b, -1, phases).mean(2, keepdim=True)
    x.sub_(mean.expand(-1, -1, phases).reshape(b, c, 1, 1))
    var = torch.linalg.vector_norm(x, dim=(2, 3)).square().view(b, -1, phases).mean(2) / (h * w)
    scale = gamma * torch.rsqrt(var + EPS)
    x.mul_(scale.repeat_interleave(phases, 1)[..., None, None])
    x.add_(beta.repeat_interleave(phases, 1)[..., None, None])
    return x.relu_() if relu else x


class CondConv(nn.Module):
    """Reflection padding, a k×k convolution and conditional instance norm (γ, β from the embedding)."""

    def __init__(self, cin: int, cout: int, kernel: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, padding=kernel // 2, padding_mode="reflect")
        self.gamma = nn.Linear(EMBEDDING, cout)
        self.beta = nn.Linear(EMBEDDING, cout)

    def forward(self, x: torch.Tensor, embedding: torch.Tensor, relu: bool = False) -> torch.Tensor:
        return _instance_norm_(self.conv(x), self.gamma(embedding), self.beta(embedding), relu)


# Nearest ×2 upsampling, then a 3×3 kernel: output row 2i + a sees input rows i − 1, i, i + 1
# with the kernel's rows folded as _PHASES[a] @ kernel (row 0 for a = 0: i − 1; rows 1 + 2: i).
_PHASES = torch.tensor([[[1.0, 0, 0], [0, 1, 1], [0, 0, 0]], [[0, 0, 0], [1, 1, 0], [0, 0, 1]]])


class UpsampleCondConv(CondConv):
    """Nearest-neighbour ×2 upsampling, then :class:`CondConv` (3×3), computed at the input's resolution.

    Reflection padding by 1 of the upsampled image equals edge padding by 1 of the
    input, upsampled; so one 3×3 convolution of the edge-padded input with the four
    sub-pixel phases' folded kernels, then a pixel shuffle, gives the same result
    without the upsampled intermediates.
    """

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(cin, cout, 3)

    def forward(self, x: torch.Tensor, embedding: torch.Tensor, relu: bool = False) -> torch.Tensor:
        w = self.conv.weight
        phases = _PHASES.to(w)
        kernel = torch.einsum("ayk,bxl,oikl->oabiyx", phases, phases, w).reshape(-1, *w.shape[1:])
        kernel = kernel.contiguous(memory_format=torch.channels_last)
        x = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), kernel, self.conv.bias.repeat_interleave(4))
        x = _instance_norm_(x, self.gamma(embedding), self.beta(embedding), relu, phases=4)
        return F.pixel_shuffle(x, 2)


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

    Inference only: the forward pass works in place on its intermediates, so it has
    no gradients. It runs channels-last (weights and activations), which suits the
    CPU convolutions of these narrow layers.
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
            {"conv1": UpsampleCondConv(32, 16), "conv2": UpsampleCondConv(16, 8), "conv3": CondConv(8, 3, 9)}
        )
        self.to(memory_format=torch.channels_last)

    def forward(self, content: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        """[B, 3, H, W] RGB in [0, 1] and a [B or 1, 100] embedding → [B, 3, H, W] RGB in [0, 1].

        Sides are edge-padded to a multiple of 4 (and at least 8) and cropped back.
        """
        e = embedding.flatten(1)
        if e.shape[1] != EMBEDDING:
            raise ValueError(f"the embedding must have {EMBEDDING} values per image, not {e.shape[1]}")
        h, w = content.shape[-2:]
        pad_h, pad_w = max(8, -(-h // 4) * 4) - h, max(8, -(-w // 4) * 4) - w
        x = F.pad(content, (0, pad_w, 0, pad_h), mode="replicate") if pad_h or pad_w else content
        x = x.contiguous(memory_format=torch.channels_last)
        for conv in self.contract.values():
            x = conv(x).relu_()
        for block in self.residual:
            x = block(x, e)
        x = self.expand["conv2"](self.expand["conv1"](x, e, relu=True), e, relu=True)
        return self.expand["conv3"](x, e).sigmoid_()[..., :h, :w]


# --- ONNX conversion -------------------------------------------------------------------------------


def _float_convs(path: str | PathLike) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], list[np.ndarray]]:
    """Every Conv of the graph as ``{weight initializer name: (float weight, float bias)}``.

    Follows DequantizeLinear of int8/int32 initializers to ``(q − zero_point)·scale``
    (per tensor, or per channel along ``axis``); also returns the other dequantised
    constants that feed arithmetic (the instance norms' ε).
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
        axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
        if scale.size > 1:
            shape = [1] * q.ndim
            shape[axis] = -1
            scale, zero = scale.reshape(shape), zero.reshape(shape)
        value = (q.astype(np.int64) - zero.astype(np.int64)).astype(np.float32) * scale
        consts[node.output[0]] = (node.input[0], value.astype(np.float32))
    convs, others = {}, []
    used = set()
    for node in graph.node:
        if node.op_type == "Conv":
            if len(node.input) < 3 or node.input[1] not in consts or node.input[2] not in consts:
                raise ValueError(f"{path}: Conv {node.name or node.output[0]} lacks a dequantised weight or bias")
            name, weight = consts[node.input[1]]
            convs[re.sub(r"/(depthwise_)?weights$", "", name)] = (weight, consts[node.input[2]][1])
            used.update(node.input[1:3])
    for node in graph.node:
        if node.op_type != "Conv":
            others += [consts[i][1] for i in node.input if i in consts and i not in used]
    return convs, others


def _to_state(
    path: str | PathLike, module: nn.Module, names: dict[str, str], convs: dict[str, tuple]
) -> dict[str, torch.Tensor]:
    """Lay ``convs`` (graph prefix → weight, bias) onto ``module``'s keys through ``names``."""
    expected = module.state_dict()
    state = {}
    for graph_name, ours in names.items():
        if graph_name not in convs:
            raise ValueError(f"{path}: no convolution {graph_name!r} in the graph")
        for suffix, value in zip(("weight", "bias"), convs[graph_name]):
            key, target = f"{ours}.{suffix}", expected[f"{ours}.{suffix}"]
            if value.shape != tuple(target.shape) and value.shape != (*target.shape, 1, 1):
                raise ValueError(
                    f"{path}: {graph_name} {suffix} has shape {list(value.shape)}, expected {list(target.shape)}"
                )
            state[key] = torch.from_numpy(value.reshape(target.shape).copy())
    extra = sorted(set(convs) - set(names))
    if extra:
        raise ValueError(f"{path}: unexpected convolution(s) in the graph: {', '.join(extra[:3])}")
    return state


def predictor_state(path: str | PathLike) -> dict[str, torch.Tensor]:
    """:class:`StylePredictor`'s float32 state dict from ``arbitrary_predict.onnx``."""
    convs, _ = _float_convs(path)
    names = {"MobilenetV2/Conv": "conv", "MobilenetV2/Conv_1": "conv_1", "mobilenet_conv/Conv": "bottleneck"}
    for i, (expansion, _, _) in enumerate(_BLOCKS):
        prefix = f"MobilenetV2/expanded_conv{f'_{i}' if i else ''}"
        for part in ("expand", "depthwise", "project") if expansion != 1 else ("depthwise", "project"):
            names[f"{prefix}/{part}"] = f"blocks.{i}.{part}"
    return _to_state(path, StylePredictor(), names, convs)


def transformer_state(path: str | PathLike) -> dict[str, torch.Tensor]:
    """:class:`StyleTransformer`'s float32 state dict from ``arbitrary_transform.onnx``."""
    convs, others = _float_convs(path)
    if not others or any(v.size != 1 or not np.isclose(v.item(), EPS, rtol=0.01) for v in others):
        raise ValueError(f"{path}: the instance norms' ε is not {EPS}")
    names = {f"transformer/contract/conv{k}": f"contract.conv{k}" for k in (1, 2, 3)}
    layers = [(f"residual/residual{i + 1}/conv{j}", f"residual.{i}.conv{j}") for i in range(5) for j in (1, 2)]
    layers += [(f"expand/conv{k}/conv", f"expand.conv{k}") for k in (1, 2, 3)]
    for graph_name, ours in layers:
        names[f"transformer/{graph_name}"] = f"{ours}.conv"
        names[f"style_params/transformer/{graph_name}/StyleNorm/Conv_1"] = f"{ours}.gamma"
        names[f"style_params/transformer/{graph_name}/StyleNorm/Conv"] = f"{ours}.beta"
    return _to_state(path, StyleTransformer(), names, convs)
