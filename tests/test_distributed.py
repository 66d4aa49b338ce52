"""Training under torchrun: two gloo processes on the CPU split each batch and end where one process does."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from PIL import ImageOps
from safetensors.torch import load_file

from conftest import ROOT, synthetic

ONE = [sys.executable, "-m", "nst"]
TWO = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "nst"]


def _inputs(folder, photos: int):
    (folder / "photos").mkdir(parents=True)
    for seed in range(photos):  # unlike each other, so that each photo's share of a batch matters
        photo = synthetic(48, 40, seed=seed).rotate(90 * seed, expand=True)
        (ImageOps.invert(photo) if seed % 2 else photo).save(folder / "photos" / f"{seed}.png")
    synthetic(64, 64, seed=9).save(folder / "painting.png")
    return folder


def _train(launcher: list[str], inputs, output, steps: int) -> subprocess.CompletedProcess:
    args = ["train", "--style", str(inputs / "painting.png"), "--data", str(inputs / "photos")]
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
