"""The training loop (:func:`train`): the network, its loss's targets, the steps and the checkpoints."""

from __future__ import annotations

import dataclasses
import itertools
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from nst.base import distributed
from nst.base.device import default_device, deterministic
from nst.base.images import image_files, resize_long_side, to_tensor
from nst.base.losses import (
    LayerApply,
    LossLayers,
    PerceptualLoss,
    Scale,
    TVLoss,
    content_terms,
    gram_matrix,
    style_terms,
)
from nst.base.options import check
from nst.base.photos import Streamed
from nst.methods.train.data import batches
from nst.methods.train.options import CHECKPOINT, LAYERS, TrainOptions, TrainProgress
from nst.methods.train.publish import export
from nst.networks import dumoulin, loss_network
from nst.networks.dumoulin import MultiStyleNet
from nst.networks.transformer import TransformerNet


def network(styles: int, finetune: bool) -> nn.Module:
    """The network to train: Johnson et al.'s for one style, else a ``styles``-style conditional one,
    fresh or (``finetune``) the built-in network's convolutions with new γ/β
    (:func:`~nst.networks.dumoulin.with_new_styles`)."""
    if finetune:
        return dumoulin.with_new_styles(dumoulin.builtin_network(torch.device("cpu")), styles)
    return MultiStyleNet(styles) if styles > 1 else TransformerNet("nearest")


def train(
    style: Image.Image | Sequence[Image.Image],
    data: str | os.PathLike,
    output: str | os.PathLike,
    options: TrainOptions | None = None,
    *,
    device: torch.device | None = None,
    **changes: object,
) -> Iterator[TrainProgress]:
    """Train on the images under ``data``; yields progress per step, then writes the model to ``output``.

    One ``style`` trains Johnson et al.'s network; several (or ``finetune``) one multi-style
    network (:func:`network`) whose style ``t mod N`` step t trains, the others' γ/β untouched
    but for Adam's momentum. ``options`` (default :class:`TrainOptions`) with ``changes`` to any
    of its fields. A ``checkpoint.pt`` in ``output`` is resumed from unless ``resume`` is false. The photos
    are visited in a seeded order per epoch (``seed + epoch``), so a resumed run sees the
    batches an uninterrupted one would, and ends with the same weights (on CUDA with
    deterministic kernels, :func:`~nst.base.device.deterministic`).

    Under ``torchrun`` (:mod:`nst.base.distributed`) the processes split each batch of
    ``batch_size`` photos and :class:`~torch.nn.parallel.DistributedDataParallel` averages
    their gradients. Rank k's loss is scaled by ``n_k·world / n`` (``n_k`` of the batch's ``n``
    photos are its), so the average is the gradient of the whole batch's mean loss: the same
    steps give the same weights in one process or several. Rank 0 alone writes checkpoints and
    the model; the reported losses are the ranks' mean.
    """
    o = dataclasses.replace(options or TrainOptions(), **changes)
    styles = [style] if isinstance(style, Image.Image) else list(style)
    check(len(styles) > 0, "give at least one style image")
    titles = list(o.style_titles or [f"Style {k}" for k in range(len(styles))])
    check(len(titles) == len(styles), f"{len(styles)} styles but {len(titles)} titles")
    ranks = distributed.join(device or default_device())
    chosen = loss_network.choose(o.loss_network, ranks.device)
    photos = Streamed.parse(data) or image_files(data)
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    model, trained, optimizer, first = _trainee(len(styles), o, output, ranks)
    targets = _targets(chosen.name, styles, o, ranks.device)
    yield from _steps(model, trained, optimizer, targets, photos, output, o, first, ranks)
    config = _config(o, model, chosen.name, first, photos, styles, titles, ranks.world)
    if ranks.main:
        export(model, output, o.name or "style", config)


def _trainee(
    styles: int, o: TrainOptions, output: Path, ranks: distributed.Ranks
) -> tuple[nn.Module, nn.Module, torch.optim.Optimizer, int]:
    """The network to train (:func:`network`, seeded by ``seed``), the module that trains it (under
    ``torchrun`` its :class:`~torch.nn.parallel.DistributedDataParallel`), Adam on its trainable
    weights, and the step to go on from: 0, or that of the checkpoint in ``output`` when resuming."""
    device = ranks.device
    torch.manual_seed(o.seed)
    model = network(styles, o.finetune).to(device).train()
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=o.lr)
    step = 0
    if o.resume and (output / CHECKPOINT).is_file():
        saved = torch.load(output / CHECKPOINT, map_location=device, weights_only=True)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        step = saved["step"]
    trained = model if ranks.world == 1 else DistributedDataParallel(model)
    return model, trained, optimizer, step


class _Targets(NamedTuple):
    """The loss network (``net``, read at ``layers``) and the loss's fixed terms: each style's Gram
    terms (``styles``) and total variation (``tv``, none when γ = 0)."""

    net: nn.Module
    layers: LossLayers
    styles: list[list[nn.Module]]
    tv: list[nn.Module]


