"""The loop: the start of each scale, the optimiser's steps and the pictures a run streams
(:func:`stylize`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import statistics
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from nst.base.alpha import restore, split
from nst.base.color import luminance, transfer_luminance
from nst.base.device import deterministic
from nst.base.images import fit_long_side, resize_long_side, to_image, to_tensor
from nst.base.losses import PerceptualLoss
from nst.base.options import blend_weights, check, check_regions
from nst.base.settings import current
from nst.methods.gatys.options import LAYERS, GatysOptions, resolve
from nst.methods.gatys.planner import _next, _Scale, _scales
from nst.methods.gatys.targets import _digest, _targets
from nst.networks import loss_network


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

    An RGBA content's pictures keep its alpha; its hidden colours are filled (:func:`~nst.base.alpha.split`).

    Options are checked before any work; then the loss network is resolved (:func:`resolve`, which
    also gives a ``size`` left None the network's), so an unavailable one fails here, before the
    first step.
    """
    options = dataclasses.replace(options or GatysOptions(), **changes)
    blend = blend_weights(options.style_blend, len(styles))
    if masks is not None:
        check_regions(masks, len(styles), options.style_blend)
        blend = blend_weights(None, len(styles))
    if options.size is not None:  # refused before the network is resolved
        _check_pixels(content.size, options.size)
    options = resolve(options, device)
    _check_pixels(content.size, options.size)  # where none was asked, the loss network's
    layers = LAYERS[options.loss_network]
    net = loss_network.features(
        options.loss_network, (layers.content, *layers.style), options.pooling, device
    )
    colours, alpha = split(content)
    events = _optimise(colours, list(styles), blend, net, options, masks if masks is None else list(masks))
    return events if alpha is None else _with_alpha(events, alpha)


def _with_alpha(events: Iterator[Progress], alpha: Image.Image) -> Iterator[Progress]:
    """The run's events, each picture with the content's ``alpha`` (:func:`~nst.base.alpha.restore`)."""
    with contextlib.closing(events):
        for event in events:
            yield (
                event
                if event.image is None
                else dataclasses.replace(event, image=restore(event.image, alpha))
            )


def _check_pixels(content_size: tuple[int, int], size: int) -> None:
    out_w, out_h = fit_long_side(content_size, size)
    check(
        out_w * out_h <= current().max_image_pixels,
        f"size {size} makes a {out_w}×{out_h} image, over {current().max_image_pixels} pixels",
    )


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
