"""The VGG-19 loss network, with its layers named as in the papers.

Callers pass RGB in [0, 1]; the ImageNet normalisation happens inside. The
pretrained convolutions load once per process and device, and every
:class:`VGGFeatures` shares them, truncated after the deepest layer it needs.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from nst.base.device import default_device
from nst.base.settings import current
from nst.base.weights import WeightsError, vgg19_state

# VGG-19 (configuration "E" of Simonyan & Zisserman): channels of its 16 3×3 convolutions, "M" a pooling.
# torchvision (2 s to import) is imported only where the weights are loaded.
_CONFIG = [
    64,
    64,
    "M",
    128,
    128,
    "M",
    256,
    256,
    256,
    256,
    "M",
    512,
    512,
    512,
    512,
    "M",
    512,
    512,
    512,
    512,
    "M",
]


def _layer_names() -> tuple[str, ...]:
    names: list[str] = []
    block, index = 1, 1
    for v in _CONFIG:
        if v == "M":
            names.append(f"pool{block}")
            block, index = block + 1, 1
        else:
            names += [f"conv{block}_{index}", f"relu{block}_{index}"]
            index += 1
    return tuple(names)


LAYER_NAMES: tuple[str, ...] = _layer_names()
"""``conv1_1, relu1_1, conv1_2, …, pool5``: the index of a name is its index in ``vgg19().features``."""


def weights_location() -> tuple[str, str]:
    """Where VGG-19's weights are read from now: the settings' ``vgg_weights`` and torch's hub folder."""
    return current().vgg_weights.strip(), torch.hub.get_dir()


def _pretrained_features(device: torch.device) -> nn.Sequential:
    """All of VGG-19's convolutional part, frozen, in eval mode, on ``device``: loaded once per device
    and :func:`weights_location`."""
    return _loaded(device, weights_location())


@functools.cache
def _loaded(device: torch.device, where: tuple[str, str]) -> nn.Sequential:
    from torchvision.models.vgg import make_layers

    features, state = make_layers(_CONFIG), vgg19_state()
    expected = features.state_dict()
    for key, tensor in expected.items():
        if key not in state or state[key].shape != tensor.shape:
            found = tuple(state[key].shape) if key in state else "nothing"
            raise WeightsError(
                f"The VGG-19 weights do not fit VGG-19: {key} should be {tuple(tensor.shape)}, "
                f"the file has {found}. Use torchvision's vgg19-dcbb9e9d.pth."
            )
    features.load_state_dict({k: state[k] for k in expected})
    return features.eval().requires_grad_(False).to(device, memory_format=torch.channels_last)


class VGGFeatures(nn.Module):
    """Activations of VGG-19 at named layers, e.g. ``{"relu4_2": tensor, ...}``.

    The network is cut after the deepest requested layer. ``pooling="avg"`` swaps
    max-pooling for average pooling, which Gatys et al. (2016) found gives
    smoother gradients and more appealing images.
    """

    def __init__(
        self,
        layers: Iterable[str],
        pooling: str = "max",
        device: torch.device | None = None,
    ) -> None:
        super().__init__()
        self.wanted = frozenset(layers)
        unknown = self.wanted - set(LAYER_NAMES)
        if unknown:
            raise ValueError(f"Unknown VGG-19 layers {sorted(unknown)}; known: {LAYER_NAMES}")
        if pooling not in ("max", "avg"):
            raise ValueError(f"pooling must be 'max' or 'avg', not {pooling!r}")
        device = device or default_device()
        depth = max(LAYER_NAMES.index(name) for name in self.wanted) + 1
        modules = [
            nn.AvgPool2d(2, 2) if pooling == "avg" and isinstance(m, nn.MaxPool2d) else m
            for m in _pretrained_features(device)[:depth]
        ]
        self.layers = nn.Sequential(*modules)
        self.names = LAYER_NAMES[:depth]
        self.min_side = 2 ** sum(name.startswith("pool") for name in self.names[:-1])
        mean = torch.tensor([0.485, 0.456, 0.406], device=device).view(1, 3, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225], device=device).view(1, 3, 1, 1)
        self.register_buffer("mean", mean, persistent=False)
        self.register_buffer("std", std, persistent=False)

    @property
    def device(self) -> torch.device:
        return self.mean.device

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """``image``: [B, 3, H, W] RGB in [0, 1] → ``{layer: [B, C, H_l, W_l]}``.

        An image smaller than the truncated network can take (2^pools pixels a side)
        is edge-padded up to that, so slivers and single pixels still have features.
        """
        # Channels-last makes VGG's convolutions and their backward ~15% faster on CPU (bench/).
        x = ((image.to(self.device) - self.mean) / self.std).contiguous(memory_format=torch.channels_last)
        pad_h, pad_w = (max(0, self.min_side - n) for n in x.shape[-2:])
        if pad_h or pad_w:
            x = F.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2), mode="replicate")
        out = {}
        for name, layer in zip(self.names, self.layers, strict=True):
            x = layer(x)
            if name in self.wanted:
                # The ReLUs work in place, so a conv output that is asked for is copied.
                out[name] = x.clone() if name.startswith("conv") else x
        return out
