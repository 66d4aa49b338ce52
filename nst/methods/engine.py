"""One engine for every one-pass network: Johnson et al.'s, Dumoulin et al.'s and Ghiasi et al.'s.

Fast (catalogue styles), any style and video all paint through :func:`stylize`, which owns
what they share: the device's memory layout, float16 autocast on CUDA, batches of one
size, exact-statistics tiling beyond memory, and colour preservation. What differs is the
style, a small object that knows its network and how it conditions it:

- :class:`NetworkStyle`: a Johnson et al. network, one style in its own weights;
- :class:`MixStyle`: Dumoulin et al.'s network at a mix vector ``w`` over its styles
  (``γ = Σ_k w_k γ_k``, ``β = Σ_k w_k β_k``);
- :class:`EmbeddingStyle`: Ghiasi et al.'s transformer at a style embedding ``e``.

Strength belongs to the style, since each method means something else by it: the pixel
blend ``(1 − s)·C + s·N(C)`` for the first two, the embedding ``s·e + (1 − s)·e(C)`` for
the third (made by :mod:`nst.methods.arbitrary`).

**Request-owned state.** The networks are cached and shared by every request and
thread; nothing here changes them. Held norm statistics (a tile's view of the whole
image, a clip's running estimate) are passed to :func:`stylize` by the caller that owns
them and reach the norms through a per-call context (:func:`nst.networks.norms.holding`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from nst.base import alpha
from nst.base.color import PRESERVE_COLOR, PreserveColor, colour_choice, keep_colours
from nst.base.device import memory_format
from nst.base.images import feather, fit_long_side, region_weights, resize_long_side, to_images, to_tensor
from nst.base.options import (
    blend_weights,
    check,
    check_choice,
    check_fraction,
    check_positive,
    check_regions,
    option,
)
from nst.base.settings import current
from nst.methods.tiling import tiled
from nst.networks.dumoulin import MultiStyleNet
from nst.networks.ghiasi import StyleTransformer
from nst.networks.norms import Held, NormCall, Regions, holding, padded_side
from nst.networks.transformer import TransformerNet

BYTES_PER_PIXEL = 600
"""Peak memory of a Johnson network's float32 pass per input pixel (bench/)."""


@dataclass(frozen=True, eq=False)
class OnePassStyle:
    """A network and how it is conditioned; :meth:`paint` maps RGB [B, 3, H, W] in [0, 1] to the same."""

    network: nn.Module

    @property
    def device(self) -> torch.device:
        return next(self.network.parameters()).device

    @property
    def pixel_strength(self) -> float:
        """``s`` in ``(1 − s)·C + s·N(C)``: 1 unless the style blends in pixels."""
        return 1.0

    def picture(self, x: torch.Tensor) -> torch.Tensor:
        """The conditioned network's own picture of ``x``."""
        raise NotImplementedError

    def paint(self, x: torch.Tensor) -> torch.Tensor:
        return _weaken(x, self.picture(x), self.pixel_strength)


def _weaken(x: torch.Tensor, y: torch.Tensor, strength: float | torch.Tensor) -> torch.Tensor:
    """``(1 − s)·x + s·y``: 0 gives the content back, 1 the network's picture; ``s`` may vary by pixel."""
    if isinstance(strength, float) and strength == 1:
        return y
    return torch.lerp(x, y.to(x.dtype), strength)


@dataclass(frozen=True, eq=False)
class NetworkStyle(OnePassStyle):
    """A Johnson et al. network (RGB in [0, 255]) at pixel ``strength``."""

    network: TransformerNet
    strength: float = 1.0

    def __post_init__(self) -> None:
        check_fraction("strength", self.strength)

    @property
    def pixel_strength(self) -> float:
        return self.strength

    def picture(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x * 255).div_(255)


@dataclass(frozen=True, eq=False)
class MixStyle(OnePassStyle):
    """Dumoulin et al.'s network at ``mix`` ([N], ≥ 0, summing to 1), at pixel ``strength``."""

    network: MultiStyleNet
    mix: torch.Tensor
    strength: float = 1.0

    def __post_init__(self) -> None:
        check_fraction("strength", self.strength)
        check(self.mix.shape == (self.network.styles,), f"a mix needs {self.network.styles} weights")

    @property
    def pixel_strength(self) -> float:
        return self.strength

    def picture(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x, self.mix)


