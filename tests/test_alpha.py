"""Transparency kept: a sticker comes back with its own alpha, through every method and surface, and
only its visible part takes the style."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from gradio_client import Client, handle_file
from PIL import Image, ImageDraw

from nst.base import recipes
from nst.base.alpha import fill_transparent
from nst.base.images import load_image
from nst.methods import arbitrary, fast, registry
from nst.methods.gatys import GatysOptions
from tests.support.pictures import stripes, synthetic

STYLES = {
    "fast": lambda: ["builtin_03"],
    "arbitrary": lambda: [stripes((200, 40, 40), 4)],
    "gatys": lambda: [stripes((200, 40, 40), 4)],
}
OPTIONS = {
    "fast": fast.FastOptions(),
    "arbitrary": arbitrary.ArbitraryOptions(strength=0.8),  # the photo's own embedding too
    "gatys": GatysOptions(size=64, steps=4, loss_network="mobilenet"),
}


def sticker(hidden: tuple[int, int, int] = (0, 0, 0)) -> Image.Image:
    """A 64×48 photo cut to an opaque disc inside a half-transparent ring; ``hidden``, the colour of
    the transparent pixels (what an editor left under them)."""
    alpha = Image.new("L", (64, 48), 0)
    draw = ImageDraw.Draw(alpha)
    draw.ellipse((8, 4, 56, 44), fill=128)
    draw.ellipse((16, 10, 48, 38), fill=255)
    picture = Image.new("RGB", (64, 48), hidden)
    picture.paste(synthetic(64, 48), mask=alpha.point(lambda a: 255 if a else 0))
    picture.putalpha(alpha)
    return picture


def _alpha(picture: Image.Image | str | Path) -> np.ndarray:
    with Image.open(picture) if not isinstance(picture, Image.Image) else picture as img:
        assert img.mode == "RGBA", img.mode
        return np.asarray(img.getchannel("A"))


def _painted(picture: Image.Image, content: Image.Image) -> float:
    """Mean change of the opaque part's colours, in levels."""
    shown = np.asarray(content.getchannel("A")) == 255
    change = np.abs(np.asarray(picture.convert("RGB"), float) - np.asarray(content.convert("RGB"), float))
    return float(change[shown].mean())


@pytest.mark.parametrize("method", list(STYLES))
def test_a_sticker_keeps_its_alpha_exactly_through_every_method_and_its_opaque_part_is_painted(method):
    content = sticker()
    picture = registry.find(method).paint(content, STYLES[method](), OPTIONS[method])
    np.testing.assert_array_equal(_alpha(picture), _alpha(content))
    assert _painted(picture, content) > 8


@pytest.mark.parametrize("method", ["fast", "arbitrary"])
def test_what_lies_under_transparent_pixels_does_not_reach_the_picture(method):
    """Filled from the visible part before painting, the hidden colours change nothing at all."""
    painted = [registry.find(method).paint(sticker(hidden), STYLES[method](), OPTIONS[method]) for hidden in
               [(0, 0, 0), (255, 0, 255)]]  # fmt: skip
    np.testing.assert_array_equal(np.asarray(painted[0]), np.asarray(painted[1]))


def test_transparent_pixels_take_the_nearest_visible_colours_and_opaque_ones_keep_theirs():
    colours = torch.zeros(1, 3, 8, 16)
    colours[:, 0, :, :4], colours[:, 2, :, 12:] = 1.0, 1.0  # red at the left, blue at the right
    alpha = torch.zeros(1, 1, 8, 16)
    alpha[..., :4], alpha[..., 12:] = 1.0, 1.0
    filled = fill_transparent(colours, alpha)
    torch.testing.assert_close(filled[..., :4], colours[..., :4])
    assert filled[0, 0, :, 4].min() > 0.7 and filled[0, 2, :, 11].min() > 0.7  # each edge its side's
    assert filled[0, 1].max() < 1e-6  # no green: nothing visible was green


def test_the_cli_keeps_alpha_in_its_result_recipe_again_and_batches(nst, tmp_path):
    sticker().save(tmp_path / "sticker.png")
    result = nst("fast", tmp_path / "sticker.png", "-o", tmp_path / "out.png", "--style", "builtin_03")
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(_alpha(tmp_path / "out.png"), _alpha(sticker()))
    assert recipes.read_recipe(tmp_path / "out.png").recipe.alpha
    again = nst("again", tmp_path / "out.png", "-o", tmp_path / "again.png")
    assert again.returncode == 0, again.stderr
    assert Image.open(tmp_path / "again.png").tobytes() == Image.open(tmp_path / "out.png").tobytes()
    flat = nst("fast", tmp_path / "sticker.png", "-o", tmp_path / "out.jpg", "--style", "builtin_03")
    assert flat.returncode == 0 and Image.open(tmp_path / "out.jpg").mode == "RGB"
    (tmp_path / "photos").mkdir()
    sticker().save(tmp_path / "photos" / "sticker.png")
    synthetic(64, 48).save(tmp_path / "photos" / "photo.jpg")
    batch = nst("fast", tmp_path / "photos", "-o", tmp_path / "painted", "--style", "builtin_03")
    assert batch.returncode == 0, batch.stderr
    np.testing.assert_array_equal(_alpha(tmp_path / "painted" / "sticker.png"), _alpha(sticker()))
    assert Image.open(tmp_path / "painted" / "photo.png").mode == "RGB"


def test_an_opaque_picture_decodes_as_rgb_even_with_an_alpha_channel(tmp_path):
    synthetic(20, 10).convert("RGBA").save(tmp_path / "opaque.png")
    assert load_image(tmp_path / "opaque.png", alpha=True).mode == "RGB"
    assert load_image(sticker(), alpha=True).mode == "RGBA" and load_image(sticker()).mode == "RGB"


def test_the_app_gives_a_sticker_back_with_its_alpha_from_each_method(server, tmp_path):
    sticker().save(tmp_path / "sticker.png")
    stripes((200, 40, 40), 4).save(tmp_path / "style.png")
    client, content = Client(server, verbose=False), handle_file(str(tmp_path / "sticker.png"))
    style = handle_file(str(tmp_path / "style.png"))
    outputs = [
        client.predict(content=content, style="builtin_03", api_name="/stylize_fast"),
        client.predict(content=content, style_image=style, api_name="/stylize_arbitrary"),
        client.predict(content=content, style_image=style, size=64, steps=4, api_name="/stylize_gatys"),
    ]
    for out in outputs:
        np.testing.assert_array_equal(_alpha(out), _alpha(sticker()))


def test_the_result_view_and_history_read_a_result_with_its_alpha(tmp_path):
    """The view's hidden result is what the slider, its download button and the history read."""
    import gradio as gr
    from gradio.data_classes import FileData

    from nst.space.view import result_view

    with gr.Blocks():
        view = result_view()
    sticker().save(tmp_path / "result.png")
    read = view.result.preprocess(FileData(path=str(tmp_path / "result.png")))
    np.testing.assert_array_equal(_alpha(read), _alpha(sticker()))
