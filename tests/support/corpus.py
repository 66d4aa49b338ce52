"""A generated corpus of odd-but-valid and invalid images, each with the outcome we expect."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from tests.support.pictures import synthetic

VALID = "valid"
REFUSED = "refused"


def _png_bomb(width: int, height: int) -> bytes:
    """A PNG whose header claims width×height pixels; its data is a few bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def make_corpus(folder: Path) -> dict[str, tuple[Path, str, tuple[int, int] | None]]:
    """name → (path, expected outcome, upright size of a valid image)."""
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, tuple[bytes, str, tuple[int, int] | None]] = {}

    def save(img: Image.Image, fmt: str, **kwargs) -> bytes:
        buf = io.BytesIO()
        img.save(buf, format=fmt, **kwargs)
        return buf.getvalue()

    photo = synthetic(96, 64)
    files["cmyk.jpg"] = (save(photo.convert("CMYK"), "JPEG"), VALID, (96, 64))
    grad = np.linspace(0, 65535, 96 * 64).reshape(64, 96).astype(np.uint16)
    files["grey16.png"] = (save(Image.fromarray(grad), "PNG"), VALID, (96, 64))
    files["float.tif"] = (
        save(Image.fromarray((grad / 65535).astype(np.float32), "F"), "TIFF"),
        VALID,
        (96, 64),
    )
    palette = photo.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    files["palette_transparent.png"] = (save(palette, "PNG", transparency=0), VALID, (96, 64))
    half = photo.convert("RGBA")
    half.putalpha(128)
    files["half_alpha.png"] = (save(half, "PNG"), VALID, (96, 64))
    files["grey.png"] = (save(photo.convert("L"), "PNG"), VALID, (96, 64))
    frames = [synthetic(96, 64, seed=s) for s in range(3)]
    gif = io.BytesIO()
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    files["animated.gif"] = (gif.getvalue(), VALID, (96, 64))
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90° clockwise
    files["exif_rotate90.jpg"] = (save(photo, "JPEG", exif=exif), VALID, (64, 96))
    files["sliver_12000x8.png"] = (save(synthetic(12000, 8), "PNG"), VALID, (12000, 8))
    files["one_pixel.png"] = (save(Image.new("RGB", (1, 1), (200, 30, 30)), "PNG"), VALID, (1, 1))
    large = Image.linear_gradient("L").resize((8000, 6000)).convert("RGB")
    files["large_48mp.jpg"] = (save(large, "JPEG", quality=80), VALID, (8000, 6000))
    files["empty.png"] = (b"", REFUSED, None)
    files["text_renamed.png"] = (b"this is a text file, not a picture\n" * 10, REFUSED, None)
    whole = save(synthetic(256, 256), "JPEG")
    files["truncated.jpg"] = (whole[: len(whole) // 3], REFUSED, None)
    files["bomb_40000x40000.png"] = (_png_bomb(40_000, 40_000), REFUSED, None)
    out = {}
    for name, (data, outcome, size) in files.items():
        (folder / name).write_bytes(data)
        out[name] = (folder / name, outcome, size)
    return out