@dataclass(frozen=True, eq=False)
class EmbeddingStyle(OnePassStyle):
    """Ghiasi et al.'s transformer at ``embedding`` ([1, 100]); strength is in the embedding."""

    network: StyleTransformer
    embedding: torch.Tensor

    def picture(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x, self.embedding)


_FEATHER = 0.01
"""σ of the Gaussian that softens a region's edge against the photo or a composite's seam, by long side."""


@dataclass(frozen=True, eq=False)
class RegionStyle(OnePassStyle):
    """K styles of one conditional network, style k where mask k is white (Dumoulin et al.'s or
    Ghiasi et al.'s), meeting inside the network (:mod:`nst.networks.norms`, "Regions").

    Masks become weights ``m_k`` (:func:`~nst.base.images.region_weights`); where they sum to
    under 1 the photo shows through: ``P = C + Σ_k f(m_k)·s_k·(N_regions(C) − C)``, ``s_k`` the
    styles' pixel strengths and ``f`` the feathering of :class:`CompositeStyle`. Each style runs
    once alone to record its norms (K + 1 passes).
    """

    styles: tuple[OnePassStyle, ...]
    masks: tuple[Image.Image, ...]

    def __post_init__(self) -> None:
        check_regions(self.masks, len(self.styles), None)
        check(all(s.network is self.network for s in self.styles), "region styles share one network")

    def paint(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        weights = region_weights(self.masks, (w, h), x.device)
        coverage = weights.sum(0, keepdim=True)
        # The network needs shares summing to 1 everywhere; where no mask is painted, equal ones.
        shares = torch.where(coverage > 0, weights / coverage.clamp_min(1e-6), 1 / len(self.styles))
        padded = F.pad(shares, (0, padded_side(w) - w, 0, padded_side(h) - h), mode="replicate")
        affines = []
        for style in self.styles:
            affines.append({})
            with holding(NormCall(record=affines[-1])):
                style.picture(x)
        with holding(NormCall(regions=Regions(padded, affines))):
            y = self.styles[0].picture(x)
        # The photo's edge is feathered as a composite's is (:class:`CompositeStyle`).
        soft = feather(weights, _FEATHER * max(h, w))
        strength = sum(m * s.pixel_strength for m, s in zip(soft, self.styles, strict=True))
        return _weaken(x, y, strength[None].to(x.dtype))


@dataclass(frozen=True, eq=False)
class CompositeStyle(OnePassStyle):
    """K styles of separate networks (Johnson et al.'s), each painted whole and laid in its region
    with a feathered seam: ``P = C + Σ_k f(m_k)·(P_k − C)``, ``f`` a Gaussian of σ = 1% of the long side."""

    network: nn.Module
    styles: tuple[OnePassStyle, ...]
    masks: tuple[Image.Image, ...]

    def __post_init__(self) -> None:
        check_regions(self.masks, len(self.styles), None)

    def paint(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        weights = feather(region_weights(self.masks, (w, h), x.device), _FEATHER * max(h, w)).to(x.dtype)
        out = x.clone()
        for m, style in zip(weights, self.styles, strict=True):
            out += m * (style.paint(x).to(x.dtype) - x)
        return out


def in_regions(styles: Sequence[OnePassStyle], masks: Sequence[Image.Image]) -> OnePassStyle:
    """``styles``, style k where mask k is white: inside the network when they share a conditional
    one (:class:`RegionStyle`), else a feathered composite (:class:`CompositeStyle`)."""
    check_regions(masks, len(styles), None)
    networks = {id(s.network) for s in styles}
    kind = RegionStyle
    if len(networks) > 1 or not isinstance(styles[0], MixStyle | EmbeddingStyle):
        kind = CompositeStyle
    return kind(styles[0].network, tuple(styles), tuple(masks))


WORKING_SIDE = 384
"""The default working size's long side: of 256, 384, 512 and full size, 384 painted the most on
five photo/painting pairs at 768 px (style embedding nearest the painting's), and the detail pass
keeps more of the photo than 384-then-Lanczos does (``python -m bench.scale``; README)."""


@dataclass(frozen=True)
class OnePassOptions:
    """What every one-pass method is asked, checked when made; the CLI and the app take defaults here.

    ``strength`` (0 = the photo … 1 = the full style) and ``style_blend`` (shares of several styles,
    equal when None) shape the style object; the rest is how the engine runs it. ``max_side``
    shrinks contents to that long side first (never enlarges). ``working_side`` is the style scale:
    a larger content is painted at that long side, which gives bigger strokes, and again at its own
    size for detail (:func:`stylize`); 0 paints only at the content's size. Beyond ``max_pixels`` in
    all (default: the settings' ``one_pass_pixels``, ``NST_FAST_MAX_PIXELS``, on the CPU; what half
    the free memory holds on a GPU), a batch runs in parts and a single image in tiles of about
    ``tile_pixels`` (default: the settings'). ``half`` runs in float16 autocast (default: on CUDA
    only; the CPU is fastest in float32). ``preserve_color`` keeps the content's colours in the
    result (:func:`~nst.base.color.keep_colours`): its chroma (``luminance``) or its colour
    statistics (``histogram``); True and False, from older recipes and callers, are ``luminance``
    and ``none``.
    """

    strength: float = option(1.0, "0 = the photo … 1 = the full style")
    style_blend: tuple[float, ...] | None = option(
        None, "shares of several styles, comma-separated, e.g. 0.7,0.3 (default: equal)"
    )
    preserve_color: PreserveColor = option(
        "none",
        "keep the content's colours: luminance (a bare flag), or histogram (the result takes its palette)",
        const="luminance",
    )
    working_side: int = option(
        WORKING_SIDE, "style scale: paint at this long side (smaller: bigger strokes), then detail; 0: off"
    )
    max_side: int | None = option(None, "shrink contents to this long side first (default: never)")
    max_pixels: int | None = option(None, "tile larger images (default: NST_FAST_MAX_PIXELS on the CPU)")
    tile_pixels: int | None = option(None, "pixels a tile, overlap included (default: NST_FAST_TILE_PIXELS)")
    half: bool | None = option(None, "float16 autocast (default: on CUDA only)")

    def __post_init__(self) -> None:
        check_fraction("strength", self.strength)
        object.__setattr__(self, "preserve_color", colour_choice(self.preserve_color))
        check_choice("preserve_color", self.preserve_color, PRESERVE_COLOR)
        if self.style_blend is not None:
            object.__setattr__(self, "style_blend", tuple(float(b) for b in self.style_blend))
            blend_weights(self.style_blend, len(self.style_blend))
        for name in ("max_side", "max_pixels", "tile_pixels"):
            if getattr(self, name) is not None:
                check_positive(name, getattr(self, name))
        check(
            self.working_side == 0 or self.working_side >= 16,
            f"working_side must be 0 (off) or at least 16, not {self.working_side}",
        )


def check_prebuilt(options: OnePassOptions) -> None:
    """Refuse a strength or blend beside a style object, which carries its own (they shape the style)."""
    check(
        options.strength == 1 and options.style_blend is None,
        "a style object carries its own strength and blend: give them when loading the style",
    )


def fits_in_memory(device: torch.device, half: bool) -> int:
    """Pixels that one pass may take on ``device``: the CPU's fixed cap, or half a GPU's free memory."""
    if device.type != "cuda":
        return current().one_pass_pixels
    free, _ = torch.cuda.mem_get_info(device)
    return int(free / 2 / (BYTES_PER_PIXEL / (2 if half else 1)))


@torch.inference_mode()
def stylize(
    content: Image.Image | Sequence[Image.Image],
    style: OnePassStyle,
    options: OnePassOptions | None = None,
    *,
    held: Mapping[nn.Module, Held] | None = None,
    detail_held: Mapping[nn.Module, Held] | None = None,
) -> Image.Image | list[Image.Image]:
    """Paint ``content`` (one image, or a list of one size) with ``style``, each at its own size.

    **Style scale.** A content larger than ``working_side`` is painted twice: shrunk to it
    (``↓``: Lanczos for the content, antialiased bilinear for the detail band), which paints
    the strokes at that scale, and at its own size, which paints the finer ones; the first
    gives the low frequencies and the second the detail,

        ``P = ↑N(↓C) + N(C) − ↑↓N(C)``   (``↑``: bicubic back to the content's size),

    so that the photo's detail comes back painted, as the network paints it, not as a photo.

    An RGBA content keeps its alpha exactly; its hidden colours are filled (:func:`~nst.base.alpha.split`).

    A list runs as batches, each image with its own instance-norm statistics (on this CPU,
    4 at a time are ~15% faster than one by one), and gives a list. ``held`` maps norm
    modules of the style's network to the statistics this call holds for them (a clip's
    running estimate, updated in frame order) at the working size, ``detail_held`` at the
    content's size; the caller owns them. A :class:`RegionStyle` holds its own and takes none.
    """
    o = options or OnePassOptions()
    contents = [content] if isinstance(content, Image.Image) else list(content)
    check(bool(contents), "no content to stylise")
    if o.max_side:
        contents = [c if max(c.size) <= o.max_side else resize_long_side(c, o.max_side) for c in contents]
    check(len({c.size for c in contents}) == 1, "a batch needs images of one size")
    contents, alphas = zip(*map(alpha.split, contents), strict=True)
    regional = isinstance(style, RegionStyle)
    check(not (regional and (held or detail_held)), "regions hold their own statistics: no held ones too")
    device = style.device
    half = device.type == "cuda" if o.half is None else o.half
    max_pixels = o.max_pixels or fits_in_memory(device, half)
    tile_pixels = o.tile_pixels or current().tile_pixels
    w, h = contents[0].size
    per_pass = max(1, max_pixels // (w * h))
    check(not regional or per_pass * w * h <= max_pixels, _REGIONS_TOO_LARGE)
    working = fit_long_side((w, h), o.working_side) if 0 < o.working_side < max(w, h) else None
    pastiches: list[Image.Image] = []
    for start in range(0, len(contents), per_pass):
        part = contents[start : start + per_pass]
        x = to_tensor(part, device, memory_format(device))
        with torch.autocast(device.type, torch.float16, enabled=half):
            if working is None:
                y = _paint(style, x, max_pixels, tile_pixels, held)
            else:
                small = [c.resize(working, Image.Resampling.LANCZOS) for c in part]
                small = to_tensor(small, device, memory_format(device))
                y = _at_scale(style, x, small, max_pixels, tile_pixels, held, detail_held)
        pastiches += to_images(y.float())
    if o.preserve_color != "none":
        pastiches = [keep_colours(p, c, o.preserve_color) for p, c in zip(pastiches, contents, strict=True)]
    pastiches = list(map(alpha.restore, pastiches, alphas))
    return pastiches[0] if isinstance(content, Image.Image) else pastiches


_REGIONS_TOO_LARGE = "regions paint the image in one pass: this one is too large (lower max_side)"


def _paint(
    style: OnePassStyle,
    x: torch.Tensor,
    max_pixels: int,
    tile_pixels: int,
    held: Mapping[nn.Module, Held] | None,
) -> torch.Tensor:
    """``style.paint(x)`` in one pass, or in tiles beyond ``max_pixels`` (:func:`.tiling.tiled`)."""
    if x.shape[0] * x.shape[-2] * x.shape[-1] <= max_pixels:
        with holding(NormCall(held or {})):
            return style.paint(x)
    return tiled(style, x, tile_pixels, held or {})


def _at_scale(
    style: OnePassStyle,
    x: torch.Tensor,
    small: torch.Tensor,
    max_pixels: int,
    tile_pixels: int,
    held: Mapping[nn.Module, Held] | None,
    detail_held: Mapping[nn.Module, Held] | None,
) -> torch.Tensor:
    """``↑N(↓C) + N(C) − ↑↓N(C)`` (:func:`stylize`, "Style scale"); ``small`` is ``↓C``."""
    size, working = x.shape[-2:], small.shape[-2:]

    def down(t: torch.Tensor) -> torch.Tensor:
        return F.interpolate(t.float(), working, mode="bilinear", antialias=True)

    def up(t: torch.Tensor) -> torch.Tensor:
        return F.interpolate(t.float(), size, mode="bicubic")

    broad = up(_paint(style, small, max_pixels, tile_pixels, held))
    fine = _paint(style, x, max_pixels, tile_pixels, detail_held).float()
    return broad.add_(fine).sub_(up(down(fine))).clamp_(0, 1)
