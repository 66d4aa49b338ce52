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
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
import statistics
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, get_args

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from nst.base.color import luminance, match_color, transfer_luminance
from nst.base.device import deterministic
from nst.base.health import Health
from nst.base.images import (
    fit_long_side,
    region_weights,
    resize_long_side,
    to_image,
    to_tensor,
)
from nst.base.losses import (
    LayerApply,
    LossLayers,
    PerceptualLoss,
    Scale,
    TVLoss,
    content_terms,
    gram_matrix,
    guided_style_terms,
    style_terms,
)
from nst.base.options import (
    blend_weights,
    check,
    check_choice,
    check_non_negative,
    check_positive,
    check_regions,
    option,
)
from nst.base.settings import current
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
    """A loss network's defaults: β (style), γ (total variation), the optimiser, and the ``jitter``,
    the stride within which the pastiche is shifted at random each step (0: not shifted). α
    (content) is 1 on every network."""

    style: float
    tv: float
    optimizer: Optimizer
    jitter: int


DEFAULTS = {
    "vgg19": Defaults(style=10.0, tv=0.0, optimizer="lbfgs", jitter=0),
    "mobilenet": Defaults(style=5.0, tv=5.0, optimizer="adam", jitter=16),
}
"""Each loss network's :class:`Defaults`; VGG-19's are the paper's method. MobileNetV2's were chosen
by looking: at 384 px and 100 steps, β = 10 washes out the photo's smaller shapes (windows,
branches) and β = 2.5 paints too little; γ = 5 removes high-frequency patterns the network barely
sees. Left on one lattice, its stride-2 layers let the optimiser paint flat, axis-aligned squares
about 8 px across (the lattice of its ⅛-resolution layers, moved by each scale's resizing): the
loss reads the pastiche through a whole-pixel shift ``(dy, dx)``, uniform in ``[0, 16)²`` (its
deepest layers' stride) and new each step, both pastiche and photo edge-padded by it, so no
lattice is favoured. The loss then changes from step to step, which Adam takes in its stride and
L-BFGS, whose curvature pairs assume one function, does not (at 384 px, 100 steps, on the drawn
test pair: colour distance 0.31× the photo's and edge correlation 0.46 with Adam, 0.61× and 0.39
with L-BFGS)."""

