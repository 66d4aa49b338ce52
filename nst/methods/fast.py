"""Fast stylisation: one forward pass of a pretrained network per image.

Two kinds of network serve the style catalogue (:mod:`nst.methods.catalogue`): Johnson et al.'s
(2016) :class:`~nst.networks.transformer.TransformerNet`, one style each (Hub or local files, loaded
by structure through :mod:`nst.base.weights`), and Dumoulin et al.'s (2017) 26-style
:class:`~nst.networks.dumoulin.MultiStyleNet`, whose styles blend inside the network. Models stay
in memory once loaded. Images larger than ``max_pixels`` run in overlapping tiles whose
instance norms hold the statistics of the whole image, measured exactly, layer by layer.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import math
import os
import threading
from collections.abc import Sequence
from itertools import product
from pathlib import Path

import torch
from PIL import Image
from torch import nn

from nst.base.color import transfer_luminance
from nst.base.device import default_device, memory_format
from nst.base.images import drawn_scene, to_image, to_tensor
from nst.base.options import blend_weights, check, check_fraction
from nst.base.weights import (
    PACKAGE_FILES,
    WeightsError,
    cache_dir,
    package_weights,
    read_state_dict,
    weights_dir,
)
from nst.methods.catalogue import Style, find, load_catalogue
from nst.networks import dumoulin
from nst.networks.dumoulin import MultiStyleNet
from nst.networks.norms import Fixed, holding, padded_side
from nst.networks.transformer import CHANNELS, HEADS, TransformerNet, fit_state

log = logging.getLogger(__name__)

MAX_PIXELS = int(os.environ.get("NST_FAST_MAX_PIXELS", 2048 * 1536))
"""Images up to this many pixels run in one pass; larger ones in tiles."""
TILE_PIXELS = int(os.environ.get("NST_FAST_TILE_PIXELS", 1024 * 1024))
"""Each tile's size with its overlap, in pixels: peak memory is about 600 bytes a tile pixel."""
BYTES_PER_PIXEL = 600
"""Peak memory of a Johnson network's float32 pass per input pixel (bench/)."""
_FORWARD = threading.Lock()
"""One forward pass at a time: each uses every core, and tiling sets statistics on the shared model."""
HALO = 64
"""Overlap on each side of a tile, in pixels: beyond the network's reach from a tile's core."""


def load_model(
    path: str | os.PathLike, device: torch.device | None = None, channels: str = "rgb", head: str = "clamp"
) -> TransformerNet:
    """The Johnson network in ``path`` (any key naming, see :func:`fit_state`), in eval mode.

    ``.safetensors`` or a plain ``.pth`` state dict; ``channels`` and ``head`` say how the
    network was trained (see :class:`TransformerNet`). Cached by path and options.
    """
    return _load_model(str(path), device or default_device(), channels, head)


@functools.lru_cache(maxsize=8)
def _load_model(path: str, device: torch.device, channels: str, head: str) -> TransformerNet:
    fix = "Replace it with a Johnson et al. TransformerNet state dict (.pth or .safetensors)."
    state = read_state_dict(path, fix)
    try:
        state, upsample = fit_state(state)
    except ValueError as err:
        raise WeightsError(f"{path} does not fit the transformer network: {err}. {fix}") from err
    model = TransformerNet(upsample, channels, head)
    model.load_state_dict(state, strict=True)
    return model.eval().requires_grad_(False).to(device, memory_format=memory_format(device))


@functools.cache
def builtin_network(device: torch.device | None = None) -> MultiStyleNet:
    """Dumoulin et al.'s 26-style network from the installed package (checked, converted once)."""
    net = MultiStyleNet()
    net.load_state_dict(package_weights("multistyle26", dumoulin.state_from_onnx))
    device = device or default_device()
    return net.eval().requires_grad_(False).to(device, memory_format=memory_format(device))


class BuiltinBlend(nn.Module):
    """The 26-style network at fixed blend weights, in [0, 255] like :class:`TransformerNet`."""

    def __init__(self, net: MultiStyleNet, blend: torch.Tensor) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("blend", blend.to(next(net.parameters()).device))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x / 255, self.blend) * 255


PROBE_SIDE = 128
"""Side of the grey-noise image the load-time probe runs each Johnson network on."""


