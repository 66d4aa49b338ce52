"""Recipes: how a result was made, carried in the result itself, to restore its settings or paint it again.

A :class:`Recipe` names the method, the styles (a catalogue name, or ``sha256:<hex>`` of a style
image file's bytes, :func:`file_digest`), every option of the method's options object, the seed
and the version of nst that made it, as JSON (:meth:`Recipe.to_json`) with a format number,
:data:`FORMAT`, that grows when what a recipe means changes.

A result PNG (:func:`save_with_recipe`) carries:

- the recipe, in an ``iTXt`` text chunk keyed ``nst:recipe`` (what a PNG viewer shows as text);
- the content photo exactly as the method received it, and any region masks, each a PNG of its own
  in a private ancillary chunk (:data:`ATTACHMENT`) after the image data, keyed ``nst:content`` and
  ``nst:mask:<k>``. A text chunk would not do for them: Pillow refuses to open a PNG with a
  compressed text chunk over 1 MB, and would then refuse the result itself.

So a result can be painted again from the PNG alone, plus any style image it names by digest.
:func:`read_recipe` reads it back; a file with no recipe, a damaged one, or one from a newer
format raises :class:`RecipeError`, whose message is one line.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import struct
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from PIL import Image, PngImagePlugin

from nst import __version__
from nst.base.images import PNG_COMPRESSION, ImageError, load_image, load_mask, save_image

FORMAT = 2
"""The recipe format this version writes and reads (and those below it): 2 added ``alpha``."""
DIGEST = "sha256:"
"""How a style named by its image file's digest begins (a catalogue name never does)."""
RECIPE_KEY, CONTENT_KEY, MASK_KEY = "nst:recipe", "nst:content", "nst:mask:"
ATTACHMENT = b"nsTA"
"""The private chunk type of a PNG attached to a result: ancillary, private, not safe to copy (an
editor that changes the pixels drops it), holding ``key\\0`` and the PNG's bytes."""
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_RECIPE_BYTES = 1 << 20
"""The longest recipe read (decompressed): far beyond any real one, so a hostile chunk stays small."""


class RecipeError(ValueError):
    """A file without a recipe we can read: none, a damaged one, or a newer format; one line says which."""


@dataclass(frozen=True)
class Recipe:
    """How a result was made: ``method``; ``styles`` in order, each a catalogue name or the
    :func:`file_digest` of a style image file; ``options``, every field of the method's options
    object by name but the seed (JSON values: a tuple is a list); ``seed``, the run's seed (Gatys)
    or None; ``style_side``, the long side the style images were shrunk to as they were decoded
    (:func:`~nst.base.images.load_image`'s ``max_side``; None: as they are); ``alpha``, whether the
    content had transparency, which the picture keeps (:mod:`nst.base.alpha`); the ``version`` of nst
    that made it and the recipe ``format``. Not hashable (``options`` is a dict)."""

    method: str
    styles: tuple[str, ...]
    options: dict[str, Any]
    seed: int | None = None
    style_side: int | None = None
    alpha: bool = False
    version: str = __version__
    format: int = FORMAT

    def __post_init__(self) -> None:
        # As JSON gives them back (a tuple becomes a list), so that a recipe read equals the one written.
        object.__setattr__(self, "options", json.loads(json.dumps(self.options, allow_nan=False)))

    @property
    def digests(self) -> tuple[str, ...]:
        """The styles named by their image file's digest, in order."""
        return tuple(s for s in self.styles if s.startswith(DIGEST))

    def missing(self, given: Iterable[str]) -> tuple[str, ...]:
        """The digests of the style images this recipe needs that are not among ``given``."""
        have = set(given)
        return tuple(d for d in dict.fromkeys(self.digests) if d not in have)

    def to_json(self) -> str:
        """The recipe as one line of JSON."""
        return json.dumps(dataclasses.asdict(self), allow_nan=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str, name: str = "the file") -> Recipe:
        """The recipe in ``text``, from the file ``name`` (for the messages).

        Raises :class:`RecipeError` for a format newer than :data:`FORMAT` (naming the version
        that wrote it) and for anything that is not a recipe of a known format.
        """
        try:
            raw = json.loads(text)
        except ValueError as err:
            raise RecipeError(f"{name}'s recipe is damaged (not JSON: {err}).") from err
        if not isinstance(raw, dict) or not isinstance(raw.get("format"), int):
            raise RecipeError(f"{name}'s recipe is damaged (no format number).")
        if raw["format"] > FORMAT:
            raise RecipeError(
                f"{name} was made by nst {raw.get('version', '(unknown)')} (recipe format "
                f"{raw['format']}); this is nst {__version__}, which reads format {FORMAT}: upgrade to "
                "paint it again."
            )
        try:
            recipe = cls(**{**raw, "styles": tuple(raw["styles"])})
        except (KeyError, TypeError) as err:
            raise RecipeError(f"{name}'s recipe is damaged ({err}).") from err
        _check(recipe, name)
        return recipe


