"""Any style in one pass: what the style prediction network itself says of the results, and the surfaces."""

import pytest
import torch
from PIL import Image, ImageDraw

from nst.base.images import to_tensor
from nst.methods import arbitrary
from tests.support.pictures import synthetic


def _stripes(side: int = 160) -> Image.Image:
    """A bold, saturated style of our own: magenta diagonals on yellow."""
    img = Image.new("RGB", (side, side), (250, 240, 40))
    draw = ImageDraw.Draw(img)
    for i in range(-side, side, 20):
        draw.line((i, 0, i + side, side), fill=(200, 20, 120), width=8)
    return img


def test_the_pastiche_moves_towards_the_style_in_embedding_space():
    content, style = synthetic(192, 128, seed=1), _stripes()
    e_content, e_style = arbitrary.embedding(content), arbitrary.embedding(style)
    pastiche = arbitrary.stylize(content, [style])
    assert pastiche.size == content.size
    e_pastiche = arbitrary.embedding(pastiche)
    assert torch.dist(e_pastiche, e_style) < torch.dist(e_content, e_style)


def test_strength_zero_gives_about_the_content_and_strength_grows_the_change():
    content, style = synthetic(128, 96, seed=2), _stripes()
    outputs = {s: arbitrary.stylize(content, [style], strength=s) for s in (0.0, 0.5, 1.0)}
    change = {s: (to_tensor(out) - to_tensor(content)).abs().mean().item() for s, out in outputs.items()}
    assert change[0.0] < change[0.5] < change[1.0] and change[0.0] < 0.6 * change[1.0]
    e_none = arbitrary.embedding(outputs[0.0])
    assert torch.dist(e_none, arbitrary.embedding(content)) < torch.dist(e_none, arbitrary.embedding(style))


def test_styles_blend_by_embedding_and_colour_can_be_kept():
    content, a, b = synthetic(96, 80, seed=3), _stripes(), synthetic(64, 64, seed=9)
    only_a = arbitrary.stylize(content, [a])
    assert arbitrary.stylize(content, [a, b], style_blend=[1, 0]).tobytes() == only_a.tobytes()
    assert arbitrary.stylize(content, [a, b]).tobytes() != only_a.tobytes()

    def chroma_error(out: Image.Image) -> float:  # mean, as out-of-gamut pixels clip on the way to RGB
        cbcr = to_tensor(out.convert("YCbCr"))[:, 1:] - to_tensor(content.convert("YCbCr"))[:, 1:]
        return cbcr.abs().mean().item()

    kept = chroma_error(arbitrary.stylize(content, [a], preserve_color=True))
    assert kept < 0.02 and chroma_error(only_a) > 3 * kept
    for bad in ({"strength": float("nan")}, {"style_blend": [1]}, {"style_blend": [-1, 2]}):
        with pytest.raises(ValueError):
            arbitrary.stylize(content, [a, b] if "style_blend" in bad else [a], **bad)


@pytest.mark.parametrize("size", [(1, 1), (5, 300), (67, 41)])
def test_any_size_comes_back(size):
    assert arbitrary.stylize(synthetic(*size), [_stripes()]).size == size


def test_cli_arbitrary(tmp_path, nst):
    synthetic(70, 50).save(tmp_path / "photo.png")
    _stripes().save(tmp_path / "style.png")
    (tmp_path / "text.png").write_text("not a picture")
    run = ["arbitrary", tmp_path / "photo.png"]
    result = nst(
        *run,
        tmp_path / "style.png",
        tmp_path / "style.png",
        "-o",
        tmp_path / "out.png",
        "--strength",
        "0.8",
        "--style-blend",
        "0.7,0.3",
    )
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "out.png").size == (70, 50)
    result = nst(*run, tmp_path / "text.png", "-o", tmp_path / "bad.png")
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
