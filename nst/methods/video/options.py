"""What a clip can be asked (:class:`VideoOptions`) and what a run reports (:class:`VideoProgress`)."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Literal

from nst.base.options import check, check_choice, check_fraction, check_positive, option
from nst.methods.engine import OnePassOptions

FlowPreset = Literal["ultrafast", "fast", "medium"]
"""OpenCV's DIS presets, fastest first: at 320×240 about 0.6, 1.5 and 7 ms a flow on this 2-core CPU."""


@dataclass(frozen=True)
class VideoOptions(OnePassOptions):
    """How a clip is stylised (:class:`~nst.methods.engine.OnePassOptions`), checked when made.

    Strength means what the style's method means by it (:func:`load_style`). ``max_side``
    shrinks frames to that long side (sides are made even, as H.264 needs); ``max_seconds``
    stylises only the clip's start. ``steady`` is the held statistics' momentum ρ (0:
    per-frame statistics); ``cut`` the mean change of the picture, on [0, 1], that counts
    as a scene cut. ``flow`` is the weight α of the previous output warped by the input's
    optical flow (:class:`FlowBlend`; 0: off). ``blend_previous`` mixes each output frame with
    the previous output, unwarped (0: off). The modes: flow-guided (the default), statistics
    only (``flow=0``), per frame (``flow=0, steady=0``). ``batch`` frames go through the network
    at once; ``crf`` is H.264's quality.
    """

    max_seconds: float | None = option(None, "stylise only the clip's first seconds")
    steady: float = option(0.98, "momentum of the held norm statistics; 0 = per frame")
    flow: float = option(0.6, "weight of the previous output warped by optical flow where it holds; 0 = off")
    flow_preset: FlowPreset = option("medium", "the optical flow's DIS preset: medium, or faster and rougher")
    cut: float = option(0.08, "mean change of the picture (0–1) that counts as a scene cut")
    blend_previous: float = option(0.0, "mix each output frame with the previous one (0 = off)")
    batch: int = option(4, "frames per forward pass")
    crf: int = option(18, "H.264 quality: 0 lossless … 51 worst")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.max_seconds is not None:
            check_positive("max_seconds", self.max_seconds)
        check_choice("flow_preset", self.flow_preset, typing.get_args(FlowPreset))
        for name in ("steady", "cut", "flow", "blend_previous"):
            check_fraction(name, getattr(self, name))
        check(self.steady < 1, "steady must be below 1 (1 would never update)")
        check(self.flow < 1, "flow must be below 1 (1 would never show a new frame)")
        check_positive("batch", self.batch)
        check(0 <= self.crf <= 51, f"crf must be 0 to 51, not {self.crf}")


@dataclass(frozen=True)
class VideoProgress:
    """Frames written so far; ``total`` is an estimate from the header."""

    frame: int
    total: int
    elapsed: float
