"""Photos by the thousand, for training and batch painting: a Hugging Face dataset, streamed.

``hf:NAME`` or ``hf:NAME:SPLIT`` (split ``train`` by default) names a dataset wherever a folder
of photos is taken: NAME is anything :func:`datasets.load_dataset` reads, a Hub dataset
(``hf:detection-datasets/coco:val``) or a local dataset folder (parquet files). The split is
streamed, so COCO-sized data need not be copied first; its image column is the first of
``Image`` type, kept encoded until a photo is wanted, and decoded by
:func:`~nst.base.images.load_image` like any upload.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath

PREFIX = "hf:"
SHUFFLE_BUFFER = 1000
"""Examples held to shuffle a stream (the order of a seed's epoch; ``datasets``' own buffer)."""


@dataclass(frozen=True)
class Example:
    """One example of a streamed split: its place, a name for its outputs, its encoded image."""

    index: int
    name: str
    data: bytes | None


@dataclass(frozen=True)
class Streamed:
    """A Hugging Face dataset's split, streamed (see the module docstring)."""

    name: str
    split: str = "train"

    @staticmethod
    def parse(source: str | os.PathLike) -> Streamed | None:
        """The dataset that ``source`` names (``hf:NAME[:SPLIT]``), or None for a path."""
        text = str(source)
        if not text.startswith(PREFIX):
            return None
        name, _, split = text.removeprefix(PREFIX).rpartition(":")
        if not name or "/" in split:  # no split given: "hf:NAME", where NAME may hold a "/"
            name, split = text.removeprefix(PREFIX), "train"
        if not name:
            raise ValueError(f"{text} names no dataset: write hf:NAME or hf:NAME:SPLIT")
        return Streamed(name, split or "train")

    def __str__(self) -> str:
        return f"{PREFIX}{self.name}:{self.split}"

    def _open(self):
        import datasets

        try:
            stream = datasets.load_dataset(self.name, split=self.split, streaming=True)
        except Exception as err:  # not found, offline, no such split: every failure is one line
            first = (str(err).strip().splitlines() or [""])[0][:200]
            raise ValueError(f"cannot stream the dataset {self}: {type(err).__name__}: {first}") from err
        features = stream.features or {}
        columns = [k for k, v in features.items() if isinstance(v, datasets.Image)]
        if not columns:
            raise ValueError(f"the dataset {self} has no image column (its columns: {', '.join(features)})")
        column = columns[0]  # kept encoded: decoded only where a rank paints or trains on it
        return stream.select_columns([column]).cast_column(column, datasets.Image(decode=False)), column

    def count(self) -> int | None:
        """How many examples the split has, when the dataset says (its metadata); None otherwise."""
        stream, _ = self._open()
        splits = stream.info.splits or {}
        return splits[self.split].num_examples if self.split in splits else None

    def examples(self, seed: int | None = None) -> Iterator[Example]:
        """Every example in stream order, or shuffled within :data:`SHUFFLE_BUFFER` by ``seed``.

        ``index`` counts from 0 in the order given; ``name`` is ``index`` and the file name the
        dataset gives the image, if any (``00000012_cat``)."""
        stream, column = self._open()
        if seed is not None:
            stream = stream.shuffle(seed=seed, buffer_size=SHUFFLE_BUFFER)
        for index, record in enumerate(stream):
            image = record[column] or {}
            stem = PurePath(image.get("path") or "").stem
            yield Example(index, f"{index:08d}_{stem}" if stem else f"{index:08d}", image.get("bytes"))
