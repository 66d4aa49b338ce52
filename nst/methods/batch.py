"""Many photos painted at once: folders mirrored, finished files skipped, the work shared by processes.

:func:`jobs` maps inputs to outputs: a folder's images to the same tree under the output folder,
a loose file to ``<stem>.png`` there. :func:`paint_all` paints this process's share of them (one
of ``torchrun``'s ranks, :mod:`nst.base.distributed`; the shares are cut from the whole list, so
each photo is painted by one rank only), skips those whose output is there, and writes each
output whole or not at all, so that a killed job resumes where it stopped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from nst.base.distributed import Ranks
from nst.base.images import ImageError, image_files, load_image, save_image


@dataclass(frozen=True)
class Job:
    source: Path
    target: Path


@dataclass
class BatchProgress:
    """This rank's count so far, of its ``share``: ``painted``, ``failed`` (with why), ``skipped`` (done)."""

    share: int
    skipped: int = 0
    painted: int = 0
    failed: list[tuple[Path, str]] = field(default_factory=list)


def jobs(inputs: Sequence[str | os.PathLike], output: str | os.PathLike) -> list[Job]:
    """(photo, output) pairs: a folder's images keep their place under ``output`` (as PNG), a
    file goes to ``output/<stem>.png``."""
    output, out = Path(output), []
    for item in map(Path, inputs):
        if item.is_dir():
            out += [Job(p, output / p.relative_to(item).with_suffix(".png")) for p in image_files(item)]
        else:
            out.append(Job(item, output / f"{item.stem}.png"))
    return out


def finished(all_jobs: Sequence[Job]) -> int:
    """How many of ``all_jobs`` have their output written (by any process)."""
    return sum(job.target.is_file() for job in all_jobs)


def paint_all(
    all_jobs: Sequence[Job],
    paint: Callable[[list[Image.Image]], list[Image.Image]],
    ranks: Ranks,
    batch: int = 4,
    max_side: int | None = None,
) -> Iterator[BatchProgress]:
    """Paint this rank's share of ``all_jobs`` with ``paint`` (photos of one size in, pictures out),
    ``batch`` photos at a time; yields the count first, then after each batch. A photo that cannot be read is
    counted as failed, with its one-line reason, and the rest go on."""
    share = ranks.share(list(all_jobs))
    todo = [job for job in share if not job.target.is_file()]
    progress = BatchProgress(len(share), skipped=len(share) - len(todo))
    yield progress
    for start in range(0, len(todo), batch):
        by_size: dict[tuple[int, int], list[tuple[Job, Image.Image]]] = {}
        for job in todo[start : start + batch]:
            try:
                image = load_image(job.source, max_side=max_side)
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