def probe_colours(net: TransformerNet) -> dict[tuple[str, str], torch.Tensor]:
    """Mean output colour (RGB, 0–255) of ``net`` on grey noise, for each way it may have been trained.

    Grey noise has the same values in every channel, so one pass serves both channel
    orders: a ``bgr`` reading reverses the output's channels; a ``tanh150`` reading
    applies ``150·tanh`` to the last convolution's output.
    """
    generator = torch.Generator().manual_seed(0)
    grey = torch.rand(1, 1, PROBE_SIDE, PROBE_SIDE, generator=generator).mul_(255).expand(1, 3, -1, -1)
    device = next(net.parameters()).device
    with torch.inference_mode():
        raw = net.raw(grey.to(device).contiguous(memory_format=memory_format(device)))
    out = {}
    for head in HEADS:
        y = 150 * torch.tanh(raw) if head == "tanh150" else raw
        mean = y.clamp(0, 255).mean(dim=(0, 2, 3)).cpu()
        for channels in CHANNELS:
            out[channels, head] = mean.flip(0) if channels == "bgr" else mean
    return out


_readings: dict[tuple[str, str], tuple[str, str]] = {}


def reading(repo_id: str, revision: str) -> tuple[str, str]:
    """How a Hub repo's networks were trained, ``(channels, head)``, decided from all its styles at once.

    Each network in the Hub cache with a ``mean_rgb`` in the catalogue is probed (:func:`probe_colours`);
    the reading whose colours lie closest to the paintings', summed over the styles, wins.
    Without any such style, the catalogue's declared reading stands. A decision is logged
    and kept for the process; a repo with nothing cached yet is asked again next time.
    """
    if (repo_id, revision) in _readings:
        return _readings[repo_id, revision]
    styles = [s for s in load_catalogue().values() if (s.repo_id, s.revision) == (repo_id, revision)]
    declared = (styles[0].channels, styles[0].head) if styles else ("rgb", "clamp")
    distance = dict.fromkeys(product(CHANNELS, HEADS), 0.0)
    probed = []
    for style in styles:
        try:
            path = style.fetch(local_only=True)
        except WeightsError:
            continue
        if style.mean_rgb is None:
            continue
        painting = torch.tensor(style.mean_rgb)
        for key, colour in probe_colours(load_model(path)).items():
            distance[key] += torch.linalg.vector_norm(colour - painting).item()
        probed.append(style.name)
    if not probed:
        return declared
    ranked = sorted(distance, key=distance.get)
    best, runner_up = ranked[0], ranked[1]
    log.info(
        "%s: networks read as %s/%s (mean colour %.1f levels from the paintings over %s; next best "
        "%s/%s at %.1f; the catalogue declares %s/%s)",
        repo_id,
        *best,
        distance[best] / len(probed),
        ", ".join(probed),
        *runner_up,
        distance[runner_up] / len(probed),
        *declared,
    )
    _readings[repo_id, revision] = best
    return best


def load_style(
    names: str | Sequence[str], blend: Sequence[float] | None = None, device: torch.device | None = None
) -> nn.Module:
    """The network for catalogue style(s) ``names``, mapping RGB [0, 255] to RGB [0, 255].

    Several built-in styles blend inside the network, by their norms' γ and β
    (Dumoulin et al.); ``blend`` gives their shares (equal by default). A Johnson
    network holds one style, read as :func:`reading` decides for its Hub repo.
    """
    styles = [find(name) for name in ([names] if isinstance(names, str) else names)]
    shares = blend_weights(blend, len(styles))
    if len(styles) == 1 and styles[0].kind != "builtin":
        style = styles[0]
        path = style.fetch()  # first, so that the probe can see this network too
        channels, head = (
            reading(style.repo_id, style.revision) if style.kind == "hub" else (style.channels, style.head)
        )
        return load_model(path, device, channels, head)
    for style in styles:
        check(style.kind == "builtin", f"only built-in styles blend; {style.name} is a network of its own")
    vector = torch.zeros(dumoulin.STYLES)
    for style, share in zip(styles, shares, strict=True):
        vector[style.index] += share
    return BuiltinBlend(builtin_network(device), vector)


