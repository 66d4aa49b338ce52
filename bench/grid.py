"""The README's grid of real results: each method on the shipped photos and paintings.

    python -m bench.grid [--quick] [--out docs/images]

Every picture is painted offline with the packaged networks: two built-in styles (Dumoulin et al.,
``fast``), each painting as any style (Ghiasi et al., ``arbitrary``) and each painting by Gatys et
al.'s optimisation on the packaged MobileNetV2 (``loss_network="mobilenet"``, ``GATYS_STEPS`` steps).
The photos and paintings are the shipped ones (``nst/pictures/``, public domain or CC0). Each
result is written as a small JPEG (``SIDE`` px long side, under ``docs/images/``), and the Markdown
table that shows them, with the commit that painted them, is printed for the README. ``--quick``
paints one photo, tiny, into the folder given: that every case runs.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from bench.commit import ROOT, commit

SIDE = 256
QUALITY = 80
BUILTIN = ("builtin_13", "builtin_25")
GATYS_STEPS = 100


def columns(side: int, steps: int) -> dict[str, Callable[[Image.Image, dict[str, Image.Image]], Image.Image]]:
    """Each column's heading and how it paints a photo, given the paintings by name."""
    from nst.methods import arbitrary, fast, gatys

    def gatys_run(photo: Image.Image, painting: Image.Image) -> Image.Image:
        runs = gatys.stylize(photo, [painting], loss_network="mobilenet", size=side, steps=steps)
        return list(runs)[-1].image

    painted = {f"Fast: {name}": lambda photo, _, name=name: fast.stylize(photo, name) for name in BUILTIN}
    for painting in ("starry_night", "the_scream"):
        painted[f"Any style: {painting}"] = lambda photo, p, painting=painting: arbitrary.stylize(
            photo, [p[painting]]
        )
        painted[f"Gatys (MobileNetV2): {painting}"] = lambda photo, p, painting=painting: gatys_run(
            photo, p[painting]
        )
    return painted


def small(image: Image.Image, side: int) -> Image.Image:
    """``image`` shrunk (Lanczos) to ``side`` px on its long side."""
    image = image.convert("RGB")
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return image


def paint(out: Path, photos: tuple[str, ...], side: int, steps: int) -> list[list[str]]:
    """Write every photo, painting and result under ``out``; the table's rows of file names."""
    from nst.base.images import load_image
    from nst.base.pictures import PAINTINGS, picture

    out.mkdir(parents=True, exist_ok=True)
    paintings = {name: load_image(picture(name)) for name in PAINTINGS}
    for name, image in paintings.items():
        small(image, side).save(out / f"{name}.jpg", quality=QUALITY)
    rows = []
    for photo_name in photos:
        photo = load_image(picture(photo_name))
        small(photo, side).save(out / f"{photo_name}.jpg", quality=QUALITY)
        row = [f"{photo_name}.jpg"]
        for heading, method in columns(side, steps).items():
            start = time.perf_counter()
            result = small(method(photo, paintings), side)
            file = f"{photo_name}_{slug(heading)}.jpg"
            result.save(out / file, quality=QUALITY)
            print(f"{file}: {result.width}×{result.height}, {time.perf_counter() - start:.1f} s", flush=True)
            row.append(file)
        rows.append(row)
    return rows


def slug(heading: str) -> str:
    """A file-name part for a column heading: ``Any style: the_scream`` → ``any_style_the_scream``."""
    kept = "".join(c if c.isalnum() else " " for c in heading.lower().replace("mobilenetv2", ""))
    return "_".join(kept.split())


def table(rows: list[list[str]], folder: str, side: int, steps: int) -> str:
    """The Markdown table of the pictures in ``folder`` (relative to the README), with the line that
    says what made them."""
    from nst.base.pictures import PAINTINGS

    headings = ["photo", *columns(side, steps)]
    lines = [
        "| " + " | ".join(headings) + " |",
        "|" + "---|" * len(headings),
        *("| " + " | ".join(f"![{f[:-4]}]({folder}/{f})" for f in row) + " |" for row in rows),
        "",
        f"The paintings: {' '.join(f'![{p}]({folder}/{p}.jpg)' for p in PAINTINGS)}. Painted by "
        f"`python -m bench.grid` at {commit()} on a CPU, from the public-domain and CC0 pictures listed "
        f"in [nst/pictures/README.md](nst/pictures/README.md), {side} px on the long side; Gatys "
        f"{steps} steps a picture.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one photo at 48 px, Gatys for 2 steps")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="folder for the JPEGs")
    args = parser.parse_args(argv)
    from nst.base.pictures import PHOTOS
    from nst.base.settings import Settings, configure

    configure(Settings.from_env(surface="cli"))
    side, steps, photos = (48, 2, PHOTOS[:1]) if args.quick else (SIDE, GATYS_STEPS, PHOTOS)
    rows = paint(args.out, photos, side, steps)
    total = sum(f.stat().st_size for f in args.out.glob("*.jpg"))
    print(f"{len(list(args.out.glob('*.jpg')))} JPEGs, {total / 1024:.0f} KB in {args.out}\n")
    out = args.out.resolve()
    print(table(rows, str(out.relative_to(ROOT)) if out.is_relative_to(ROOT) else str(out), side, steps))


if __name__ == "__main__":
    main()
