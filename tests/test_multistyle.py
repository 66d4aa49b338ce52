"""Several styles in one network (Dumoulin et al.): trained by ``nst train --style A B C``, fresh or
fine-tuned on the built-in network, served by the catalogue, the command line and thumbnails."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from nst import cli
from nst.base.images import to_images, to_tensor
from nst.base.settings import current
from nst.base.weights import WeightsError
from nst.methods import fast
from nst.methods.catalogue import load_catalogue
from nst.networks.dumoulin import MultiStyleNet, builtin_network
from tests.support.pictures import synthetic
from tests.support.standins import SET_TITLES, train_set

NAMES = ("set_00", "set_01", "set_02")


@pytest.fixture
def in_catalogue(weights_folder, settings):
    settings(weights_dir=str(weights_folder))
    return weights_folder


def _levels(a: Image.Image, b: Image.Image) -> float:
    """The mean absolute difference of two pictures, in levels of 255."""
    return (to_tensor(a) - to_tensor(b)).abs().mean().item() * 255


def test_a_three_style_network_paints_three_pictures_and_blends_inside_it(in_catalogue):
    catalogue = load_catalogue()
    assert [(catalogue[n].title, catalogue[n].index) for n in NAMES] == [
        (t, k) for k, t in enumerate(SET_TITLES)
    ]
    photo = synthetic(64, 48, seed=7)
    pictures = [fast.stylize(photo, name) for name in NAMES]
    for a in range(3):
        for b in range(a + 1, 3):
            assert _levels(pictures[a], pictures[b]) > 2, f"styles {a} and {b} paint alike"
        assert _levels(pictures[a], photo) > 2
    blend = fast.stylize(photo, ["set_00", "set_02"], style_blend=(1, 3))
    # The in-network mix by hand: one style whose every γ and β is ¼ of style 0's plus ¾ of style 2's.
    state = load_file(in_catalogue / "set.safetensors")
    mixed = MultiStyleNet(1)
    mixed.load_state_dict(
        {k: v[0:1] / 4 + v[2:3] * 3 / 4 if k.endswith((".gamma", ".beta")) else v for k, v in state.items()}
    )
    with torch.no_grad():
        by_hand = to_images(mixed(to_tensor(photo), torch.ones(1)))[0]
    assert _levels(blend, by_hand) < 0.01  # a fade of the two pictures is 0.4 levels away
    with pytest.raises(ValueError, match="different networks"):
        fast.load_style(["set_00", "builtin_03"])


def test_the_command_line_paints_a_set_by_index_and_says_what_is_wrong(in_catalogue, tmp_path, capsys):
    photo = synthetic(64, 48, seed=7)
    photo.save(tmp_path / "photo.png")
    weights = str(in_catalogue / "set.safetensors")
    args = ["fast", str(tmp_path / "photo.png"), "--weights", weights]
    assert cli.main([*args, "--style-index", "1", "-o", str(tmp_path / "one.png")], current()) == 0
    assert Image.open(tmp_path / "one.png").tobytes() == fast.stylize(photo, "set_01").tobytes()
    assert (
        cli.main(
            [*args, "--style-index", "0", "2", "--style-blend", "1,3", "-o", str(tmp_path / "b.png")],
            current(),
        )
        == 0
    )
    blended = fast.stylize(photo, ["set_00", "set_02"], style_blend=(1, 3))
    assert Image.open(tmp_path / "b.png").tobytes() == blended.tobytes()
    for extra, message in [
        ([], "holds 3 styles: pick one or more with style_index, 0 to 2"),
        (["--style-index", "3"], "style index 3 is not 0 to 2"),
    ]:
        capsys.readouterr()
        assert cli.main([*args, *extra, "-o", str(tmp_path / "x.png")], current()) == 1
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1


def test_a_sets_thumbnails_are_its_own_pictures_and_it_is_available(in_catalogue, tmp_path):
    ready = fast.ready_styles()
    assert set(NAMES) <= set(ready)
    synthetic(128, 128, seed=8).save(tmp_path / "photo.png")
    path = fast.thumbnail("set_02", photo=tmp_path / "photo.png")
    painted = fast.stylize(synthetic(128, 128, seed=8), "set_02")
    assert Image.open(path).convert("RGB").tobytes() == painted.tobytes()


def test_fine_tuning_trains_new_norms_on_the_built_in_networks_frozen_convolutions(tmp_path):
    weights = train_set(tmp_path, "tuned", finetune=True, steps=3)
    tuned = load_file(weights)
    builtin = builtin_network(torch.device("cpu")).state_dict()
    for name, value in tuned.items():
        if name.endswith((".gamma", ".beta")):
            assert value.shape == (3, builtin[name].shape[1])
            start = builtin[name].mean(0)
            assert all((row - start).abs().max() > 1e-3 for row in value), (
                f"{name}: a style left at its start"
            )
        else:
            assert torch.equal(value, builtin[name].cpu()), f"{name} moved"
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["architecture"] == "MultiStyleNet" and config["finetune"] is True
    assert config["style_titles"] == list(SET_TITLES)
    assert "frozen" in (tmp_path / "README.md").read_text()


def test_a_damaged_set_is_refused_in_one_line(tmp_path, settings):
    state = MultiStyleNet(3).state_dict()
    state["res.2.0.norm.gamma"] = torch.ones(2, 32)  # one layer with a style too few
    save_file(state, tmp_path / "broken.safetensors")
    settings(weights_dir=str(tmp_path))
    assert load_catalogue()["broken_01"].index == 1
    with pytest.raises(WeightsError, match=r"does not fit the multi-style network \(size mismatch") as err:
        fast.load_style("broken_01")
    assert "\n" not in str(err.value)
