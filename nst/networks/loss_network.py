"""The network the perceptual losses read: VGG-19 when its weights can be had, else the packaged MobileNetV2.

VGG-19 (:mod:`nst.networks.vgg`) is the papers' loss network, but its ImageNet weights are
a download. The any-style method's MobileNetV2 (:mod:`nst.networks.mobilenet`) is installed
with the package, so the losses still see a real, ImageNet-trained feature network offline.

A choice is ``"vgg19"``, ``"mobilenet"`` or ``"auto"``: the settings' ``loss_network`` when set, else
VGG-19 if its weights load, else MobileNetV2.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

import torch
from torch import nn

from nst.base.device import default_device
from nst.base.options import check_choice
from nst.base.settings import current
from nst.base.weights import WeightsError
from nst.networks.mobilenet import MobileNetFeatures
from nst.networks.vgg import VGGFeatures, weights_location

Name = Literal["vgg19", "mobilenet"]
Choice = Literal["auto", "vgg19", "mobilenet"]
NAMES: tuple[str, ...] = get_args(Name)
CHOICES: tuple[str, ...] = get_args(Choice)
TITLES = {"vgg19": "VGG-19", "mobilenet": "MobileNetV2"}


@dataclass(frozen=True)
class Chosen:
    """The loss network a run uses, why in a few words, and the details (a weights error's own words)."""

    name: Name
    reason: str
    details: str = ""

    @property
    def title(self) -> str:
        return TITLES[self.name]


def choose(choice: str = "auto", device: torch.device | None = None) -> Chosen:
    """Resolve ``choice`` (``auto``, ``vgg19`` or ``mobilenet``) to a network that can run now.

    ``auto`` reads the settings' ``loss_network`` (``NST_LOSS_NETWORK``), and without it tries
    VGG-19's weights once per device and weights location (the settings' ``vgg_weights``, torch's
    hub folder), falling back to MobileNetV2, with the reason, when they are missing or damaged. An
    explicit ``vgg19`` does not fall back: loading it raises :class:`WeightsError`.
    """
    check_choice("loss network", choice, CHOICES)
    if choice == "auto":
        env = current().loss_network.strip() or "auto"
        check_choice("NST_LOSS_NETWORK", env, CHOICES)
        if env == "auto":
            return _auto(device or default_device(), weights_location())
        return Chosen(env, "NST_LOSS_NETWORK asks for it")  # type: ignore[arg-type]
    return Chosen(choice, "asked for")  # type: ignore[arg-type]


@functools.cache
def _auto(device: torch.device, where: tuple[str, str]) -> Chosen:
    try:
        VGGFeatures(("relu1_1",), device=device)
    except WeightsError as err:
        return Chosen("mobilenet", "VGG-19's weights are not installed", str(err))
    return Chosen("vgg19", "its weights are available")


def features(
    name: str, layers: Iterable[str], pooling: str = "max", device: torch.device | None = None
) -> nn.Module:
    """The named network's activations at ``layers``, RGB in [0, 1] in; ``pooling`` applies to VGG-19."""
    check_choice("loss network", name, NAMES)
    if name == "vgg19":
        return VGGFeatures(layers, pooling=pooling, device=device)
    return MobileNetFeatures(layers, device=device)
