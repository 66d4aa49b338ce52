"""The straightforward implementations that the benchmarks and the equivalence tests compare against.

``PlainTransformerNet`` is the network as it is usually written (stock
``nn.InstanceNorm2d``, ``nn.ReflectionPad2d``, contiguous NCHW tensors) with
rrmina's key names. ``plain_gatys`` is the usual loop: VGG-19 called layer by
layer up to relu5_1, textbook Gram matrices, Adam on the pixels, one
full-resolution pass. Both use the project's objective and weights.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn
from torchvision.models.vgg import cfgs, make_layers

from nst.base.weights import vgg19_state
from nst.networks.vgg import LAYER_NAMES


class _Conv(nn.Module):
    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, norm: bool = True) -> None:
        super().__init__()
        self.pad = nn.ReflectionPad2d(kernel // 2)
        self.conv_layer = nn.Conv2d(cin, cout, kernel, stride)
        self.norm_layer = nn.InstanceNorm2d(cout, affine=True) if norm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm_layer(self.conv_layer(self.pad(x)))


class _Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.conv2 = _Conv(128, 128, 3), _Conv(128, 128, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(torch.relu(self.conv1(x)))


class _Deconv(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv_transpose = nn.ConvTranspose2d(cin, cout, 3, 2, 1, output_padding=1)
        self.norm_layer = nn.InstanceNorm2d(cout, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm_layer(self.conv_transpose(x))


class PlainTransformerNet(nn.Module):
    """Hub layout, eager fp32, NCHW; input sides must be multiples of 4."""

    def __init__(self) -> None:
        super().__init__()
        self.ConvBlock = nn.Sequential(
            _Conv(3, 32, 9), nn.ReLU(), _Conv(32, 64, 3, 2), nn.ReLU(), _Conv(64, 128, 3, 2), nn.ReLU()
        )
        self.ResidualBlock = nn.Sequential(*(_Residual() for _ in range(5)))
        self.DeconvBlock = nn.Sequential(
            _Deconv(128, 64), nn.ReLU(), _Deconv(64, 32), nn.ReLU(), _Conv(32, 3, 9, norm=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.DeconvBlock(self.ResidualBlock(self.ConvBlock(x))).clamp(0, 255)


def plain_vgg() -> nn.Sequential:
    """VGG-19 to relu5_1 with the weights of ``nst.networks.vgg``, frozen, NCHW, max pooling."""
    features = make_layers(cfgs["E"])
    features.load_state_dict(vgg19_state())
    return features[: LAYER_NAMES.index("relu5_1") + 1].eval().requires_grad_(False)


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """The textbook ``F Fᵀ / (C·H·W)``, left to autograd."""
    b, c, h, w = features.shape
    f = features.view(b, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


def objective(features: dict, content: torch.Tensor, grams: dict, content_weight: float, style_weight: float):
    """The project's objective written out: relative content and style terms, equal style layer weights."""
    content_term = (features["relu4_2"] - content).square().sum() / content.square().sum()
    style_term = sum(
        (gram_matrix(features[k]) - grams[k]).square().sum() / grams[k].square().sum() / len(STYLE)
        for k in STYLE
    )
    return content_weight * content_term + style_weight * style_term


MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
STYLE = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


def plain_features(vgg: nn.Sequential, image: torch.Tensor) -> dict[str, torch.Tensor]:
    x, out = (image - MEAN) / STD, {}
    for name, layer in zip(LAYER_NAMES, vgg, strict=False):
        x = layer(x)
        if name in (*STYLE, "relu4_2"):
            out[name] = x
    return out


def plain_gatys(
    vgg: nn.Sequential,
    content: torch.Tensor,
    style: torch.Tensor,
    steps: int,
    content_weight: float,
    style_weight: float,
    lr: float = 0.02,
) -> Iterator[tuple[int, float, torch.Tensor]]:
    """Adam on the pixels from the content image, full resolution; yields (step, loss, pastiche)."""
    with torch.no_grad():
        target = plain_features(vgg, content)["relu4_2"]
        grams = {k: gram_matrix(v) for k, v in plain_features(vgg, style).items() if k in STYLE}
    pastiche = content.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([pastiche], lr=lr)
    for step in range(1, steps + 1):
        optimizer.zero_grad()
        f = plain_features(vgg, pastiche)
        loss = objective(f, target, grams, content_weight, style_weight)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            pastiche.clamp_(0, 1)
        yield step, loss.item(), pastiche.detach()
