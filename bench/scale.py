"""Style scale: how much each working size paints, and how much of the photo it keeps.

    python -m bench.scale                                  # drawn pairs here (about 1 minute on 2 cores)
    python -m bench.scale --pairs photo.jpg:painting.jpg …  # your own pictures
    python -m bench.scale --quick                          # tiny: that every case runs (a test does)

Any style (Ghiasi et al.) paints each content, at ``--side`` px, in each pair's style, five ways:
the working size then Lanczos up (the plain way: 256, 384, 512), the content's own size, and
:func:`nst.methods.engine.stylize`'s style scale (the default working size, detail added from
the full-size pass). Two proxies, averaged over the pairs:

- **style ratio**: ``‖e(P) − e(S)‖ / ‖e(C) − e(S)‖`` with ``e`` the style prediction network's
  embedding: how far the result's style is from the painting's, relative to the photo's (lower:
  more painted);
- **structure**: the correlation of the content's and the result's edge maps (Sobel magnitude
  of luminance, full size): how much of the photo's drawing is kept (higher: more kept).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from nst.base.images import load_image, resize_long_side, to_tensor
from nst.methods import arbitrary, engine
from nst.methods.arbitrary import ArbitraryOptions
from tests.support.pictures import LUMA, diagonal_stripes, drawn_scene

SOBEL = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])


def edges(t: torch.Tensor) -> torch.Tensor:
    """Sobel gradient magnitude of the luminance of RGB [1, 3, H, W], flattened."""
    y = (t * LUMA).sum(1, keepdim=True)
    gx = F.conv2d(y, SOBEL.view(1, 1, 3, 3))
    gy = F.conv2d(y, SOBEL.T.reshape(1, 1, 3, 3))
    return torch.hypot(gx, gy).flatten()


def structure(content: Image.Image, result: Image.Image) -> float:
    """Correlation of the two pictures' edge maps (1: the same drawing)."""
    return torch.corrcoef(torch.stack([edges(to_tensor(content)), edges(to_tensor(result))]))[0, 1].item()


def style_ratio(result: Image.Image, style: Image.Image, content: Image.Image) -> float:
    """``‖e(P) − e(S)‖ / ‖e(C) − e(S)‖``: 0 is the painting's style, 1 the photo's."""
    e_style = arbitrary.embedding(style)
    return (
        (arbitrary.embedding(result) - e_style).norm() / (arbitrary.embedding(content) - e_style).norm()
    ).item()


def _waves(side: int) -> Image.Image:
    img = Image.new("RGB", (side, side), (20, 30, 90))
    draw = ImageDraw.Draw(img)
    for i in range(0, side, side // 16):
        draw.arc(
            (i - side // 4, i - side // 4, i + side, i + side), 0, 300, fill=(240, 200 - i % 200, 80), width=6
        )
    return img


def drawn_pairs(side: int) -> list[tuple[Image.Image, Image.Image]]:
    """Pictures made here: a drawn landscape at two aspect ratios, in drawn styles."""
    wide, tall = drawn_scene(side, side * 2 // 3), drawn_scene(side * 3 // 4, side)
    return [(wide, diagonal_stripes(256, 12.0)), (wide, _waves(256)), (tall, diagonal_stripes(256, 24.0))]


def ways(side: int, default: int, plain_sides: tuple[int, ...]) -> dict[str, tuple[int, bool]]:
    """Each way's (working side, plain?): plain is Lanczos up from the working size, no detail."""
    plain = {f"{w} px, then Lanczos": (w, True) for w in plain_sides if w < side}
    return {
        **plain,
        "the content's own size": (0, False),
        f"style scale {default} (default)": (default, False),
    }


def paint(content: Image.Image, style: engine.OnePassStyle, working: int, plain: bool) -> Image.Image:
    if plain:
        small = engine.stylize(resize_long_side(content, working), style, ArbitraryOptions(working_side=0))
        return small.resize(content.size, Image.Resampling.LANCZOS)
    return engine.stylize(content, style, ArbitraryOptions(working_side=working))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--side", type=int, default=768, help="the contents' long side (768)")
    parser.add_argument("--pairs", nargs="+", metavar="CONTENT:STYLE", help="your own pictures")
    args = parser.parse_args(argv)
    side = 96 if args.quick else args.side
    default = 64 if args.quick else ArbitraryOptions.working_side
    plain_sides = (64,) if args.quick else (256, 384, 512)
    if args.pairs:
        pairs = [tuple(load_image(Path(p)) for p in pair.split(":", 1)) for pair in args.pairs]
        pairs = [(resize_long_side(c, side), s) for c, s in pairs]
    else:
        pairs = drawn_pairs(side)
    scores: dict[str, list[tuple[float, float]]] = {}
    for content, painting in pairs:
        style = arbitrary.load_style([painting])
        for label, (working, plain) in ways(side, default, plain_sides).items():
            result = paint(content, style, working, plain)
            scores.setdefault(label, []).append(
                (style_ratio(result, painting, content), structure(content, result))
            )
    print(
        f"\n{len(pairs)} pairs at {side} px ({'your pictures' if args.pairs else 'drawn here'}), any style\n"
    )
    print("| way | style ratio (lower: more painted) | structure (higher: more of the photo) |")
    print("|---|---|---|")
    for label, values in scores.items():
        ratio, kept = (math.fsum(v) / len(v) for v in zip(*values, strict=True))
        print(f"| {label} | {ratio:.4f} | {kept:.4f} |")


if __name__ == "__main__":
    main()
