"""The tabs' example pictures: our own drawings (no third-party images), written once at build."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from nst.base.images import drawn_scene


def drawn_examples(folder: Path) -> list[list[str]]:
    """(content, style image) pairs: a drawn landscape with two drawn patterns, saved in ``folder``."""
    waves = Image.new("RGB", (256, 256), (20, 30, 90))
    draw = ImageDraw.Draw(waves)
    for i in range(0, 256, 16):
        draw.arc((-64 + i, i - 64, 192 + i, 192 + i), 0, 300, fill=(240, 200 - i // 2, 60 + i // 2), width=6)
    tiles = Image.new("RGB", (256, 256))
    draw = ImageDraw.Draw(tiles)
    for y in range(0, 256, 32):
        for x in range(0, 256, 32):
            draw.rectangle((x, y, x + 30, y + 30), fill=((x * 7) % 256, (y * 5) % 256, (x + y) % 256))
    paths = []
    for name, img in (("scene", drawn_scene()), ("waves", waves), ("tiles", tiles)):
        img.save(folder / f"{name}.png")
        paths.append(str(folder / f"{name}.png"))
    return [[paths[0], paths[1]], [paths[0], paths[2]]]
