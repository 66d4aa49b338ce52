"""Gatys et al. (2016): optimise the pastiche's pixels against perceptual losses of a loss network.

``L = α·L_content(C, P) + β·L_style(S, P) + γ·L_tv(P)``, every term relative to its target's
magnitude (:mod:`nst.base.losses`), solved coarse-to-fine over several scales, each carried up
to start the next. Every option lives in one validated :class:`GatysOptions`.

The loss network (:mod:`nst.networks.loss_network`) is VGG-19 when its weights can be had:
content at relu4_2, style at relu1_1, relu2_1, relu3_1, relu4_1 and relu5_1, the paper's
method. Offline it is the packaged MobileNetV2, whose layers and default weights were
chosen by looking at results (:data:`LAYERS`, :data:`WEIGHTS`).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
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


class Weights(NamedTuple):
    """A loss network's default β (style) and γ (total variation); α (content) is 1 on every network."""

    style: float
    tv: float


WEIGHTS = {"vgg19": Weights(style=10.0, tv=0.0), "mobilenet": Weights(style=5.0, tv=5.0)}
"""Each loss network's default :class:`Weights`. MobileNetV2's were chosen by looking: at 384 px and
100 steps, β = 10 washes out the photo's smaller shapes (windows, branches) and β = 2.5 paints too
little; without TV, L-BFGS finds high-frequency patterns that this stride-2 depthwise network barely
sees, and γ = 5 removes them while keeping the strokes."""

Init = Literal["content", "noise", "style"]
Optimizer = Literal["lbfgs", "adam"]
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
    - β and γ left None take the loss network's defaults (:data:`WEIGHTS`): on MobileNetV2,
      β = 5 and γ = 5.

    ``loss_network``: ``auto`` is VGG-19 when its weights can be had, else MobileNetV2
    (:func:`nst.networks.loss_network.choose`); ``pooling`` applies to VGG-19 only.

    ``lr`` is Adam's step in pixel units; L-BFGS takes unit steps. ``style_blend``
    gives several styles' shares (equal when None). ``steps`` is the budget over all
    scales; 100 keeps a 384-pixel run under about two minutes on a 2-core CPU.
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
    optimizer: Optimizer = option("lbfgs", "L-BFGS or Adam")
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
    time_limit: float | None = option(None, "seconds before the run stops and returns what it has")

    def __post_init__(self) -> None:
        for name in ("content_weight", "style_weight", "tv_weight"):
            if getattr(self, name) is not None:
                check_non_negative(name, getattr(self, name))
        for name in ("size", "steps", "min_scale", "preview_every", "style_scale", "lr"):
            check_positive(name, getattr(self, name))
        if self.time_limit is not None:
            check_positive("time_limit", self.time_limit)
        check_choice("init", self.init, INITS)
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
    """``options`` with ``loss_network`` made concrete, and ``style_weight`` and ``tv_weight`` that
    are None given that network's defaults (:data:`WEIGHTS`)."""
    name = loss_network_for(options, device).name
    style, tv = WEIGHTS[name]
    return dataclasses.replace(
        options,
        loss_network=name,
        style_weight=style if options.style_weight is None else options.style_weight,
        tv_weight=tv if options.tv_weight is None else options.tv_weight,
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
    """One scale of a run: the ``index``-th of ``count`` (from 1), its long ``side``, its ``steps``, and
    the ``deadline``, seconds from the start by which a time-limited run leaves it."""

    index: int
    count: int
    side: int
    steps: int
    deadline: float


def _plan(o: GatysOptions) -> list[_Scale]:
    """The scales of :func:`scales_for` with their steps (:func:`_split_steps`), those without any dropped.

    A time-limited run gives each scale its share of the budget by cost, ``c_i = n_i·side_i²``
    (steps × pixels): scale i ends by ``time_limit · Σ_{j≤i} c_j / Σ_j c_j``, so that the run
    still ends at the finest scale, having spent there what the plan would.
    """
    scales = scales_for(o.size, o.min_scale, o.multiscale)
    plan = [(side, n) for side, n in zip(scales, _split_steps(o.steps, len(scales)), strict=True) if n]
    cost = [n * side**2 for side, n in plan]
    out, planned = [], 0
    for index, (side, n_steps) in enumerate(plan, start=1):
        planned += cost[index - 1]
        deadline = math.inf if o.time_limit is None else o.time_limit * planned / sum(cost)
        out.append(_Scale(index, len(plan), side, n_steps, deadline))
    return out


def _targets(
    net: nn.Module,
    content: torch.Tensor,
    side: int,
    style_imgs: list[Image.Image],
    blend: list[float],
    masks: list[Image.Image] | None,
    keys: tuple[tuple[str, ...], str | None],
    o: GatysOptions,
) -> PerceptualLoss:
    """The loss at one scale (:func:`_loss`): ``content``'s targets and the styles' Gram targets.

    The style targets are the blend's ``Σ_k b_k G_l(S_k)``, or with masks each style's own
    ``G_l(S_k)`` (cached as that style's alone), the styles' long side ``style_scale · side``;
    :data:`style_cache` keeps them by ``keys`` (the styles' digests, and the content's when
    colours are matched to it) and the settings.
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
    if masks is None:
        return _loss(net, content, grams[0], o)
    regions = region_weights(masks, (content.shape[-1], content.shape[-2]), device)
    return _loss(net, content, grams, o, regions)


def _start(
    previous: torch.Tensor | None,
    content: torch.Tensor,
    side: int,
    style_imgs: list[Image.Image],
    blend: list[float],
    o: GatysOptions,
    generator: torch.Generator,
) -> torch.Tensor:
    """A scale's first pastiche, to be optimised: :func:`_init`'s at the first scale (the styles at
    long side ``side``), else the ``previous`` scale's carried up to ``content``'s size (bicubic,
    kept in [0, 1])."""
    if previous is None:
        styles_t = [to_tensor(resize_long_side(s, side), content.device) for s in style_imgs]
        pastiche = _init(o.init, content, styles_t, blend, generator)
    else:
        pastiche = F.interpolate(
            previous.detach(), size=content.shape[-2:], mode="bicubic", align_corners=False
        ).clamp_(0, 1)
    return pastiche.requires_grad_(True)


def _picture(pastiche: torch.Tensor, final_content: Image.Image, preserve_color: str) -> Image.Image:
    """The pastiche at the final size (previews too, so that they show at the size to come), the
    content's chroma put back under ``preserve_color="luminance"``."""
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
) -> Generator[Progress, None, tuple[int, dict[str, float]]]:
    """One scale's optimiser loop from run step ``step``: a :class:`Progress` per step but the run's
    last (a ``picture`` on the first and every ``preview_every``); it leaves the scale early at its
    ``deadline``. Returns the run's step count and the last step's loss terms."""
    losses: dict[str, float] = {}
    for _ in range(scale.steps):
        losses = step_fn()
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
    return step, losses


