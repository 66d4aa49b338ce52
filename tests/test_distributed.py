"""Under torchrun, two gloo processes on the CPU: training splits each batch and ends where one
process does; batch painting shares a tree of photos, each painted once."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image, ImageOps
from safetensors.torch import load_file

from tests.support import ROOT
from tests.support.device import LEVELS
from tests.support.pictures import synthetic
from tests.support.standins import hub_dataset

pytestmark = pytest.mark.slow

ONE = [sys.executable, "-m", "nst"]
TWO = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "nst"]


def _inputs(folder, photos: int):
    (folder / "photos").mkdir(parents=True)
    for seed in range(photos):  # unlike each other, so that each photo's share of a batch matters
        photo = synthetic(48, 40, seed=seed).rotate(90 * seed, expand=True)
        (ImageOps.invert(photo) if seed % 2 else photo).save(folder / "photos" / f"{seed}.png")
    synthetic(64, 64, seed=9).save(folder / "painting.png")
    return folder


def _train(launcher: list[str], inputs, output, steps: int, *more: str) -> subprocess.CompletedProcess:
    args = ["train", "--style", str(inputs / "painting.png"), *more, "--data", str(inputs / "photos")]
    args += ["--output", str(output), "--steps", str(steps), "--image-size", "32", "--batch-size", "4"]
    args += ["--lr", "1e-2", "--checkpoint-every", "1"]
    result = subprocess.run([*launcher, *args], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _median_difference(a, b) -> float:
    """The median absolute difference of two models' weights, element by element.

    Not the largest: Adam's first steps are about ``lr·sign(g)``, so the elements whose gradient
    is only float rounding (the biases before instance norms, which cancel them) differ by up to
    ``lr`` between any two summation orders. Whether the processes computed the batch's gradient
    shows in the median: ~1e-6 when they did, ~1e-2 when each followed its own half.
    """
    first, second = load_file(a), load_file(b)
    assert first.keys() == second.keys()
    return torch.cat([(first[k] - second[k]).abs().flatten() for k in first]).median().item()


@pytest.mark.parametrize("photos", [7, 5])  # the second batch, of 3 or 1: shared 2 + 1, or 1 + none
def test_two_processes_end_with_one_processs_weights_and_write_once(photos, tmp_path):
    inputs = _inputs(tmp_path / "inputs", photos)
    one = _train(ONE, inputs, tmp_path / "one", 2)
    two = _train(TWO, inputs, tmp_path / "two", 2)
    assert (
        _median_difference(
            tmp_path / "one" / "painting.safetensors", tmp_path / "two" / "painting.safetensors"
        )
        < 1e-4
    )
    assert json.loads((tmp_path / "two" / "config.json").read_text())["processes"] == 2
    assert two.stdout.strip().splitlines() == [str(tmp_path / "two" / "painting.safetensors")], "rank 0 alone"
    assert one.stdout.strip().splitlines() == [str(tmp_path / "one" / "painting.safetensors")]


def test_two_processes_fine_tune_a_multi_style_set_as_one_process_does(tmp_path):
    """Frozen convolutions and a γ/β pair per style under DistributedDataParallel: the same steps."""
    inputs = _inputs(tmp_path / "inputs", 6)
    ImageOps.invert(Image.open(inputs / "painting.png")).save(inputs / "second.png")
    more = [str(inputs / "second.png"), "--finetune", "--name", "set", "--loss-network", "mobilenet"]
    # Four steps, two a style: Adam's first step of each is lr·sign(g), alike for most halves.
    _train(ONE, inputs, tmp_path / "one", 4, *more)
    _train(TWO, inputs, tmp_path / "two", 4, *more)
    one, two = (
        load_file(tmp_path / "one" / "set.safetensors"),
        load_file(tmp_path / "two" / "set.safetensors"),
    )
    assert one["res.0.0.norm.gamma"].shape == (2, 32)
    assert not torch.equal(one["res.0.0.norm.gamma"][0], one["res.0.0.norm.gamma"][1]), "both styles trained"
    norms = [k for k in one if k.endswith((".gamma", ".beta"))]  # the rest is frozen, hence equal
    assert torch.cat([(one[k] - two[k]).abs().flatten() for k in norms]).median() < 1e-4
    assert all(torch.equal(one[k], two[k]) for k in one if k not in norms)


def test_two_processes_resumed_from_a_checkpoint_end_where_an_uninterrupted_run_does(tmp_path):
    inputs = _inputs(tmp_path / "inputs", 4)
    _train(ONE, inputs, tmp_path / "whole", 2)
    _train(TWO, inputs, tmp_path / "resumed", 1)  # then stopped: its checkpoint says step 1
    _train(TWO, inputs, tmp_path / "resumed", 2)
    whole, resumed = (
        tmp_path / "whole" / "painting.safetensors",
        tmp_path / "resumed" / "painting.safetensors",
    )
    assert _median_difference(whole, resumed) < 1e-4


def _paint(launcher: list[str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*launcher, *args], capture_output=True, text=True, timeout=600, cwd=ROOT)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Ten photos in a tree, of two sizes, and a style image."""
    folder = tmp_path_factory.mktemp("tree")
    for i in range(10):
        path = folder / "photos" / ("a" if i < 4 else "b/deeper") / f"{i}.{'jpg' if i % 3 else 'png'}"
        path.parent.mkdir(parents=True, exist_ok=True)
        synthetic(48 if i % 2 else 40, 32, seed=i).save(path)
    synthetic(64, 64, seed=11).save(folder / "style.png")
    return folder


def _outputs(folder) -> dict[str, np.ndarray]:
    return {str(p.relative_to(folder)): np.asarray(Image.open(p)) for p in sorted(folder.rglob("*.png"))}


