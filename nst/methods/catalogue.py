"""The style catalogue: every named one-pass style, where its weights live and how to read them.

Sources, later ones overriding earlier names:

1. the 26 built-in styles of Dumoulin et al.'s network (``builtin_00`` … ``builtin_25``),
   shipped in a package (:mod:`nst.base.weights`), so they work offline;
2. ``weights/catalogue.json`` shipped with the project: Johnson et al. networks on the Hub;
3. the JSON files listed in ``$NST_CATALOGUE`` (``os.pathsep``-separated), same format,
   e.g. entries pointing at your own Hub repo;
4. every ``*.safetensors`` in the weights folder (``$NST_WEIGHTS_DIR``, default ``weights/``),
   e.g. a model from ``python -m nst train``: a Johnson network is one style, a multi-style
   network (``train --style A B …``) one style per index, ``<file>_00``, ``<file>_01``, …

An entry with an ``index`` is one style of a multi-style network (Dumoulin et al.'s): the built-in
one, or a file of its own; styles of one such network blend inside it.

A Johnson entry also says how its network was trained: ``channels`` (``rgb`` or ``bgr``)
and ``head`` (``clamp`` or ``tanh150``); ``mean_rgb``, the style painting's mean colour,
lets :mod:`nst.methods.fast` check both when it loads the network.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from nst.base.settings import current
from nst.base.weights import ROOT, WeightsError, describe, hub_file, local_file, weights_dir
from nst.networks.dumoulin import STYLES, styles_in
from nst.networks.transformer import CHANNELS, HEADS

KINDS = ("builtin", "hub", "local")
DEFAULT_CATALOGUE = ROOT / "weights" / "catalogue.json"
BUILTIN_URL = "https://github.com/magenta/magenta/tree/main/magenta/models/image_stylization"
BUILTIN_TITLES = (
    *("Soft pastel", "Yellow blocks", "Charcoal sketch", "Electric shards", "Warm poster", "Fauve"),
    *("Indigo spots", "Night glow", "Pastel sketch", "Teal mosaic", "Terracotta", "Ink on gold"),
    *("Lavender haze", "Stained glass", "Ice wash", "Line tangle", "Blue swirls", "Brick weave"),
    *("Sepia woodcut", "Starry strokes", "Crimson", "Paper cut-out", "Silver sketch", "Ink wash"),
    *("Cream and blue", "Fine mosaic"),
)
"""The built-in styles' titles, ``builtin_00`` first, named by looking at each painted on a photo (the
network ships without its paintings' names)."""


@dataclass(frozen=True)
class Style:
    """One catalogue entry: a built-in style (``index``), a Hub file or a local file (with ``index``:
    one style of the multi-style network in it)."""

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
            check(self.index is None or self.index >= 0, f"index must be ≥ 0, not {self.index}")
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
        Style(f"builtin_{i:02d}", title, "builtin", index=i, url=BUILTIN_URL, license="apache-2.0")
        for i, title in enumerate(BUILTIN_TITLES)
    ]


def network_of(style: Style) -> tuple[str, ...]:
    """What identifies the network a style runs on: styles with the same one blend inside it."""
    return (style.kind, style.repo_id or "", style.revision, style.filename)


def local_styles(path: Path) -> list[Style]:
    """The styles of a ``.safetensors`` in the weights folder: one per index of a multi-style network
    (titled from its ``styles`` metadata), else the file's own. Read from its header alone."""
    title = path.stem.replace("_", " ").title()
    try:
        metadata, shapes = describe(path, "")
    except WeightsError:  # said when the style is used
        return [Style(path.stem, title, "local", path.name)]
    count = styles_in(shapes)
    if count is None:
        return [Style(path.stem, title, "local", path.name)]
    try:
        titles = [str(t) for t in json.loads(metadata.get("styles", "[]"))]
    except ValueError:
        titles = []
    if len(titles) != count:
        titles = [f"{title} {k}" for k in range(count)]
    return [Style(f"{path.stem}_{k:02d}", titles[k], "local", path.name, index=k) for k in range(count)]


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
    files += [Path(p) for p in current().catalogue.split(os.pathsep) if p]
    for file in files:
        if file.is_file():
            styles.update((s.name, s) for s in _read(file))
    for path in sorted(weights_dir().glob("*.safetensors")):
        for style in local_styles(path):
            styles.setdefault(style.name, style)
    return styles


def find(name: str) -> Style:
    """The catalogue entry ``name``; an unknown name lists the known ones."""
    catalogue = load_catalogue()
    if name not in catalogue:
        raise ValueError(f"Unknown style {name!r}; the catalogue has: {', '.join(catalogue) or 'nothing'}.")
    return catalogue[name]
