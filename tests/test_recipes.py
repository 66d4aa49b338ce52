"""Recipes: every result remembers how it was made, and is painted again from that alone.

Each method's round trip runs through the command line in this process (``nst.cli.main``): the
result carries its recipe, content photo and masks, and ``again`` paints the same pixels.
"""

import dataclasses
import tomllib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import nst
from nst.base import recipes
from nst.base.images import load_image
from nst.base.recipes import Recipe, RecipeError
from nst.base.settings import Settings, current
from nst.cli import main
from nst.methods import again, arbitrary, fast, gatys, video
from tests.support import ROOT
from tests.support.clips import read_frames, static_scene, write_clip
from tests.support.pictures import stripes, synthetic


def _cli(capsys: pytest.CaptureFixture, *args: object, settings: Settings | None = None) -> tuple[int, str]:
    """``python -m nst ARGS`` in this process: its exit status and what it wrote to stderr."""
    status = main([str(a) for a in args], settings=settings)
    return status, capsys.readouterr().err


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def _painted_again(capsys: pytest.CaptureFixture, result: Path, *styles: Path) -> recipes.Painted:
    """``again`` on ``result`` (given ``styles``) paints its very pixels, into a PNG with its recipe."""
    given = ["--style-image", *styles] if styles else []
    status, err = _cli(capsys, "again", result, "-o", result.with_name("again.png"), *given)
    assert status == 0, err
    np.testing.assert_array_equal(_pixels(result.with_name("again.png")), _pixels(result))
    painted = recipes.read_recipe(result.with_name("again.png"))
    assert painted.recipe == recipes.read_recipe(result).recipe
    return painted


def test_a_recipe_keeps_every_option_through_json_and_names_this_version():
    options = gatys.GatysOptions(seed=7, steps=20, style_blend=(2, 1), loss_network="mobilenet")
    made = again.recipe("gatys", ["sha256:" + "ab" * 32, "sha256:" + "cd" * 32], options)
    assert Recipe.from_json(made.to_json()) == made
    assert made.seed == 7 and set(made.options) == {f.name for f in dataclasses.fields(options)} - {"seed"}
    assert again.options_of(made) == gatys.resolve(options)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert made.version == nst.__version__ == project and made.format == recipes.FORMAT


def test_fast_through_the_cli_is_painted_again_from_its_png_alone(capsys, tmp_path):
    synthetic(96, 64).save(tmp_path / "photo.jpg")
    status, err = _cli(
        capsys,
        *("fast", tmp_path / "photo.jpg", "-o", tmp_path / "out.png", "--style", "builtin_03", "builtin_12"),
        *("--style-blend", "0.7,0.3", "--strength", "0.8", "--working-side", "48"),
    )
    assert status == 0, err
    painted = recipes.read_recipe(tmp_path / "out.png")
    assert painted.recipe.method == "fast" and painted.recipe.styles == ("builtin_03", "builtin_12")
    expected = fast.FastOptions(style_blend=(0.7, 0.3), strength=0.8, working_side=48)
    assert again.options_of(painted.recipe) == expected and painted.recipe.seed is None
    np.testing.assert_array_equal(np.asarray(painted.content), np.asarray(load_image(tmp_path / "photo.jpg")))
    _painted_again(capsys, tmp_path / "out.png")


