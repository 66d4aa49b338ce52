"""Fast stylisation: one forward pass of a pretrained network per image.

Two kinds of network serve the style catalogue (:mod:`nst.methods.catalogue`): Johnson et al.'s
(2016) :class:`~nst.networks.transformer.TransformerNet`, one style each (Hub or local files, loaded
by structure through :mod:`nst.base.weights`), and Dumoulin et al.'s (2017) 26-style
:class:`~nst.networks.dumoulin.MultiStyleNet`, whose styles blend inside the network. Models stay
in memory once loaded. A catalogue style becomes a style object of :mod:`nst.methods.engine`,
which paints it (batches, tiling, devices). A multi-style network of your own
(``python -m nst train --style A B …``) serves its styles as the built-in one does.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import torch
from PIL import Image, ImageOps

from nst.base import pictures
from nst.base.device import memory_format
from nst.base.health import Health
from nst.base.images import load_image
from nst.base.options import blend_weights, check, check_positive, check_regions, option
from nst.base.weights import PACKAGE_FILES, WeightsError, cache_dir, describe, weights_dir
from nst.methods import engine
from nst.methods.catalogue import Style, find, load_catalogue, network_of
from nst.methods.engine import MixStyle, NetworkStyle, OnePassOptions, OnePassStyle
from nst.networks import dumoulin
from nst.networks.dumoulin import MultiStyleNet, builtin_network, load_multistyle
from nst.networks.transformer import CHANNELS, HEADS, TransformerNet, load_model

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FastOptions(OnePassOptions):
    """A fast run (:class:`~nst.methods.engine.OnePassOptions`): strength blends in pixels,
    ``style_blend`` mixes built-in styles inside the network; ``batch`` photos of one size
    go through the network together (the command line's batches)."""

    batch: int = option(4, "photos of one size per forward pass")

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive("batch", self.batch)


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
        # On the CPU whatever the default device: a one-off probe, also run where no GPU is attached yet.
        for key, colour in probe_colours(load_model(path, torch.device("cpu"))).items():
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
    names: str | Sequence[str] | None = None,
    options: FastOptions | None = None,
    *,
    masks: Sequence[Image.Image] | None = None,
    weights: str | os.PathLike | None = None,
    style_index: Sequence[int] | None = None,
    device: torch.device | None = None,
) -> OnePassStyle:
    """The style object for catalogue style(s) ``names``, or for the network file ``weights``.

    Styles of one multi-style network (the built-in one, or one of your own) blend inside it,
    by their norms' γ and β (Dumoulin et al.), with ``options.style_blend``'s shares (equal by
    default). A Johnson network holds one style, read as :func:`reading` decides for its Hub
    repo. A multi-style ``weights`` file paints its styles ``style_index`` (blended likewise).
    ``options.strength`` blends in pixels: ``(1 − s)·C + s·N(C)``. ``masks``, one per name
    (:func:`~nst.base.images.load_mask`), place style k where mask k is white instead
    (:func:`~nst.methods.engine.in_regions`): styles of one multi-style network meet inside it,
    others are composited; where no mask is painted the photo stays.
    """
    o = options or FastOptions()
    if masks is not None:
        return _regions_style(names, masks, weights, o, device)
    if weights is not None:
        return _file_style(weights, names, style_index, o, device)
    return _catalogue_style(names, style_index, o, device)


def _regions_style(
    names: str | Sequence[str] | None,
    masks: Sequence[Image.Image],
    weights: str | os.PathLike | None,
    o: FastOptions,
    device: torch.device | None,
) -> OnePassStyle:
    """Catalogue style k where mask k is white (:func:`~nst.methods.engine.in_regions`)."""
    check(names is not None and weights is None, "masks go with catalogue names, one per mask")
    names = [names] if isinstance(names, str) else list(names)
    check_regions(masks, len(names), o.style_blend)
    return engine.in_regions([load_style(name, o, device=device) for name in names], masks)


def _file_style(
    weights: str | os.PathLike,
    names: str | Sequence[str] | None,
    style_index: Sequence[int] | None,
    o: FastOptions,
    device: torch.device | None,
) -> OnePassStyle:
    """The network file ``weights``: a Johnson network, or a multi-style one at styles ``style_index``."""
    check(names is None, "give catalogue names or a weights file, not both")
    _, shapes = describe(weights, "Give a network trained by `python -m nst train` (.safetensors or .pth).")
    styles = dumoulin.styles_in(shapes)
    if styles is None:
        check(not style_index, f"{weights} holds one style: style_index is for multi-style networks")
        return NetworkStyle(load_model(weights, device), o.strength)
    check(
        bool(style_index),
        f"{weights} holds {styles} styles: pick one or more with style_index, 0 to {styles - 1}",
    )
    return _mix(load_multistyle(weights, device), list(style_index), o)


