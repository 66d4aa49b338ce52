"""The shipped pictures, the examples and thumbnails made of them, and the contact sheet of every style.

The tests paint their own photos: the shipped files are only checked to be there and described.
"""

from __future__ import annotations

import pytest
import torch
from PIL import Image, ImageOps

from nst.base import pictures
from nst.base.images import to_tensor
from nst.methods import fast, sheet
from nst.methods.catalogue import load_catalogue
from nst.networks.dumoulin import MultiStyleNet
from nst.space import examples
from tests.support.device import LEVELS
from tests.support.pictures import synthetic


def test_every_shipped_picture_is_there_small_and_listed_with_its_licence():
    readme = (pictures.FOLDER / "README.md").read_text()
    rows = {line.split(" | ")[0].strip("| `"): line for line in readme.splitlines() if line.startswith("| `")}
    for name in pictures.PHOTOS + pictures.PAINTINGS:
        path = pictures.picture(name)
        assert path.is_file() and max(Image.open(path).size) <= 512, path
        assert "Public domain" in rows[path.name] or "CC0" in rows[path.name], path.name
    assert sorted(rows) == sorted(p.name for p in pictures.FOLDER.glob("*.jpg"))
    assert pictures.THUMBNAIL_PHOTO.parent == pictures.FOLDER and pictures.THUMBNAIL_PHOTO.is_file()
    with pytest.raises(ValueError, match="no shipped picture 'lena'"):
        pictures.picture("lena")


def test_the_examples_are_shipped_photos_with_the_paintings_or_ready_built_in_styles():
    pairs = examples.painting_pairs()
    assert [p[0] for p in pairs] == [str(pictures.picture(n)) for n in pictures.PHOTOS]
    assert {p[1] for p in pairs} == {str(pictures.picture(n)) for n in pictures.PAINTINGS}
    fast_pairs = examples.catalogue_pairs(fast.ready_styles())
    assert [p[1] for p in fast_pairs] == list(examples.FAST_STYLES)
    assert all(style in load_catalogue() for style in examples.FAST_STYLES)
    assert examples.catalogue_pairs(["builtin_13", "mosaic"]) == [
        [str(pictures.picture("astronaut")), "builtin_13"]
    ]


def test_a_thumbnail_is_the_default_photos_centre_painted_and_is_painted_again_for_a_new_photo(
    monkeypatch, tmp_path
):
    photo = tmp_path / "photo.png"
    monkeypatch.setattr(pictures, "THUMBNAIL_PHOTO", photo)
    paths = []
    for seed in (1, 2):  # the same file, rewritten: the cache follows its bytes
        wide = synthetic(120, 80, seed=seed)
        wide.save(photo)
        paths.append(fast.thumbnail("builtin_04", side=64))
        centre = ImageOps.fit(wide, (64, 64), Image.Resampling.LANCZOS)
        expected = fast.stylize(centre, "builtin_04")
        assert Image.open(paths[-1]).convert("RGB").tobytes() == expected.tobytes(), seed
    assert paths[0] != paths[1]


def _levels(a: Image.Image, b: Image.Image) -> float:
    """The largest difference of two pictures, in levels of 255 (whole levels, not 1/255 · 255)."""
    return (to_tensor(a, scale=1) - to_tensor(b, scale=1)).abs().max().item()


def test_the_contact_sheet_paints_each_style_as_it_paints_alone_in_the_order_asked(settings):
    photo = synthetic(96, 72, seed=5)
    names = list(fast.ready_styles())
    assert sum(load_catalogue()[n].kind == "builtin" for n in names) == 26 and len(names) > 26
    settings(one_pass_pixels=64 * 48 * 10)  # the 26 built-in styles in three passes
    painted = sheet.contact_sheet(photo, side=64)
    assert [name for name, _ in painted] == names
    for name, picture in painted:
        alone = fast.stylize(photo, name, max_side=64)
        assert picture.size == alone.size == (64, 48), name
        assert _levels(picture, alone) <= LEVELS, name
    mixed = ["builtin_09", "mosaic", "builtin_02"]
    assert [name for name, _ in sheet.contact_sheet(photo, mixed, side=64)] == mixed


def test_the_styles_of_one_network_are_painted_together_in_one_pass(monkeypatch):
    batches = []
    forward = MultiStyleNet.forward

    def counted(self: MultiStyleNet, image: torch.Tensor, blend: torch.Tensor) -> torch.Tensor:
        batches.append(image.shape[0])
        return forward(self, image, blend)

    monkeypatch.setattr(MultiStyleNet, "forward", counted)
    names = [n for n, s in load_catalogue().items() if s.kind == "builtin"]
    painted = sheet.contact_sheet(synthetic(80, 60, seed=2), names, side=48)
    assert batches == [26] and len(painted) == 26
