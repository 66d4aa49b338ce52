"""The methods' options as the Space runs them: the library's, capped by the settings for a shared machine."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from nst.base.settings import Settings
from nst.methods import arbitrary, fast, gatys, video
from nst.methods.registry import METHODS

FAST = fast.FastOptions()
ARBITRARY = arbitrary.ArbitraryOptions()
GATYS = gatys.GatysOptions(steps=100, preview_every=5, time_limit=30.0)
"""The sliders start here: in 30 s at most, the run's last scale the largest that fits
(:func:`nst.methods.gatys.fit_scales`) up to the loss network's size in the Space (:data:`GATYS_SIZES`)."""
GATYS_SIZES = {"vgg19": 512, "mobilenet": 1024}
"""Where the Gatys tab's size starts on each loss network (within :func:`gatys_side`): on a 2-core
CPU, 30 s paint about 470 px on VGG-19 and 1024 px on MobileNetV2."""
VIDEO = video.VideoOptions()
LIVE = video.VideoOptions(batch=1, flow_preset="fast")
"""A clip's options, frames painted one at a time with DIS's fast preset (E_warp as steady as
medium's on the pan and zoom of ``bench.video``, ~12 ms less a frame)."""


@dataclass(frozen=True)
class Presets:
    """Each method's options in the app: the defaults above, capped by the settings."""

    fast: fast.FastOptions
    arbitrary: arbitrary.ArbitraryOptions
    gatys: gatys.GatysOptions
    video: video.VideoOptions
    live: video.VideoOptions

    def of(self, method: str) -> object:
        """The options the app runs ``method`` with: its own here, or its options class's defaults."""
        return getattr(self, method, None) or METHODS[method].options()

    @classmethod
    def from_settings(cls, settings: Settings) -> Presets:
        return cls(
            fast=dataclasses.replace(FAST, max_side=settings.fast_side),
            arbitrary=dataclasses.replace(ARBITRARY, max_side=settings.arbitrary_side),
            gatys=dataclasses.replace(GATYS, time_limit=min(GATYS.time_limit, settings.gatys_seconds)),
            video=dataclasses.replace(VIDEO, max_side=settings.video_side),
            live=dataclasses.replace(LIVE, max_side=settings.live_side),
        )


def gatys_side(settings: Settings, network: str, device: torch.device) -> int:
    """The largest Gatys size the Space paints on the loss ``network`` on ``device``: on a GPU
    NST_GATYS_GPU_MAX_SIDE; on a CPU NST_GATYS_MOBILENET_MAX_SIDE on MobileNetV2, NST_GATYS_MAX_SIDE
    on VGG-19."""
    if device.type != "cpu":
        return settings.gatys_gpu_side
    return settings.gatys_mobilenet_side if network == "mobilenet" else settings.gatys_side


def gatys_size(settings: Settings, network: str, device: torch.device) -> int:
    """The size the Gatys tab starts at on ``network``: :data:`GATYS_SIZES`, within :func:`gatys_side`."""
    return min(GATYS_SIZES[network], gatys_side(settings, network, device))
