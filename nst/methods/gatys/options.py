"""What a Gatys run can be asked (:class:`GatysOptions`), each loss network's layers and defaults,
and the loss network a run resolves to (:func:`resolve`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal, NamedTuple, get_args

import torch

from nst.base.color import PRESERVE_COLOR, PreserveColor
from nst.base.health import Health
from nst.base.losses import LossLayers
from nst.base.options import blend_weights, check_choice, check_non_negative, check_positive, option
from nst.base.weights import WeightsError
from nst.networks import loss_network
from nst.networks.loss_network import Chosen

LAYERS = {
    "vgg19": LossLayers("relu4_2", ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")),
    # MobileNetV2's block 9 (64 channels at 1/16) keeps the photo's layout; Grams from ½ to 1/16
    # resolution carry strokes and colour.
    "mobilenet": LossLayers("block9", ("conv", "block0", "block2", "block5", "block9", "block12")),
}
"""Where Gatys reads each loss network (:class:`~nst.base.losses.LossLayers`): VGG-19's are the paper's."""


Init = Literal["content", "noise", "style", "arbitrary"]
Optimizer = Literal["lbfgs", "adam"]


class Defaults(NamedTuple):
    """A loss network's defaults: β (style), γ (total variation), the optimiser, the ``jitter``, the
    stride within which the pastiche is shifted at random each step (0: not shifted), and the
    output's long ``size``. α (content) is 1 on every network."""

    style: float
    tv: float
    optimizer: Optimizer
    jitter: int
    size: int


DEFAULTS = {
    "vgg19": Defaults(style=10.0, tv=0.0, optimizer="lbfgs", jitter=0, size=384),
    "mobilenet": Defaults(style=7.5, tv=10.0, optimizer="adam", jitter=16, size=1024),
}
"""Each loss network's :class:`Defaults`; VGG-19's are the paper's method. Sizes: VGG-19 takes about
1.1 s a step at 448 px on a 2-core CPU, so 384 px keeps 100 steps near two minutes; MobileNetV2
paints 1024 px in 100 steps in about 20 s there. MobileNetV2's weights were chosen by looking and
measuring (``python -m bench.gatys --pairs``): at 384 px, β = 10 washes out the photo's smaller
shapes (windows, branches) and β = 2.5 paints too little; at 1024 px, β = 7.5 takes the painting's
colours (within 0.37× the photo's distance on five photo/painting pairs) while edge correlation
stays above 0.6. γ = 10 removes high-frequency patterns the network barely sees, and is isotropic
(:class:`~nst.base.losses.TVLoss`) so as not to favour axis-aligned edges. Left on one lattice, its
stride-2 layers let the optimiser paint flat, axis-aligned squares about 8 px across (the lattice of
its ⅛-resolution layers, moved by each scale's resizing): the loss reads the pastiche through a
whole-pixel shift ``(dy, dx)``, uniform in ``[0, 16)²`` (its deepest layers' stride) and new each
step, both pastiche and photo edge-padded by it, so no lattice is favoured. The loss then changes
from step to step, which Adam takes in its stride and L-BFGS, whose curvature pairs assume one
function, does not (at 384 px, 100 steps, on the drawn test pair: colour distance 0.31× the photo's
and edge correlation 0.46 with Adam, 0.61× and 0.39 with L-BFGS)."""

Pooling = Literal["avg", "max"]
INITS, OPTIMIZERS, POOLINGS = (get_args(t) for t in (Init, Optimizer, Pooling))