def available() -> tuple[dict[str, Style], list[str]]:
    """The styles whose weights are here now, and one line per source whose are not.

    Nothing is downloaded: Hub styles missing from the cache are reported (they are fetched
    on first use when online).
    """
    styles, problems, missing = {}, [], {}
    try:
        builtin_network()
        builtin_ok = True
    except WeightsError as err:
        builtin_ok = False
        problems.append(f"Built-in styles: {err}")
    for name, style in load_catalogue().items():
        if style.kind == "builtin":
            if builtin_ok:
                styles[name] = style
            continue
        try:
            style.fetch(local_only=True)
            styles[name] = style
        except WeightsError:
            missing.setdefault(style.repo_id or str(weights_dir()), []).append(style.filename)
    for source, files in missing.items():
        problems.append(
            f"{source}: {', '.join(files)} not in the Hub cache or the weights folder; they download on "
            "first use when online (or set HF_HUB_CACHE / NST_WEIGHTS_DIR)."
        )
    return styles, problems


def thumbnail(name: str, side: int = 128) -> Path:
    """A picture of style ``name``'s effect: its own network run on a drawn scene, cached as PNG."""
    style = find(name)
    if style.kind == "builtin":
        source = PACKAGE_FILES["multistyle26"][1]
    else:
        path = style.fetch()
        source = f"{path.resolve()}:{path.stat().st_size}:{path.stat().st_mtime_ns}"
    key = hashlib.blake2b(f"{source}:{side}".encode(), digest_size=8).hexdigest()
    target = cache_dir() / "thumbnails" / f"{name}-{key}.png"
    if not target.is_file():
        picture = stylize(drawn_scene(side, side), load_style(name))
        target.parent.mkdir(parents=True, exist_ok=True)
        picture.save(target)
    return target


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


class _Measured(Exception):
    """Ends a pass once the norm being measured has seen its input."""


def _exact_statistics(model: nn.Module, x: torch.Tensor, tiles: list[Tile]) -> None:
    """Each norm of ``model`` holds its (μ, σ²) over the whole of ``x``, as one untiled pass would see them.

    A norm's statistics depend on the norms before it, so they are measured one norm at a
    time, in the order the network calls them (:func:`_measure`), each norm holding its
    exact statistics before the next is measured. L norms cost about L/2 forward passes.
    """
    norms = [m for m in model.modules() if hasattr(m, "held")]
    order: list[nn.Module] = []
    hooks = [norm.register_forward_pre_hook(lambda m, _: order.append(m)) for norm in norms]
    try:
        model(x[..., :8, :8])  # the order in which the norms are called
    finally:
        for hook in hooks:
            hook.remove()
    for norm in dict.fromkeys(order):
        norm.held = _measure(model, norm, x, tiles)


