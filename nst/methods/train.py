"""Train a one-pass network: Johnson et al.'s (2016) for one style, or Dumoulin et al.'s (2017) for several.

The loss is the same :class:`~nst.base.losses.PerceptualLoss` the Gatys optimiser
uses: content at relu2_2 and Gram style losses at relu1_2, relu2_2, relu3_3,
relu4_3 (Johnson et al.'s layers), with Adam on the network's weights; options
in one :class:`TrainOptions`. Several styles train one
:class:`~nst.networks.dumoulin.MultiStyleNet`: shared convolutions and a γ/β pair per style
(conditional instance norm), style ``t mod N`` at step t; ``finetune`` trains only new γ/β
on the built-in network's frozen convolutions.
Writes ``<name>.safetensors``, ``config.json`` and a model card, with
``checkpoint.pt`` along the way so that a run can resume.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F
from huggingface_hub import HfApi
from PIL import Image
from safetensors.torch import save_file
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from nst.base import distributed
from nst.base.device import default_device, deterministic
from nst.base.images import ImageError, image_files, load_image, resize_long_side, to_tensor
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
from nst.base.options import check, check_choice, check_non_negative, check_positive, option
from nst.base.photos import Streamed
from nst.networks import dumoulin, loss_network
from nst.networks.dumoulin import MultiStyleNet
from nst.networks.transformer import TransformerNet

LAYERS = {
    "vgg19": LossLayers("relu2_2", ("relu1_2", "relu2_2", "relu3_3", "relu4_3")),
    # A shallow content layer, as Johnson et al.'s relu2_2 (block 2 is at ¼ resolution), and
    # the style layers that Gatys reads on this network.
    "mobilenet": LossLayers("block2", ("conv", "block0", "block2", "block5", "block9", "block12")),
}
"""Where training reads each loss network: VGG-19's are Johnson et al.'s."""
CHECKPOINT = "checkpoint.pt"


def crop(image: Image.Image, size: int) -> torch.Tensor:
    """A training photo resized and centre-cropped to ``size``², as [3, S, S] in [0, 255]."""
    from torchvision.transforms import v2

    steps = [v2.Resize(size), v2.CenterCrop(size), v2.PILToTensor(), v2.ToDtype(torch.float32)]
    return v2.Compose(steps)(image)


def _decoded(sources: list, size: int) -> tuple[torch.Tensor | None, int]:
    """The photos of ``sources`` (paths or encoded images) that can be read, cropped and stacked (None
    if none), and how many could not: a file that is not a picture is skipped, never fatal."""
    good = []
    for source in filter(None, sources):  # an example without an image is as unreadable
        with contextlib.suppress(ImageError, OSError, ValueError):
            good.append(crop(load_image(source), size))
    return (torch.stack(good) if good else None), len(sources) - len(good)


def batches(
    data: list[Path] | Streamed, o: TrainOptions, start: int, ranks: distributed.Ranks
) -> Iterator[tuple[torch.Tensor | None, int]]:
    """From step ``start`` on, forever: this rank's share of each global batch of ``o.batch_size``
    photos, decoded (None when it has none, or none could be read), and how many it could not read.

    Each epoch visits the photos in an order seeded by ``seed + epoch`` (a folder's: a permutation;
    a stream's: ``datasets``' shuffle buffer), its last batch short, so a resumed run sees the
    batches an uninterrupted one would. Every rank reads a stream whole and decodes its share only.
    """
    step = 0
    for epoch in itertools.count():
        seed = o.seed + epoch
        generator = torch.Generator().manual_seed(seed)
        order = (
            (example.data for example in data.examples(seed))
            if isinstance(data, Streamed)
            else (data[i] for i in torch.randperm(len(data), generator=generator))
        )
        empty = True
        while batch := list(itertools.islice(order, o.batch_size)):
            empty = False
            if step >= start:
                share = ranks.share(batch)
                yield _decoded(share, o.image_size) if share else (None, 0)
            step += 1
        if empty:  # a folder without photos is refused sooner (image_files)
            raise ValueError(f"no training photos in {data}")


@dataclass(frozen=True)
class TrainProgress:
    step: int
    total: int
    losses: dict[str, float]
    elapsed: float
    unreadable: int = 0  # training photos skipped so far, on every rank: files that are not images


@dataclass(frozen=True)
class TrainOptions:
    """How to train a style, checked when made; the CLI takes its defaults here.

    ``L = α·L_content + β·L_style + γ·L_tv`` between each batch and the network's output
    (:class:`~nst.base.losses.PerceptualLoss`, every term relative to its target). Johnson et
    al.'s layers on VGG-19: content at relu2_2, style at relu1_2, relu2_2, relu3_3, relu4_3 with
    equal shares; on MobileNetV2 those of :data:`LAYERS`. ``loss_network`` is resolved as for
    Gatys (:func:`nst.networks.loss_network.choose`). ``style_size`` (default ``image_size``)
    sizes the style image's long side for its Gram targets.
    """

    name: str | None = option(None, "model name (default: the style file's name, else 'style')")
    steps: int = option(40_000, "training steps")
    image_size: int = option(256, "training photos are cropped to this square side")
    batch_size: int = option(4, "photos per step, in all (several processes each take a share)")
    lr: float = option(1e-3, "Adam's learning rate")
    content_weight: float = option(1.0, "α, the content term's weight")
    style_weight: float = option(10.0, "β, the style term's weight")
    tv_weight: float = option(0.0, "γ, the total variation term's weight")
    style_size: int | None = option(
        None, "the style image's long side for its Gram targets (default: image_size)"
    )
    loss_network: loss_network.Choice = option(
        "auto", "the network the losses read (auto: VGG-19 when its weights can be had, else MobileNetV2)"
    )
    finetune: bool = option(
        False,
        "train only new γ/β per style on the built-in 26-style network's frozen convolutions",
        flag="--finetune",
    )
    style_titles: tuple[str, ...] | None = option(
        None, "the styles' titles in a multi-style network (default: Style 0, Style 1, …)", cli=False
    )
    checkpoint_every: int = option(1000, "steps between checkpoints")
    resume: bool = option(True, "ignore an existing checkpoint", flag="--no-resume")
    seed: int = option(0, "seed of the data order and the network's start")

    def __post_init__(self) -> None:
        for label in ("steps", "image_size", "batch_size", "checkpoint_every", "lr"):
            check_positive(label, getattr(self, label))
        for label in ("content_weight", "style_weight", "tv_weight"):
            check_non_negative(label, getattr(self, label))
        if self.style_size is not None:
            check_positive("style_size", self.style_size)
        check_choice("loss_network", self.loss_network, loss_network.CHOICES)


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


def export(model: nn.Module, output: Path, name: str, config: dict) -> Path:
    """Write ``<name>.safetensors``, ``config.json`` and ``README.md`` (a model card); return the weights.

    A multi-style network's metadata lists its styles' titles (``styles``, JSON), which the
    catalogue shows (:func:`~nst.methods.catalogue.local_styles`).
    """
    weights = output / f"{name}.safetensors"
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if isinstance(model, MultiStyleNet):
        metadata = {"format": "nst-multistyle", "styles": json.dumps(config["style_titles"])}
    else:
        metadata = {"upsample": model.upsample, "format": "nst-transformer"}
    save_file(state, weights, metadata=metadata)
    (output / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (output / "README.md").write_text(_model_card(name, config))
    return weights


def _model_card(name: str, config: dict) -> str:
    c = config
    layers = ", ".join(f"`{x}`" for x in c["style_layers"])
    network = loss_network.TITLES[c["loss_network"]]
    if c["architecture"] == "MultiStyleNet":
        titles = c["style_titles"]
        sizes = ", ".join(f"{t} {w}×{h}" for t, (w, h) in zip(titles, c["style_image_size"], strict=True))
        start = (
            "the built-in 26-style network's convolutions (Magenta, Apache-2.0), frozen; new γ/β only"
            if c["finetune"]
            else "trained from scratch"
        )
        about = f"""A multi-style network (Dumoulin et al., 2017): shared convolutions and, per style, the