def _halves(size: tuple[int, int], folder: Path) -> list[Path]:
    """Two masks: the left half, and the right."""
    left = Image.new("L", size, 0)
    left.paste(255, (0, 0, size[0] // 2, size[1]))
    paths = [folder / "left.png", folder / "right.png"]
    left.save(paths[0])
    Image.eval(left, lambda v: 255 - v).save(paths[1])
    return paths


def test_any_style_with_regions_is_painted_again_given_its_style_images_in_any_order(capsys, tmp_path):
    synthetic(80, 60).save(tmp_path / "photo.png")
    stripes((200, 40, 40), 4).save(tmp_path / "a.png")
    synthetic(64, 64, seed=2).save(tmp_path / "b.png")
    masks = _halves((80, 60), tmp_path)
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    status, err = _cli(
        capsys, "arbitrary", tmp_path / "photo.png", a, b, "-o", tmp_path / "out.png", "--strength", "0.7",
        "--mask", *masks,
    )  # fmt: skip
    assert status == 0, err
    painted = recipes.read_recipe(tmp_path / "out.png")
    assert painted.recipe.styles == (recipes.file_digest(a), recipes.file_digest(b))
    assert [np.asarray(m).tolist() for m in painted.masks] == [
        np.asarray(Image.open(m)).tolist() for m in masks
    ]
    _painted_again(capsys, tmp_path / "out.png", b, a)


def test_a_library_recipe_decodes_the_style_images_as_the_run_did(tmp_path):
    """The app's way: style images decoded at a cap (``style_side``), the result read back from bytes."""
    synthetic(200, 150, seed=4).save(tmp_path / "painting.jpg", quality=90)
    digest = recipes.file_digest((tmp_path / "painting.jpg").read_bytes())
    assert digest == recipes.file_digest(tmp_path / "painting.jpg")
    content, options = synthetic(64, 48), arbitrary.ArbitraryOptions(max_side=64)
    picture = arbitrary.stylize(content, [load_image(tmp_path / "painting.jpg", max_side=64)], options)
    made = again.recipe("arbitrary", [digest], options, style_side=64)
    assert recipes.save_with_recipe(picture, tmp_path / "out.png", made, content)
    painted = recipes.read_recipe((tmp_path / "out.png").read_bytes(), name="out.png")
    repainted = again.paint_again(painted.recipe, painted.content, {digest: tmp_path / "painting.jpg"})
    np.testing.assert_array_equal(np.asarray(repainted), np.asarray(picture))


def test_seeded_gatys_through_the_cli_paints_the_same_pastiche_again_on_the_network_it_ran_on(
    capsys, tmp_path
):
    """Run where ``auto`` means MobileNetV2 and painted again where it means VGG-19: the recipe names
    the network the run used, with its weights, and the seed of its noise start."""
    synthetic(64, 48).save(tmp_path / "photo.png")
    synthetic(48, 48, seed=5).save(tmp_path / "style.png")
    offline = dataclasses.replace(current(), loss_network="mobilenet")
    status, err = _cli(
        capsys, "gatys", tmp_path / "photo.png", tmp_path / "style.png", "-o", tmp_path / "out.png",
        "--steps", "6", "--size", "64", "--init", "noise", "--seed", "3", settings=offline,
    )  # fmt: skip
    assert status == 0, err
    made = recipes.read_recipe(tmp_path / "out.png").recipe
    assert made.seed == 3 and (made.options["loss_network"], made.options["style_weight"]) == (
        "mobilenet",
        7.5,
    )
    _painted_again(capsys, tmp_path / "out.png", tmp_path / "style.png")


def test_a_clip_carries_its_recipe_in_its_mp4_and_is_painted_again_from_it(capsys, tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", static_scene(64, 48, 6), audio_hz=None)
    synthetic(64, 64, seed=6).save(tmp_path / "style.png")
    out = tmp_path / "out.mp4"
    status, err = _cli(
        capsys, "video", clip, "-o", out, "--style-image", tmp_path / "style.png", "--flow", "0"
    )
    assert status == 0, err
    made = video.read_recipe(out)
    assert made.method == "video" and made.styles == (recipes.file_digest(tmp_path / "style.png"),)
    assert again.options_of(made) == video.VideoOptions(flow=0.0)
    styles = again.styles_of(made, {made.styles[0]: tmp_path / "style.png"})
    list(video.stylize_video(clip, tmp_path / "again.mp4", styles, again.options_of(made), recipe=made))
    np.testing.assert_array_equal(read_frames(tmp_path / "again.mp4"), read_frames(out))
    with pytest.raises(RecipeError, match=r"^clip\.mp4 carries no recipe"):
        video.read_recipe(clip)


def test_no_recipe_a_damaged_one_or_a_newer_one_is_one_line(capsys, tmp_path):
    synthetic(40, 30).save(tmp_path / "photo.png")
    made = ("fast", tmp_path / "photo.png", "--style", "builtin_01", "--strength", "0.8", "-o")
    assert _cli(capsys, *made, tmp_path / "out.png")[0] == 0
    status, err = _cli(capsys, *made, tmp_path / "out.jpg")
    assert status == 0 and "note: out.jpg carries no recipe" in err
    data = (tmp_path / "out.png").read_bytes()
    (tmp_path / "changed.png").write_bytes(data.replace(b'"strength":0.8', b'"strength":0.9'))
    (tmp_path / "cut.png").write_bytes(data[: data.index(recipes.ATTACHMENT) - 4])
    painted = recipes.read_recipe(tmp_path / "out.png")
    newer = dataclasses.replace(painted.recipe, format=recipes.FORMAT + 1, version="9.9")
    with Image.open(tmp_path / "out.png") as result:
        recipes.save_with_recipe(result, tmp_path / "newer.png", newer, painted.content)
    expected = {
        "photo.png": "photo.png carries no recipe",
        "out.jpg": "out.jpg is not a PNG",
        "changed.png": "changed.png's recipe is damaged",
        "cut.png": "cut.png's recipe is damaged (its content photo is missing)",
        "newer.png": f"newer.png was made by nst 9.9 (recipe format {recipes.FORMAT + 1}); this is nst "
        f"{nst.__version__}, which reads format {recipes.FORMAT}: upgrade to paint it again.",
    }
    for name, line in expected.items():
        status, err = _cli(capsys, "again", tmp_path / name, "-o", tmp_path / "again.png")
        assert status == 1 and err.startswith(f"error: {line}") and err.count("\n") == 1, (name, err)


def test_a_missing_style_image_is_named_in_one_line(capsys, tmp_path):
    synthetic(40, 30).save(tmp_path / "photo.png")
    synthetic(32, 32, seed=1).save(tmp_path / "style.png")
    synthetic(32, 32, seed=2).save(tmp_path / "other.png")
    status, err = _cli(
        capsys, "arbitrary", tmp_path / "photo.png", tmp_path / "style.png", "-o", tmp_path / "out.png"
    )
    assert status == 0, err
    needed = recipes.shown(recipes.file_digest(tmp_path / "style.png"))
    line = f"error: out.png's recipe needs the style image {needed}; pass it with --style-image\n"
    for given in ([], ["--style-image", tmp_path / "other.png"]):
        assert _cli(capsys, "again", tmp_path / "out.png", "-o", tmp_path / "again.png", *given) == (1, line)
