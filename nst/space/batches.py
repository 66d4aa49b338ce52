"""Many photos at once: one style, each photo painted in turn, a gallery and one ZIP of the results.

:class:`Batches` is the part of :class:`~nst.space.handlers.Handlers` that holds the batch endpoint.
A batch runs in a lane of its own (:func:`~nst.space.admission.lane`), so a single picture queues
beside it, not behind it. A photo that cannot be painted gets one line in the report, and the rest go on.
"""

from __future__ import annotations

import dataclasses
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import gradio as gr
from PIL import Image

from nst.base.color import colour_choice
from nst.base.recipes import file_digest
from nst.base.settings import Settings
from nst.methods import again, registry
from nst.space.admission import Durations, on_gpu
from nst.space.presets import FAST, Presets
from nst.space.results import Results
from nst.space.uploads import Upload, Uploads, user_errors

Batch = tuple[list[tuple[str, str]], str | None, str]
"""What a batch shows as it goes: the (picture, file name) pairs painted so far, the ZIP (None until
the last photo is done), and the report."""


def entry_names(photos: Sequence[str]) -> list[str]:
    """Each photo's result's name in the ZIP: its own name as a PNG, numbered where two would clash."""
    names: list[str] = []
    for photo in photos:
        stem, n = Path(photo).stem or "photo", 1
        while (name := f"{stem}.png" if n == 1 else f"{stem}-{n}.png") in names:
            n += 1
        names.append(name)
    return names


def report(painted: int, total: int, failed: Sequence[str], doing: str | None = None) -> str:
    """The batch's progress in a few lines: how many are done, the photo being painted, and one line
    for each photo that could not be."""
    lines = [f"**{painted} of {total} painted**" + (f" · painting {doing}" if doing else "")]
    return "\n".join([*lines, *(f"- {line}" for line in failed)])


class Batches:
    """The batch endpoint, over the handlers' settings, presets, uploads and results."""

    settings: Settings
    presets: Presets
    uploads: Uploads
    results: Results

    @on_gpu(Durations.batch)
    def stylize_batch(
        self,
        photos: list[str] | None,
        style: str = "",
        style_image: Upload = None,
        strength: float = FAST.strength,
        colours: str = "none",
        working_side: int = FAST.working_side,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> Iterator[Batch]:
        """Paint many photos in one style, each in turn: a catalogue style (Fast) or any picture (Any style).

        Up to NST_BATCH_PHOTOS photos (20 by default), each shrunk as a single one would be. A photo
        that cannot be read gets one line in the report and the rest go on.

        Args:
            photos: the photos, as image files.
            style: a catalogue style (see stylize_fast), used when no style_image is given.
            style_image: optionally, any picture whose style to paint in, with Any style.
            strength: 0 gives the photo back, 1 the full style.
            colours: "none" (the style's), "luminance" (each photo's colours), "histogram" (its palette).
            working_side: style scale, the long side the network paints at (smaller: bigger strokes); 0: off.

        Returns:
            The results as (PNG, photo's name) pairs, as they come; then the path of a ZIP holding them,
            each named after its photo; and a report of what was painted and what could not be.
        """
        with user_errors():
            photos = self._checked(photos)
            changes = dict(
                strength=strength, preserve_color=colour_choice(colours), working_side=int(working_side)
            )
            method, options, styles, names = self._batch_style(style, style_image, changes)
        made = again.recipe(method.id, names, options, style_side=options.max_side)
        gallery, failed = [], []
        for photo, name in zip(photos, entry_names(photos), strict=True):
            shown = Path(photo).name
            progress((len(gallery) + len(failed), len(photos)), desc=f"Painting {shown}")
            yield gallery, None, report(len(gallery), len(photos), failed, doing=shown)
            try:
                with user_errors():
                    image = self.uploads.image(photo, "content", options.max_side, alpha=True)
                    picture = method.paint(image, styles, options)
            except gr.Error as err:  # a message that names the file already is shown as it is
                failed.append(err.message if shown in err.message else f"{shown}: {err.message}")
                continue
            gallery = [*gallery, (self.results.png(picture, image, made, None), name)]
        yield gallery, self._zipped(gallery), report(len(gallery), len(photos), failed)

    def _checked(self, photos: list[str] | None) -> list[str]:
        """The photos of a batch, within NST_BATCH_PHOTOS."""
        if not photos:
            raise gr.Error("Please add some photos.")
        cap = self.settings.batch_photos
        if len(photos) > cap:
            raise gr.Error(f"{len(photos)} photos: this app paints up to {cap} at once (NST_BATCH_PHOTOS).")
        return list(photos)

    def _batch_style(
        self, style: str, style_image: Upload, changes: dict[str, object]
    ) -> tuple[registry.Method, object, list[str | Image.Image], list[str]]:
        """The method, options (the preset's with ``changes``), styles and the recipe's style names of a
        batch: Any style with a ``style_image``, else Fast with the catalogue ``style``."""
        if style_image is not None:
            options = dataclasses.replace(self.presets.arbitrary, **changes)
            image = self.uploads.image(style_image, "style", options.max_side)
            return registry.ARBITRARY, options, [image], [file_digest(style_image)]
        if not style:
            raise gr.Error("Please pick a style, or add a style image.")
        return registry.FAST, dataclasses.replace(self.presets.fast, **changes), [style], [style]

    def _zipped(self, files: Sequence[tuple[str, str]]) -> str | None:
        """One ZIP of the results, each under its name (stored: PNGs are compressed already)."""
        if not files:
            return None
        path = self.results.fresh(".zip", stem="stylised-photos")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
            for file, name in files:
                archive.write(file, name)
        return str(path)
