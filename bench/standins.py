"""Seeded random weights with the real files' names and shapes, for offline tests and benchmarks.

Timings do not depend on weight values; image quality does, so nothing here is for judging pictures.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models.vgg import cfgs, make_layers

from nst.networks.transformer import TransformerNet


def random_vgg19_features(seed: int = 0) -> dict[str, torch.Tensor]:
    """VGG-19's convolutional weights under torchvision's names (``features.N.*``), He-initialised."""
    torch.manual_seed(seed)
    features = make_layers(cfgs["E"])
    for m in features.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            nn.init.normal_(m.bias, std=0.01)
    return {f"features.{k}": v for k, v in features.state_dict().items()}


def random_transformer(upsample: str, seed: int = 0) -> TransformerNet:
    """A seeded network whose output spans [0, 255] rather than sitting at 0."""
    torch.manual_seed(seed)
    net = TransformerNet(upsample)
    for name, p in net.named_parameters():
        if "norm_layer" in name:
            p.data.normal_(1.0 if name.endswith("weight") else 0.0, 0.3)
    last = net.DeconvBlock[4].conv_layer
    last.weight.data.mul_(40)
    last.bias.data.fill_(128)
    return net.eval()


def painted_transformer(
    mean_rgb: tuple[float, float, float], seed: int = 0, channels: str = "rgb", head: str = "clamp"
) -> TransformerNet:
    """A seeded network whose output, read as trained (``channels``, ``head``), has mean colour ``mean_rgb``.

    Stands in for a network trained on a painting of that mean colour: its last
    convolution's bias is the colour in the network's own channel order and before its
    head (``atanh(c / 150)`` for ``tanh150``), with a little texture on top.
    """
    net = random_transformer("deconv", seed)
    target = torch.tensor(mean_rgb, dtype=torch.float32)
    if channels == "bgr":
        target = target.flip(0)
    if head == "tanh150":
        target = torch.atanh((target / 150).clamp(max=0.99))
    last = net.DeconvBlock[4].conv_layer
    last.weight.data.mul_(0.02 if head == "tanh150" else 0.2)
    last.bias.data.copy_(target)
    return net


def card_names(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` under the ``maze/FastStyleTransfer`` model card's names (``ConvBlock.0.conv.weight``)."""
    renames = {".conv_layer.": ".conv.", ".norm_layer.": ".norm."}
    out = {}
    for key, value in state.items():
        for old, new in renames.items():
            key = key.replace(old, new)
        out[key] = value
    return out
