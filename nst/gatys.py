"""Gatys et al. (2016): optimise the pastiche's pixels against VGG-19 perceptual losses.

``L = α·L_content(C, P) + β·L_style(S, P)``, content at relu4_2 and style at
relu1_1, relu2_1, relu3_1, relu4_1 and relu5_1 (each ``w_l = 1/5``), solved
coarse-to-fine over several scales, each carried up to start the next.
"""

from __future__ import annotations

import functools
import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from PIL import Image

from nst.color import luminance, match_color, transfer_luminance
from nst.images import MAX_PIXELS, fit_long_side, resize_long_side, to_image, to_tensor
from nst.losses import PerceptualLoss, gram_matrix
from nst.options import blend_weights
from nst.vgg import VGGFeatures

CONTENT_LAYER = "relu4_2"
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
INITS = ("content", "noise", "style")
OPTIMIZERS = ("lbfgs", "adam")
PRESERVE_COLOR = ("none", "luminance", "histogram")


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
    *,
    style_blend: Sequence[float] | None = None,
    size: int = 384,
    steps: int = 100,
    content_weight: float = 1.0,
    style_weight: float = 5.0,
    tv_weight: float = 0.0,
    init: str = "content",
    optimizer: str = "lbfgs",
    lr: float = 0.02,
    multiscale: bool = True,
    min_scale: int = 128,
    preserve_color: str = "none",
    style_scale: float = 1.0,
    pooling: str = "avg",
    seed: int = 0,
    preview_every: int = 10,
    time_limit: float | None = None,
    device: torch.device | None = None,
) -> Iterator[Progress]:
    """Stream the optimisation of a pastiche of ``content`` in the style of ``styles``.

    Yields a :class:`Progress` per step (with a preview image on the first step and
    every ``preview_every`` steps) and ends with ``done=True`` and the final image,
    whose long side is ``size`` with the content's aspect ratio. It stops after
    ``steps`` steps in all or after ``time_limit`` seconds; a caller that stops
    iterating cancels it.

    Several ``styles`` are blended by their Gram targets: ``G_l = Σ_k b_k G_l(S_k)``
    with ``b = style_blend / Σ style_blend`` (equal by default). ``style_scale``
    sizes the style images relative to the pastiche. ``preserve_color`` is
    ``"luminance"`` (optimise luminance, keep the content's chroma) or
    ``"histogram"`` (match the style's colours to the content's first). ``lr`` is
    Adam's step in pixel units; L-BFGS takes unit steps.
    """
    blend = blend_weights(style_blend, len(styles))
    for name, value in (
        ("content_weight", content_weight),
        ("style_weight", style_weight),
        ("tv_weight", tv_weight),
        ("style_scale", style_scale),
    ):
        _check(math.isfinite(value) and value >= 0, f"{name} must be a finite number ≥ 0, not {value}")
    _check(style_scale > 0, "style_scale must be positive")
    _check(steps >= 1, f"steps must be at least 1, not {steps}")
    _check(size >= 1, f"size must be at least 1, not {size}")
    out_w, out_h = fit_long_side(content.size, size)
    _check(
        out_w * out_h <= MAX_PIXELS, f"size {size} makes a {out_w}×{out_h} image, over {MAX_PIXELS} pixels"
    )
    _check(init in INITS, f"init must be one of {INITS}, not {init!r}")
    _check(optimizer in OPTIMIZERS, f"optimizer must be one of {OPTIMIZERS}, not {optimizer!r}")
    _check(preserve_color in PRESERVE_COLOR, f"preserve_color must be one of {PRESERVE_COLOR}")
    _check(math.isfinite(lr) and lr > 0, "lr must be a positive number")
    _check(min_scale >= 1, f"min_scale must be at least 1, not {min_scale}")
    _check(time_limit is None or time_limit > 0, "time_limit must be positive")
    _check(preview_every >= 1, "preview_every must be at least 1")
    vgg = VGGFeatures((CONTENT_LAYER, *STYLE_LAYERS), pooling=pooling, device=device)
    return _optimise(
        content,
        list(styles),
        blend,
        vgg,
        size=size,
        steps=steps,
        weights=(content_weight, style_weight, tv_weight),
        init=init,
        optimizer=optimizer,
        lr=lr,
        multiscale=multiscale,
        min_scale=min_scale,
        preserve_color=preserve_color,
        style_scale=style_scale,
        pooling=pooling,
        seed=seed,
        preview_every=preview_every,
        time_limit=time_limit,
    )


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _style_targets(
    vgg: VGGFeatures,
    styles: list[Image.Image],
    blend: list[float],
    long_side: int,
    content: torch.Tensor,
    preserve_color: str,
) -> dict[str, torch.Tensor]:
    """``Σ_k b_k G_l(S_k)`` for each style layer, the styles sized to ``long_side``."""
    targets: dict[str, torch.Tensor] = {}
    for style, b in zip(styles, blend, strict=True):
        s = to_tensor(resize_long_side(style, long_side), vgg.device)
        if preserve_color != "none":
            s = match_color(s, content)
        with torch.no_grad():
            features = vgg(s)
        for layer in STYLE_LAYERS:
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
    loss: PerceptualLoss, pastiche: torch.Tensor, content_target: torch.Tensor, optimizer: str, lr: float
) -> Callable[[], dict[str, float]]:
    """One optimiser step on ``pastiche`` (kept in [0, 1]); returns the loss terms before it.

    The optimiser sees ``L / L₀``, L₀ the loss at this scale's start: the same
    minimiser, but L-BFGS's absolute curvature test (``yᵀs > 1e-10``) no longer
    depends on the loss's units.
    """
    if optimizer == "lbfgs":
        opt = torch.optim.LBFGS(
            [pastiche], lr=1, max_iter=1, history_size=20, tolerance_grad=0, tolerance_change=0
        )
    else:
        opt = torch.optim.Adam([pastiche], lr=lr)
    state: dict = {}

    def closure() -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        terms = loss(pastiche, content_target)
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


