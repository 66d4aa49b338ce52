"""Results out: a fresh file per result in the app's folder, old ones cleaned, and the before/after pane."""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

from PIL import Image

from nst.base.images import save_image
from nst.base.recipes import Recipe, RecipeError, read_recipe, save_with_recipe

CACHE_SECONDS = 3600
"""Age at which Gradio's cache drops uploads and served results (checked as often)."""
RESULT_SECONDS = 600
"""Age at which a result file in :class:`Results`' folder goes: long after Gradio has copied it."""


class Befores:
    """Each result's decoded, capped content, by the result's file name, for the before/after slider.

    The name is a fresh random one per result, so a slider can only show the content that
    made that result; the oldest entries go first.
    """

    def __init__(self, size: int = 32) -> None:
        self.size, self.lock, self.entries = size, threading.Lock(), OrderedDict()

    def put(self, result: Path, content: Image.Image) -> None:
        with self.lock:
            self.entries[result.name] = content
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def get(self, result: str) -> Image.Image | None:
        with self.lock:
            return self.entries.get(Path(result).name)


class Results:
    """The folder results are written to, which Gradio copies into its cache, and their contents."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.befores = folder, Befores()

    def fresh(self, suffix: str, stem: str = "") -> Path:
        """A fresh file name for a result, after ``stem`` when given (the name a visitor downloads);
        files over :data:`RESULT_SECONDS` old go.

        Handing Gradio a PIL image instead makes it write a file named by the image's
        hash, rewriting it in place when two requests produce the same picture, while
        the first may still be downloading it (an empty or cut-off file). Requests that finish
        together clean together: a file another one removed first is passed over.
        """
        for old in self.folder.glob("*.*"):
            with suppress(FileNotFoundError):
                if time.time() - old.stat().st_mtime > RESULT_SECONDS:
                    old.unlink()
        unique = uuid.uuid4().hex
        return self.folder / (f"{stem}-{unique[:12]}{suffix}" if stem else f"{unique}{suffix}")

    def file(self, img: Image.Image) -> str:
        """``img`` written as a fresh PNG."""
        path = self.fresh(".png")
        save_image(img, path)
        return str(path)

    def png(
        self,
        img: Image.Image,
        content: Image.Image,
        recipe: Recipe | None = None,
        masks: Sequence[Image.Image] | None = None,
    ) -> str:
        """``img`` written as a fresh PNG, remembered with the ``content`` that made it; with its
        ``recipe``, the PNG carries it, the content and the ``masks`` (:mod:`nst.base.recipes`)."""
        if recipe is None:
            path = self.file(img)
        else:
            path = str(self.fresh(".png"))
            save_with_recipe(img, path, recipe, content, masks)
        self.befores.put(Path(path), content)
        return path

    def before_after(self, result: str | None) -> tuple | None:
        """The content that made ``result`` (as decoded and capped for it) beside the result."""
        if result is None:
            return None
        before = self.befores.get(result)
        if before is None:  # gone from memory: a result that carries its recipe carries its content
            try:
                before = read_recipe(result).content
            except RecipeError:
                return None
        with Image.open(result) as after:  # only its size is read; the file is closed again at once
            size = after.size
        return (before if before.size == size else before.resize(size)), result
