"""Every ``NST_*`` variable, declared once: its name, type, default, help, and the surfaces that read it.

A surface (the app, ``python -m nst``) reads them once at start, :meth:`Settings.from_env`, and
passes them down: :func:`configure` installs the part the library shares (device, where weights
and caches live, the loss network, pixel limits), as ``torch.hub.set_dir`` or Pillow's
``Image.MAX_IMAGE_PIXELS`` do; the app's limits go into its option presets. No library module
reads the environment. Torch's, the Hub's and torchrun's own variables (``TORCH_HOME``,
``HF_HUB_CACHE``, ``RANK`` …) stay theirs.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LIBRARY = ("app", "cli")
"""Read by both surfaces and installed into the library by :func:`configure`."""
APP = ("app",)
"""Read by the Space alone."""


def setting(default: Any, env: str, help: str, surfaces: tuple[str, ...] = APP, shown: str = "") -> Any:
    """A field of :class:`Settings` read from ``env``; ``shown`` is the default as the docs write it."""
    return dataclasses.field(
        default=default, metadata={"env": env, "help": help, "surfaces": surfaces, "shown": shown}
    )


@dataclass(frozen=True)
class Settings:
    """What the environment may change, with the defaults of a free CPU Space."""

    device: str = setting("", "NST_DEVICE", "force a torch device", LIBRARY, "cuda > mps > cpu")
    vgg_weights: str = setting(
        "",
        "NST_VGG_WEIGHTS",
        "path to VGG-19 weights (full or features-only state dict)",
        LIBRARY,
        "torchvision cache",
    )
    loss_network: str = setting(
        "auto",
        "NST_LOSS_NETWORK",
        "Gatys and training: `vgg19`, `mobilenet`, or `auto` (VGG-19 when its weights load, else "
        "MobileNetV2)",
        LIBRARY,
        "`auto`",
    )
    weights_dir: str = setting(
        "", "NST_WEIGHTS_DIR", "folder of your own `*.safetensors` styles", LIBRARY, "`weights/`"
    )
    cache_dir: str = setting(
        "",
        "NST_CACHE",
        "converted built-in networks (safetensors) and style thumbnails",
        LIBRARY,
        "`~/.cache/nst`",
    )
    catalogue: str = setting(
        "",
        "NST_CATALOGUE",
        "extra catalogue JSON files (`os.pathsep`-separated), same format as `weights/catalogue.json`",
        LIBRARY,
        "—",
    )
    max_image_pixels: int = setting(
        64_000_000,
        "NST_MAX_PIXELS",
        "largest image accepted (width × height), checked before decoding",
        LIBRARY,
    )
    one_pass_pixels: int = setting(
        2048 * 1536, "NST_FAST_MAX_PIXELS", "fast path: larger images (over 2048×1536) run in tiles", LIBRARY
    )
    tile_pixels: int = setting(
        1024 * 1024,
        "NST_FAST_TILE_PIXELS",
        "fast path: pixels a tile, overlap included (about 600 bytes of memory each)",
        LIBRARY,
    )
    upload_mb: int = setting(20, "NST_MAX_UPLOAD_MB", "largest image upload")
    video_upload_mb: int = setting(100, "NST_MAX_VIDEO_UPLOAD_MB", "largest upload of any kind (a clip)")
    fast_side: int = setting(1536, "NST_FAST_MAX_SIDE", "fast results are shrunk to this long side")
    arbitrary_side: int = setting(
        1024, "NST_ARBITRARY_MAX_SIDE", "any-style results are shrunk to this long side"
    )
    gatys_side: int = setting(512, "NST_GATYS_MAX_SIDE", "largest Gatys output size on VGG-19 on a CPU")
    gatys_mobilenet_side: int = setting(
        2048, "NST_GATYS_MOBILENET_MAX_SIDE", "largest Gatys output size on MobileNetV2 on a CPU"
    )
    gatys_gpu_side: int = setting(2048, "NST_GATYS_GPU_MAX_SIDE", "largest Gatys output size on a GPU")
    gatys_steps: int = setting(300, "NST_GATYS_MAX_STEPS", "most Gatys steps")
    gatys_seconds: float = setting(
        180.0,
        "NST_GATYS_TIME_LIMIT",
        "most seconds a visitor may give a Gatys run (the top of its Seconds slider)",
    )
    queue_size: int = setting(
        100, "NST_QUEUE_SIZE", "requests waiting at most, whatever their work (each holds its upload)"
    )
    queue_seconds: float = setting(
        90.0,
        "NST_QUEUE_SECONDS",
        "a request is refused when the work ahead of it in its lane would take longer (0: never); "
        "the visitor is told the wait",
    )
    batch_photos: int = setting(20, "NST_BATCH_PHOTOS", "photos the Space's Batch tab paints in one go")
    video_seconds: float = setting(20.0, "NST_VIDEO_MAX_SECONDS", "longest clip accepted")
    video_side: int = setting(640, "NST_VIDEO_MAX_SIDE", "clip frames are shrunk to this long side")
    live_side: int = setting(
        320,
        "NST_LIVE_MAX_SIDE",
        "Live frames are painted at this long side (about the size the pane shows)",
    )
    live_seconds: float = setting(
        120.0,
        "NST_LIVE_MAX_SECONDS",
        "seconds of painting a Live stream gets (Gradio's `time_limit`); then it stops and can be restarted",
    )
    live_streams: int = setting(
        1, "NST_LIVE_STREAMS", "Live streams painting at once; the next visitor is told Live is full"
    )
    cpu_concurrency: int = setting(
        1,
        "NST_CPU_CONCURRENCY",
        "on a CPU: jobs running at once, all four methods together (each job uses every core); the "
        "rest wait in the queue, shown their place and an estimate",
    )
    fast_concurrency: int = setting(1, "NST_FAST_CONCURRENCY", "on a GPU: fast jobs running at once")
    arbitrary_concurrency: int = setting(
        1, "NST_ARBITRARY_CONCURRENCY", "on a GPU: any-style jobs running at once"
    )
    gatys_concurrency: int = setting(1, "NST_GATYS_CONCURRENCY", "on a GPU: Gatys runs at once")
    video_concurrency: int = setting(1, "NST_VIDEO_CONCURRENCY", "on a GPU: clips painted at once")
    share: bool = setting(
        False, "NST_SHARE", "`1` (or `python app.py --share`) also serves a public link", shown="0"
    )
    mcp: bool = setting(True, "NST_MCP", "`0` turns off the MCP server at `/gradio_api/mcp/`", shown="1")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, surface: str = "app") -> Settings:
        """The settings ``surface`` reads from ``environ`` (default ``os.environ``); the rest keep their
        defaults. A value that does not parse raises ``ValueError`` naming the variable."""
        environ = os.environ if environ is None else environ
        values = {}
        kinds = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            raw = environ.get(f.metadata["env"], "").strip()
            if raw and surface in f.metadata["surfaces"]:
                values[f.name] = _parse(f.metadata["env"], kinds[f.name], raw)
        if "cache_dir" not in values and environ.get("XDG_CACHE_HOME"):  # the user's cache, by convention
            values["cache_dir"] = str(Path(environ["XDG_CACHE_HOME"]) / "nst")
        return cls(**values)

    def cache(self) -> Path:
        """Where converted networks and thumbnails are kept: ``NST_CACHE``, else ``~/.cache/nst``."""
        return Path(self.cache_dir) if self.cache_dir else Path.home() / ".cache" / "nst"


TRUE, FALSE = frozenset({"1", "true", "yes", "on"}), frozenset({"0", "false", "no", "off"})
"""The words a yes-or-no setting takes, in any case."""


def _boolean(raw: str) -> bool:
    """True for a word of :data:`TRUE`, False for one of :data:`FALSE`."""
    word = raw.lower()
    if word not in TRUE | FALSE:
        raise ValueError(raw)
    return word in TRUE


PARSERS: dict[type, tuple[Callable[[str], object], str]] = {
    str: (str, "text"),
    int: (int, "a whole number"),
    float: (float, "a number"),
    bool: (_boolean, "1 or 0 (true or false, yes or no, on or off)"),
}
"""How a variable's text becomes a field's value, by the field's type, and what a bad value was not."""


