"""The training photos: decoded, cropped and batched in a seeded order per epoch (:func:`batches`)."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from pathlib import Path

import torch
from PIL import Image

from nst.base import distributed
from nst.base.images import ImageError, load_image
from nst.base.photos import Streamed
from nst.methods.train.options import TrainOptions


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