def _optimise(
    content_img: Image.Image,
    style_imgs: list[Image.Image],
    blend: list[float],
    vgg: VGGFeatures,
    *,
    size: int,
    steps: int,
    weights: tuple[float, float, float],
    init: str,
    optimizer: str,
    lr: float,
    multiscale: bool,
    min_scale: int,
    preserve_color: str,
    style_scale: float,
    pooling: str,
    seed: int,
    preview_every: int,
    time_limit: float | None,
) -> Iterator[Progress]:
    start = time.perf_counter()
    generator = torch.Generator().manual_seed(seed)
    final_content = resize_long_side(content_img, size)
    if preserve_color == "luminance":
        content_img, style_imgs = luminance(content_img), [luminance(s) for s in style_imgs]
    layer_weights = {layer: 1 / len(STYLE_LAYERS) for layer in STYLE_LAYERS}
    scales = scales_for(size, min_scale, multiscale)
    plan = [(side, n) for side, n in zip(scales, _split_steps(steps, len(scales)), strict=True) if n]
    step, pastiche, losses = 0, None, {}

    def result() -> Image.Image:
        img = to_image(pastiche)
        if img.size != final_content.size:  # previews too, so that they show at the size to come
            img = img.resize(final_content.size, Image.Resampling.BICUBIC)
        return transfer_luminance(img, final_content) if preserve_color == "luminance" else img

    # A time-limited run gives each scale its share of the budget by cost (steps × pixels),
    # so that it still ends at the finest scale, having spent there what the plan would.
    cost = [n * side**2 for side, n in plan]
    planned = 0
    images_key = (
        tuple(_digest(s) for s in style_imgs),
        _digest(content_img) if preserve_color != "none" else None,
    )
    for index, (side, n_steps) in enumerate(plan, start=1):
        planned += cost[index - 1]
        deadline = math.inf if time_limit is None else time_limit * planned / sum(cost)
        content = to_tensor(resize_long_side(content_img, side), vgg.device)
        style_side = max(1, round(side * style_scale))
        key = (images_key, tuple(blend), style_side, preserve_color, pooling, str(vgg.device))
        targets = style_cache.get(
            key,
            functools.partial(_style_targets, vgg, style_imgs, blend, style_side, content, preserve_color),
        )
        loss = PerceptualLoss(vgg, CONTENT_LAYER, layer_weights, targets, *weights)
        content_target = loss.content_target(content)
        if pastiche is None:
            styles_t = [to_tensor(resize_long_side(s, side), vgg.device) for s in style_imgs]
            pastiche = _init(init, content, styles_t, blend, generator)
        else:
            pastiche = F.interpolate(
                pastiche.detach(), size=content.shape[-2:], mode="bicubic", align_corners=False
            ).clamp_(0, 1)
        pastiche.requires_grad_(True)
        step_fn = _stepper(loss, pastiche, content_target, optimizer, lr)
        for _ in range(n_steps):
            losses = step_fn()
            step += 1
            elapsed = time.perf_counter() - start
            if step == steps or elapsed >= deadline:
                break
            preview = step == 1 or step % preview_every == 0
            yield Progress(
                step,
                steps,
                index,
                len(plan),
                tuple(reversed(content.shape[-2:])),
                losses,
                elapsed,
                result() if preview else None,
            )
    yield Progress(
        step,
        steps,
        index,
        len(plan),
        final_content.size,
        losses,
        time.perf_counter() - start,
        result(),
        done=True,
    )