@dataclass(frozen=True)
class GatysOptions:
    """Everything a Gatys run can be asked, checked when made; the CLI and the app take their defaults here.

    **Weights.** Each loss term is relative to its target (:mod:`nst.base.losses`), so a term
    is about 1 when the pastiche is as far from the target as a blank image would be,
    and the weights compare like with like whatever the loss network's scale:

    - style layer weights: ``w_l = 1/5`` on each of VGG-19's style layers, as Gatys et al. Their equal
      weights only meant equal shares because of their normalised VGG; here the
      relative terms give that meaning with torchvision's weights too. (crowsonkb's
      256:64:16:4:1 compensates for the size of un-normalised deep-layer Gram matrices,
      which the relative terms already remove.)
    - ``content_weight`` α = 1 and, on VGG-19, ``style_weight`` β = 10: a pastiche that
      matches the style's Gram matrices to within 5% (style term ≈ 0.05·β = 0.5) while its
      relu4_2 activations differ from the photo's by half their energy (content term ≈ 0.5)
      is in balance. β/α = 10 thus plays the role of Gatys et al.'s α/β = 10⁻³, which
      was set in the raw units of Caffe's VGG and does not carry over to other units.
    - ``tv_weight`` γ = 0 on VGG-19: no smoothness prior, the paper's method.
    - β and γ left None take the loss network's defaults (:data:`DEFAULTS`): on MobileNetV2,
      β = 7.5 and γ = 10.

    ``loss_network``: ``auto`` is VGG-19 when its weights can be had, else MobileNetV2
    (:func:`nst.networks.loss_network.choose`); ``pooling`` applies to VGG-19 only.

    ``optimizer`` left None is the loss network's (L-BFGS on VGG-19, Adam on MobileNetV2). ``lr`` is
    Adam's step in pixel units; L-BFGS takes unit steps. ``style_blend`` gives several styles'
    shares (equal when None). ``steps`` is the budget over all scales. ``size`` left None is the
    loss network's: 384 px on VGG-19, 1024 on MobileNetV2, each about 100 steps' worth of a couple of
    minutes and 20 s on a 2-core CPU.

    ``init``: the photo (``content``), noise, noise in the styles' colours (``style``), or the
    any-style network's picture of the photo in the same styles (``arbitrary``).

    ``time_limit``: the run plans its scales to end within it (:func:`fit_scales`), so its last
    scale, and the result, is the largest long side up to ``size`` that fits; it stops there,
    or at the limit if a step costs more than measured.
    """

    size: int | None = option(
        None, "output long side in pixels (default: the loss network's, 384 on VGG-19, 1024 on MobileNetV2)"
    )
    steps: int = option(100, "optimisation steps in all")
    content_weight: float = option(1.0, "α, the content term's weight")
    style_weight: float | None = option(
        None, "β, the style term's weight (default: the loss network's, 10 on VGG-19, 7.5 on MobileNetV2)"
    )
    tv_weight: float | None = option(
        None,
        "γ, the total variation term's weight (default: the loss network's, 0 on VGG-19, 10 on MobileNetV2)",
    )
    style_blend: tuple[float, ...] | None = option(
        None, "shares of several styles, comma-separated, e.g. 0.7,0.3 (default: equal)"
    )
    init: Init = option("content", "where the pastiche starts")
    optimizer: Optimizer | None = option(
        None, "L-BFGS or Adam (default: the loss network's, L-BFGS on VGG-19, Adam on MobileNetV2)"
    )
    lr: float = option(0.02, "Adam's step size")
    multiscale: bool = option(
        True, "optimise at the output size only (default: coarse to fine)", flag="--single-scale"
    )
    min_scale: int = option(128, "coarsest long side")
    preserve_color: PreserveColor = option(
        "none", "keep the content's colours (a bare flag: luminance)", const="luminance"
    )
    style_scale: float = option(1.0, "style size relative to the output")
    loss_network: loss_network.Choice = option(
        "auto", "the network the losses read (auto: VGG-19 when its weights can be had, else MobileNetV2)"
    )
    pooling: Pooling = option("avg", "VGG-19's pooling")
    seed: int = option(0, "seed of the noise start")
    preview_every: int = option(10, "steps between previews", cli=False)
    time_limit: float | None = option(
        None, "seconds the run may take: the result is the largest size up to --size that fits"
    )

    def __post_init__(self) -> None:
        for name in ("content_weight", "style_weight", "tv_weight"):
            if getattr(self, name) is not None:
                check_non_negative(name, getattr(self, name))
        for name in ("steps", "min_scale", "preview_every", "style_scale", "lr"):
            check_positive(name, getattr(self, name))
        if self.size is not None:
            check_positive("size", self.size)
        if self.time_limit is not None:
            check_positive("time_limit", self.time_limit)
        check_choice("init", self.init, INITS)
        if self.optimizer is not None:
            check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_choice("preserve_color", self.preserve_color, PRESERVE_COLOR)
        check_choice("pooling", self.pooling, POOLINGS)
        check_choice("loss_network", self.loss_network, loss_network.CHOICES)
        if self.style_blend is not None:
            object.__setattr__(self, "style_blend", tuple(self.style_blend))
            blend_weights(self.style_blend, len(self.style_blend))


def loss_network_for(options: GatysOptions, device: torch.device | None = None) -> Chosen:
    """The loss network ``options`` run on here, and why (see :func:`nst.networks.loss_network.choose`)."""
    return loss_network.choose(options.loss_network, device)


def health(options: GatysOptions, device: torch.device | None = None) -> Health:
    """Ready when ``options``' loss network loads on ``device`` (``auto`` falls back to MobileNetV2
    when VGG-19's weights are missing), or why not."""
    try:
        name = loss_network_for(options, device).name
        loss_network.features(name, LAYERS[name].style, device=device)
    except (WeightsError, ValueError) as err:  # weights missing, or NST_LOSS_NETWORK misspelt
        return Health(False, str(err))
    return Health(True)


def resolve(options: GatysOptions, device: torch.device | None = None) -> GatysOptions:
    """``options`` with ``loss_network`` made concrete, and ``size``, ``style_weight``, ``tv_weight``
    and ``optimizer`` that are None given that network's defaults (:data:`DEFAULTS`)."""
    name = loss_network_for(options, device).name
    defaults = DEFAULTS[name]
    return dataclasses.replace(
        options,
        loss_network=name,
        size=options.size or defaults.size,
        style_weight=defaults.style if options.style_weight is None else options.style_weight,
        tv_weight=defaults.tv if options.tv_weight is None else options.tv_weight,
        optimizer=options.optimizer or defaults.optimizer,
    )
