"""Gatys on the packaged MobileNetV2: real pictures, measured; and how the loss network is chosen.

The content is a drawn landscape and the style diagonal orange/purple diagonal_stripes, both made here.
A pastiche should take the diagonal_stripes' colours *and* their texture (not only a colour transfer)
while keeping the landscape's layout.
"""

import weakref
from collections.abc import Callable
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from nst.base.color import match_color
from nst.base.images import to_image, to_tensor
from nst.cli import main
from nst.methods import arbitrary, gatys
from nst.networks import ghiasi, loss_network
from nst.networks.mobilenet import MobileNetFeatures
from tests.support.pictures import diagonal, diagonal_stripes, drawn_scene, frechet, layout, squares
from tests.support.standins import random_vgg19_features


@pytest.fixture(scope="module")
def pictures():
    content, style = drawn_scene(192, 128), diagonal_stripes()
    events = list(gatys.stylize(content, [style], loss_network="mobilenet", size=192, steps=60))
    c, s, p = to_tensor(content), to_tensor(style), to_tensor(events[-1].image)
    return c, s, p


def test_the_pastiche_takes_the_styles_colours(pictures):
    c, s, p = pictures
    assert frechet(p, s) < 0.5 * frechet(c, s)


def test_the_pastiche_keeps_the_contents_layout(pictures):
    c, s, p = pictures
    assert layout(c, p) > 0.35
    assert abs(layout(c, F.interpolate(s, size=c.shape[-2:], mode="area"))) < 0.15  # the measure's floor


def test_texture_moves_not_only_colour(pictures):
    c, s, p = pictures
    recoloured = match_color(c, s)  # a plain colour transfer keeps the content's edges
    assert diagonal(s) > 0.95 and abs(diagonal(recoloured)) < 0.3
    assert diagonal(p) > diagonal(recoloured) + 0.5


@pytest.mark.parametrize("axis", [-2, -1])
def test_the_first_row_and_column_are_not_a_frame(pictures, axis):
    """The step from the first row (column) to the next is like any other: neither a flat band nor a
    line along the edge, which the unpadded network paints (see ``mobilenet.PAD``)."""
    _, _, p = pictures
    steps = p.diff(dim=axis).abs().mean(dim=(0, 1, -1 if axis == -2 else -2))
    assert 0.5 < steps[0] / steps.median() < 3


def test_gatys_runs_after_the_any_style_method_loaded_the_shared_network_in_inference_mode():
    ghiasi.pretrained_predictor.cache_clear()
    arbitrary.embedding(diagonal_stripes(32))  # the first to ask, under torch.inference_mode
    events = list(
        gatys.stylize(drawn_scene(48, 32), [diagonal_stripes(32)], loss_network="mobilenet", size=48, steps=2)
    )
    assert events[-1].done and arbitrary.networks()[0] is ghiasi.pretrained_predictor(
        arbitrary.default_device()
    )


def test_features_crop_the_padding_and_name_every_layer():
    net = MobileNetFeatures(["conv", "block2", "block12"])
    out = net(torch.rand(1, 3, 64, 48))
    assert out["conv"].shape[-2:] == (32, 24) and out["block2"].shape[-2:] == (16, 12)
    assert out["block12"].shape[-2:] == (5, 4)  # ceil((64 + 16) / 16), nothing cropped
    with pytest.raises(ValueError, match="Unknown MobileNetV2 layers"):
        MobileNetFeatures(["relu4_2"])