PreserveColor = Literal["none", "luminance", "histogram"]
Pooling = Literal["avg", "max"]
INITS, OPTIMIZERS, PRESERVE_COLOR, POOLINGS = (get_args(t) for t in (Init, Optimizer, PreserveColor, Pooling))


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
      β = 5 and γ = 5.

    ``loss_network``: ``auto`` is VGG-19 when its weights can be had, else MobileNetV2
    (:func:`nst.networks.loss_network.choose`); ``pooling`` applies to VGG-19 only.

    ``optimizer`` left None is the loss network's (L-BFGS on VGG-19, Adam on MobileNetV2). ``lr`` is
    Adam's step in pixel units; L-BFGS takes unit steps. ``style_blend`` gives several styles'
    shares (equal when None). ``steps`` is the budget over all scales; 100 keeps a 384-pixel run
    under about two minutes on a 2-core CPU.

    ``init``: the photo (``content``), noise, noise in the styles' colours (``style``), or the
    any-style network's picture of the photo in the same styles (``arbitrary``).

    ``time_limit``: the run plans its scales to end within it (:func:`fit_scales`), so its last
    scale, and the result, is the largest long side up to ``size`` that fits; it stops there,
    or at the limit if a step costs more than measured.
    """

    size: int = option(384, "output long side in pixels")
    steps: int = option(100, "optimisation steps in all")
    content_weight: float = option(1.0, "α, the content term's weight")
    style_weight: float | None = option(
        None, "β, the style term's weight (default: the loss network's, 10 on VGG-19, 5 on MobileNetV2)"
    )
    tv_weight: float | None = option(
        None,
        "γ, the total variation term's weight (default: the loss network's, 0 on VGG-19, 5 on MobileNetV2)",
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
        for name in ("size", "steps", "min_scale", "preview_every", "style_scale", "lr"):
            check_positive(name, getattr(self, name))
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


@dataclass(frozen=True)
class Progress:
    """One optimisation step. ``image`` is set on preview steps and on the final event (``done``)."""

    step: int
    total: int
    scale: int
    scales: int
    size: tuple[int, int]
    losses: dict[str, float]
    elapsed: float
    image: Image.Image | None = None
    done: bool = False


@dataclass
class GramCache:
    """Style targets by (style image, scale, options), least recently used dropped first."""

    maxsize: int = 8
    hits: int = 0
    misses: int = 0
    _entries: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, key: tuple, compute: Callable[[], dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        with self._lock:
            if key in self._entries:
                self.hits += 1
                self._entries.move_to_end(key)
                return self._entries[key]
            self.misses += 1
        value = compute()
        with self._lock:
            self._entries[key] = value
            if len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return value


style_cache = GramCache()


def _digest(img: Image.Image) -> str:
    return hashlib.blake2b(img.tobytes(), digest_size=16).hexdigest() + f"{img.size}{img.mode}"


def scales_for(long_side: int, min_scale: int = 128, multiscale: bool = True) -> list[int]:
    """Long sides of the coarse-to-fine scales, ascending by √2 from about ``min_scale``."""
    sizes = [long_side]
    while multiscale and min_scale <= round(sizes[-1] / math.sqrt(2)) < sizes[-1]:
        sizes.append(round(sizes[-1] / math.sqrt(2)))
    return sizes[::-1]


def _split_steps(steps: int, scales: int) -> list[int]:
    """Equal steps per scale; the remainder goes to the finest scales."""
    base, extra = divmod(steps, scales)
    return [base + (i >= scales - extra) for i in range(scales)]


def stylize(
    content: Image.Image,
    styles: Sequence[Image.Image],
    options: GatysOptions | None = None,
    *,
    masks: Sequence[Image.Image] | None = None,
    device: torch.device | None = None,
    **changes: object,
) -> Iterator[Progress]:
    """Stream the optimisation of a pastiche of ``content`` in the style of ``styles``.

    ``options`` (default :class:`GatysOptions`), with ``changes`` to any of its fields.
    Yields a :class:`Progress` per step (with a preview image on the first step and
    every ``preview_every`` steps) and ends with ``done=True`` and the final image,
    whose long side is ``size`` with the content's aspect ratio. It stops after
    ``steps`` steps in all or after ``time_limit`` seconds; a caller that stops
    iterating cancels it.

    Several ``styles`` are blended by their Gram targets: ``G_l = Σ_k b_k G_l(S_k)``
    with ``b = style_blend / Σ style_blend``.

    ``masks`` (one ``L`` image per style, any size, stretched to the content) place each style
    in its own region instead (Gatys et al. 2017, spatial control): with ``m_k`` the weights of
    :func:`~nst.base.images.region_weights` (Σ_k m_k ≤ 1), area-pooled to each style layer's
    resolution at each scale, the style term is ``β · Σ_l w_l Σ_k mean(m_k) · ‖G_l^k(P) −
    G_l(S_k)‖² / ‖G_l(S_k)‖²`` with the guided Gram ``G_l^k(P) = (F_l ∘ m_k)(F_l ∘ m_k)ᵀ /
    (C_l·Σ_p m_k(p)²)`` (:class:`~nst.base.losses.GuidedStyleLoss`). ``style_blend`` is refused
    then, and an ``init="style"`` start takes the styles' colours in equal shares. Where the
    masks sum to under 1 only the content (and TV) terms act, so the pastiche stays near the
    photo there. One all-white mask gives the same pastiche as none.

    ``style_scale`` sizes the style images
    relative to the pastiche. ``preserve_color`` is ``"luminance"`` (optimise luminance,
    keep the content's chroma) or ``"histogram"`` (match the style's colours to the
    content's first). A seeded run gives the same pastiche each time on the same device;
    on CUDA it selects deterministic kernels for that (slower; see the README).

    Options are checked before any work; then the loss network is resolved (:func:`resolve`),
    so an unavailable one fails here, before the first step.
    """
    options = dataclasses.replace(options or GatysOptions(), **changes)
    blend = blend_weights(options.style_blend, len(styles))
    if masks is not None:
        check_regions(masks, len(styles), options.style_blend)
        blend = blend_weights(None, len(styles))
    out_w, out_h = fit_long_side(content.size, options.size)
    check(
        out_w * out_h <= current().max_image_pixels,
        f"size {options.size} makes a {out_w}×{out_h} image, over {current().max_image_pixels} pixels",
    )
    options = resolve(options, device)
    layers = LAYERS[options.loss_network]
    net = loss_network.features(
        options.loss_network, (layers.content, *layers.style), options.pooling, device
    )
    return _optimise(content, list(styles), blend, net, options, None if masks is None else list(masks))


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
    """``options`` with ``loss_network`` made concrete, and ``style_weight``, ``tv_weight`` and
    ``optimizer`` that are None given that network's defaults (:data:`DEFAULTS`)."""
    name = loss_network_for(options, device).name
    defaults = DEFAULTS[name]
    return dataclasses.replace(
        options,
        loss_network=name,
        style_weight=defaults.style if options.style_weight is None else options.style_weight,
        tv_weight=defaults.tv if options.tv_weight is None else options.tv_weight,
        optimizer=options.optimizer or defaults.optimizer,
    )


def _style_targets(
    net: nn.Module,
    layers: LossLayers,
    styles: list[Image.Image],
    blend: list[float],
    long_side: int,
    content: torch.Tensor,
    preserve_color: str,
) -> dict[str, torch.Tensor]:
    """``Σ_k b_k G_l(S_k)`` for each style layer, the styles sized to ``long_side``."""
    targets: dict[str, torch.Tensor] = {}
    for style, b in zip(styles, blend, strict=True):
        s = to_tensor(resize_long_side(style, long_side), content.device)
        if preserve_color != "none":
            s = match_color(s, content)
        with torch.no_grad():
            features = net(s)
        for layer in layers.style:
            targets[layer] = targets.get(layer, 0) + b * gram_matrix(features[layer])
    return targets


def _init(
    init: str,
    content: torch.Tensor,
    styles: list[torch.Tensor],
    blend: list[float],
    generator: torch.Generator,
) -> torch.Tensor:
    if init == "content":
        return content.clone()
    noise = torch.rand(content.shape, generator=generator).to(content.device)
    if init == "noise":
        return noise
    mean = sum(b * s.mean(dim=(2, 3), keepdim=True) for s, b in zip(styles, blend, strict=True))
    std = sum(b * s.std(dim=(2, 3), keepdim=True) for s, b in zip(styles, blend, strict=True))
    return ((noise - 0.5) * math.sqrt(12) * std + mean).clamp_(0, 1)


def _stepper(
    loss: PerceptualLoss, pastiche: torch.Tensor, options: GatysOptions
) -> Callable[[], dict[str, float]]:
    """One optimiser step on ``pastiche`` (kept in [0, 1]); returns the loss terms before it.

    The optimiser sees ``L / L₀``, L₀ the loss at this scale's start: the same
    minimiser, but L-BFGS's absolute curvature test (``yᵀs > 1e-10``) no longer
    depends on the loss's units.
    """
    if options.optimizer == "lbfgs":
        opt = torch.optim.LBFGS(
            [pastiche], lr=1, max_iter=1, history_size=20, tolerance_grad=0, tolerance_change=0
        )
    else:
        opt = torch.optim.Adam([pastiche], lr=options.lr)
    state: dict = {}

    def closure() -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        terms = loss(pastiche)
        state.setdefault("l0", terms["total"].item() or 1.0)
        objective = terms["total"] / state["l0"]
        objective.backward()
        state["losses"] = {k: v.item() for k, v in terms.items()}
        return objective.detach()

    def step() -> dict[str, float]:
        opt.step(closure)
        with torch.no_grad():
            pastiche.clamp_(0, 1)
        return state["losses"]

    return step


def _loss(
    net: nn.Module,
    content: torch.Tensor,
    grams: dict[str, torch.Tensor] | list[dict[str, torch.Tensor]],
    options: GatysOptions,
    regions: torch.Tensor | None = None,
) -> PerceptualLoss:
    """α content + β style + γ TV. ``grams`` is the blended target ``{layer: G_l}``; with
    ``regions`` (the masks' weights at the content's size, [K, 1, H, W]), one such per style,
    each style guided over its region, the weights area-pooled to each style layer's size."""
    layers = LAYERS[options.loss_network]
    with torch.no_grad():
        features = net(content)
    content_target = features[layers.content]
    if regions is not None:
        pooled = {layer: F.adaptive_avg_pool2d(regions, features[layer].shape[-2:]) for layer in layers.style}
    groups = {
        "content": content_terms({layers.content: content_target}, options.content_weight),
        "style": style_terms(grams, layers.style_weights, options.style_weight)
        if regions is None
        else guided_style_terms(grams, pooled, layers.style_weights, options.style_weight),
        "tv": [Scale(LayerApply(TVLoss(), None), options.tv_weight)] if options.tv_weight else [],
    }
    return PerceptualLoss(net, groups)


class _Scale(NamedTuple):
    """One scale of a run: the ``index``-th of ``count`` (from 1, the count as planned now), its long
    ``side``, its ``steps``, the ``deadline``, seconds from the start by which the run leaves it, and
    the ``last`` scale's side as planned now (the previews' size)."""

    index: int
    count: int
    side: int
    steps: int
    deadline: float
    last: int


SCALE_STEPS = 10
"""The fewest steps a time-limited plan gives each of its scales (:func:`fit_scales`)."""


def _first(o: GatysOptions) -> tuple[int, int, float]:
    """The first scale's (side, steps, deadline): that of the plan by steps, :func:`scales_for` with
    :func:`_split_steps`; under a time limit it ends by its share of the limit by cost,
    ``time_limit · c_1 / Σ_j c_j`` with ``c_j = n_j·side_j²`` (steps × pixels)."""
    sides = scales_for(o.size, o.min_scale, o.multiscale)
    plan = [(side, n) for side, n in zip(sides, _split_steps(o.steps, len(sides)), strict=True) if n]
    side, steps = plan[0]
    if o.time_limit is None:
        return side, steps, math.inf
    return side, steps, o.time_limit * steps * side**2 / sum(n * s**2 for s, n in plan)


def fit_scales(
    size: int, min_scale: int, done: int, steps: int, seconds: float, cost: Callable[[int], float]
) -> list[tuple[int, int]]:
    """The rest of a time-limited run after a scale of long side ``done``, as (side, steps) pairs.

    For a last side ``L`` from ``size`` down in 16-pixel steps (to ``1.25·done``: a smaller step up
    is not worth its setup), the scales are those of :func:`scales_for` ``(L)`` at least
    ``1.25·done``; the ``steps`` left are split among them (:func:`_split_steps`), each scale
    getting at most ``n = ⌊seconds / Σ_i cost(side_i)⌋ − 2`` (equal steps; two steps' time a
    scale for its targets and the network's set-up at a new size), ``cost(side)`` being a step's
    seconds. The first ``L`` whose scales all get ``SCALE_STEPS`` steps (or their whole share, when
    that is fewer) is the plan: the largest last scale that fits. Empty when none fits, or no step
    is left: the run ends at the scale it finished.
    """
    for last in range(size, math.ceil(1.25 * done) - 1, -16) if steps > 0 else ():
        sides = [side for side in scales_for(last, min_scale) if side >= 1.25 * done]
        shares = _split_steps(steps, len(sides))
        afford = math.floor(seconds / sum(cost(side) for side in sides)) - 2
        given = [min(share, afford) for share in shares]
        if min(given) >= min(SCALE_STEPS, min(shares)) and min(given) > 0:
            return [(side, n) for side, n in zip(sides, given, strict=True)]
    return []


def _targets(
    net: nn.Module,
    content: torch.Tensor,
    side: int,
    style_imgs: list[Image.Image],
    blend: list[float],
    masks: list[Image.Image] | None,
    keys: tuple[tuple[str, ...], str | None],
    o: GatysOptions,
) -> nn.Module:
    """The loss at one scale (:func:`_loss`): ``content``'s targets and the styles' Gram targets.

    The style targets are the blend's ``Σ_k b_k G_l(S_k)``, or with masks each style's own
    ``G_l(S_k)`` (cached as that style's alone), the styles' long side ``style_scale · side``;
    :data:`style_cache` keeps them by ``keys`` (the styles' digests, and the content's when
    colours are matched to it) and the settings. On a network with a jitter (:data:`DEFAULTS`)
    the loss is :class:`Jittered`.
    """
    digests, colour_key = keys
    runs = (
        [(slice(None), blend)] if masks is None else [(slice(k, k + 1), [1.0]) for k in range(len(digests))]
    )
    device, layers = next(net.parameters()).device, LAYERS[o.loss_network]
    style_side = max(1, round(side * o.style_scale))
    setting = (style_side, o.preserve_color, o.loss_network, o.pooling, str(device))
    grams = [
        style_cache.get(
            ((digests[which], colour_key), tuple(b), *setting),
            functools.partial(
                _style_targets, net, layers, style_imgs[which], b, style_side, content, o.preserve_color
            ),
        )
        for which, b in runs
    ]
    targets = grams[0] if masks is None else grams
    size = (content.shape[-1], content.shape[-2])
    regions = None if masks is None else region_weights(masks, size, device)
    stride = DEFAULTS[o.loss_network].jitter
    if not stride:
        return _loss(net, content, targets, o, regions)

    def shifted(pad: tuple[int, int, int, int]) -> PerceptualLoss:
        moved = None if regions is None else F.pad(regions, pad, mode="replicate")
        return _loss(net, F.pad(content, pad, mode="replicate"), targets, o, moved)

    return Jittered(shifted, stride, torch.Generator().manual_seed(o.seed))


class Jittered(nn.Module):
    """The loss read through a random whole-pixel shift of the pastiche, new at each call.

    With ``(dy, dx)`` uniform in ``[0, stride)²``, the pastiche and the photo are edge-padded by
    ``dx`` on the left, ``stride − dx`` on the right (``dy``, ``stride − dy`` on the top and bottom),
    so every pixel falls on each place of the network's lattice in turn. ``build(pad)`` makes the
    loss for one padding (the photo's targets there), kept for that padding's next draw; this
    module is made for one scale of one run, so nothing is shared between runs.
    """

    def __init__(
        self,
        build: Callable[[tuple[int, int, int, int]], PerceptualLoss],
        stride: int,
        generator: torch.Generator,
    ) -> None:
        super().__init__()
        self.build, self.stride, self.generator = build, stride, generator
        self.losses: dict[tuple[int, int, int, int], PerceptualLoss] = {}

    def forward(self, pastiche: torch.Tensor) -> dict[str, torch.Tensor]:
        dy, dx = torch.randint(self.stride, (2,), generator=self.generator).tolist()
        pad = (dx, self.stride - dx, dy, self.stride - dy)
        if pad not in self.losses:
            self.losses[pad] = self.build(pad)
        return self.losses[pad](F.pad(pastiche, pad, mode="replicate"))


def _painted(
    content_img: Image.Image,
    style_imgs: list[Image.Image],
    blend: list[float],
    masks: list[Image.Image] | None,
    device: torch.device,
) -> torch.Tensor:
    """The warm start (``init="arbitrary"``): the any-style network's picture of ``content_img`` in the
    styles, blended by ``blend`` or placed by ``masks`` as the run places them, [1, 3, H, W]."""
    from nst.methods import arbitrary  # the one-pass engine is loaded only for a warm start

    options = arbitrary.ArbitraryOptions(style_blend=None if masks is not None else tuple(blend))
    style = arbitrary.load_style(style_imgs, options, content_img, device, masks)
    return to_tensor(arbitrary.stylize(content_img, style), device)


def _start(
    previous: torch.Tensor | None,
    content: torch.Tensor,
    side: int,
    style_imgs: list[Image.Image],
    blend: list[float],
    o: GatysOptions,
    generator: torch.Generator,
    warm: Callable[[], torch.Tensor],
) -> torch.Tensor:
    """A scale's first pastiche, to be optimised: at the first scale :func:`_init`'s (the styles at long
    side ``side``) or the ``warm`` start's picture, area-resized to the scale; after it the
    ``previous`` scale's carried up to ``content``'s size (bicubic, kept in [0, 1])."""
    if previous is None and o.init == "arbitrary":
        pastiche = F.interpolate(warm(), size=content.shape[-2:], mode="area")
    elif previous is None:
        styles_t = [to_tensor(resize_long_side(s, side), content.device) for s in style_imgs]
        pastiche = _init(o.init, content, styles_t, blend, generator)
    else:
        pastiche = F.interpolate(
            previous.detach(), size=content.shape[-2:], mode="bicubic", align_corners=False
        ).clamp_(0, 1)
    return pastiche.requires_grad_(True)


def _picture(pastiche: torch.Tensor, final_content: Image.Image, preserve_color: str) -> Image.Image:
    """The pastiche at ``final_content``'s size (previews too, so that they show at the size to come),
    the content's chroma put back under ``preserve_color="luminance"``."""
    img = to_image(pastiche)
    if img.size != final_content.size:
        img = img.resize(final_content.size, Image.Resampling.BICUBIC)
    return transfer_luminance(img, final_content) if preserve_color == "luminance" else img


def _descend(
    step_fn: Callable[[], dict[str, float]],
    scale: _Scale,
    step: int,
    size: tuple[int, int],
    start: float,
    o: GatysOptions,
    picture: Callable[[], Image.Image],
) -> Generator[Progress, None, tuple[int, dict[str, float], float]]:
    """One scale's optimiser loop from run step ``step``: a :class:`Progress` per step but the run's
    last (a ``picture`` on the first and every ``preview_every``); it leaves the scale early at its
    ``deadline``. Returns the run's step count, the last step's loss terms and the median seconds of
    its steps after the first (which also sets up the network's kernels for the new size)."""
    losses: dict[str, float] = {}
    times: list[float] = []
    for _ in range(scale.steps):
        began = time.perf_counter()
        losses = step_fn()
        times.append(time.perf_counter() - began)
        step += 1
        elapsed = time.perf_counter() - start
        if step == o.steps:
            break
        preview = step == 1 or step % o.preview_every == 0
        yield Progress(
            step, o.steps, scale.index, scale.count, size, losses, elapsed, picture() if preview else None
        )
        if elapsed >= scale.deadline:
            break
    return step, losses, statistics.median(times[1:] or times)


def _scales(
    o: GatysOptions, content_size: tuple[int, int], start: float
) -> Generator[_Scale, tuple[int, float], None]:
    """The run's scales, each handed out when it is sent the run's steps so far and the seconds a
    step of the scale before took (its median).

    Without a time limit: the plan by steps, :func:`scales_for` with :func:`_split_steps`. Under one,
    the first scale is that plan's (:func:`_first`); after each, the rest is planned by
    :func:`fit_scales` from the time and steps left, a step's cost taken as proportional to its
    pixels at the rate just measured. The run may leave any scale at the time limit.
    """
    sides = scales_for(o.size, o.min_scale, o.multiscale)
    if o.time_limit is None:
        plan = [(side, n) for side, n in zip(sides, _split_steps(o.steps, len(sides)), strict=True) if n]
        for index, (side, n) in enumerate(plan, start=1):
            yield _Scale(index, len(plan), side, n, math.inf, o.size)
        return

    def pixels(side: int) -> int:
        return math.prod(fit_long_side(content_size, side))

    side, n, deadline = _first(o)
    scale = _Scale(1, len(sides), side, n, deadline, o.size)
    while True:
        done, seconds = yield scale
        left = o.time_limit - (time.perf_counter() - start)
        cost = functools.partial(_cost, seconds / pixels(scale.side), pixels)
        plan = fit_scales(o.size, o.min_scale, scale.side, o.steps - done, left, cost) if left > 0 else []
        if not plan:
            return
        index = scale.index + 1
        scale = _Scale(index, index + len(plan) - 1, *plan[0], o.time_limit, plan[-1][0])


def _cost(per_pixel: float, pixels: Callable[[int], int], side: int) -> float:
    """Seconds a step at long ``side`` takes, at ``per_pixel`` seconds a pixel."""
    return per_pixel * pixels(side)


def _optimise(
    content_img: Image.Image,
    style_imgs: list[Image.Image],
    blend: list[float],
    net: nn.Module,
    options: GatysOptions,
    masks: list[Image.Image] | None = None,
) -> Iterator[Progress]:
    """Coarse to fine over the scales of :func:`_scales`: at each, the loss's targets (:func:`_targets`),
    the pastiche carried up from the scale before (:func:`_start`) and the scale's steps
    (:func:`_descend`); then the final event with the picture (:func:`_picture`) at the last scale's
    size. Under ``preserve_color="luminance"`` the whole optimisation sees luminance only."""
    o, start = options, time.perf_counter()
    generator = torch.Generator().manual_seed(o.seed)
    original = content_img
    if o.preserve_color == "luminance":
        content_img, style_imgs = luminance(content_img), [luminance(s) for s in style_imgs]
    step, pastiche, losses = 0, None, {}
    digests = tuple(_digest(s) for s in style_imgs)
    colour_key = _digest(content_img) if o.preserve_color != "none" else None
    device = next(net.parameters()).device
    warm = functools.partial(
        _painted, resize_long_side(content_img, o.size), style_imgs, blend, masks, device
    )
    planner = _scales(o, content_img.size, start)
    scale = next(planner)
    with deterministic(device):
        while scale is not None:
            content = to_tensor(resize_long_side(content_img, scale.side), device)
            loss = _targets(net, content, scale.side, style_imgs, blend, masks, (digests, colour_key), o)
            pastiche = _start(pastiche, content, scale.side, style_imgs, blend, o, generator, warm)
            size = tuple(reversed(content.shape[-2:]))
            shown = resize_long_side(original, scale.last)
            picture = functools.partial(_picture, pastiche, shown, o.preserve_color)
            step, losses, seconds = yield from _descend(
                _stepper(loss, pastiche, o), scale, step, size, start, o, picture
            )
            last, scale = scale, _next(planner, (step, seconds))
    final = resize_long_side(original, max(pastiche.shape[-2:]))
    image = _picture(pastiche, final, o.preserve_color)
    elapsed = time.perf_counter() - start
    yield Progress(step, o.steps, last.index, last.index, final.size, losses, elapsed, image, done=True)


def _next(planner: Generator[_Scale, tuple[int, float], None], done: tuple[int, float]) -> _Scale | None:
    """The planner's next scale, sent the run's step count and the last scale's seconds a step; None
    when the run is over."""
    try:
        return planner.send(done)
    except StopIteration:
        return None