def test_two_ranks_paint_each_photo_of_a_tree_once_as_one_process_does_and_a_rerun_does_nothing(
    photos, tmp_path
):
    args = ["fast", str(photos / "photos"), "--style", "builtin_03"]
    one = _paint(ONE, *args, "-o", str(tmp_path / "one"))
    two = _paint(TWO, *args, "-o", str(tmp_path / "two"))
    assert one.returncode == 0 and two.returncode == 0, two.stderr[-3000:]
    painted, alone = _outputs(tmp_path / "two"), _outputs(tmp_path / "one")
    assert sorted(painted) == sorted(
        str(p.relative_to(photos / "photos").with_suffix(".png")) for p in (photos / "photos").rglob("*.*")
    )
    # One thread a process here, two there: the same arithmetic in another order, a level at most.
    assert max(np.abs(painted[k].astype(int) - alone[k]).max() for k in alone) <= LEVELS
    assert "rank 0: painted 5, skipped 0" in two.stderr and "rank 1: painted 5, skipped 0" in two.stderr
    written = {p: p.stat().st_mtime_ns for p in (tmp_path / "two").rglob("*.png")}
    again = _paint(TWO, *args, "-o", str(tmp_path / "two"))
    assert again.returncode == 0 and "painted 0, skipped 5" in again.stderr
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "two").rglob("*.png")} == written


def test_a_stopped_job_resumes_and_a_bad_photo_is_counted_not_fatal(photos, tmp_path):
    out = tmp_path / "out"
    assert (
        _paint(ONE, "arbitrary", str(photos / "photos"), str(photos / "style.png"), "-o", str(out)).returncode
        == 0
    )
    for lost in sorted(out.rglob("*.png"))[:3]:  # as if stopped before these
        lost.unlink()
    (photos / "photos" / "a" / "broken.png").write_text("not a picture")
    try:
        result = _paint(ONE, "arbitrary", str(photos / "photos"), str(photos / "style.png"), "-o", str(out))
    finally:
        (photos / "photos" / "a" / "broken.png").unlink()
    assert result.returncode == 1
    assert "rank 0: painted 3, skipped 7 (done before), failed 1 of its 11" in result.stderr
    assert "broken.png" in result.stderr and len(list(out.rglob("*.png"))) == 10
    assert not list(out.rglob(".*")), "no part-written file is left"


def test_unreadable_training_photos_are_skipped_and_counted_on_every_rank(tmp_path):
    """Two of six files are not pictures: both processes train on, and the count covers both ranks."""
    inputs = _inputs(tmp_path / "inputs", 4)
    for name in ("notes.png", "empty.jpg"):
        (inputs / "photos" / name).write_text("" if name.startswith("empty") else "not a picture")
    args = ["train", "--style", str(inputs / "painting.png"), "--data", str(inputs / "photos")]
    args += ["--output", str(tmp_path / "out"), "--steps", "3", "--image-size", "32", "--batch-size", "2"]
    result = _paint(TWO, *args)  # three steps of two: the whole epoch, each file drawn once
    assert result.returncode == 0, result.stderr[-3000:]
    assert "skipped 2 training photos that could not be read" in result.stderr
    assert (tmp_path / "out" / "painting.safetensors").is_file()


def test_a_streamed_dataset_trains_as_one_process_does(tmp_path):
    name = hub_dataset(tmp_path / "dataset", 7, 1)
    inputs = _inputs(tmp_path / "inputs", 1)
    args = ["train", "--style", str(inputs / "painting.png"), "--data", name, "--image-size", "32"]
    args += ["--batch-size", "4", "--steps", "2", "--lr", "1e-2"]
    one = _paint(ONE, *args, "--output", str(tmp_path / "one"))
    two = _paint(TWO, *args, "--output", str(tmp_path / "two"))
    assert one.returncode == 0 and two.returncode == 0, two.stderr[-3000:]
    # Two steps of four: the eight examples once, the broken one counted on whichever rank holds it.
    assert "skipped 1 training photos that could not be read" in two.stderr
    assert "skipped 1 training photos that could not be read" in one.stderr
    assert (
        _median_difference(
            tmp_path / "one" / "painting.safetensors", tmp_path / "two" / "painting.safetensors"
        )
        < 1e-4
    )
    config = json.loads((tmp_path / "two" / "config.json").read_text())
    assert config["training_images"] == f"{name}:train"


def test_two_ranks_paint_a_streamed_dataset_once_each_and_count_what_they_cannot_read(tmp_path):
    name = hub_dataset(tmp_path / "dataset", 6, 1)
    args = ["fast", name, "--style", "builtin_03"]
    one = _paint(ONE, *args, "-o", str(tmp_path / "one"))
    two = _paint(TWO, *args, "-o", str(tmp_path / "two"))
    assert one.returncode == 1 and two.returncode == 1, two.stderr[-3000:]  # the broken example
    painted, alone = _outputs(tmp_path / "two"), _outputs(tmp_path / "one")
    assert sorted(painted) == [f"train/{i:08d}_photo{i}.png" for i in range(6)] == sorted(alone)
    assert max(np.abs(painted[k].astype(int) - alone[k]).max() for k in alone) <= LEVELS
    assert "rank 0: painted 3, skipped 0 (done before), failed 1 of its 4" in two.stderr
    assert "rank 1: painted 3, skipped 0 (done before), failed 0 of its 3" in two.stderr
    assert f"{name}:train#6" in two.stderr
    again = _paint(TWO, *args, "-o", str(tmp_path / "two"))
    assert "rank 0: painted 0, skipped 3" in again.stderr and "rank 1: painted 0, skipped 3" in again.stderr
