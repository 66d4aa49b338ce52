"""The one-pass engine: every request gets the picture it would get alone, whatever runs beside it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from nst.base.device import default_device
from nst.methods import arbitrary, engine, fast, video
from nst.methods.engine import NetworkStyle
from nst.networks.dumoulin import builtin_network
from tests.support.clips import pan, write_clip
from tests.support.device import CUDA, LEVELS
from tests.support.pictures import synthetic
from tests.support.standins import random_transformer


def _levels(a, b) -> float:
    return float(np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).max())


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("clips") / "pan.mp4", pan(96, 64, 12), fps=12)


@pytest.fixture(scope="module")
def requests():
    """Requests of every one-pass kind, and what each gives alone."""
    photo, painting = synthetic(120, 90, seed=7), synthetic(96, 96, seed=3)
    calls = {
        "built-in": lambda: fast.stylize(photo, "builtin_05"),
        "built-in blend": lambda: fast.stylize(photo, ["builtin_02", "builtin_11"], style_blend=(0.3, 0.7)),
        "hub": lambda: fast.stylize(photo, "mosaic"),
        "any style": lambda: arbitrary.stylize(photo, [painting], strength=0.8),
    }
    return {name: (call, call()) for name, call in calls.items()}


@pytest.mark.parametrize("clip_style", ["builtin_00", "image"])
def test_a_clip_paused_between_batches_leaves_other_requests_alone(clip, requests, clip_style, tmp_path):
    """The clip's running statistics are its own: once they were set on the shared networks."""
    style = [synthetic(64, 64, seed=9)] if clip_style == "image" else clip_style
    frames = video.stylize_video(clip, tmp_path / "out.mp4", style, video.VideoOptions(batch=2))
    next(frames)  # the clip holds statistics now, and waits
    try:
        for name, (call, alone) in requests.items():
            assert _levels(call(), alone) <= 1, name
    finally:
        frames.close()


def test_threads_hammering_shared_networks_each_get_their_own_picture(clip, requests, tmp_path):
    def clip_runs() -> None:
        for i in range(2):
            for _ in video.stylize_video(clip, tmp_path / f"{i}.mp4", "builtin_00", batch=2):
                pass

    background = threading.Thread(target=clip_runs)
    background.start()
    jobs = [name for name in requests for _ in range(3)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda name: (name, requests[name][0]()), jobs))
    background.join()
    for name, picture in results:
        assert _levels(picture, requests[name][1]) <= 1, name


def test_a_tiled_run_beside_an_untiled_one(requests):
    big = synthetic(300, 260, seed=5)
    tiled = dict(max_pixels=100 * 100, tile_pixels=192 * 192)
    alone = fast.stylize(big, "builtin_09", **tiled)
    assert _levels(alone, fast.stylize(big, "builtin_09")) <= LEVELS  # tiles: the whole image's statistics
    with ThreadPoolExecutor(3) as pool:
        runs = [pool.submit(fast.stylize, big, "builtin_09", **tiled) for _ in range(2)]
        runs += [pool.submit(requests["built-in"][0]) for _ in range(4)]
        pictures = [r.result() for r in runs]
    assert all(_levels(p, alone) <= 1 for p in pictures[:2])
    assert all(_levels(p, requests["built-in"][1]) <= 1 for p in pictures[2:])


def test_batches_split_to_fit_and_match_one_at_a_time():
    style = NetworkStyle(random_transformer("nearest", seed=2))
    images = [synthetic(48, 40, seed=s) for s in range(5)]
    options = engine.OnePassOptions(max_pixels=2 * 48 * 40)  # passes of two images
    for out, image in zip(engine.stylize(images, style, options), images, strict=True):
        assert _levels(out, engine.stylize(image, style)) <= 1


def test_the_loaders_cache_each_network_once_per_device():
    assert builtin_network() is builtin_network(default_device())
    for shared, by_device in zip(arbitrary.networks(), arbitrary.networks(default_device()), strict=True):
        assert shared is by_device


@pytest.mark.parametrize("kind", ["built-in", "any style"])
def test_the_float16_branch_paints_the_float32_picture_to_within_rounding(kind):
    """``half`` is CUDA's default; forced on the CPU, the same autocast branch runs here."""
    image = synthetic(64, 48, seed=4)
    style = (
        fast.load_style("builtin_07")
        if kind == "built-in"
        else arbitrary.load_style([synthetic(64, 64, seed=5)])
    )
    full = engine.stylize(image, style, engine.OnePassOptions(half=False))
    half = engine.stylize(image, style, engine.OnePassOptions(half=True))
    assert engine.stylize(image, style).tobytes() == (half if CUDA else full).tobytes()
    difference = np.abs(np.asarray(half, dtype=np.int16) - np.asarray(full, dtype=np.int16))
    assert 0 < difference.mean() < 2 and difference.max() <= 24, (difference.mean(), difference.max())
