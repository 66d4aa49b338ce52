"""Fast stylisation with a pretrained :class:`~nst.transformer.TransformerNet` (Johnson et al. 2016).

Weights load strictly from our safetensors or, for third-party ``.pth`` files,
through ``torch.load(weights_only=True)``; models stay in memory once loaded.
Images larger than ``max_pixels`` run in overlapping tiles whose instance
norms share statistics measured on the whole (downscaled) image.
"""

from __future__ import annotations

import functools
import math
import os
import pickle
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from safetensors import SafetensorError, safe_open

from nst.color import transfer_luminance
from nst.device import default_device
from nst.images import to_image, to_tensor
from nst.transformer import InstanceNorm, TransformerNet, from_examples_layout
from nst.vgg import WeightsNotFoundError

MAX_PIXELS = int(os.environ.get("NST_FAST_MAX_PIXELS", 2048 * 1536))
"""Images up to this many pixels run in one pass; larger ones in tiles."""
TILE_PIXELS = int(os.environ.get("NST_FAST_TILE_PIXELS", 1024 * 1024))
"""Each tile's size with its overlap, in pixels: peak memory is about 600 bytes a tile pixel."""
STATS_PIXELS = 1024 * 1024
"""Tiled images measure their instance-norm statistics on a copy shrunk to at most this size."""
_FORWARD = threading.Lock()
"""One forward pass at a time: each uses every core, and tiling sets statistics on the shared model."""
HALO = 64
"""Overlap on each side of a tile, in pixels: beyond the network's reach from a tile's core."""


def read_checkpoint(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], str]:
    """A state dict in :class:`TransformerNet`'s names and its ``upsample`` kind, from any layout.

    ``.safetensors`` (ours; the upsample kind is in its metadata), or a ``.pth``
    state dict in the Hub layout (``ConvBlock…``, transposed convolutions) or the
    pytorch/examples layout (``conv1.conv2d…``, nearest upsampling), told apart by keys.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsNotFoundError(f"No weights file at {path}.")
    try:
        if path.suffix == ".safetensors":
            with safe_open(path, framework="pt") as f:
                upsample = (f.metadata() or {}).get("upsample", "nearest")
                return {k: f.get_tensor(k) for k in f.keys()}, upsample  # noqa: SIM118
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, SafetensorError, RuntimeError, EOFError, ValueError) as err:
        raise WeightsNotFoundError(
            f"{path.name} is not a loadable weights file (only plain tensors are accepted): {err}"
        ) from err
    if not isinstance(state, dict):
        raise WeightsNotFoundError(f"{path.name} holds a {type(state).__name__}, not a state dict.")
    if "conv1.conv2d.weight" in state:
        return from_examples_layout(state), "nearest"
    return state, "deconv"


@functools.lru_cache(maxsize=8)
def load_model(path: str | os.PathLike, device: torch.device | None = None) -> TransformerNet:
    """The network in ``path`` (any layout), strictly loaded, in eval mode; cached by path."""
    state, upsample = read_checkpoint(path)
    model = TransformerNet(upsample)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise WeightsNotFoundError(f"{Path(path).name} does not fit the transformer network: {err}") from err
    # Channels-last runs this network's convolutions ~1.5× faster on CPU (bench/).
    model = model.eval().requires_grad_(False).to(device or default_device())
    return model.to(memory_format=torch.channels_last)


@contextmanager
def _frozen_statistics(model: TransformerNet, image: torch.Tensor) -> Iterator[None]:
    """Within the block, every instance norm uses the statistics it saw on ``image``."""
    norms = [m for m in model.modules() if isinstance(m, InstanceNorm)]
    stats = []
    hooks = [
        norm.register_forward_pre_hook(lambda _, args: stats.append(torch.var_mean(args[0], (0, 2, 3))))
        for norm in norms
    ]
    try:
        model(image)
    finally:
        for hook in hooks:
            hook.remove()
    for norm, (var, mean) in zip(norms, stats, strict=True):
        norm.frozen = (mean, var)
    try:
        yield
    finally:
        for norm in norms:
            norm.frozen = None


def _tiled(model: TransformerNet, x: torch.Tensor, tile_pixels: int) -> torch.Tensor:
    """``model(x)`` computed in tiles of at most about ``tile_pixels`` each, overlap included.

    Instance-norm statistics come from one pass over ``x`` shrunk to ``STATS_PIXELS``
    (exact when it already fits), and each tile's core is cut from a pass with
    ``HALO`` pixels of context. Tile origins are multiples of 4, so the strided
    convolutions sample the same grid as on the whole image.
    """
    h, w = x.shape[-2:]
    scale = math.sqrt(STATS_PIXELS / (h * w))
    small = F.interpolate(x, scale_factor=scale, mode="area") if scale < 1 else x
    core = max(4, (int(math.sqrt(tile_pixels)) - 2 * HALO) // 4 * 4)
    out = torch.empty_like(x)
    with _frozen_statistics(model, small):
        for top in range(0, h, core):
            for left in range(0, w, core):
                y0, x0 = max(0, top - HALO), max(0, left - HALO)
                y1, x1 = min(h, top + core + HALO), min(w, left + core + HALO)
                tile = model(x[..., y0:y1, x0:x1])
                bottom, right = min(h, top + core), min(w, left + core)
                out[..., top:bottom, left:right] = tile[..., top - y0 : bottom - y0, left - x0 : right - x0]
    return out


@torch.inference_mode()
def stylize(
    content: Image.Image,
    model: TransformerNet,
    *,
    strength: float = 1.0,
    preserve_color: bool = False,
    max_pixels: int = MAX_PIXELS,
    tile_pixels: int = TILE_PIXELS,
) -> Image.Image:
    """Stylise ``content`` in one forward pass, at its own size; beyond ``max_pixels``, in tiles.

    ``strength`` blends ``(1 − s)·content + s·network(content)``: 0 gives the
    content back, 1 the full style. ``preserve_color`` keeps the content's chroma
    and takes the pastiche's luminance.
    """
    if not (math.isfinite(strength) and 0 <= strength <= 1):
        raise ValueError(f"strength must be between 0 and 1, not {strength}")
    device = next(model.parameters()).device
    x = to_tensor(content, device, memory_format=torch.channels_last, scale=1.0)
    h, w = x.shape[-2:]
    with _FORWARD:
        y = model(x) if h * w <= max_pixels else _tiled(model, x, tile_pixels)
    if strength < 1:
        y = torch.lerp(x, y, strength)
    del x
    pastiche = to_image(y, scale=1.0)
    return transfer_luminance(pastiche, content) if preserve_color else pastiche
