"""Decoding and validating images in, encoding results out, and tensor conversion.

Everything that reaches a method is an RGB ``PIL.Image``; every decode error is
an :class:`ImageError` (a ``ValueError``) with a message a user can act on.

**Region masks** say where each style goes. A mask is a picture: its alpha channel when it
has one (a layer painted in the app: in RGB, black strokes and untouched pixels look alike),
else its luminance; white is "this style". K masks for K styles become weights ``m_k(p)``
in [0, 1] (:func:`region_weights`): where they sum to over 1 they are divided by their sum,
and where they sum to less the photo shows through (one mask and one style is "style
against photo").
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from nst.base.settings import current

ImageSource = str | os.PathLike | bytes | Image.Image


class ImageError(ValueError):
    """An input that is not an image we can use; the message says why."""


def _open(source: ImageSource) -> Image.Image:
    if isinstance(source, Image.Image):
        return source
    if isinstance(source, bytes):
        if not source:
            raise ImageError("The image is empty (0 bytes).")
        stream, name = io.BytesIO(source), "the upload"
    else:
        path = Path(source)
        if not path.is_file():
            raise ImageError(f"No image file at {path}.")
        if path.stat().st_size == 0:
            raise ImageError(f"{path.name} is empty (0 bytes).")
        stream, name = path, path.name
    try:
        return Image.open(stream)
    except Image.DecompressionBombError as err:
        raise ImageError(f"{name} is too large to decode safely ({err}).") from err
    except (UnidentifiedImageError, OSError) as err:
        raise ImageError(
            f"{name} is not an image format we can read (PNG, JPEG, WebP, GIF, TIFF, BMP…)."
        ) from err


def _to_rgb(img: Image.Image, alpha: bool = False) -> Image.Image:
    """Any Pillow mode → RGB, deep greys scaled to 8 bits; transparency is composited on white, or
    with ``alpha`` kept (RGBA) where some pixel is not opaque."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        values = np.asarray(img, dtype=np.float32)
        top = float(values.max(initial=0.0))
        if img.mode == "F" and top <= 1.0:
            values = values * 255.0
        elif img.mode != "F" and top > 255.0:
            values = values / 257.0  # 16-bit range onto 8 bits
        grey = Image.fromarray(np.clip(np.nan_to_num(values), 0, 255).round().astype(np.uint8), "L")
        return grey.convert("RGB")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        if alpha and rgba.getextrema()[3][0] < 255:
            return rgba
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def load_image(source: ImageSource, max_side: int | None = None, *, alpha: bool = False) -> Image.Image:
    """Decode ``source`` (path, bytes or PIL image) into an upright RGB image; with ``alpha``, a picture
    with transparency (an alpha channel, or a palette's transparent colour) comes back RGBA.

    Refuses non-images, empty and truncated files and images over the settings'
    ``max_image_pixels`` (``NST_MAX_PIXELS``) before their pixels are allocated. Animations
    give their first frame; EXIF orientation is applied. With ``max_side``, the image is shrunk (never
    enlarged) to that long side, cheaply where the format allows (JPEG draft).
    """
    img = _open(source)
    w, h = img.size
    limit = current().max_image_pixels
    if w * h > limit:
        raise ImageError(
            f"The image is {w}×{h} = {w * h / 1e6:.0f} megapixels; the limit is "
            f"{limit / 1e6:.0f} megapixels (NST_MAX_PIXELS)."
        )
    if w < 1 or h < 1:
        raise ImageError("The image has no pixels.")
    if max_side and max(w, h) > max_side and img.format == "JPEG":
        scale = max_side / max(w, h)
        img.draft("RGB", (math.ceil(w * scale), math.ceil(h * scale)))
    try:
        img.load()
        img = ImageOps.exif_transpose(img)
        rgb = _to_rgb(img, alpha)
    except (OSError, ValueError, SyntaxError) as err:
        raise ImageError(f"The image could not be decoded: {err}. Is the file complete?") from err
    if max_side and max(rgb.size) > max_side:
        rgb = resize_long_side(rgb, max_side)
    return rgb


def load_mask(source: ImageSource) -> Image.Image:
    """A region mask as an ``L`` image: the alpha channel of a picture that has one, else its luminance.

    Refuses what is not an image, as :func:`load_image` does.
    """
    img = _open(source)
    w, h = img.size
    if w * h > current().max_image_pixels:
        raise ImageError(f"The mask is {w}×{h} = {w * h / 1e6:.0f} megapixels; the limit is NST_MAX_PIXELS.")
    try:
        img.load()
        img = ImageOps.exif_transpose(img)
        if img.mode == "P" and "transparency" in img.info:
            img = img.convert("RGBA")
        return img.getchannel("A") if img.mode in ("RGBA", "LA", "PA") else _to_rgb(img).convert("L")
    except (OSError, ValueError, SyntaxError) as err:
        raise ImageError(f"The mask could not be decoded: {err}. Is the file complete?") from err