scale γ and shift β of every conditional instance norm, {len(titles)} styles in all, trained
with this project's `python -m nst train`. Use style k with
`python -m nst fast photo.jpg -o out.png --weights {name}.safetensors --style-index k`
(several indices blend inside the network), or drop the file into the app's `weights/`
folder, where its styles appear as `{name}_00`, `{name}_01`, …"""
        rows = f"""| styles | {sizes} px, Gram targets at {c["style_size"]} px |
| start | {start} |"""
        tag, io = "dumoulin-et-al", "[0, 1]"
    else:
        style_w, style_h = c["style_image_size"]
        about = f"""A feed-forward image transformation network (Johnson et al., 2016) trained for one
style with this project's `python -m nst train`. Use it with
`python -m nst fast photo.jpg -o out.png --weights {name}.safetensors`, or drop the
file into the app's `weights/` folder."""
        rows = f"| style image | {style_w}×{style_h} px, Gram targets at {c['style_size']} px |"
        tag, io = "johnson-et-al", "[0, 255]"
    return f"""---
library_name: pytorch
tags: [style-transfer, neural-style-transfer, {tag}]
pipeline_tag: image-to-image
---

# {name}: a fast neural style transfer network

{about}

| | |
|---|---|
{rows}
| training images | {c["training_images"]}, {c["image_size"]}² crops, batch {c["batch_size"]} |
| steps | {c["steps"]} (Adam, lr {c["lr"]}) |
| content loss | {network} `{c["content_layer"]}`, weight {c["content_weight"]} |
| style loss | {network} Gram matrices at {layers}, weight {c["style_weight"]} |
| total variation | weight {c["tv_weight"]} |
| upsampling | {c["upsample"]} ×2, then 3×3 convolution |

Input and output are RGB in {io}. Weights: `{name}.safetensors`; settings: `config.json`.
"""


def push(folder: str | os.PathLike, repo_id: str, *, private: bool = False, token: str | None = None) -> str:
    """Upload a trained model's folder (minus the resume checkpoint) to a Hub model repo; returns its URL."""
    folder = Path(folder)
    if not any(folder.glob("*.safetensors")):
        raise ValueError(f"{folder} holds no .safetensors model; train one first with `python -m nst train`.")
    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
    commit = api.upload_folder(
        repo_id=repo_id,
        folder_path=folder,
        repo_type="model",
        ignore_patterns=[CHECKPOINT, CHECKPOINT + ".tmp"],
        commit_message="Upload fast style transfer model",
    )
    return commit.commit_url
