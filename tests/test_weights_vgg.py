"""The VGG weight resolution order and its errors, in this process; the cached load is cleared
around each test (:func:`fresh_vgg`), so each reads the weights its own settings point at."""

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from huggingface_hub import constants

from nst.base import settings as library_settings
from nst.base.settings import Settings
from nst.base.weights import WeightsError, hub_file
from nst.cli import main
from nst.networks.vgg import VGGFeatures, _pretrained_features
from tests.support.pictures import synthetic
from tests.support.standins import random_vgg19_features


@pytest.fixture(autouse=True)
def fresh_hub() -> Iterator[None]:
    """The Hub's file paths found afresh in each test and again after it (VGG-19's features load once
    per weights location, and each test's folders are its own)."""
    hub_file.cache_clear()
    yield
    hub_file.cache_clear()


@pytest.fixture
def load(monkeypatch: pytest.MonkeyPatch):
    """``load(**env)``: VGG-19 loaded as a surface would, with the variables ``env`` set: the NST_*
    variables read once, then the network. ``HF_HUB_CACHE`` is the Hub library's, read at its import."""

    def run(**env: str) -> None:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        if "HF_HUB_CACHE" in env:
            monkeypatch.setattr(constants, "HF_HUB_CACHE", env["HF_HUB_CACHE"])
        monkeypatch.setattr(library_settings, "_current", Settings.from_env(surface="cli"))
        VGGFeatures(["relu1_1"])

    return run


def test_missing_weights_offline_give_a_clear_error(load, tmp_path):
    with pytest.raises(WeightsError) as err:
        load(TORCH_HOME=str(tmp_path))
    assert str(tmp_path / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth") in str(err.value)
    assert "NST_VGG_WEIGHTS" in str(err.value)


def test_explicit_features_only_file_is_accepted(load, tmp_path):
    path = tmp_path / "vgg_features.pth"
    state = {k.removeprefix("features."): v for k, v in random_vgg19_features(3).items()}
    torch.save(state, path)
    load(TORCH_HOME=str(tmp_path / "empty"), NST_VGG_WEIGHTS=str(path))
    assert torch.equal(_pretrained_features(torch.device("cpu"))[0].weight, state["0.weight"])


def test_explicit_path_that_does_not_exist_is_named(load, tmp_path):
    with pytest.raises(WeightsError, match=r"nope\.pth"):
        load(NST_VGG_WEIGHTS=str(tmp_path / "nope.pth"))


def test_wrong_shapes_are_refused(load, tmp_path):
    path = tmp_path / "bad.pth"
    state = random_vgg19_features()
    state["features.0.weight"] = torch.zeros(1, 3, 3, 3)
    torch.save(state, path)
    with pytest.raises(WeightsError, match="do not fit VGG-19"):
        load(NST_VGG_WEIGHTS=str(path))


def _damage(folder: Path, damage: str) -> Path:
    """torchvision's cached VGG-19 under ``folder`` (a ``TORCH_HOME``), damaged: ``text``,
    ``truncated`` or ``pickle``."""
    path = folder / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"
    path.parent.mkdir(parents=True)
    if damage == "text":
        path.write_text("this is not a checkpoint")
    elif damage == "truncated":
        torch.save(random_vgg19_features(), path)
        path.write_bytes(path.read_bytes()[:1_000_000])
    else:
        torch.save({"features.0.weight": Path("not a tensor")}, path)
    return path


def test_a_damaged_vgg_file_is_one_line_and_exit_1_in_the_cli(tmp_path, monkeypatch, capsys):
    """Each damage (text, truncated, a pickle of non-tensors) in each place (NST_VGG_WEIGHTS, torch's
    cache), through ``python -m nst gatys --loss-network vgg19`` run in this process."""
    synthetic(40, 30).save(tmp_path / "c.png")
    command = ["gatys", str(tmp_path / "c.png"), str(tmp_path / "c.png"), "-o", str(tmp_path / "o.png")]
    for damage in ("text", "truncated", "pickle"):
        for where in ("NST_VGG_WEIGHTS", "cache"):
            path = _damage(tmp_path / f"{damage}-{where}", damage)
            with monkeypatch.context() as env:
                if where == "NST_VGG_WEIGHTS":
                    env.setenv("NST_VGG_WEIGHTS", str(path))
                else:
                    env.setenv("TORCH_HOME", str(path.parents[2]))
                status = main([*command, "--loss-network", "vgg19"])
            stderr, case = capsys.readouterr().err, (damage, where)
            assert status == 1, (case, stderr)
            lines = stderr.strip().splitlines()
            assert len(lines) == 1 and "vgg19-dcbb9e9d.pth" in lines[0], (case, lines)
            assert "weights_only" not in stderr, case
            assert not (tmp_path / "o.png").exists(), case


def _hub_cache(root: Path, damage: bool = False) -> Path:
    """A Hub cache holding a stand-in of timm/vgg19.tv_in1k laid out as huggingface_hub lays it:
    the file a blob named by its SHA-256, the snapshot a link to it."""
    from safetensors.torch import save_file

    repo = root / "models--timm--vgg19.tv_in1k"
    revision = "0" * 40
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision)
    state = {k: v.contiguous() for k, v in random_vgg19_features(5).items()}
    state["head.fc.weight"] = torch.zeros(10, 4096)  # timm's classifier, never read
    (repo / "blobs").mkdir()
    staged = repo / "blobs" / "staged"
    save_file(state, staged)
    digest = hashlib.sha256(staged.read_bytes()).hexdigest()
    blob = staged.rename(repo / "blobs" / digest)
    if damage:
        blob.write_bytes(blob.read_bytes()[:-10] + b"0123456789")
    (repo / "snapshots" / revision).mkdir(parents=True)
    (repo / "snapshots" / revision / "model.safetensors").symlink_to(Path("../../blobs") / digest)
    return root


def test_vgg_loads_from_the_hub_cache_when_torchvision_has_none(load, tmp_path):
    load(TORCH_HOME=str(tmp_path / "empty"), HF_HUB_CACHE=str(_hub_cache(tmp_path / "hub")))
    expected = random_vgg19_features(5)["features.0.weight"]
    assert torch.equal(_pretrained_features(torch.device("cpu"))[0].weight, expected)


def test_a_damaged_hub_copy_is_named_in_one_line(load, tmp_path):
    hub = _hub_cache(tmp_path / "hub", damage=True)
    with pytest.raises(WeightsError, match="not the file the Hub published"):
        load(TORCH_HOME=str(tmp_path / "empty"), HF_HUB_CACHE=str(hub))
