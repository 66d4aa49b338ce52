"""Seeded random weights with the real files' names and shapes, for offline tests and benchmarks.

Timings do not depend on weight values; image quality does, so nothing here is for judging pictures.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models.vgg import cfgs, make_layers

from nst.transformer import TransformerNet


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
