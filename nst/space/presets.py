"""The methods' options as the Space runs them: the library's, capped by the settings for a shared machine."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from nst.base.settings import Settings
from nst.methods import arbitrary, fast, gatys, video
from nst.methods.registry import METHODS

FAST = fast.FastOptions()
ARBITRARY = arbitrary.ArbitraryOptions()
GATYS = gatys.GatysOptions(size=512, steps=100, preview_every=5, time_limit=25.0)
"""The sliders start here: up to 512 px, in 25 s, the run's last scale the largest that fits
(:func:`nst.methods.gatys.fit_scales`): on a 2-core CPU about 430 px on VGG-19, 512 on MobileNetV2."""
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