def _parse(env: str, kind: object, raw: str) -> object:
    """``raw`` read as ``kind``: a type of :data:`PARSERS`, or one of them ``| None`` (set means not
    None). A bad value raises ``ValueError("NST_X='raw' is not a whole number")``."""
    inner = [arg for arg in typing.get_args(kind) if arg is not type(None)]
    if typing.get_origin(kind) in (typing.Union, types.UnionType) and len(inner) == 1:
        kind = inner[0]
    if kind not in PARSERS:
        raise TypeError(f"{env}: settings of type {kind} have no parser")
    parse, wanted = PARSERS[kind]
    try:
        return parse(raw)
    except ValueError as err:
        raise ValueError(f"{env}={raw!r} is not {wanted}") from err


def markdown_table() -> str:
    """The table of variables in ``docs/configuration.md``, made from :class:`Settings`."""
    rows = ["| variable | default | read by | meaning |", "|---|---|---|---|"]
    for f in dataclasses.fields(Settings):
        meta = f.metadata
        shown = meta["shown"] or (f"{f.default:g}" if isinstance(f.default, float) else str(f.default))
        rows.append(f"| `{meta['env']}` | {shown} | {', '.join(meta['surfaces'])} | {meta['help']} |")
    return "\n".join(rows)


_current = Settings()


def configure(settings: Settings) -> None:
    """Install ``settings`` as the library's for this process (a surface does it once, at start)."""
    global _current
    _current = settings


def current() -> Settings:
    """The settings installed by :func:`configure`, else the defaults."""
    return _current