def _optimise(
    content_img: Image.Image,
    style_imgs: list[Image.Image],
    blend: list[float],
    net: nn.Module,
    options: GatysOptions,
    masks: list[Image.Image] | None = None,
) -> Iterator[Progress]:
    """Coarse to fine over the scales of :func:`_plan`: at each, the loss's targets (:func:`_targets`),
    the pastiche carried up from the scale before (:func:`_start`) and the scale's steps
    (:func:`_descend`); then the final event with the picture (:func:`_picture`). Under
    ``preserve_color="luminance"`` the whole optimisation sees luminance only."""
    o = options
    start = time.perf_counter()
    generator = torch.Generator().manual_seed(o.seed)
    final_content = resize_long_side(content_img, o.size)
    if o.preserve_color == "luminance":
        content_img, style_imgs = luminance(content_img), [luminance(s) for s in style_imgs]
    plan = _plan(o)
    step, pastiche, losses = 0, None, {}
    digests = tuple(_digest(s) for s in style_imgs)
    colour_key = _digest(content_img) if o.preserve_color != "none" else None
    device = next(net.parameters()).device
    with deterministic(device):
        for scale in plan:
            content = to_tensor(resize_long_side(content_img, scale.side), device)
            loss = _targets(net, content, scale.side, style_imgs, blend, masks, (digests, colour_key), o)
            pastiche = _start(pastiche, content, scale.side, style_imgs, blend, o, generator)
            size = tuple(reversed(content.shape[-2:]))
            picture = functools.partial(_picture, pastiche, final_content, o.preserve_color)
            step, losses = yield from _descend(
                _stepper(loss, pastiche, o), scale, step, size, start, o, picture
            )
    yield Progress(
        step,
        o.steps,
        len(plan),
        len(plan),
        final_content.size,
        losses,
        time.perf_counter() - start,
        _picture(pastiche, final_content, o.preserve_color),
        done=True,
    )
