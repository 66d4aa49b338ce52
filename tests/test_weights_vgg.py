"""The VGG weight resolution order and its errors, each in a fresh process (the load is cached)."""

import hashlib
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from tests.support.pictures import synthetic
from tests.support.standins import random_vgg19_features

LOAD = (
    "from nst.base.settings import Settings, configure; configure(Settings.from_env(surface='cli')); "
    "from nst.networks.vgg import VGGFeatures; VGGFeatures(['relu1_1'])"
)
"""VGG-19 loaded as a surface would: the NST_* variables read once, then the network."""


def _run(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", LOAD], env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


def test_missing_weights_offline_give_a_clear_error(tmp_path):
    result = _run({"TORCH_HOME": str(tmp_path)})
    assert result.returncode != 0
    assert "WeightsError" in result.stderr
    assert str(tmp_path / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth") in result.stderr
    assert "NST_VGG_WEIGHTS" in result.stderr


def test_explicit_features_only_file_is_accepted(tmp_path):
    path = tmp_path / "vgg_features.pth"
    torch.save({k.removeprefix("features."): v for k, v in random_vgg19_features(3).items()}, path)
    assert _run({"TORCH_HOME": str(tmp_path / "empty"), "NST_VGG_WEIGHTS": str(path)}).returncode == 0


def test_explicit_path_that_does_not_exist_is_named(tmp_path):
    result = _run({"NST_VGG_WEIGHTS": str(tmp_path / "nope.pth")})
    assert result.returncode != 0 and "nope.pth" in result.stderr


def test_wrong_shapes_are_refused(tmp_path):
    path = tmp_path / "bad.pth"
    state = random_vgg19_features()
    state["features.0.weight"] = torch.zeros(1, 3, 3, 3)
    torch.save(state, path)
    result = _run({"NST_VGG_WEIGHTS": str(path)})
    assert result.returncode != 0 and "do not fit VGG-19" in result.stderr


def _damaged_cli_run(folder: Path, damage: str, where: str) -> subprocess.CompletedProcess:
    path = folder / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"
    path.parent.mkdir(parents=True)
    if damage == "text":
        path.write_text("this is not a checkpoint")
    elif damage == "truncated":
        torch.save(random_vgg19_features(), path)
        path.write_bytes(path.read_bytes()[:1_000_000])
    else:
        torch.save({"features.0.weight": Path("not a tensor")}, path)
    env = {"NST_VGG_WEIGHTS": str(path)} if where == "NST_VGG_WEIGHTS" else {"TORCH_HOME": str(folder)}
    synthetic(40, 30).save(folder / "c.png")
    command = [
        sys.executable,
        "-m",
        "nst",
        "gatys",
        folder / "c.png",
        folder / "c.png",
        "-o",
        folder / "o.png",
    ]
    return subprocess.run(
        [*command, "--loss-network", "vgg19"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_damaged_vgg_file_is_one_line_and_exit_1_in_the_cli(tmp_path):
    """Each damage (text, truncated, a pickle of non-tensors) in each place (NST_VGG_WEIGHTS, torch's
    cache); the six CLI runs go two at a time, one a core."""
    cases = [
        (damage, where)
        for damage in ("text", "truncated", "pickle")
        for where in ("NST_VGG_WEIGHTS", "cache")
    ]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda case: _damaged_cli_run(tmp_path / "-".join(case), *case), cases))
    for case, result in zip(cases, results, strict=True):
        assert result.returncode == 1, (case, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "vgg19-dcbb9e9d.pth" in lines[0], (case, lines)
        assert "weights_only" not in result.stderr, case


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


def test_vgg_loads_from_the_hub_cache_when_torchvision_has_none(tmp_path):
    env = {"TORCH_HOME": str(tmp_path / "empty"), "HF_HUB_CACHE": str(_hub_cache(tmp_path / "hub"))}
    result = _run({**env, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr


def test_a_damaged_hub_copy_is_named_in_one_line(tmp_path):
    env = {
        "TORCH_HOME": str(tmp_path / "empty"),
        "HF_HUB_CACHE": str(_hub_cache(tmp_path / "hub", damage=True)),
    }
    result = _run({**env, "HF_HUB_OFFLINE": "1"})
    assert result.returncode != 0
    assert "WeightsError" in result.stderr and "not the file the Hub published" in result.stderr
