"""The style catalogue: every named one-pass style, where its weights live and how to read them.

Sources, later ones overriding earlier names:

1. the 26 built-in styles of Dumoulin et al.'s network (``builtin_00`` … ``builtin_25``),
   shipped in a package (:mod:`nst.base.weights`), so they work offline;
2. ``weights/catalogue.json`` shipped with the project: Johnson et al. networks on the Hub;
3. the JSON files listed in ``$NST_CATALOGUE`` (``os.pathsep``-separated), same format,
   e.g. entries pointing at your own Hub repo;
4. every ``*.safetensors`` in the weights folder (``$NST_WEIGHTS_DIR``, default ``weights/``),
   e.g. a model from ``python -m nst train``.

A Johnson entry also says how its network was trained: ``channels`` (``rgb`` or ``bgr``)
and ``head`` (``clamp`` or ``tanh150``); ``mean_rgb``, the style painting's mean colour,
lets :mod:`nst.methods.fast` check both when it loads the network.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from nst.base.weights import ROOT, hub_file, local_file, weights_dir
from nst.networks.dumoulin import STYLES
from nst.networks.transformer import CHANNELS, HEADS

KINDS = ("builtin", "hub", "local")
DEFAULT_CATALOGUE = ROOT / "weights" / "catalogue.json"
BUILTIN_URL = "https://github.com/magenta/magenta/tree/main/magenta/models/image_stylization"


@dataclass(frozen=True)
class Style:
    """One catalogue entry: a built-in style (``index``), a Hub file or a local file."""

    name: str
    title: str
    kind: str
    filename: str = ""
    repo_id: str | None = None
    revision: str = "main"
    index: int | None = None
    channels: str = "rgb"
    head: str = "clamp"
    mean_rgb: tuple[float, float, float] | None = None
    url: str = ""
    license: str = ""

    def __post_init__(self) -> None:
        def check(ok: bool, what: str) -> None:
            if not ok:
                raise ValueError(f"style {self.name!r}: {what}")

        check(self.kind in KINDS, f"kind must be one of {KINDS}, not {self.kind!r}")
        check(self.channels in CHANNELS, f"channels must be one of {CHANNELS}, not {self.channels!r}")
        check(self.head in HEADS, f"head must be one of {HEADS}, not {self.head!r}")
        check(self.kind != "hub" or bool(self.repo_id), "a Hub style needs a repo_id")
        if self.kind == "builtin":
            check(self.index is not None and 0 <= self.index < STYLES, f"index must be 0 to {STYLES - 1}")
        else:
            path = PurePosixPath(self.filename)
            check(
                bool(self.filename) and not path.is_absolute() and ".." not in path.parts,
                f"filename {self.filename!r} must be a relative path",
            )
            check("\\" not in self.filename, f"filename {self.filename!r} must be a relative path")
        if self.mean_rgb is not None:
            check(len(self.mean_rgb) == 3, "mean_rgb needs three numbers")
            object.__setattr__(self, "mean_rgb", tuple(float(v) for v in self.mean_rgb))

    def fetch(self, local_only: bool = False) -> Path:
        """The local path of this style's weights file (Hub cache or download, or the weights folder).

        ``local_only`` never downloads.
        """
        if self.kind == "hub":
            return hub_file(self.repo_id, self.filename, self.revision, local_only)
        if self.kind == "local":
            return local_file(self.filename)
        raise ValueError(f"style {self.name!r} is built into a network and has no file of its own")


def builtin_styles() -> list[Style]:
    return [
        Style(f"builtin_{i:02d}", f"Built-in {i}", "builtin", index=i, url=BUILTIN_URL, license="apache-2.0")
        for i in range(STYLES)
    ]


def _read(path: Path) -> list[Style]:
    try:
        entries = json.loads(path.read_text())["styles"]
        return [Style(**{"kind": "hub", **entry}) for entry in entries]
    except (OSError, KeyError, TypeError, ValueError) as err:
        raise ValueError(f"catalogue {path} is not valid: {err}") from err


def load_catalogue() -> dict[str, Style]:
    """Every known style by name, in catalogue order (see the module docstring)."""
    styles = {s.name: s for s in builtin_styles()}
    files = [DEFAULT_CATALOGUE]
    files += [Path(p) for p in os.environ.get("NST_CATALOGUE", "").split(os.pathsep) if p]
    for file in files:
        if file.is_file():
            styles.update((s.name, s) for s in _read(file))
    for path in sorted(weights_dir().glob("*.safetensors")):
        title = path.stem.replace("_", " ").title()
        styles.setdefault(path.stem, Style(path.stem, title, "local", path.name))
    return styles


def find(name: str) -> Style:
    """The catalogue entry ``name``; an unknown name lists the known ones."""
    catalogue = load_catalogue()
    if name not in catalogue:
        raise ValueError(f"Unknown style {name!r}; the catalogue has: {', '.join(catalogue) or 'nothing'}.")
    return catalogue[name]