def _catalogue_style(
    names: str | Sequence[str] | None,
    style_index: Sequence[int] | None,
    o: FastOptions,
    device: torch.device | None,
) -> OnePassStyle:
    """Catalogue style(s) ``names``: one Johnson network, or a blend of one multi-style network's styles."""
    check(names is not None and len(names) > 0, "name a style (see `python -m nst styles`)")
    check(style_index is None, "style_index picks styles of a weights file; name catalogue styles instead")
    styles = [find(name) for name in ([names] if isinstance(names, str) else names)]
    if len(styles) == 1 and styles[0].index is None:
        style = styles[0]
        path = style.fetch()  # first, so that the probe can see this network too
        channels, head = (
            reading(style.repo_id, style.revision) if style.kind == "hub" else (style.channels, style.head)
        )
        return NetworkStyle(load_model(path, device, channels, head), o.strength)
    for style in styles:
        check(
            style.index is not None,
            f"only styles of one multi-style network blend; {style.name} is a network of its own",
        )
        check(
            network_of(style) == network_of(styles[0]),
            f"{styles[0].name} and {style.name} are styles of different networks and do not blend",
        )
    first = styles[0]
    net = builtin_network(device) if first.kind == "builtin" else load_multistyle(first.fetch(), device)
    return _mix(net, [style.index for style in styles], o)


def _mix(net: MultiStyleNet, indices: list[int], options: FastOptions) -> MixStyle:
    """``net`` at the mix ``w_k`` = the blend's share of each of its styles ``indices``."""
    for index in indices:
        check(0 <= index < net.styles, f"style index {index} is not 0 to {net.styles - 1}")
    mix = torch.zeros(net.styles, device=next(net.parameters()).device)
    for index, share in zip(indices, blend_weights(options.style_blend, len(indices)), strict=True):
        mix[index] += share
    return MixStyle(net, mix, options.strength)


def ready_styles(device: torch.device | None = None) -> dict[str, Style]:
    """The catalogue's styles whose weights are here now (see :func:`health`)."""
    return _survey(device)[0]


def health(device: torch.device | None = None) -> Health:
    """Ready when any style's weights are here; ``why`` names those that are not, by source."""
    styles, problems = _survey(device)
    return Health(bool(styles), " ".join(problems))


def _survey(device: torch.device | None) -> tuple[dict[str, Style], list[str]]:
    """The styles whose weights are here now, and one line per source whose are not.

    Nothing is downloaded: Hub styles missing from the cache are reported (they are fetched
    on first use when online). The built-in network is loaded on ``device`` to check it.
    """
    styles, problems, missing = {}, [], {}
    try:
        builtin_network(device)
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


def thumbnail(
    name: str, side: int = 128, device: torch.device | None = None, photo: str | os.PathLike | None = None
) -> Path:
    """A picture of style ``name``'s effect: its own network run on ``photo`` (default: the shipped
    :data:`~nst.base.pictures.THUMBNAIL_PHOTO`) cropped to its centre square of ``side`` px, cached
    as PNG under a key of the network, the photo's bytes and the side."""
    style = find(name)
    if style.kind == "builtin":
        source = PACKAGE_FILES["multistyle26"][1]
    else:
        path = style.fetch()
        source = f"{path.resolve()}:{path.stat().st_size}:{path.stat().st_mtime_ns}"
    photo_bytes = Path(pictures.THUMBNAIL_PHOTO if photo is None else photo).read_bytes()
    scene = hashlib.blake2b(photo_bytes, digest_size=8).hexdigest()
    key = hashlib.blake2b(f"{source}:{scene}:{side}".encode(), digest_size=8).hexdigest()
    target = cache_dir() / "thumbnails" / f"{name}-{key}.png"
    if not target.is_file():
        square = ImageOps.fit(load_image(photo_bytes), (side, side), Image.Resampling.LANCZOS)
        picture = stylize(square, load_style(name, device=device))
        target.parent.mkdir(parents=True, exist_ok=True)
        picture.save(target)
    return target


def stylize(
    content: Image.Image | Sequence[Image.Image],
    style: str | Sequence[str] | OnePassStyle,
    options: FastOptions | None = None,
    *,
    masks: Sequence[Image.Image] | None = None,
    **changes: object,
) -> Image.Image | list[Image.Image]:
    """Paint ``content`` (an image, or a list of one size) in catalogue style(s) ``style``, at its size.

    ``options`` (default :class:`FastOptions`) with ``changes`` to any of its fields. A style
    object (:func:`load_style`) is used as it is: it carries its own strength and blend.
    ``masks``: one per style, as in :func:`load_style`.
    """
    o = dataclasses.replace(options or FastOptions(), **changes)
    if isinstance(style, OnePassStyle):
        engine.check_prebuilt(o)
        check(masks is None, "masks need catalogue names, one per mask")
    else:
        style = load_style(style, o, masks=masks)
    return engine.stylize(content, style, o)