@pytest.fixture
def cli(tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> Callable:
    """``cli(env, *flags)``: ``python -m nst gatys`` on a small drawn pair, run in this process with the
    variables ``env`` set (and no NST_VGG_WEIGHTS or NST_LOSS_NETWORK of the session's); VGG-19's
    features load once per weights location, so each test's own folders give it its own."""
    drawn_scene(64, 48).save(tmp_path / "c.png")
    diagonal_stripes(48).save(tmp_path / "s.png")
    command = ["gatys", str(tmp_path / "c.png"), str(tmp_path / "s.png"), "-o", str(tmp_path / "o.png")]
    command += ["--steps", "3", "--size", "64"]

    def run(env: dict, *flags: str) -> SimpleNamespace:
        for name in ("NST_VGG_WEIGHTS", "NST_LOSS_NETWORK"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        status = main([*command, *flags])
        return SimpleNamespace(returncode=status, stderr=capsys.readouterr().err)

    return run


def test_offline_without_vgg_the_cli_runs_on_mobilenet_and_says_why(cli, tmp_path):
    result = cli({"TORCH_HOME": str(tmp_path / "empty")})
    assert result.returncode == 0, result.stderr
    assert "Gatys runs on MobileNetV2" in result.stderr and "vgg19-dcbb9e9d.pth" in result.stderr
    assert Image.open(tmp_path / "o.png").size == (64, 48)


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_asking_for_vgg_without_its_weights_is_a_one_line_error(cli, tmp_path, how):
    flags, env = (["--loss-network", "vgg19"], {}) if how == "flag" else ([], {"NST_LOSS_NETWORK": "vgg19"})
    result = cli({"TORCH_HOME": str(tmp_path / "empty"), **env}, *flags)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "vgg19-dcbb9e9d.pth" in lines[0], lines


def test_with_vgg_weights_auto_is_vgg_and_mobilenet_can_be_asked_for(cli, tmp_path):
    path = tmp_path / "vgg.pth"
    torch.save(random_vgg19_features(), path)
    result = cli({"NST_VGG_WEIGHTS": str(path)})
    assert result.returncode == 0 and "MobileNetV2" not in result.stderr, result.stderr


def test_the_environment_overrides_auto_but_not_an_explicit_choice(settings):
    assert loss_network.choose("auto").name == "vgg19"  # the session's stand-in VGG-19 loads
    settings(loss_network="mobilenet")
    assert loss_network.choose("auto") == loss_network.Chosen("mobilenet", "NST_LOSS_NETWORK asks for it")
    assert loss_network.choose("vgg19").name == "vgg19"


def test_choices_are_checked():
    with pytest.raises(ValueError, match="loss_network"):
        gatys.GatysOptions(loss_network="resnet")
    assert loss_network.choose("mobilenet").name == "mobilenet"
    options = gatys.resolve(gatys.GatysOptions(loss_network="mobilenet"))
    assert (
        (options.style_weight, options.tv_weight)
        == gatys.DEFAULTS["mobilenet"][:2]
        != gatys.DEFAULTS["vgg19"][:2]
    )
    asked = gatys.resolve(gatys.GatysOptions(loss_network="mobilenet", style_weight=2, tv_weight=0))
    assert (asked.loss_network, asked.style_weight, asked.tv_weight) == ("mobilenet", 2, 0)


@pytest.fixture(scope="module")
def default_pictures():
    """The drawn pair at MobileNetV2's defaults (100 steps), at 384 px rather than 1024."""
    content, style = drawn_scene(384, 288), diagonal_stripes(256)
    *_, event = gatys.stylize(content, [style], loss_network="mobilenet", size=384)
    assert event.image.size == (384, 288)
    return to_tensor(content), to_tensor(style), to_tensor(event.image)


def _mosaic(side: int, block: int, seed: int) -> torch.Tensor:
    """Flat squares ``block`` pixels across in random greys, on two lattices half a block apart."""
    generator = torch.Generator().manual_seed(seed)
    cells = torch.rand(2, 1, 1, side // block + 1, side // block + 1, generator=generator)
    a, b = (F.interpolate(c, scale_factor=block, mode="nearest") for c in cells)
    half = block // 2
    left = a[..., :side, :side]
    right = b[..., half : half + side, half : half + side]
    return torch.cat([left[..., : side // 2], right[..., side // 2 :]], dim=-1).expand(1, 3, side, side)


def test_the_squares_measure_sees_blocks_on_any_lattice_and_not_strokes():
    mosaic = _mosaic(256, 8, seed=0)
    assert squares(mosaic) > 2
    turned = to_tensor(to_image(mosaic).rotate(45, Image.Resampling.BILINEAR))[..., 64:192, 64:192]
    assert squares(turned) < 1.3, "the same edges at 45° are no squares"
    assert squares(to_tensor(diagonal_stripes(256))) < 1.3


def test_at_the_defaults_the_pastiche_keeps_the_layout_takes_the_style_and_has_no_squares(default_pictures):
    """Read on one lattice, MobileNetV2's stride-2 layers let the optimiser paint flat squares about
    8 px across (squares 1.8 on this pair); the jitter (``DEFAULTS``) removes them (about 1.0)."""
    c, s, p = default_pictures
    assert squares(p) < 1.3
    assert layout(c, p) >= 0.4
    assert frechet(p, s) <= 0.5 * frechet(c, s)


def test_the_jitter_keeps_no_shifts_targets_between_steps():
    """Each step builds its shift's loss and drops it, so memory does not grow with the steps."""
    built = []

    def build(pad: tuple[int, int, int, int]) -> Callable[[torch.Tensor], dict[str, torch.Tensor]]:
        def loss(pastiche: torch.Tensor) -> dict[str, torch.Tensor]:
            return {"total": pastiche.mean()}

        built.append(weakref.ref(loss))
        return loss

    jittered = gatys.Jittered(build, 2, torch.Generator().manual_seed(0))
    for _ in range(20):  # 4 paddings: most come back
        jittered(torch.rand(1, 3, 8, 8))
    assert len(built) == 20 and all(ref() is None for ref in built)