def _check(recipe: Recipe, name: str) -> None:
    """Refuse a recipe whose fields are not of their kinds, in a :class:`RecipeError`."""
    kinds = {
        "method": isinstance(recipe.method, str) and bool(recipe.method),
        "styles": _styles_fit(recipe.styles),
        "options": isinstance(recipe.options, dict),
        "seed": recipe.seed is None or type(recipe.seed) is int,
        "style_side": recipe.style_side is None or (type(recipe.style_side) is int and recipe.style_side > 0),
        "alpha": type(recipe.alpha) is bool,
        "version": isinstance(recipe.version, str),
        "format": recipe.format >= 1,
    }
    wrong = [field for field, ok in kinds.items() if not ok]
    if wrong:
        raise RecipeError(f"{name}'s recipe is damaged (its {', '.join(wrong)} cannot be read).")


def _styles_fit(styles: tuple) -> bool:
    """Whether ``styles`` are strings of one kind: catalogue names, or style images' digests (which
    kind the recipe's method takes is the methods floor's to check,
    :meth:`nst.methods.registry.Method.takes`)."""
    if not styles or not all(isinstance(s, str) and s for s in styles):
        return False
    return len({s.startswith(DIGEST) for s in styles}) == 1


def file_digest(source: str | os.PathLike | bytes) -> str:
    """``sha256:<hex>`` of a style image file's bytes (or of the bytes themselves): how a recipe
    names a style that is not in the catalogue."""
    if isinstance(source, bytes):
        return DIGEST + hashlib.sha256(source).hexdigest()
    with open(source, "rb") as f:
        return DIGEST + hashlib.file_digest(f, "sha256").hexdigest()


def shown(digest: str) -> str:
    """A digest as a message shows it: ``sha256:`` and its first 12 hex digits."""
    return digest[: len(DIGEST) + 12] + "…" if digest.startswith(DIGEST) else digest


def is_png(path: str | os.PathLike) -> bool:
    """Whether :func:`~nst.base.images.save_image` writes ``path`` as a PNG (``.png``, or no extension)."""
    return Path(path).suffix.lower() in ("", ".png")


def _png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, format="PNG", compress_level=PNG_COMPRESSION)
    return out.getvalue()


def save_with_recipe(
    img: Image.Image,
    path: str | os.PathLike,
    recipe: Recipe,
    content: Image.Image,
    masks: Sequence[Image.Image] | None = None,
) -> bool:
    """Write ``img`` as :func:`~nst.base.images.save_image` does; a PNG also carries ``recipe`` (its
    ``alpha`` noting whether ``content`` has an alpha channel), the ``content`` as the method received
    it and the region ``masks`` (as ``L``), for :func:`read_recipe`.

    Returns whether the file carries the recipe: other formats are written without it.
    """
    if not is_png(path):
        save_image(img, path)
        return False
    info = PngImagePlugin.PngInfo()
    recipe = dataclasses.replace(recipe, alpha=content.mode == "RGBA")
    info.add_itxt(RECIPE_KEY, recipe.to_json())
    attached = {CONTENT_KEY: content} | {f"{MASK_KEY}{k}": m.convert("L") for k, m in enumerate(masks or [])}
    for key, picture in attached.items():
        info.add(ATTACHMENT, key.encode("latin-1") + b"\0" + _png(picture), after_idat=True)
    img.save(path, format="PNG", compress_level=PNG_COMPRESSION, pnginfo=info)
    return True


