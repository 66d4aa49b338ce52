"""Gatys et al. (2016): optimise the pastiche's pixels against perceptual losses of a loss network.

``L = α·L_content(C, P) + β·L_style(S, P) + γ·L_tv(P)``, every term relative to its target's
magnitude (:mod:`nst.base.losses`), solved coarse-to-fine over several scales, each carried up
to start the next. Every option lives in one validated :class:`GatysOptions`.

The loss network (:mod:`nst.networks.loss_network`) is VGG-19 when its weights can be had:
content at relu4_2, style at relu1_1, relu2_1, relu3_1, relu4_1 and relu5_1, the paper's
method. Offline it is the packaged MobileNetV2, whose layers and defaults were chosen by
looking at results (:data:`LAYERS`, :data:`DEFAULTS`).

A run may start from the any-style network's picture (``init="arbitrary"``, Ghiasi et al. 2017),
painted with the same styles and masks, which is already near a low loss. Under a
``time_limit`` the scales are planned from the measured cost of a step (:func:`fit_scales`).

The package is split by job: :mod:`~nst.methods.gatys.options` (what a run can be asked),
:mod:`~nst.methods.gatys.planner` (the scales, by steps or by time),
:mod:`~nst.methods.gatys.targets` (what the loss network reads) and
:mod:`~nst.methods.gatys.loop` (the optimisation).
"""

from nst.methods.gatys.loop import Progress, stylize
from nst.methods.gatys.options import (
    DEFAULTS,
    INITS,
    LAYERS,
    OPTIMIZERS,
    POOLINGS,
    PRESERVE_COLOR,
    Defaults,
    GatysOptions,
    Init,
    Optimizer,
    Pooling,
    PreserveColor,
    health,
    loss_network,
    loss_network_for,
    resolve,
)
from nst.methods.gatys.planner import SCALE_STEPS, fit_scales, scales_for
from nst.methods.gatys.targets import GramCache, Jittered, style_cache

__all__ = [
    "DEFAULTS",
    "INITS",
    "LAYERS",
    "OPTIMIZERS",
    "POOLINGS",
    "PRESERVE_COLOR",
    "SCALE_STEPS",
    "Defaults",
    "GatysOptions",
    "GramCache",
    "Init",
    "Jittered",
    "Optimizer",
    "Pooling",
    "PreserveColor",
    "Progress",
    "fit_scales",
    "health",
    "loss_network",
    "loss_network_for",
    "resolve",
    "scales_for",
    "style_cache",
    "stylize",
]