def _targets(name: str, styles: list[Image.Image], o: TrainOptions, device: torch.device) -> _Targets:
    """:class:`_Targets` on loss network ``name``: style k's Gram targets ``G_l(S_k)`` at each style
    layer, the style image's long side ``style_size`` (default ``image_size``)."""
    layers = LAYERS[name]
    net = loss_network.features(name, {layers.content, *layers.style}, "max", device)
    style_losses = []
    for image in styles:
        with torch.no_grad():
            features = net(to_tensor(resize_long_side(image, o.style_size or o.image_size), device))
        grams = {layer: gram_matrix(f) for layer, f in features.items() if layer in layers.style}
        style_losses.append(style_terms(grams, layers.style_weights, o.style_weight))
    tv = [Scale(LayerApply(TVLoss(), None), o.tv_weight)] if o.tv_weight else []
    return _Targets(net, layers, style_losses, tv)


def _steps(
    model: nn.Module,
    trained: nn.Module,
    optimizer: torch.optim.Optimizer,
    targets: _Targets,
    photos: list[Path] | Streamed,
    output: Path,
    o: TrainOptions,
    step: int,
    ranks: distributed.Ranks,
) -> Iterator[TrainProgress]:
    """The steps from ``step`` to ``steps``, one batch each (:func:`batches`), a checkpoint every
    ``checkpoint_every`` and at the end (rank 0). A batch no rank could read a photo of makes no
    update and reports no losses."""
    start, unreadable = time.perf_counter(), 0
    conditional = isinstance(model, MultiStyleNet)
    with deterministic(ranks.device):  # on CUDA: so that a resumed run ends where an uninterrupted one does
        for batch, bad in itertools.islice(batches(photos, o, step, ranks), o.steps - step):
            mine = 0 if batch is None else len(batch)
            good, bad = distributed.total([mine, bad], ranks)
            unreadable += bad
            losses = {}  # none when no photo of the batch could be read, on any rank: no update
            if good:
                losses = _step(trained, conditional, optimizer, targets, batch, (mine, good), step, o, ranks)
            step += 1
            if ranks.main and (step % o.checkpoint_every == 0 or step == o.steps):
                _save_checkpoint(output, model, optimizer, step)
            yield TrainProgress(step, o.steps, losses, time.perf_counter() - start, unreadable)


def _step(
    trained: nn.Module,
    conditional: bool,
    optimizer: torch.optim.Optimizer,
    targets: _Targets,
    batch: torch.Tensor | None,
    counts: tuple[int, int],
    step: int,
    o: TrainOptions,
    ranks: distributed.Ranks,
) -> dict[str, float]:
    """One Adam step at style ``k = step mod N`` on this rank's ``batch`` (``counts``: its ``n_k``
    readable photos of the batch's ``n``); returns the loss terms, the ranks' mean.

    ``L = α·L_content(x, T(x)) + β·L_style(S_k, T(x)) + γ·L_tv(T(x))``, this rank's scaled by
    ``n_k·world / n`` so that the averaged gradient is the whole batch's mean loss's.
    """
    mine, good = counts
    net, layers, styles, tv = targets
    device = ranks.device
    # A rank without a readable photo in this batch takes part with a weight of 0; a
    # rank's loss is weighted by its share of the batch's readable photos.
    x = (torch.zeros(1, 3, o.image_size, o.image_size) if batch is None else batch).to(device) / 255
    with torch.no_grad():
        content = net(x)[layers.content]
    k = step % len(styles)
    loss = PerceptualLoss(
        net,
        {"content": content_terms({layers.content: content}, o.content_weight), "style": styles[k], "tv": tv},
    )
    optimizer.zero_grad(set_to_none=True)
    if conditional:  # [0, 1] in and out, at style k alone
        terms = loss(trained(x, F.one_hot(torch.tensor(k), len(styles)).float()))
    else:
        terms = loss(trained(x * 255) / 255)
    (terms["total"] * (mine * ranks.world / good)).backward()
    optimizer.step()
    return distributed.mean({k: v.item() for k, v in terms.items()}, ranks)


def _config(
    o: TrainOptions,
    model: nn.Module,
    name: str,
    first: int,
    photos: list[Path] | Streamed,
    styles: list[Image.Image],
    titles: list[str],
    processes: int,
) -> dict:
    """The run's ``config.json``: its options, loss network ``name`` and layers, the steps run from
    ``first``, the training photos and style images, and the processes."""
    conditional = isinstance(model, MultiStyleNet)
    layers = LAYERS[name]
    return {
        "architecture": "MultiStyleNet" if conditional else "TransformerNet",
        "upsample": "nearest",
        **dataclasses.asdict(o),
        "style_titles": titles if conditional else None,
        "loss_network": name,
        "steps_this_run": o.steps - first,
        "style_size": o.style_size or o.image_size,
        "content_layer": layers.content,
        "style_layers": list(layers.style),
        "training_images": str(photos) if isinstance(photos, Streamed) else len(photos),
        "style_image_size": [list(image.size) for image in styles] if conditional else list(styles[0].size),
        "processes": processes,
    }


def _save_checkpoint(output: Path, model: nn.Module, optimizer: torch.optim.Optimizer, step: int) -> None:
    tmp = output / (CHECKPOINT + ".tmp")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step}, tmp)
    os.replace(tmp, output / CHECKPOINT)
