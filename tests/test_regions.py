"""Style scale and regions in the one-pass engine: each region is its style alone away from the seam."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from nst.base.images import load_mask, to_tensor
from nst.methods import arbitrary, engine, fast
from nst.methods.engine import NetworkStyle, OnePassOptions
from tests.support.device import full_float32
from tests.support.pictures import diagonal_stripes, synthetic
from tests.support.standins import random_transformer

PHOTO = synthetic(448, 128, seed=11)
MARGIN = 96
"""Pixels either side of the seam left out: beyond the networks' reach across it."""
WHOLE = OnePassOptions(working_side=0, half=False)


def _array(img: Image.Image) -> np.ndarray:
    return np.asarray(img, dtype=np.int16)


def _halves(width: int = 448, height: int = 128) -> list[Image.Image]:
    left = Image.new("L", (width, height), 0)
    left.paste(255, (0, 0, width // 2, height))
    right = Image.new("L", (width, height), 255)
    right.paste(0, (0, 0, width // 2, height))
    return [left, right]


@pytest.fixture(scope="module", params=["built-in", "any style", "johnson"])
def two_styles(request) -> list[engine.OnePassStyle]:
    if request.param == "built-in":
        return [fast.load_style("builtin_03"), fast.load_style("builtin_17")]
    if request.param == "any style":
        return [arbitrary.load_style([image]) for image in (diagonal_stripes(96), synthetic(96, 96, seed=3))]
    return [NetworkStyle(random_transformer("nearest", seed=s)) for s in (1, 2)]


def test_away_from_the_seam_each_region_is_its_style_alone_and_the_regions_differ(two_styles):
    with full_float32():  # on CUDA: TF32's rounding would tell the two passes apart
        alone = [_array(engine.stylize(PHOTO, s, WHOLE)) for s in two_styles]
        both = _array(engine.stylize(PHOTO, engine.in_regions(two_styles, _halves()), WHOLE))
    seam = PHOTO.width // 2
    left, right = np.s_[:, : seam - MARGIN], np.s_[:, seam + MARGIN :]
    assert np.abs(both[left] - alone[0][left]).max() <= 3
    assert np.abs(both[right] - alone[1][right]).max() <= 3
    assert np.abs(alone[0][right] - alone[1][right]).mean() > 10, "the two styles paint alike"


def test_an_all_white_mask_is_no_mask_and_a_black_one_is_the_photo():
    style = fast.load_style("builtin_05")
    plain = _array(engine.stylize(PHOTO, style, WHOLE))
    white = Image.new("L", PHOTO.size, 255)
    assert (
        np.abs(_array(engine.stylize(PHOTO, engine.in_regions([style], [white]), WHOLE)) - plain).max() <= 1
    )
    black = Image.new("L", PHOTO.size, 0)
    photo = _array(engine.stylize(PHOTO, engine.in_regions([style], [black]), WHOLE))
    assert np.abs(photo - _array(PHOTO)).max() <= 1


def test_a_uniform_soft_mask_moves_from_one_style_to_the_other_as_its_share_grows():
    styles = [fast.load_style("builtin_03"), fast.load_style("builtin_17")]
    first, second = (_array(engine.stylize(PHOTO, s, WHOLE)) for s in styles)
    distances = []
    for share in (0.0, 0.25, 0.5, 0.75, 1.0):
        masks = [
            Image.new("L", PHOTO.size, round(255 * (1 - share))),
            Image.new("L", PHOTO.size, round(255 * share)),
        ]
        picture = _array(engine.stylize(PHOTO, engine.in_regions(styles, masks), WHOLE))
        distances.append((np.abs(picture - first).mean(), np.abs(picture - second).mean()))
    to_first, to_second = zip(*distances, strict=True)
    assert list(to_first) == sorted(to_first) and list(to_second) == sorted(to_second, reverse=True)
    assert to_first[0] < 1 and to_second[-1] < 1


def test_a_mask_reads_alpha_when_there_is_one_and_counts_must_match():
    layer = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    layer.paste((0, 0, 0, 255), (0, 0, 4, 8))  # black strokes on a transparent layer
    assert np.asarray(load_mask(layer))[:, :4].min() == 255 and np.asarray(load_mask(layer))[:, 4:].max() == 0
    with pytest.raises(ValueError, match="one mask per style"):
        engine.in_regions([fast.load_style("builtin_03")], _halves())


def test_style_scale_paints_the_working_size_and_adds_the_full_size_detail():
    """``P = ↑N(↓C) + N(C) − ↑↓N(C)``: P shrunk is what the network paints at the working size,
    and P's detail above that scale is the full-size picture's."""
    photo = synthetic(512, 256, seed=2)
    style = fast.load_style("builtin_09")
    scaled = to_tensor(engine.stylize(photo, style, OnePassOptions(working_side=128)))
    full = to_tensor(engine.stylize(photo, style, WHOLE))

    def down(t: torch.Tensor) -> torch.Tensor:
        return F.interpolate(t, (64, 128), mode="bilinear", antialias=True)

    def detail(t: torch.Tensor) -> torch.Tensor:
        return t - F.interpolate(down(t), (256, 512), mode="bicubic")

    small = to_tensor(engine.stylize(Image.fromarray(_down_uint8(photo)), style, WHOLE))
    # Measured: 0.030 against the full-size picture's 0.180, and 0.024 against its detail's 0.076.
    assert (down(scaled) - small).abs().mean() < 0.3 * (down(full) - small).abs().mean()
    assert (detail(scaled) - detail(full)).abs().mean() < 0.5 * detail(full).abs().mean()
    assert (scaled - full).abs().mean() > 0.05, "the working size changed nothing"
    assert (
        engine.stylize(photo, style, OnePassOptions(working_side=512)).tobytes()
        == engine.stylize(photo, style, WHOLE).tobytes()
    )


def _down_uint8(photo: Image.Image) -> np.ndarray:
    t = F.interpolate(to_tensor(photo), (64, 128), mode="bilinear", antialias=True)
    return (t[0].permute(1, 2, 0) * 255).round().clamp(0, 255).byte().numpy()
