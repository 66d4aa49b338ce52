"""Offline stand-ins for the pretrained weights, laid into the real caches.

A seeded random VGG-19 (features only, torchvision's key names) goes to
``$TORCH_HOME/hub/checkpoints/vgg19-dcbb9e9d.pth``, so the product's real loading
path (torchvision's cache) reads it.
"""

from __future__ import annotations

import os

import pytest
import torch
from PIL import Image
from torch import nn
from torchvision.models.vgg import cfgs, make_layers


def random_vgg19_features(seed: int = 0) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    features = make_layers(cfgs["E"])
    for m in features.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            nn.init.normal_(m.bias, std=0.01)
    return {f"features.{k}": v for k, v in features.state_dict().items()}


@pytest.fixture(scope="session", autouse=True)
def torch_home(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("torch_home")
    checkpoints = home / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    torch.save(random_vgg19_features(), checkpoints / "vgg19-dcbb9e9d.pth")
    old = os.environ.get("TORCH_HOME")
    os.environ["TORCH_HOME"] = str(home)
    os.environ.pop("NST_VGG_WEIGHTS", None)
    yield home
    if old is None:
        os.environ.pop("TORCH_HOME", None)
    else:
        os.environ["TORCH_HOME"] = old


def synthetic(width: int, height: int, seed: int = 0) -> Image.Image:
    """A smooth colourful test image with some texture: gradients plus seeded noise."""
    g = torch.Generator().manual_seed(seed)
    y = torch.linspace(0, 1, height).view(height, 1).expand(height, width)
    x = torch.linspace(0, 1, width).view(1, width).expand(height, width)
    rgb = torch.stack([x, y, (torch.sin(6.28 * (x + y)) + 1) / 2]) * 200
    rgb = rgb + 55 * torch.rand(3, height, width, generator=g)
    array = rgb.clamp(0, 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return Image.fromarray(array, "RGB")
