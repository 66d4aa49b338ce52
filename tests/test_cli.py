"""The command line, in this process (``nst.cli.main``), and once as ``python -m nst``."""

import subprocess
import sys

import pytest
import torch
import torch.distributed as dist
from PIL import Image

from nst.cli import main
from nst.methods import fast
from tests.support.pictures import synthetic


def test_gatys_cli_writes_a_png_at_the_requested_long_side(nst, tmp_path):
    synthetic(150, 100).save(tmp_path / "content.jpg")
    synthetic(64, 64, seed=1).save(tmp_path / "style.jpg")
    result = nst(
        "gatys",
        str(tmp_path / "content.jpg"),
        str(tmp_path / "style.jpg"),
        "-o",
        str(tmp_path / "out.png"),
        "--steps",
        "10",
        "--size",
        "96",
    )
    assert result.returncode == 0, result.stderr
    out = Image.open(tmp_path / "out.png")
    assert out.format == "PNG" and out.size == (96, 64)


def test_gatys_cli_bad_input_is_one_line_and_nonzero(nst, tmp_path):
    (tmp_path / "text.png").write_text("not an image")
    synthetic(32, 32).save(tmp_path / "style.png")
    result = nst("gatys", str(tmp_path / "text.png"), str(tmp_path / "style.png"), "-o", "x.png")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and result.stderr.startswith("error: ")
    result = nst(
        "gatys",
        str(tmp_path / "style.png"),
        str(tmp_path / "style.png"),
        "-o",
        str(tmp_path / "x.png"),
        "--steps",
        "-3",
    )
    assert result.returncode == 1 and "steps" in result.stderr


@pytest.mark.slow
def test_python_dash_m_nst_styles_lists_the_built_in_and_hub_styles():
    result = subprocess.run(
        [sys.executable, "-m", "nst", "styles"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert [n for n in names if n.startswith("builtin_")] == [f"builtin_{i:02d}" for i in range(26)]
    assert {"mosaic", "rain_princess", "scream", "starry_night"} <= set(names)


def test_train_writes_a_model_the_fast_command_can_use(nst, tmp_path):
    (tmp_path / "photos").mkdir()
    for seed in range(2):
        synthetic(48, 40, seed=seed).save(tmp_path / "photos" / f"{seed}.png")
    synthetic(64, 64, seed=3).save(tmp_path / "painting.png")
    result = nst(
        "train",
        "--style",
        str(tmp_path / "painting.png"),
        "--data",
        str(tmp_path / "photos"),
        "--output",
        str(tmp_path / "run"),
        "--steps",
        "2",
        "--image-size",
        "32",
        "--batch-size",
        "2",
    )
    assert result.returncode == 0, result.stderr
    model = tmp_path / "run" / "painting.safetensors"  # named after the style file
    assert result.stdout.strip().splitlines()[-1] == str(model)
    assert fast.stylize(synthetic(40, 30), fast.load_style(weights=model)).size == (40, 30)


def test_push_without_a_model_is_one_line_and_nonzero(nst, tmp_path):
    result = nst("push", str(tmp_path), "--repo-id", "someone/nothing")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "no .safetensors model" in result.stderr


def test_the_command_line_leaves_the_process_group_it_ran_in(tmp_path, monkeypatch):
    """A finished rank destroys its group: left to Python's exit, gloo's threads can abort it
    (SIGABRT after the work is written, which torchrun reports as the whole job failing)."""
    (tmp_path / "photos").mkdir()
    synthetic(40, 32).save(tmp_path / "photos" / "0.png")
    monkeypatch.setenv("WORLD_SIZE", "2")  # as under torchrun; the group here is one process
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "1")
    threads = torch.get_num_threads()
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        args = ["fast", str(tmp_path / "photos"), "--style", "builtin_03", "-o", str(tmp_path / "out")]
        assert main(args) == 0
        assert (tmp_path / "out" / "0.png").is_file()
        assert not dist.is_initialized()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
        torch.set_num_threads(threads)
