"""Exact-statistics tiling: a one-pass network's picture of an image too large for one pass, computed in
tiles whose instance norms hold the statistics of the whole image (:func:`tiled`).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import torch
from torch import nn

from nst.networks.norms import Fixed, Held, NormCall, holding, padded_side

if TYPE_CHECKING:
    from nst.methods.engine import OnePassStyle

HALO = 64
"""Overlap on each side of a tile, in pixels: beyond the networks' reach from a tile's core."""


Tile = tuple[slice, slice, slice, slice]
"""A tile's (rows, columns) with their halo, and its core's (rows, columns) inside the tile."""


def _tiles(h: int, w: int, tile_pixels: int) -> list[Tile]:
    """Tiles of about ``tile_pixels`` covering an ``h``×``w`` image; cores partition it.

    Origins and core sides are multiples of 4, so the strided convolutions sample the
    same grid as on the whole image, and every core edge falls on a pixel of every layer.
    """
    core = max(4, (int(math.sqrt(tile_pixels)) - 2 * HALO) // 4 * 4)
    tiles = []
    for top in range(0, h, core):
        for left in range(0, w, core):
            y0, x0 = max(0, top - HALO), max(0, left - HALO)
            y1, x1 = min(h, top + core + HALO), min(w, left + core + HALO)
            bottom, right = min(h, top + core), min(w, left + core)
            tiles.append(
                (slice(y0, y1), slice(x0, x1), slice(top - y0, bottom - y0), slice(left - x0, right - x0))
            )
    return tiles


def tiled(
    style: OnePassStyle, x: torch.Tensor, tile_pixels: int, held: Mapping[nn.Module, Held]
) -> torch.Tensor:
    """``style.paint(x)`` for one image, computed in tiles of at most about ``tile_pixels``, overlap included.

    Every instance norm holds the statistics the whole image gives it
    (:func:`_exact_statistics`), and each tile's core is cut from a pass with ``HALO``
    pixels of context, so the result is the untiled one up to float rounding.
    """
    h, w = x.shape[-2:]
    tiles = _tiles(h, w, tile_pixels)
    out = torch.empty_like(x)
    with holding(NormCall(_exact_statistics(style, x, tiles, held))):
        for rows, cols, core_rows, core_cols in tiles:
            tile = style.paint(x[..., rows, cols])
            out[..., rows, cols][..., core_rows, core_cols] = tile[..., core_rows, core_cols]
    return out


class _Measured(Exception):
    """Ends a pass once the norm being measured has seen its input."""


def _exact_statistics(
    style: OnePassStyle, x: torch.Tensor, tiles: list[Tile], held: Mapping[nn.Module, Held]
) -> dict[nn.Module, Held]:
    """For each norm, the (μ, σ²) one untiled pass over ``x`` would normalise with.

    A norm's statistics depend on the norms before it, so they are measured one norm at a
    time, in the order the network calls them (:func:`_measure`), each norm holding its
    exact statistics before the next is measured. L norms cost about L/2 forward passes.
    A norm the caller holds statistics for gets what they make of the measured ones.
    """
    order: list[nn.Module] = []
    with holding(NormCall(tap=lambda norm, *_: order.append(norm))):
        style.paint(x[..., :8, :8])
    fixed: dict[nn.Module, Held] = {}
    for norm in dict.fromkeys(order):
        mean, var = _measure(style, norm, x, tiles, fixed)
        if norm in held:
            mean, var = held[norm](mean[None], var[None])
        fixed[norm] = Fixed(mean, var)
    return fixed


def _measure(
    style: OnePassStyle, norm: nn.Module, x: torch.Tensor, tiles: list[Tile], fixed: Mapping[nn.Module, Held]
) -> tuple[torch.Tensor, torch.Tensor]:
    """``norm``'s input statistics over the whole of ``x``: a pass over the tiles that sums that input
    over each tile's core in float64 and stops there. The network pads an image to a multiple of 4,
    so edge cores reach into that padding, as the untiled pass does."""
    h, w = x.shape[-2:]
    sums: list[torch.Tensor] = []
    window: list = []  # the tile's padded height, and its core's rows and columns (padded pixels)

    def add(seen: nn.Module, y: torch.Tensor, phases: int) -> None:
        if seen is not norm:
            return
        padded_h, rows, cols = window
        s = padded_h // y.shape[-2]  # this layer's stride (1, 2 or 4)
        core = y[..., rows.start // s : rows.stop // s, cols.start // s : cols.stop // s].double()
        core = core.reshape(core.shape[0], core.shape[1] // phases, phases, -1)
        n = core.shape[0] * core.shape[2] * core.shape[3]
        sums.append(torch.cat([core.sum((0, 2, 3)), core.square().sum((0, 2, 3)), core.new_tensor([n])]))
        raise _Measured

    with holding(NormCall(fixed, tap=add)):
        for rows, cols, core_rows, core_cols in tiles:
            padded_h, padded_w = padded_side(rows.stop - rows.start), padded_side(cols.stop - cols.start)
            # A core at the image's edge reaches into the padding, which the untiled pass normalises too.
            stop_r = padded_h if rows.start + core_rows.stop == h else core_rows.stop
            stop_c = padded_w if cols.start + core_cols.stop == w else core_cols.stop
            window[:] = [padded_h, slice(core_rows.start, stop_r), slice(core_cols.start, stop_c)]
            with contextlib.suppress(_Measured):
                style.paint(x[..., rows, cols])
    total = torch.stack(sums).sum(0)
    channels = (total.numel() - 1) // 2
    mean = total[:channels] / total[-1]
    var = (total[channels:-1] / total[-1] - mean.square()).clamp_min(0)
    return mean.float(), var.float()
