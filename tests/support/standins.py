"""Seeded random weights with the real files' names and shapes, for offline tests and benchmarks, and
the caches that hold them where the product's real loading paths (torchvision's cache,
``hf_hub_download``) look.

Timings do not depend on weight values; image quality does, so nothing here is for judging pictures.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import torch
from PIL import Image, ImageOps
from torch import nn
from torchvision.models.vgg import cfgs, make_layers

from nst.methods.catalogue import load_catalogue
from nst.networks.transformer import TransformerNet


def random_vgg19_features(seed: int = 0) -> dict[str, torch.Tensor]:
    """VGG-19's convolutional weights under torchvision's names (``features.N.*``), He-initialised."""
    torch.manual_seed(seed)
    features = make_layers(cfgs["E"])
    for m in features.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            nn.init.normal_(m.bias, std=0.01)
    return {f"features.{k}": v for k, v in features.state_dict().items()}


def random_transformer(upsample: str, seed: int = 0) -> TransformerNet:
    """A seeded network whose output spans [0, 255] rather than sitting at 0."""
    torch.manual_seed(seed)
    net = TransformerNet(upsample)
    for name, p in net.named_parameters():
        if "norm_layer" in name:
            p.data.normal_(1.0 if name.endswith("weight") else 0.0, 0.3)
    last = net.DeconvBlock[4].conv_layer
    last.weight.data.mul_(40)
    last.bias.data.fill_(128)
    return net.eval()


def painted_transformer(
    mean_rgb: tuple[float, float, float], seed: int = 0, channels: str = "rgb", head: str = "clamp"
) -> TransformerNet:
    """A seeded network whose output, read as trained (``channels``, ``head``), has mean colour ``mean_rgb``.

    Stands in for a network trained on a painting of that mean colour: its last
    convolution's bias is the colour in the network's own channel order and before its
    head (``atanh(c / 150)`` for ``tanh150``), with a little texture on top.
    """
    net = random_transformer("deconv", seed)
    target = torch.tensor(mean_rgb, dtype=torch.float32)
    if channels == "bgr":
        target = target.flip(0)
    if head == "tanh150":
        target = torch.atanh((target / 150).clamp(max=0.99))
    last = net.DeconvBlock[4].conv_layer
    last.weight.data.mul_(0.02 if head == "tanh150" else 0.2)
    last.bias.data.copy_(target)
    return net


def card_names(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` under the ``maze/FastStyleTransfer`` model card's names (``ConvBlock.0.conv.weight``)."""
    renames = {".conv_layer.": ".conv.", ".norm_layer.": ".norm."}
    out = {}
    for key, value in state.items():
        for old, new in renames.items():
            key = key.replace(old, new)
        out[key] = value
    return out


HUB_REPO = "maze/FastStyleTransfer"
HUB_FILES = ("Mosaic_512.pth", "Rain_Princess_512.pth", "Scream_512.pth", "Starry_Night_512.pth")
HUB_STYLES = ("mosaic", "rain_princess", "scream", "starry_night")
SNAPSHOT = "0123456789abcdef0123456789abcdef01234567"
VGG_FILE = "vgg19-dcbb9e9d.pth"


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


def _save(state: dict[str, torch.Tensor], path: Path) -> None:
    """``state`` written whole to ``path`` (beside it, then renamed), so that a reader never sees half a
    file, nor do two processes laying the same file meet."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    torch.save(state, partial)
    partial.replace(path)


def lay_torch_home(home: Path) -> Path:
    """A seeded VGG-19 where torchvision's cache under ``home`` (``TORCH_HOME``) looks for it; laid once."""
    path = home / "hub" / "checkpoints" / VGG_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _save(random_vgg19_features(), path)
    return path


def lay_hub_cache(cache: Path) -> Path:
    """The four Hub networks as a Hub cache under ``cache`` (``HF_HUB_CACHE``) holds them, read with
    ``HF_HUB_OFFLINE=1``: the model card's key names, BGR-trained, each painting in its painting's mean
    colour; laid once. Returns the snapshot folder."""
    repo = cache / f"models--{HUB_REPO.replace('/', '--')}"
    snapshot = repo / "snapshots" / SNAPSHOT
    if (repo / "refs" / "main").exists():
        return snapshot
    snapshot.mkdir(parents=True, exist_ok=True)
    catalogue = load_catalogue()
    for seed, (style, name) in enumerate(zip(HUB_STYLES, HUB_FILES, strict=True)):
        _save(card_names(hub_standin(catalogue[style].mean_rgb, seed).state_dict()), snapshot / name)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(SNAPSHOT)
    return snapshot


SET_TITLES = ("Red", "Blue", "Noise")


def train_set(folder: Path, name: str = "set", finetune: bool = False, steps: int = 6) -> Path:
    """A three-style network (red stripes, wide blue stripes, noise) trained briefly on six photos
    with MobileNetV2's losses by ``nst.methods.train``; returns its ``.safetensors``."""
    from nst.methods import train
    from tests.support.pictures import stripes, synthetic

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


def hub_dataset(folder: Path, photos: int, broken: int) -> str:
    """A local Hugging Face dataset in one Arrow file, as a Hub dataset's: ``photos`` pictures in an
    ``image`` column beside a caption, then ``broken`` examples whose bytes are no picture.

    Arrow, not parquet: ``datasets`` waits 5 s each time a stream of a parquet file ends or is left
    (apache/arrow#45214), which would be most of a test's time."""
    import datasets

    from tests.support.pictures import synthetic

    examples = []
    for seed in range(photos):
        data = io.BytesIO()
        photo = synthetic(48 if seed % 2 else 40, 32, seed=seed)
        (ImageOps.invert(photo) if seed % 3 else photo).save(data, "PNG")
        examples.append({"bytes": data.getvalue(), "path": f"photo{seed}.png"})
    examples += [{"bytes": b"not a picture", "path": f"broken{i}.png"} for i in range(broken)]
    features = datasets.Features({"caption": datasets.Value("string"), "image": datasets.Image()})
    table = datasets.Dataset.from_dict(
        {"caption": [str(i) for i in range(len(examples))], "image": examples}, features=features
    )
    (folder / "data").mkdir(parents=True)
    table.save_to_disk(str(folder / "saved"))
    (folder / "saved" / "data-00000-of-00001.arrow").rename(folder / "data" / "train-00000-of-00001.arrow")
    shutil.rmtree(folder / "saved")
    return f"hf:{folder}"
