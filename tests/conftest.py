"""Offline stand-ins for the pretrained weights, laid into the real caches.

A seeded random VGG-19 (features only, torchvision's key names) goes to
``$TORCH_HOME/hub/checkpoints/vgg19-dcbb9e9d.pth``, and seeded transformer
checkpoints go to a Hub cache (``models--maze--FastStyleTransfer`` with ``refs/main`` and
``snapshots/<sha>/``) read with ``HF_HUB_OFFLINE=1``, so the product's real loading paths
(torchvision's cache, ``hf_hub_download``) read them. The Hub files are laid out as the
evidence says the real ones are: the model card's key names, BGR-trained networks, each
painting in its painting's mean colour. Converted networks go to a fresh ``NST_CACHE``.
The variables are set here, before anything imports huggingface_hub; the library's settings are
read from them once, as a surface does (:func:`nst.base.settings.configure`), and tests that
change one do it through the ``settings`` fixture. The app is built and served in this process
(:func:`serve`), except for the one test of ``python app.py`` itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

HUB_CACHE = Path(tempfile.mkdtemp(prefix="nst-hub-cache-"))
os.environ["HF_HUB_CACHE"] = str(HUB_CACHE)
os.environ["NST_CACHE"] = tempfile.mkdtemp(prefix="nst-cache-")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.pop("NST_CATALOGUE", None)
os.environ.pop("NST_WEIGHTS_DIR", None)

import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from bench.live import CHROMIUM  # noqa: E402
from bench.server import LOGS, launch, stop  # noqa: E402, F401 (the tests import them from here)
from bench.standins import (  # noqa: E402
    card_names,
    painted_transformer,
    random_vgg19_features,
)
from nst.base import settings as library_settings  # noqa: E402
from nst.base.device import default_device  # noqa: E402
from nst.base.settings import Settings, configure, current  # noqa: E402
from nst.methods.catalogue import load_catalogue  # noqa: E402
from nst.networks.transformer import TransformerNet  # noqa: E402

configure(Settings.from_env(surface="cli"))

HUB_FILES = ("Mosaic_512.pth", "Rain_Princess_512.pth", "Scream_512.pth", "Starry_Night_512.pth")
HUB_STYLES = ("mosaic", "rain_princess", "scream", "starry_night")
SNAPSHOT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="session", autouse=True)
def torch_home(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("torch_home")
    checkpoints = home / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    torch.save(random_vgg19_features(), checkpoints / "vgg19-dcbb9e9d.pth")
    old = os.environ.get("TORCH_HOME")
    os.environ["TORCH_HOME"] = str(home)
    os.environ.pop("NST_VGG_WEIGHTS", None)
    yield home
    if old is None:
        os.environ.pop("TORCH_HOME", None)
    else:
        os.environ["TORCH_HOME"] = old


def synthetic(width: int, height: int, seed: int = 0) -> Image.Image:
    """A smooth colourful test image with some texture: gradients plus seeded noise."""
    g = torch.Generator().manual_seed(seed)
    y = torch.linspace(0, 1, height).view(height, 1).expand(height, width)
    x = torch.linspace(0, 1, width).view(1, width).expand(height, width)
    rgb = torch.stack([x, y, (torch.sin(6.28 * (x + y)) + 1) / 2]) * 200
    rgb = rgb + 55 * torch.rand(3, height, width, generator=g)
    array = rgb.clamp(0, 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return Image.fromarray(array, "RGB")


def examples_state(net: TransformerNet) -> dict[str, torch.Tensor]:
    """``net`` (nearest upsampling) written in pytorch/examples' key names, stale running stats included."""
    names = {
        "ConvBlock.0": ("conv1", "in1"),
        "ConvBlock.2": ("conv2", "in2"),
        "ConvBlock.4": ("conv3", "in3"),
        "DeconvBlock.0": ("deconv1", "in4"),
        "DeconvBlock.2": ("deconv2", "in5"),
        "DeconvBlock.4": ("deconv3", None),
    }
    for i in range(5):
        for j in (1, 2):
            names[f"ResidualBlock.{i}.conv{j}"] = (f"res{i + 1}.conv{j}", f"res{i + 1}.in{j}")
    out = {}
    for key, value in net.state_dict().items():
        prefix, kind, leaf = key.rsplit(".", 2)
        conv, norm = names[prefix]
        if kind == "conv_layer":
            out[f"{conv}.conv2d.{leaf}"] = value
        else:
            out[f"{norm}.{leaf}"] = value
            out[f"{norm}.running_mean"] = torch.zeros_like(value)
            out[f"{norm}.running_var"] = torch.ones_like(value)
    return out


def hub_standin(mean_rgb: tuple[float, float, float], seed: int) -> TransformerNet:
    """What the Hub files are taken to be: BGR-trained networks, clamped, painting in ``mean_rgb``."""
    return painted_transformer(mean_rgb, seed, channels="bgr")