def _measure(model: nn.Module, norm: nn.Module, x: torch.Tensor, tiles: list[Tile]) -> Fixed:
    """``norm``'s input statistics over the whole of ``x``: a pass over the tiles that sums that input
    over each tile's core in float64 and stops there. The network pads an image to a multiple of 4,
    so edge cores reach into that padding, as the untiled pass does."""
    h, w = x.shape[-2:]
    sums: list[torch.Tensor] = []
    window: list = []  # the tile's padded height, and its core's rows and columns (padded pixels)

    def add(_: nn.Module, args: tuple, kwargs: dict) -> None:
        y, phases = args[0], kwargs.get("phases", args[2] if len(args) > 2 else 1)
        padded_h, rows, cols = window
        s = padded_h // y.shape[-2]  # this layer's stride (1, 2 or 4)
        core = y[..., rows.start // s : rows.stop // s, cols.start // s : cols.stop // s].double()
        core = core.reshape(core.shape[0], core.shape[1] // phases, phases, -1)
        n = core.shape[0] * core.shape[2] * core.shape[3]
        sums.append(torch.cat([core.sum((0, 2, 3)), core.square().sum((0, 2, 3)), core.new_tensor([n])]))
        raise _Measured

    hook = norm.register_forward_pre_hook(add, with_kwargs=True)
    try:
        for rows, cols, core_rows, core_cols in tiles:
            padded_h, padded_w = padded_side(rows.stop - rows.start), padded_side(cols.stop - cols.start)
            # A core at the image's edge reaches into the padding, which the untiled pass normalises too.
            stop_r = padded_h if rows.start + core_rows.stop == h else core_rows.stop
            stop_c = padded_w if cols.start + core_cols.stop == w else core_cols.stop
            window[:] = [padded_h, slice(core_rows.start, stop_r), slice(core_cols.start, stop_c)]
            with contextlib.suppress(_Measured):
                model(x[..., rows, cols])
    finally:
        hook.remove()
    total = torch.stack(sums).sum(0)
    channels = (total.numel() - 1) // 2
    mean = total[:channels] / total[-1]
    var = (total[channels:-1] / total[-1] - mean.square()).clamp_min(0)
    return Fixed(mean.float(), var.float())


def _tiled(model: nn.Module, x: torch.Tensor, tile_pixels: int) -> torch.Tensor:
    """``model(x)`` computed in tiles of at most about ``tile_pixels`` each, overlap included.

    Every instance norm holds the statistics the whole image gives it
    (:func:`_exact_statistics`), and each tile's core is cut from a pass with ``HALO``
    pixels of context, so the result is the untiled one up to float rounding.
    """
    h, w = x.shape[-2:]
    tiles = _tiles(h, w, tile_pixels)
    out = torch.empty_like(x)
    with holding(model, lambda: None):
        _exact_statistics(model, x, tiles)
        for rows, cols, core_rows, core_cols in tiles:
            tile = model(x[..., rows, cols])
            out[..., rows, cols][..., core_rows, core_cols] = tile[..., core_rows, core_cols]
    return out


def _fits_in_memory(device: torch.device, half: bool) -> int:
    """Pixels that one pass may take on ``device``: the CPU's fixed cap, or half a GPU's free memory."""
    if device.type != "cuda":
        return MAX_PIXELS
    free, _ = torch.cuda.mem_get_info(device)
    return int(free / 2 / (BYTES_PER_PIXEL / (2 if half else 1)))


@torch.inference_mode()
def stylize(
    content: Image.Image | Sequence[Image.Image],
    model: nn.Module,
    *,
    strength: float = 1.0,
    preserve_color: bool = False,
    max_pixels: int | None = None,
    tile_pixels: int = TILE_PIXELS,
    half: bool | None = None,
) -> Image.Image | list[Image.Image]:
    """Stylise ``content`` with ``model`` (from :func:`load_style`) in one pass at its own size.

    A list of images of one size runs as one batch, each with its own instance-norm
    statistics, and gives a list (on this CPU, 4 at a time are ~15% faster than one by one).
    Beyond ``max_pixels`` in all (default: ``NST_FAST_MAX_PIXELS`` on the CPU, what half the
    free memory holds on a GPU), a single image runs in tiles. ``strength`` blends
    ``(1 − s)·content + s·network(content)``: 0 gives the content back, 1 the full style.
    ``preserve_color`` keeps the content's chroma and takes the pastiche's luminance.
    ``half`` runs the network in float16 autocast (default: on CUDA only; the CPU is
    fastest in float32).
    """
    check_fraction("strength", strength)
    contents = [content] if isinstance(content, Image.Image) else list(content)
    check(len({c.size for c in contents}) == 1, "a batch needs images of one size")
    device = next(model.parameters()).device
    half = device.type == "cuda" if half is None else half
    if max_pixels is None:
        max_pixels = _fits_in_memory(device, half)
    x = torch.cat([to_tensor(c, device, scale=1.0) for c in contents])
    x = x.contiguous(memory_format=memory_format(device))
    b, _, h, w = x.shape
    check(b == 1 or b * h * w <= max_pixels, f"a batch of {b} is over {max_pixels} pixels; send fewer")
    with _FORWARD, torch.autocast(device.type, torch.float16, enabled=half):
        y = model(x) if b * h * w <= max_pixels else _tiled(model, x, tile_pixels)
    y = y.float()
    if strength < 1:
        y = torch.lerp(x, y, strength)
    del x
    pastiches = [to_image(one, scale=1.0) for one in y.split(1)]
    if preserve_color:
        pastiches = [transfer_luminance(p, c) for p, c in zip(pastiches, contents, strict=True)]
    return pastiches[0] if isinstance(content, Image.Image) else pastiches