class Painted(NamedTuple):
    """What a result PNG says of how it was painted: its recipe, content photo and region masks."""

    recipe: Recipe
    content: Image.Image
    masks: list[Image.Image] | None


def _chunks(data: bytes, name: str) -> Iterator[tuple[bytes, bytes]]:
    """The PNG's chunks as (type, body), up to ``IEND`` or the end of what is there; a chunk whose CRC
    does not match is damage."""
    if not data.startswith(PNG_SIGNATURE):
        raise RecipeError(f"{name} is not a PNG, so it carries no recipe (only nst's PNG results do).")
    pos = len(PNG_SIGNATURE)
    while pos + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 8 + length
        if end + 4 > len(data):
            return  # cut short: what follows is missing
        body = data[pos + 8 : end]
        if kind in (b"iTXt", ATTACHMENT) and zlib.crc32(kind + body) != int.from_bytes(data[end : end + 4]):
            raise RecipeError(f"{name}'s recipe is damaged (its {kind.decode()} chunk fails its CRC check).")
        yield kind, body
        if kind == b"IEND":
            return
        pos = end + 4


def _itxt(body: bytes) -> tuple[str, bytes] | None:
    """An ``iTXt`` chunk's key and text (decompressed), or None when it is not one of ours."""
    key, _, rest = body.partition(b"\0")
    if not key.startswith(b"nst:") or len(rest) < 2:
        return None
    compressed, _, rest = rest[0], rest[1], rest[2:]
    text = rest.split(b"\0", 2)[-1]
    if compressed:
        inflate = zlib.decompressobj()
        text = inflate.decompress(text, MAX_RECIPE_BYTES)
        if inflate.unconsumed_tail:
            raise zlib.error("over a megabyte")
    return key.decode("latin-1"), text


def _parts(source: str | os.PathLike | bytes, name: str) -> tuple[str | None, dict[str, bytes]]:
    """The recipe's text (None when there is none) and the attached PNGs by key."""
    try:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
    except OSError as err:
        raise RecipeError(f"Cannot read {name}: {err.strerror or err}.") from err
    text, attached = None, {}
    for kind, body in _chunks(data, name):
        if kind == ATTACHMENT:
            key, _, png = body.partition(b"\0")
            attached[key.decode("latin-1")] = png
        elif kind == b"iTXt":
            try:
                found = _itxt(body)
                if found and found[0] == RECIPE_KEY:
                    text = found[1].decode("utf-8")
            except (zlib.error, UnicodeDecodeError) as err:
                raise RecipeError(f"{name}'s recipe is damaged ({err}).") from err
    return text, attached


def read_recipe(source: str | os.PathLike | bytes, name: str | None = None) -> Painted:
    """The recipe, content photo and masks that :func:`save_with_recipe` put in a PNG (a path, or its
    bytes; ``name`` is the file's name in messages).

    Raises :class:`RecipeError` (one line) when the file carries no recipe, a damaged one, or one of
    a format newer than this version reads.
    """
    name = name or ("the file" if isinstance(source, bytes) else Path(source).name)
    text, attached = _parts(source, name)
    if text is None:
        raise RecipeError(f"{name} carries no recipe: only results nst wrote as PNG do.")
    recipe = Recipe.from_json(text, name)
    if CONTENT_KEY not in attached:
        raise RecipeError(f"{name}'s recipe is damaged (its content photo is missing).")
    masks = [attached[f"{MASK_KEY}{k}"] for k in range(len(attached)) if f"{MASK_KEY}{k}" in attached]
    try:
        content = load_image(attached[CONTENT_KEY], alpha=True)
        return Painted(recipe, content, [load_mask(m) for m in masks] or None)
    except ImageError as err:
        raise RecipeError(f"{name}'s recipe is damaged ({err})") from err