def region_weights(
    masks: Sequence[Image.Image], size: tuple[int, int], device: torch.device | str = "cpu"
) -> torch.Tensor:
    """K masks, each stretched to ``size`` (width, height) → weights [K, 1, H, W] in [0, 1], Σ_k ≤ 1.

    Where the masks sum to over 1, each is divided by their sum; where less, the rest is the photo's.
    """
    planes = [np.asarray(m.convert("L").resize(size, Image.Resampling.BILINEAR)) for m in masks]
    weights = torch.from_numpy(np.stack(planes)).to(device, torch.float32).div_(255)[:, None]
    return weights / weights.sum(0, keepdim=True).clamp_min(1)


def feather(weights: torch.Tensor, sigma: float) -> torch.Tensor:
    """``weights`` [K, 1, H, W] blurred by a Gaussian of ``sigma`` pixels: a soft seam for a composite."""
    half = min(math.ceil(3 * sigma), min(weights.shape[-2:]) - 1)  # reflection needs the room
    if sigma <= 0 or half < 1:
        return weights
    import torchvision.transforms.v2.functional as TF  # only here: it imports torchvision.models too

    return TF.gaussian_blur(weights, [2 * half + 1] * 2, [sigma, sigma])


def fit_long_side(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """``(width, height)`` scaled so that its longer side is ``long_side``; each side ≥ 1."""
    if long_side < 1:
        raise ValueError(f"long_side must be at least 1, not {long_side}")
    w, h = size
    scale = long_side / max(w, h)
    return max(1, round(w * scale)), max(1, round(h * scale))


def resize_long_side(img: Image.Image, long_side: int) -> Image.Image:
    """Resize so that ``max(width, height) == long_side``, keeping the aspect ratio (each side ≥ 1)."""
    size = fit_long_side(img.size, long_side)
    if size == img.size:
        return img
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
"""The file endings taken as images where a folder is searched."""


def image_files(root: str | os.PathLike) -> list[Path]:
    """Every image file under ``root`` (searched deeply), sorted; a one-line error when there is none."""
    paths = sorted(p for p in Path(root).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not paths:
        raise ValueError(f"No images ({', '.join(sorted(IMAGE_SUFFIXES))}) under {root}.")
    return paths


PNG_COMPRESSION = 1
"""zlib level of the PNGs we write: at 2048×1536, level 6 (Pillow's default) took 1.25 s of a 9 s run,
level 1 a quarter of it, for files about 8% larger on photos."""


ALPHA_SUFFIXES = {"", ".png", ".webp", ".tif", ".tiff"}
"""The endings whose formats keep an alpha channel (no ending: PNG); elsewhere it is composited on white."""


def save_image(img: Image.Image, path: str | os.PathLike) -> None:
    """Write ``img``; the format follows the extension, PNG (lossless) when there is none."""
    path = Path(path)
    fmt = None if path.suffix else "PNG"
    png = fmt == "PNG" or path.suffix.lower() == ".png"
    if img.mode == "RGBA" and path.suffix.lower() not in ALPHA_SUFFIXES:
        img = _to_rgb(img)
    try:
        img.save(path, format=fmt, **({"compress_level": PNG_COMPRESSION} if png else {}))
    except (KeyError, ValueError) as err:  # Pillow's answer to an unknown extension
        raise ImageError(f"Cannot write {path.name}: unknown image format {path.suffix!r}.") from err


def to_tensor(
    img: Image.Image | Sequence[Image.Image],
    device: torch.device | str = "cpu",
    memory_format: torch.memory_format = torch.contiguous_format,
    scale: float = 1 / 255,
) -> torch.Tensor:
    """RGB image(s) of one size → [B, 3, H, W] float32 of ``value · scale`` (default: [0, 1]) on ``device``.

    The pixels travel as uint8 (a quarter of float32's bytes) and become floats on the
    device. Pillow's pixels are already channels-last in memory, so asking for that
    layout costs no copy.
    """
    images = [img] if isinstance(img, Image.Image) else list(img)
    bhwc = torch.from_numpy(np.stack([np.asarray(i, dtype=np.uint8) for i in images])).to(device)
    return bhwc.permute(0, 3, 1, 2).to(dtype=torch.float32, memory_format=memory_format).mul_(scale)


def to_images(tensor: torch.Tensor, scale: float = 255) -> list[Image.Image]:
    """[B, 3, H, W] of ``value · scale`` in [0, 255] (default: [0, 1] in) → B RGB images.

    Values are rounded and clamped on the tensor's device, and travel back as uint8.
    """
    t = tensor.detach().mul(scale).round_().clamp_(0, 255).to(torch.uint8)
    return [Image.fromarray(hwc, "RGB") for hwc in t.permute(0, 2, 3, 1).cpu().numpy()]


def to_image(tensor: torch.Tensor, scale: float = 255) -> Image.Image:
    """[1, 3, H, W] or [3, H, W] (see :func:`to_images`) → one RGB image."""
    return to_images(tensor.reshape(1, *tensor.shape[-3:]), scale)[0]
