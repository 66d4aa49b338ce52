"""Many photos painted at once: folders mirrored, finished files skipped, the work shared by processes.

:func:`jobs` maps inputs to outputs: a folder's images to the same tree under the output folder,
a loose file to ``<stem>.png`` there. :func:`paint_all` paints this process's share of them (one
of ``torchrun``'s ranks, :mod:`nst.base.distributed`; the shares are cut from the whole list, so
each photo is painted by one rank only), skips those whose output is there, and writes each
output whole or not at all, so that a killed job resumes where it stopped.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from nst.base.distributed import Ranks
from nst.base.images import ImageError, image_files, load_image, save_image
from nst.base.photos import Streamed


@dataclass(frozen=True)
class Job:
    """A photo to paint: ``source`` names it in messages, ``data`` is its file or encoded image."""

    source: str
    target: Path
    data: Path | bytes | None


@dataclass
class BatchProgress:
    """This rank's count so far, of its ``share``: ``painted``, ``failed`` (with why), ``skipped`` (done)."""

    share: int
    skipped: int = 0
    painted: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


def many(item: str | os.PathLike) -> bool:
    """Whether ``item`` names many photos: a folder or a streamed dataset (``hf:…``)."""
    return Streamed.parse(item) is not None or Path(item).is_dir()


def jobs(inputs: Sequence[str | os.PathLike], output: str | os.PathLike) -> Iterator[Job]:
    """Each photo and its output, in order: a folder's images keep their place under ``output`` (as
    PNG), a file goes to ``output/<stem>.png``, a streamed dataset's example (read now, as the
    stream reaches it) to ``output/<split>/<index>_<name>.png``."""
    output = Path(output)
    for item in inputs:
        stream = Streamed.parse(item)
        if stream is not None:
            for example in stream.examples():
                target = output / stream.split / f"{example.name}.png"
                yield Job(f"{stream}#{example.index}", target, example.data)
        elif Path(item).is_dir():
            for p in image_files(item):
                yield Job(str(p), output / p.relative_to(item).with_suffix(".png"), p)
        else:
            yield Job(str(item), output / f"{Path(item).stem}.png", Path(item))


def count(inputs: Sequence[str | os.PathLike]) -> int | None:
    """How many photos :func:`jobs` will give, when known (a dataset's metadata may not say)."""
    total = 0
    for item in inputs:
        stream = Streamed.parse(item)
        n = stream.count() if stream is not None else len(image_files(item)) if Path(item).is_dir() else 1
        if n is None:
            return None
        total += n
    return total


def finished(output: str | os.PathLike) -> int:
    """How many pictures are written under ``output`` (by any process), parts being written left out."""
    return sum(1 for p in Path(output).rglob("*.png") if not p.name.startswith("."))


def paint_all(
    all_jobs: Iterable[Job],
    paint: Callable[[list[Image.Image]], list[Image.Image]],
    ranks: Ranks,
    batch: int = 4,
    max_side: int | None = None,
) -> Iterator[BatchProgress]:
    """Paint this rank's share of ``all_jobs`` (every world-th, from its rank on) with ``paint``
    (photos of one size in, pictures out), ``batch`` photos at a time; yields the count after each
    batch (and once before). A photo that cannot be read is counted as failed, with its one-line
    reason, and the rest go on."""
    progress = BatchProgress(0)
    yield progress
    share = itertools.islice(all_jobs, ranks.rank, None, ranks.world)
    while chunk := list(itertools.islice(share, batch)):
        progress.share += len(chunk)
        by_size: dict[tuple[int, int], list[tuple[Job, Image.Image]]] = {}
        for job in chunk:
            if job.target.is_file():
                progress.skipped += 1
                continue
            try:
                if job.data is None:
                    raise ImageError("The example holds no image.")
                image = load_image(job.data, max_side=max_side, alpha=True)
                by_size.setdefault(image.size, []).append((job, image))
            except (ImageError, ValueError, OSError) as err:
                progress.failed.append((job.source, str(err)))
        for same in by_size.values():
            for (job, _), picture in zip(same, paint([image for _, image in same]), strict=True):
                _write(picture, job.target)
                progress.painted += 1
        yield progress


def _write(picture: Image.Image, target: Path) -> None:
    """``picture`` at ``target``, whole: written beside it, then renamed into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(f".{target.stem}.part.png")
    save_image(picture, part)
    os.replace(part, target)