@pytest.fixture(scope="session", autouse=True)
def hub_cache():
    repo = HUB_CACHE / "models--maze--FastStyleTransfer"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(SNAPSHOT)
    snapshot = repo / "snapshots" / SNAPSHOT
    snapshot.mkdir(parents=True)
    catalogue = load_catalogue()
    for seed, (style, name) in enumerate(zip(HUB_STYLES, HUB_FILES, strict=True)):
        net = hub_standin(catalogue[style].mean_rgb, seed)
        torch.save(card_names(net.state_dict()), snapshot / name)
    yield snapshot
    shutil.rmtree(HUB_CACHE, ignore_errors=True)


ROOT = Path(__file__).resolve().parent.parent
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)"
)
"""For the tests that drive the app in Chromium."""
CUDA = default_device().type == "cuda"
"""The suite runs on CUDA (``NST_DEVICE=cuda``): float16 and TF32 there round more than the CPU's float32."""
LEVELS = 2 if CUDA else 1
"""Levels (of 255) by which two orders of the same float arithmetic may differ on the device."""


@contextlib.contextmanager
def full_float32() -> Iterator[None]:
    """Within the block, CUDA convolutions and products in full float32, not TF32 (the product's
    choice there, which rounds to 10 bits): for tests of exactness. The CPU: no change."""
    matmul = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        with torch.backends.cudnn.flags(enabled=True, allow_tf32=False):
            yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = matmul


def stripes(colour: tuple[int, int, int], period: int, side: int = 64) -> Image.Image:
    """A painting of horizontal stripes, ``colour`` on white, ``period`` px each."""
    rows = (torch.arange(side) // period % 2).bool()
    rgb = torch.full((side, side, 3), 240, dtype=torch.uint8)
    rgb[rows] = torch.tensor(colour, dtype=torch.uint8)
    return Image.fromarray(rgb.numpy(), "RGB")


SET_TITLES = ("Red", "Blue", "Noise")


def train_set(folder: Path, name: str = "set", finetune: bool = False, steps: int = 6) -> Path:
    """A three-style network (red stripes, wide blue stripes, noise) trained briefly on six photos
    with MobileNetV2's losses by ``nst.methods.train``; returns its ``.safetensors``."""
    from nst.methods import train

    photos = folder / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    for seed in range(6):
        synthetic(48, 40, seed=seed).save(photos / f"{seed}.png")
    noise = (torch.rand(64, 64, 3, generator=torch.Generator().manual_seed(5)) * 255).to(torch.uint8)
    styles = [stripes((200, 30, 30), 2), stripes((30, 30, 200), 8), Image.fromarray(noise.numpy(), "RGB")]
    options = {"steps": steps, "image_size": 32, "batch_size": 2, "lr": 1e-2, "loss_network": "mobilenet"}
    for _ in train.train(
        styles, photos, folder, name=name, style_titles=SET_TITLES, finetune=finetune, **options
    ):
        pass
    return folder / f"{name}.safetensors"


@pytest.fixture(scope="session")
def weights_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A weights folder holding a trained three-style set, ``set.safetensors`` (``set_00`` … ``set_02``)."""
    folder = tmp_path_factory.mktemp("weights")
    train_set(folder)
    return folder


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch):
    """``settings(**changes)`` installs the library's settings with ``changes`` for one test."""

    def change(**changes: object) -> Settings:
        changed = dataclasses.replace(current(), **changes)
        monkeypatch.setattr(library_settings, "_current", changed)
        return changed

    return change


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """The app built from ``settings`` and served in this process on a free loopback port; its URL."""
    from nst.space.layout import build, launch_options

    demo = build(settings)
    port = _free_port()
    options = {**launch_options(settings), "share": False}
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **options)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


TEST_SERVER = {"gatys_steps": 400, "video_seconds": 3.0}
"""What the test servers change of the app's settings: more Gatys steps, shorter clips."""


@pytest.fixture(scope="session")
def server(torch_home, hub_cache, weights_folder) -> Iterator[str]:
    """The app as a CPU Space runs it: one job at a time, the rest queued; its weights folder holds
    a trained set. Its library settings stay installed for the session."""
    with serve(dataclasses.replace(current(), weights_dir=str(weights_folder), **TEST_SERVER)) as url:
        yield url


@pytest.fixture(scope="session")
def wide_server(server) -> Iterator[str]:
    """The app with room for four jobs at once, for the tests of requests that overlap."""
    with serve(dataclasses.replace(current(), cpu_concurrency=4, **TEST_SERVER)) as url:
        yield url


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """A failing test's report shows what the app servers printed while it ran (their tracebacks:
    a client only hears "the upstream Gradio app has raised an exception")."""
    before = {log: log.stat().st_size for log in LOGS if log.exists()}
    try:
        return (yield)
    except BaseException:
        for log in filter(Path.exists, LOGS):
            with log.open(errors="replace") as f:
                f.seek(before.get(log, 0))
                printed = f.read()
            if printed.strip():
                item.add_report_section("call", f"server {log}", printed[-20000:])
        raise
