"""The style catalogue: named fast-style networks on the Hugging Face Hub or in ``weights/``.

Sources, later ones overriding earlier names:

1. ``weights/catalogue.json`` shipped with the project;
2. the JSON files listed in ``$NST_CATALOGUE`` (``os.pathsep``-separated), same format,
   e.g. entries pointing at your own Hub repo;
3. every ``*.safetensors`` in the weights directory (``$NST_WEIGHTS_DIR``, default
   ``weights/``), e.g. a model from ``python -m nst train``.

Hub files are fetched by ``huggingface_hub.hf_hub_download`` into the standard
Hub cache, so ``HF_HUB_CACHE`` and ``HF_HUB_OFFLINE`` apply.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from huggingface_hub import hf_hub_download
from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

from nst.vgg import WeightsNotFoundError

LAYOUTS = ("hub", "examples", "nst")
DEFAULT_CATALOGUE = Path(__file__).resolve().parent.parent / "weights" / "catalogue.json"


def weights_dir() -> Path:
    return Path(os.environ.get("NST_WEIGHTS_DIR") or Path(__file__).resolve().parent.parent / "weights")


@dataclass(frozen=True)
class Style:
    """One catalogue entry. ``repo_id`` is None for a file in the weights directory."""

    name: str
    title: str
    filename: str
    layout: str
    repo_id: str | None = None
    revision: str = "main"
    source: str = ""
    license: str = ""

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ValueError(f"style {self.name!r}: layout must be one of {LAYOUTS}, not {self.layout!r}")
        path = PurePosixPath(self.filename)
        if path.is_absolute() or ".." in path.parts or "\\" in self.filename or not self.filename:
            raise ValueError(f"style {self.name!r}: filename {self.filename!r} must be a relative path")

    def fetch(self) -> Path:
        """The local path of this style's weights, downloading (or reading the Hub cache) as needed."""
        if self.repo_id is None:
            root = weights_dir().resolve()
            path = (root / self.filename).resolve()
            if not path.is_relative_to(root) or not path.is_file():
                raise WeightsNotFoundError(f"style {self.name!r}: no file {self.filename} in {root}")
            return path
        try:
            return _hub_file(self.repo_id, self.filename, self.revision)
        except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as err:
            raise WeightsNotFoundError(
                f"style {self.name!r}: could not get {self.filename} from the Hub repo {self.repo_id} "
                f"(revision {self.revision}) and it is not in the Hub cache ({err.__class__.__name__}). "
                "Run once online to cache it, or set HF_HUB_CACHE to a cache that has it."
            ) from err


@functools.cache
def _hub_file(repo_id: str, filename: str, revision: str) -> Path:
    """``hf_hub_download`` once per process: online, each call asks the Hub whether
    ``revision`` moved, a round trip per request otherwise. Failures are not cached."""
    return Path(hf_hub_download(repo_id, filename, revision=revision))


def _read(path: Path) -> list[Style]:
    try:
        entries = json.loads(path.read_text())["styles"]
        return [Style(**entry) for entry in entries]
    except (OSError, KeyError, TypeError, ValueError) as err:
        raise ValueError(f"catalogue {path} is not valid: {err}") from err


def load_catalogue() -> dict[str, Style]:
    """Every known style by name, in catalogue order (see the module docstring)."""
    files = [DEFAULT_CATALOGUE]
    files += [Path(p) for p in os.environ.get("NST_CATALOGUE", "").split(os.pathsep) if p]
    styles: dict[str, Style] = {}
    for file in files:
        if file.is_file():
            styles.update((s.name, s) for s in _read(file))
    for path in sorted(weights_dir().glob("*.safetensors")):
        styles.setdefault(path.stem, Style(path.stem, path.stem.replace("_", " ").title(), path.name, "nst"))
    return styles


def style_path(name: str) -> Path:
    """The weights file of the catalogue style ``name``, fetched from the Hub if needed."""
    catalogue = load_catalogue()
    if name not in catalogue:
        raise ValueError(f"Unknown style {name!r}; the catalogue has: {', '.join(catalogue) or 'nothing'}.")
    return catalogue[name].fetch()
