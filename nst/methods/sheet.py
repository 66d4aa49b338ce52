"""A contact sheet: every catalogue style painted on one photo, small, to choose a style by.

The styles of one multi-style network (the 26 built-in ones, or a set of your own) are painted
together, as one batch: the photo once per style, each batch item conditioned on its own style's
γ and β (conditional instance norm takes a blend per item, Dumoulin et al.), so the convolutions
run once over the whole batch instead of once per style. Each item keeps its own statistics, so
it is the picture :func:`nst.methods.fast.stylize` paints for that style alone. A Johnson network
holds one style and is painted alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from PIL import Image

from nst.base.images import resize_long_side
from nst.base.options import check
from nst.methods import engine, fast
from nst.methods.catalogue import Style, find, network_of
from nst.methods.engine import OnePassStyle
from nst.networks.dumoulin import MultiStyleNet

SIDE = 192
"""The contact sheet's long side, in pixels (a photo already smaller keeps its size)."""


@dataclass(frozen=True, eq=False)
class EachItsOwn(OnePassStyle):
    """A multi-style network with one blend per batch item: item b is painted at ``mixes[b]``
    ([B, N]; each row ≥ 0, summing to 1). A batch of exactly B items only."""

    network: MultiStyleNet
    mixes: torch.Tensor

    def picture(self, x: torch.Tensor) -> torch.Tensor:
        check(x.shape[0] == self.mixes.shape[0], f"{self.mixes.shape[0]} blends for {x.shape[0]} items")
        return self.network(x, self.mixes)


def contact_sheet(
    photo: Image.Image,
    styles: Sequence[str] | None = None,
    side: int = SIDE,
    device: torch.device | None = None,
) -> list[tuple[str, Image.Image]]:
    """``(name, picture)`` for each of ``styles`` (default: every ready catalogue style,
    :func:`~nst.methods.fast.ready_styles`), in that order: ``photo`` shrunk to ``side`` on its long
    side (never enlarged) and painted in the style at full strength, as
    ``fast.stylize(photo, name, max_side=side)`` paints it. The styles of one multi-style network
    are painted in one batched pass (several, where one would not fit in memory)."""
    check(side >= 16, f"side must be at least 16, not {side}")
    chosen = list(fast.ready_styles(device)) if styles is None else list(styles)
    small = photo.convert("RGB")
    if max(small.size) > side:
        small = resize_long_side(small, side)
    groups: dict[tuple[str, ...], list[Style]] = {}
    for name in chosen:
        style = find(name)
        key = network_of(style) if style.index is not None else ("alone", name)
        groups.setdefault(key, []).append(style)
    painted: dict[str, Image.Image] = {}
    for group in groups.values():
        if group[0].index is None:
            painted[group[0].name] = fast.stylize(small, fast.load_style(group[0].name, device=device))
        else:
            painted |= _batched(small, group, device)
    return [(name, painted[name]) for name in chosen]


def _batched(photo: Image.Image, group: list[Style], device: torch.device | None) -> dict[str, Image.Image]:
    """The styles ``group`` of one multi-style network on ``photo``, as many per pass as memory holds."""
    network = fast.load_style(group[0].name, device=device).network
    style_device = next(network.parameters()).device
    w, h = photo.size
    per_pass = max(1, engine.fits_in_memory(style_device, style_device.type == "cuda") // (w * h))
    out = {}
    for start in range(0, len(group), per_pass):
        part = group[start : start + per_pass]
        mixes = torch.zeros(len(part), network.styles, device=style_device)
        for row, style in enumerate(part):
            mixes[row, style.index] = 1
        # The engine runs the batch whole: one pass of exactly this part's items, never split.
        options = fast.FastOptions(max_pixels=len(part) * w * h)
        pictures = engine.stylize([photo] * len(part), EachItsOwn(network, mixes), options)
        out |= {style.name: picture for style, picture in zip(part, pictures, strict=True)}
    return out
