"""The Gradio Space: one interface over the three methods, and their API endpoints.

A thin adapter: uploads go to ``nst.base.images.load_image``, then to ``nst.methods.fast``,
``nst.methods.arbitrary`` or ``nst.methods.gatys``; library errors become ``gr.Error`` so browser and
API users read them.
Run ``python app.py [--share]``; limits come from the ``NST_*`` variables in the README.
"""

from __future__ import annotations

# On ZeroGPU, spaces must load before torch (it patches CUDA); elsewhere its decorator is a no-op.
import spaces  # isort: split

import argparse
import base64
import dataclasses
import io
import math
import os
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import torch
from gradio.data_classes import FileData, ImageData
from PIL import Image, ImageDraw, ImageOps

from nst.base.device import default_device
from nst.base.images import ImageError, drawn_scene, load_image, load_mask
from nst.base.weights import WeightsError
from nst.methods import arbitrary, engine, fast, gatys, live, video
from nst.methods.catalogue import load_catalogue
from nst.networks import loss_network


def _env(name: str, default: float) -> float:
    return type(default)(os.environ.get(name, default))


@dataclass(frozen=True)
class Limits:
    """What one user may ask of a shared CPU; each from an environment variable (README)."""

    upload_mb: int = _env("NST_MAX_UPLOAD_MB", 20)
    video_upload_mb: int = _env("NST_MAX_VIDEO_UPLOAD_MB", 100)
    fast_side: int = _env("NST_FAST_MAX_SIDE", 1536)
    arbitrary_side: int = _env("NST_ARBITRARY_MAX_SIDE", 1024)
    gatys_side: int = _env("NST_GATYS_MAX_SIDE", 512)
    gatys_steps: int = _env("NST_GATYS_MAX_STEPS", 300)
    gatys_seconds: float = _env("NST_GATYS_TIME_LIMIT", 180.0)
    video_seconds: float = _env("NST_VIDEO_MAX_SECONDS", 20.0)
    video_side: int = _env("NST_VIDEO_MAX_SIDE", 640)
    live_side: int = _env("NST_LIVE_MAX_SIDE", 320)  # about the size the Live pane shows
    live_seconds: float = _env("NST_LIVE_MAX_SECONDS", 120.0)  # painting time per stream
    live_streams: int = _env("NST_LIVE_STREAMS", 1)  # streams painting at once
    queue_size: int = _env("NST_QUEUE_SIZE", 16)
    cpu_concurrency: int = _env("NST_CPU_CONCURRENCY", 1)  # on a CPU: jobs of any method at once
    fast_concurrency: int = _env("NST_FAST_CONCURRENCY", 1)
    arbitrary_concurrency: int = _env("NST_ARBITRARY_CONCURRENCY", 1)
    gatys_concurrency: int = _env("NST_GATYS_CONCURRENCY", 1)
    video_concurrency: int = _env("NST_VIDEO_CONCURRENCY", 1)
    mcp: int = _env("NST_MCP", 1)  # 0 turns the MCP server off


LIMITS = Limits()


def lane(method: str) -> dict[str, str | int]:
    """Where ``method``'s requests queue, as ``concurrency_id``/``concurrency_limit`` for an event.

    On a CPU the four methods share one lane of ``NST_CPU_CONCURRENCY`` jobs: each job already
    uses every core, so two at once only take turns and both finish later. On a GPU each method
    has its own lane (``NST_<METHOD>_CONCURRENCY``), so a long Gatys run does not hold up a picture.
    """
    if default_device().type == "cpu":
        return {"concurrency_id": "cpu", "concurrency_limit": LIMITS.cpu_concurrency}
    limits = {
        "fast": LIMITS.fast_concurrency,
        "arbitrary": LIMITS.arbitrary_concurrency,
        "gatys": LIMITS.gatys_concurrency,
        "video": LIMITS.video_concurrency,
    }
    return {"concurrency_id": method, "concurrency_limit": limits[method]}


IMPORT_DEVICE = torch.device("cpu")
"""Where the work done while the interface is built runs (checks, probes, thumbnails): the CPU.
On ZeroGPU no GPU is attached outside the decorated functions, which load their own copies."""
FAST = fast.FastOptions(max_side=LIMITS.fast_side)
"""The app's fast preset: the library's options, results capped for a shared CPU."""
ARBITRARY = arbitrary.ArbitraryOptions(max_side=LIMITS.arbitrary_side)
"""The app's any-style preset."""
VIDEO = video.VideoOptions(max_side=LIMITS.video_side)
"""The app's video preset: frames capped for a shared CPU."""
LIVE = video.VideoOptions(max_side=LIMITS.live_side, batch=1, flow_preset="fast")
"""The app's live preset: a clip's, frames capped for a shared CPU and painted one at a time, with
DIS's fast preset (E_warp as steady as medium's on the pan and zoom of `bench.video`, ~12 ms less a frame)."""
LIVE_EVERY = 1 / 15
"""Seconds between the frames the browser sends; the server paints the newest and drops the rest."""
LIVE_CAMERA = gr.WebcamOptions(
    constraints={
        "video": {
            "width": {"ideal": LIMITS.live_side},
            "height": {"ideal": LIMITS.live_side * 3 // 4},
            "frameRate": {"ideal": 1 / LIVE_EVERY},
        }
    }
)
"""The camera asked for about the size Live paints at and the rate it sends, rather than Gradio's
default of the largest the camera has: a smaller frame to capture, encode, send and decode."""
GATYS = gatys.GatysOptions(size=256, steps=60, preview_every=5, time_limit=LIMITS.gatys_seconds)
"""The app's Gatys preset: the library's options, smaller for a shared CPU; the sliders start here."""


def _undecoded(payload: FileData | None) -> str | bytes | None:
    if payload is None:
        return None
    if payload.url and payload.url.startswith("data:"):
        return base64.b64decode(payload.url.split(",", 1)[1])
    return payload.path


def image_upload(label: str, **kwargs) -> gr.Image:
    """An image input whose upload reaches the app undecoded (a path, or bytes).

    Gradio's own ``preprocess`` opens the file with PIL first, so a text file or a
    decompression bomb would fail there with a generic error; this way all
    decoding, validation and messages happen in ``nst.base.images.load_image``.
    """
    component = gr.Image(label=label, type="filepath", image_mode=None, **kwargs)
    component.preprocess = _undecoded
    return component


def _inline_jpeg(value: Image.Image | None) -> ImageData | None:
    if value is None:
        return None
    buffer = io.BytesIO()
    value.save(buffer, format="JPEG", quality=85)
    return ImageData(url="data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode())


def frame_display(label: str, **kwargs) -> gr.Image:
    """An image output sent inline, as a JPEG ``data:`` URL, rather than as a file in Gradio's cache:
    a stream's frames reach the browser without a file each on the server's disk."""
    component = gr.Image(label=label, interactive=False, **kwargs)
    component.postprocess = _inline_jpeg
    return component


@contextmanager
def user_errors() -> Iterator[None]:
    """Library errors (bad image, bad option, missing weights) reach the user as ``gr.Error``."""
    try:
        yield
    except (ImageError, ValueError, WeightsError) as err:
        raise gr.Error(str(err), print_exception=False) from err  # the user's to fix, not a server fault


CACHE_SECONDS = 3600
"""Age at which Gradio's cache drops uploads and served results (checked as often)."""
RESULTS = Path(tempfile.mkdtemp(prefix="nst-results-"))
PNG_COMPRESSION = 1
"""zlib level of result PNGs: level 6 (Pillow's default) took 1.25 s of a 9 s run at 2048×1536."""


class Befores:
    """Each result's decoded, capped content, by the result's file name, for the before/after slider.

    The name is a fresh random one per result, so a slider can only show the content that
    made that result; the oldest entries go first.
    """

    def __init__(self, size: int = 32) -> None:
        self.size, self.lock, self.entries = size, threading.Lock(), OrderedDict()

    def put(self, result: Path, content: Image.Image) -> None:
        with self.lock:
            self.entries[result.name] = content
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def get(self, result: str) -> Image.Image | None:
        with self.lock:
            return self.entries.get(Path(result).name)


BEFORES = Befores()


def _result_path(suffix: str) -> Path:
    """A fresh file name for a result, which Gradio copies into its cache; older results go.

    Handing Gradio a PIL image instead makes it write a file named by the image's
    hash, rewriting it in place when two requests produce the same picture, while
    the first may still be downloading it (an empty or cut-off file). Files here
    are removed ten minutes on, long after Gradio has copied them. Requests that finish
    together clean together: a file another one removed first is passed over.
    """
    for old in RESULTS.glob("*.*"):
        with suppress(FileNotFoundError):
            if time.time() - old.stat().st_mtime > 600:
                old.unlink()
    return RESULTS / f"{uuid.uuid4().hex}{suffix}"


def _png_file(img: Image.Image, content: Image.Image) -> str:
    path = _result_path(".png")
    img.save(path, compress_level=PNG_COMPRESSION)
    BEFORES.put(path, content)
    return str(path)


def _load(upload: str | bytes | None, what: str, max_side: int) -> Image.Image:
    """An uploaded image, refused over NST_MAX_UPLOAD_MB (the server takes files up to the video cap)."""
    if upload is None:
        raise gr.Error(f"Please add a {what} image.")
    return load_image(_checked(upload, what), max_side=max_side)


def _checked(upload: str | bytes, what: str) -> str | bytes:
    """``upload``, unless it is over NST_MAX_UPLOAD_MB, or gone: a page left open past the cache's
    cleaning (:data:`CACHE_SECONDS`) sends the path of an upload the server no longer has."""
    try:
        size = len(upload) if isinstance(upload, bytes) else Path(upload).stat().st_size
    except FileNotFoundError as err:
        raise gr.Error(
            f"The {what} image is no longer on the server (uploads are removed after "
            f"{CACHE_SECONDS // 60} minutes); please add it again.",
            print_exception=False,
        ) from err
    if size > LIMITS.upload_mb * 2**20:
        raise gr.Error(
            f"The {what} image is {size / 2**20:.0f} MB; this app takes images up to {LIMITS.upload_mb} MB "
            "(NST_MAX_UPLOAD_MB)."
        )
    return upload


def _second(name: str | bytes | None, share: float) -> tuple[list, tuple[float, float] | None]:
    """A second style and the blend that gives it ``share``; none when not given."""
    return ([name], (1 - share, share)) if name else ([], None)


def _regions(
    mask: str | bytes | None, second_mask: str | bytes | None, count: int
) -> list[Image.Image] | None:
    """One mask per style for ``count`` styles (1 or 2), or None when none is painted; with two
    styles and one mask, the other style takes the rest."""
    given = [None if m is None else load_mask(_checked(m, "mask")) for m in (mask, second_mask)][:count]
    painted = [m for m in given if m is not None]
    if not painted:
        return None
    return [ImageOps.invert(painted[0]) if m is None else m for m in given]


def unavailable() -> dict[str, list[str]]:
    """For each method, one line per source of weights that cannot be had now (and why)."""
    missing: dict[str, list[str]] = {}
    try:
        name = gatys.loss_network_for(GATYS, IMPORT_DEVICE).name
        loss_network.features(name, gatys.LAYERS[name].style, device=IMPORT_DEVICE)
    except (WeightsError, ValueError) as err:  # weights missing, or NST_LOSS_NETWORK misspelt
        missing["Gatys"] = [str(err)]
    _, problems = fast.available(IMPORT_DEVICE)
    if problems:
        missing["Fast"] = problems
    problems = arbitrary.unavailable(IMPORT_DEVICE)
    if problems:
        missing["Any style"] = problems
    return missing


def _one_pass_seconds(*args: object, **kwargs: object) -> int:
    """ZeroGPU's budget for a one-pass picture: the network runs in well under a second."""
    return 20


def _gatys_seconds(
    content: object,
    style_image: object,
    steps: int = GATYS.steps,
    size: int = GATYS.size,
    *args: object,
    **kwargs: object,
) -> int:
    """ZeroGPU's budget for a Gatys run: its own time limit (:func:`_gatys_limit`) and 20 s to spare."""
    return round(_gatys_limit(steps, size)) + 20


def _gatys_limit(steps: int, size: int) -> float:
    """Seconds a Gatys run may take: about 0.05 s a step per 512² on a GPU, twice over, within
    NST_GATYS_TIME_LIMIT; the run stops there and returns what it has."""
    return min(LIMITS.gatys_seconds, 10 + 2 * 0.05 * int(steps) * (int(size) / 512) ** 2)


def _video_seconds(clip: str | None, *args: object, **kwargs: object) -> int:
    """ZeroGPU's budget for a clip: 10 s, and 0.1 s a frame of the longest clip the app takes."""
    try:
        info = video.probe(clip) if clip else None
    except (OSError, ValueError):  # a bad clip is refused inside, quickly
        info = None
    frames = min(info.seconds, LIMITS.video_seconds) * info.fps if info else 0
    return round(10 + 0.1 * frames)


@spaces.GPU(duration=_one_pass_seconds)
def stylize_fast(
    content: str | bytes | None,
    style: str,
    strength: float = FAST.strength,
    preserve_color: bool = FAST.preserve_color,
    second_style: str = "",
    second_style_share: float = 0.5,
    working_side: int = FAST.working_side,
    mask: str | bytes | None = None,
    second_mask: str | bytes | None = None,
) -> str:
    """Paint a photo in a catalogue style with that style's feed-forward network, in about a second.

    The result keeps the photo's size (shrunk to NST_FAST_MAX_SIDE on its long side if larger).

    Args:
        content: the photo, as an image file or URL.
        style: a catalogue style: mosaic, rain_princess, scream, starry_night, or builtin_00 to builtin_25.
        strength: 0 gives the photo back, 1 the full style.
        preserve_color: keep the photo's colours and take only the style's light and texture.
        second_style: optionally, another style of the same multi-style network, mixed inside it.
        second_style_share: the second style's share of the mix, 0 to 1 (not used with masks).
        working_side: style scale, the long side the network paints at (smaller: bigger strokes); 0: off.
        mask: optionally, where the style goes: white or opaque there (the photo stays elsewhere).
        second_mask: optionally, where the second style goes; with one mask, the other style takes the rest.

    Returns:
        The path of the stylised PNG.
    """
    with user_errors():
        image = _load(content, "content", FAST.max_side)
        more, blend = _second(second_style, second_style_share)
        masks = _regions(mask, second_mask, 1 + len(more))
        options = dataclasses.replace(
            FAST,
            strength=strength,
            preserve_color=preserve_color,
            style_blend=None if masks else blend,
            working_side=int(working_side),
        )
        return _png_file(fast.stylize(image, [style, *more], options, masks=masks), image)


@spaces.GPU(duration=_one_pass_seconds)
def stylize_arbitrary(
    content: str | bytes | None,
    style_image: str | bytes | None,
    strength: float = ARBITRARY.strength,
    preserve_color: bool = ARBITRARY.preserve_color,
    second_style_image: str | bytes | None = None,
    second_style_share: float = 0.5,
    working_side: int = ARBITRARY.working_side,
    mask: str | bytes | None = None,
    second_mask: str | bytes | None = None,
) -> str:
    """Paint a photo in the style of any picture, in one pass (Ghiasi et al. 2017).

    The result keeps the photo's size (shrunk to NST_ARBITRARY_MAX_SIDE on its long side if larger).

    Args:
        content: the photo, as an image file or URL.
        style_image: the picture whose style to paint in (a painting, a texture), as an image file or URL.
        strength: 0 gives about the photo back, 1 the full style.
        preserve_color: keep the photo's colours and take only the style's light and texture.
        second_style_image: optionally, a second style picture, blended in.
        second_style_share: the second style's share of the blend, 0 to 1 (not used with masks).
        working_side: style scale, the long side the network paints at (smaller: bigger strokes); 0: off.
        mask: optionally, where the style goes: white or opaque there (the photo stays elsewhere).
        second_mask: optionally, where the second style goes; with one mask, the other style takes the rest.

    Returns:
        The path of the stylised PNG.
    """
    with user_errors():
        image = _load(content, "content", ARBITRARY.max_side)
        more, blend = _second(second_style_image, second_style_share)
        styles = [_load(s, "style", ARBITRARY.max_side) for s in (style_image, *more)]
        masks = _regions(mask, second_mask, len(styles))
        options = dataclasses.replace(
            ARBITRARY,
            strength=strength,
            preserve_color=preserve_color,
            style_blend=None if masks else blend,
            working_side=int(working_side),
        )
        return _png_file(arbitrary.stylize(image, styles, options, masks=masks), image)


@spaces.GPU(duration=_gatys_seconds)
def stylize_gatys(
    content: str | bytes | None,
    style_image: str | bytes | None,
    steps: int = GATYS.steps,
    size: int = GATYS.size,
    style_weight: float | None = GATYS.style_weight,
    preserve_color: bool = False,
    optimizer: str = GATYS.optimizer,
    seed: int = GATYS.seed,
    second_style_image: str | bytes | None = None,
    second_style_share: float = 0.5,
    mask: str | bytes | None = None,
    second_mask: str | bytes | None = None,
    progress: gr.Progress = gr.Progress(),  # noqa: B008
) -> Iterator[str]:
    """Optimise a pastiche of a photo in the style of any picture (Gatys et al. 2016), slowly but closely.

    Streams the path of a preview PNG every few steps, then the result. Steps and size are capped
    at NST_GATYS_MAX_STEPS and NST_GATYS_MAX_SIDE, and a run stops after NST_GATYS_TIME_LIMIT seconds.

    Args:
        content: the photo, as an image file or URL.
        style_image: the picture whose style to paint in, as an image file or URL.
        steps: optimisation steps in all.
        size: the result's long side in pixels.
        style_weight: the style term's weight (the content's is 1); empty for the loss network's default.
        preserve_color: keep the photo's colours.
        optimizer: "lbfgs" or "adam".
        seed: the seed of any noise.
        second_style_image: optionally, a second style picture, blended in.
        second_style_share: the second style's share of the blend, 0 to 1 (not used with masks).
        mask: optionally, where the style goes: white or opaque there (the photo stays elsewhere).
        second_mask: optionally, where the second style goes; with one mask, the other style takes the rest.

    Returns:
        The path of a PNG: previews while it runs, then the pastiche.
    """
    with user_errors():
        image = _load(content, "content", LIMITS.gatys_side)
        more, blend = _second(second_style_image, second_style_share)
        styles = [_load(s, "style", LIMITS.gatys_side) for s in (style_image, *more)]
        masks = _regions(mask, second_mask, len(styles))
        events = gatys.stylize(
            image,
            styles,
            GATYS,
            masks=masks,
            style_blend=None if masks else blend,
            size=int(size),
            steps=int(steps),
            style_weight=style_weight,
            preserve_color="luminance" if preserve_color else "none",
            optimizer=optimizer,
            seed=int(seed),
            time_limit=_gatys_limit(steps, size),
        )
        for event in events:
            left = event.elapsed / event.step * (event.total - event.step)
            progress(
                (event.step, event.total),
                desc=f"scale {event.scale}/{event.scales} · about {left:.0f} s left",
            )
            if event.image is not None:
                yield _png_file(event.image, image)


@spaces.GPU(duration=_video_seconds)
def stylize_video(
    clip: str | None,
    style: str = "builtin_00",
    style_image: str | bytes | None = None,
    strength: float = VIDEO.strength,
    preserve_color: bool = VIDEO.preserve_color,
    steady: bool = True,
    working_side: int = VIDEO.working_side,
    flow: float = VIDEO.flow,
    progress: gr.Progress = gr.Progress(),  # noqa: B008
) -> Iterator:
    """Stylise a short clip with a catalogue style or any style picture; keeps its frame rate and sound.

    Frames are shrunk to NST_VIDEO_MAX_SIDE; clips over NST_VIDEO_MAX_SECONDS are refused.

    Args:
        clip: the video file or URL.
        style: a catalogue style's name, used when no style_image is given.
        style_image: optionally, any picture whose style to paint in.
        strength: 0 gives the clip back, 1 the full style.
        preserve_color: keep the clip's colours.
        steady: hold the networks' statistics from frame to frame, for steady colours.
        working_side: style scale, the long side the network paints at (smaller: bigger strokes); 0: off.
        flow: weight of the previous output warped by the clip's optical flow, for steady pixels; 0: off.

    Returns:
        The path of the stylised MP4.
    """
    with user_errors():
        if clip is None:
            raise gr.Error("Please add a clip.")
        info = video.probe(clip)
        if info.seconds > LIMITS.video_seconds:
            raise ValueError(
                f"The clip is {info.seconds:.0f} s long; this app takes up to {LIMITS.video_seconds:.0f} s "
                "(NST_VIDEO_MAX_SECONDS). Trim it, or use `python -m nst video --max-seconds`."
            )
        chosen = style if style_image is None else [_load(style_image, "style", ARBITRARY.max_side)]
        options = dataclasses.replace(
            VIDEO,
            strength=strength,
            preserve_color=preserve_color,
            steady=VIDEO.steady if steady else 0.0,
            flow=float(flow),
            working_side=int(working_side),
        )
        target = _result_path(".mp4")
        for event in video.stylize_video(clip, target, chosen, options):
            progress((event.frame, event.total), desc="frames", unit="frames")
            yield gr.skip()
        yield str(target)


class Streams:
    """The live streams painting now, by session: at most ``cap``; one unseen for ``idle`` s has ended."""

    def __init__(self, cap: int, idle: float = 5.0) -> None:
        self.cap, self.idle, self.lock, self.seen = cap, idle, threading.Lock(), {}

    def admit(self, session: str) -> bool:
        """Whether ``session``'s frame may be painted: it is streaming already, or there is room."""
        with self.lock:
            now = time.monotonic()
            self.seen = {s: t for s, t in self.seen.items() if now - t < self.idle}
            if session not in self.seen and len(self.seen) >= self.cap:
                return False
            self.seen[session] = now
            return True


STREAMS = Streams(LIMITS.live_streams)


@dataclass
class LiveState:
    """One visitor's stream: its painter, and the choices it was made for (a change restyles it)."""

    choices: tuple
    session: live.LiveSession


@spaces.GPU(duration=5)  # a frame at a time
def stylize_live(
    frame: str | bytes | None,
    state: LiveState | None,
    style: str,
    style_image: str | bytes | None,
    strength: float,
    preserve_color: bool,
    request: gr.Request,
) -> tuple:
    """Paint the newest webcam frame of this visitor's stream, held steady against the frames before.

    A change of style, style image, strength or colours takes effect on this frame. Streams are
    capped at NST_LIVE_STREAMS at once and NST_LIVE_MAX_SECONDS of painting each; frames are
    shrunk to NST_LIVE_MAX_SIDE.
    """
    with user_errors():
        if frame is None:
            return gr.skip(), state
        if not STREAMS.admit(request.session_hash):
            n = LIMITS.live_streams
            raise gr.Error(
                f"Live is full: this machine paints {n} stream{'s' * (n > 1)} at a time (NST_LIVE_STREAMS). "
                "Try again in a minute, or use the Video tab."
            )
        image = load_image(_checked(frame, "camera"), max_side=LIVE.max_side)
        choices = (style, style_image, float(strength), bool(preserve_color))
        if state is None or state.choices != choices:
            options = dataclasses.replace(LIVE, strength=strength, preserve_color=preserve_color)
            if style_image is None:
                chosen = fast.load_style(style, options)
            else:
                painting = _load(style_image, "style", ARBITRARY.max_side)
                chosen = arbitrary.load_style([painting], options, image)
            if state is None:
                state = LiveState(choices, live.LiveSession(chosen, options))
            else:
                state.session.restyle(chosen, options)
                state.choices = choices
        return state.session.paint(image), state


def before_after(result: str | None) -> tuple | None:
    """The content that made ``result`` (as decoded and capped for it) beside the result."""
    before = None if result is None else BEFORES.get(result)
    if before is None:
        return None
    with Image.open(result) as after:  # only its size is read; the file is closed again at once
        size = after.size
    return (before if before.size == size else before.resize(size)), result


def _example_images(folder: Path) -> list[list[str]]:
    """Our own drawn examples (no third-party images): a landscape and two patterns."""
    waves = Image.new("RGB", (256, 256), (20, 30, 90))
    draw = ImageDraw.Draw(waves)
    for i in range(0, 256, 16):
        draw.arc((-64 + i, i - 64, 192 + i, 192 + i), 0, 300, fill=(240, 200 - i // 2, 60 + i // 2), width=6)
    tiles = Image.new("RGB", (256, 256))
    draw = ImageDraw.Draw(tiles)
    for y in range(0, 256, 32):
        for x in range(0, 256, 32):
            draw.rectangle((x, y, x + 30, y + 30), fill=((x * 7) % 256, (y * 5) % 256, (x + y) % 256))
    paths = []
    for name, img in (("scene", drawn_scene()), ("waves", waves), ("tiles", tiles)):
        img.save(folder / f"{name}.png")
        paths.append(str(folder / f"{name}.png"))
    return [[paths[0], paths[1]], [paths[0], paths[2]]]


def _notice(missing: dict[str, list[str]], disabled: set[str]) -> str:
    lines = []
    for method, problems in missing.items():
        state = "unavailable" if method in disabled else "partly available"
        lines += [f"- **{method} is {state}.** {problem}" for problem in problems]
    return "\n".join(lines)


def _loss_network_line(chosen: loss_network.Chosen) -> str:
    if chosen.name == "vgg19":
        return "Runs on VGG-19, as in the paper."
    return (
        f"Runs on **{chosen.title}**, the any-style method's packaged network ({chosen.reason}). "
        "VGG-19 gives the paper's results: put torchvision's `vgg19-dcbb9e9d.pth` in torch's cache "
        "or point `NST_VGG_WEIGHTS` at it."
    )


@dataclass
class Shared:
    """What every tab reads and writes: the content, the result panes, the catalogue, and which
    methods cannot run."""

    content: gr.Image
    result: gr.Image
    compare: gr.ImageSlider
    styles: list[tuple[str, str]]
    ready: dict
    disabled: set[str]
    examples: list[list[str]]  # our drawn (content, style image) pairs


def _examples(ui: Shared, method: str, style: gr.components.Component, fn: Callable, pairs: list) -> None:
    """Examples that run through the tab's own function, each cached on its first use (not at start)."""
    if method in ui.disabled or not pairs:
        return
    gr.Examples(
        pairs,
        [ui.content, style],
        ui.result,
        fn=fn,
        cache_examples=True,
        cache_mode="lazy",
        api_visibility="private",
        label="Examples (content, style)",
    )


def _shown(event: gr.events.Dependency, ui: Shared) -> None:
    """After a result, the before/after slider shows it beside its content."""
    event.then(
        before_after, ui.result, ui.compare, api_visibility="private", show_progress="hidden", queue=False
    )


def _backdrop(content: str | bytes | None) -> dict | None:
    """The regions editor's canvas: the content photo, nothing painted yet."""
    return {"background": content, "layers": [], "composite": None} if isinstance(content, str) else None


def _painted(value: dict | None) -> tuple[str | None, str | None]:
    """The editor's two layers as masks (their alpha: opaque where painted), None where blank."""
    layers = list((value or {}).get("layers") or [])
    masks: list[str | None] = []
    for layer in [*layers, None, None][:2]:
        alpha = None if layer is None else load_mask(layer)
        if alpha is None or alpha.getextrema()[1] == 0:
            masks.append(None)
            continue
        path = _result_path(".png")
        alpha.save(path)
        masks.append(str(path))
    return masks[0], masks[1]


@dataclass
class Regions:
    """A tab's regions editor and the two masks it gives its function (API: mask, second_mask)."""

    editor: gr.ImageEditor
    mask: gr.Image
    second_mask: gr.Image


def regions_editor(ui: Shared) -> Regions:
    """An accordion to paint, on the content photo, where each style goes: one layer per style."""
    with gr.Accordion("Regions: paint where each style goes", open=False):
        gr.Markdown(
            "Paint on the photo with the brush. Layer **Style**: where the style goes; layer **Second "
            "style**: where the second goes (left blank, it takes the rest). Unpainted: the photo stays."
        )
        editor = gr.ImageEditor(
            label="Regions",
            type="pil",
            image_mode="RGBA",
            sources=(),
            transforms=(),
            layers=gr.LayerOptions(allow_additional_layers=False, layers=["Style", "Second style"]),
            brush=gr.Brush(colors=["#e11d48", "#2563eb"], default_size=40),
            height=360,
        )
    regions = Regions(editor, image_upload("Mask", visible=False), image_upload("Second mask", visible=False))
    ui.content.change(
        _backdrop, ui.content, editor, api_visibility="private", show_progress="hidden", queue=False
    )
    return regions


def _with_masks(button: gr.Button, regions: Regions) -> gr.events.Dependency:
    """A click that first reads the painted layers into the masks (off the queue), for ``.then``."""
    return button.click(
        _painted,
        regions.editor,
        [regions.mask, regions.second_mask],
        api_visibility="private",
        show_progress="hidden",
        queue=False,
    )


def _scale_slider(options: engine.OnePassOptions, largest: int) -> gr.Slider:
    return gr.Slider(
        0,
        largest,
        value=options.working_side,
        step=32,
        label="Style scale: the size the network paints at (long side, px); smaller gives bigger strokes",
        info="0 paints at the photo's own size; detail is added back at full size either way",
    )


def style_picker(ui: Shared, elem_id: str) -> gr.Dropdown:
    """The catalogue's styles by thumbnail, and the dropdown a thumbnail picks in."""
    # Captions stay short under small thumbnails: a built-in style's number, or the title.
    gallery = [
        (
            str(fast.thumbnail(name, device=IMPORT_DEVICE)),
            str(style.index) if style.kind == "builtin" else style.title,
        )
        for name, style in ui.ready.items()
    ]
    # Every thumbnail in view, none under a label badge: the label is a line of its own.
    gr.Markdown("**Pick a style**")
    picker = gr.Gallery(
        gallery,
        show_label=False,
        columns=5,
        height=40 + 122 * math.ceil(len(gallery) / 5),  # every row, at the column's full width
        allow_preview=False,
        object_fit="cover",
        elem_id=elem_id,
    )
    style = gr.Dropdown(ui.styles, value=next(iter(ui.ready), None), label="Style")

    def pick(event: gr.SelectData) -> str:
        return list(ui.ready)[event.index]

    picker.select(pick, None, style, api_visibility="private", show_progress="hidden", queue=False)
    return style


def fast_tab(ui: Shared) -> None:
    """Catalogue styles by thumbnail, strength, colours, and two styles of one multi-style network blended."""
    blendable = [(style.title, name) for name, style in ui.ready.items() if style.index is not None]
    with gr.Tab("Fast"):
        style = style_picker(ui, "nst-gallery")
        strength = gr.Slider(0, 1, value=FAST.strength, step=0.05, label="Strength")
        colour = gr.Checkbox(value=FAST.preserve_color, label="Keep the photo's colours")
        scale = _scale_slider(FAST, LIMITS.fast_side)
        with gr.Accordion("Blend two styles of one network", open=False):
            second = gr.Dropdown(
                [("None", ""), *blendable],
                value="",
                label="Blend with",
                info="built-in styles blend with each other, the styles of a set you trained likewise",
            )
            share = gr.Slider(0, 1, value=0.5, step=0.05, label="Share of the second style")
        regions = regions_editor(ui)
        button = gr.Button("Stylise", variant="primary", interactive="Fast" not in ui.disabled)
        scene = ui.examples[0][0]
        _examples(
            ui,
            "Fast",
            style,
            stylize_fast,
            [[scene, n] for n in ("builtin_03", "builtin_17") if n in ui.ready],
        )
    _shown(
        _with_masks(button, regions).then(
            stylize_fast,
            [ui.content, style, strength, colour, second, share, scale, regions.mask, regions.second_mask],
            ui.result,
            api_name="stylize_fast",
            **lane("fast"),
        ),
        ui,
    )


def any_style_tab(ui: Shared) -> None:
    """Any picture as the style, and a second one blended by embedding."""
    with gr.Tab("Any style"):
        style = image_upload("Style image", height=200)
        strength = gr.Slider(0, 1, value=ARBITRARY.strength, step=0.05, label="Strength")
        colour = gr.Checkbox(value=ARBITRARY.preserve_color, label="Keep the photo's colours")
        scale = _scale_slider(ARBITRARY, LIMITS.arbitrary_side)
        with gr.Accordion("Blend a second style", open=False):
            second = image_upload("Second style (optional)", height=160)
            share = gr.Slider(0, 1, value=0.5, step=0.05, label="Share of the second style")
        regions = regions_editor(ui)
        button = gr.Button("Stylise", variant="primary", interactive="Any style" not in ui.disabled)
        _examples(ui, "Any style", style, stylize_arbitrary, ui.examples)
    _shown(
        _with_masks(button, regions).then(
            stylize_arbitrary,
            [ui.content, style, strength, colour, second, share, scale, regions.mask, regions.second_mask],
            ui.result,
            api_name="stylize_arbitrary",
            **lane("arbitrary"),
        ),
        ui,
    )


def gatys_tab(ui: Shared) -> None:
    """The optimiser's controls and its examples."""
    with gr.Tab("Gatys"):
        network = "vgg19"
        if "Gatys" not in ui.disabled:
            chosen = gatys.loss_network_for(GATYS, IMPORT_DEVICE)
            network = chosen.name
            gr.Markdown(_loss_network_line(chosen))
        style = image_upload("Style image", height=200)
        with gr.Row():
            steps = gr.Slider(1, LIMITS.gatys_steps, value=GATYS.steps, step=1, label="Steps")
            size = gr.Slider(
                64, LIMITS.gatys_side, value=GATYS.size, step=32, label="Output size (long side)"
            )
        colour = gr.Checkbox(label="Keep the photo's colours")
        with gr.Accordion("Advanced", open=False):
            weight = gr.Slider(
                0.1, 50, value=gatys.WEIGHTS[network].style, step=0.1, label="Style weight (content is 1)"
            )
            optimizer = gr.Radio(list(gatys.OPTIMIZERS), value=GATYS.optimizer, label="Optimiser")
            seed = gr.Number(GATYS.seed, precision=0, label="Seed")
            second = image_upload("Second style to blend in (optional)", height=160)
            share = gr.Slider(0, 1, value=0.5, step=0.05, label="Share of the second style")
        regions = regions_editor(ui)
        with gr.Row():
            button = gr.Button("Run", variant="primary", interactive="Gatys" not in ui.disabled)
            stop = gr.Button("Stop", variant="stop")
        _examples(ui, "Gatys", style, stylize_gatys, ui.examples)
    inputs = [ui.content, style, steps, size, weight, colour, optimizer, seed, second, share]
    event = _with_masks(button, regions).then(
        stylize_gatys,
        [*inputs, regions.mask, regions.second_mask],
        ui.result,
        api_name="stylize_gatys",
        **lane("gatys"),
        show_progress_on=ui.compare,  # keeps the streamed pastiche in view
    )
    _shown(event, ui)
    stop.click(None, cancels=[event], api_visibility="private")


def video_tab(ui: Shared) -> None:
    """A clip in a catalogue style or any style image, steady from frame to frame."""
    with gr.Tab("Video"):
        clip = gr.Video(label="Clip", sources=["upload"], format=None, height=240)
        style = gr.Dropdown(ui.styles, value=next(iter(ui.ready), None), label="Style")
        style_image = image_upload("…or any style image (optional)", height=160)
        with gr.Row():
            strength = gr.Slider(0, 1, value=VIDEO.strength, step=0.05, label="Strength")
            colour = gr.Checkbox(value=VIDEO.preserve_color, label="Keep the clip's colours")
            steady = gr.Checkbox(value=True, label="Steady colours (hold norm statistics)")
        flow = gr.Slider(
            0,
            0.95,
            value=VIDEO.flow,
            step=0.05,
            label="Steady pixels: blend the previous frame along the optical flow (0 = off)",
            info="Where the flow holds; occluded and new parts take the current frame",
        )
        scale = _scale_slider(VIDEO, LIMITS.video_side)
        result = gr.Video(label="Stylised clip", interactive=False, height=240)
        with gr.Row():
            button = gr.Button("Stylise clip", variant="primary", interactive=bool(ui.ready))
            stop = gr.Button("Stop (discards the clip)", variant="stop")
    event = button.click(
        stylize_video,
        [clip, style, style_image, strength, colour, steady, scale, flow],
        result,
        api_name="stylize_video",
        **lane("video"),
    )
    stop.click(None, cancels=[event], api_visibility="private")


def live_tab(ui: Shared) -> None:
    """The visitor's webcam, painted frame by frame as it streams, in a catalogue style or any style."""
    with gr.Tab("Live"):
        gr.Markdown(
            "Allow the camera, then press record: each frame comes back painted, held steady against "
            f"the ones before. Up to {LIMITS.live_seconds:.0f} s of painting a stream, frames up to "
            f"{LIMITS.live_side} px."
        )
        with gr.Row():
            camera = image_upload(
                "Camera", sources=["webcam"], streaming=True, webcam_options=LIVE_CAMERA, height=300
            )
            painted = frame_display("Live", height=300, elem_id="nst-live")
        style = style_picker(ui, "nst-live-gallery")
        style_image = image_upload("…or any style image (optional)", height=160)
        with gr.Row():
            strength = gr.Slider(0, 1, value=LIVE.strength, step=0.05, label="Strength")
            colour = gr.Checkbox(value=LIVE.preserve_color, label="Keep the camera's colours")
        state = gr.State(None, time_to_live=600)
    camera.stream(
        stylize_live,
        [camera, state, style, style_image, strength, colour],
        [painted, state],
        stream_every=LIVE_EVERY,
        time_limit=LIMITS.live_seconds,
        # One over the cap, so that the next visitor is told it is full rather than left queued.
        concurrency_limit=LIMITS.live_streams + 1,
        concurrency_id="live",
        api_visibility="private",
        show_progress="hidden",
    )


def build(missing: dict[str, list[str]] | None = None) -> gr.Blocks:
    """The interface; ``missing`` maps a method to one line per source of weights it lacks."""
    missing = unavailable() if missing is None else missing
    ready, _ = fast.available(IMPORT_DEVICE)
    disabled = {method for method in ("Gatys", "Any style") if method in missing}
    if not ready:
        disabled.add("Fast")
    examples = _example_images(Path(tempfile.mkdtemp(prefix="nst-examples-")))
    with gr.Blocks(title="Neural style transfer", delete_cache=(CACHE_SECONDS, CACHE_SECONDS)) as demo:
        gr.Markdown(
            "# Neural style transfer\nPaint a photo in the style of another image. **Fast**: a "
            "pretrained network per style (Johnson et al. 2016; Dumoulin et al. 2017), under a second. "
            "**Any style**: any picture as the style, in one pass (Ghiasi et al. 2017). **Gatys**: "
            "optimises the picture itself (Gatys et al. 2016) and streams its progress. "
            "**Live**: your webcam, painted as it streams."
        )
        if missing:
            gr.Markdown(_notice(missing, disabled), elem_classes="nst-warning")
        with gr.Row():
            with gr.Column():
                content = image_upload("Content photo", sources=["upload", "webcam", "clipboard"], height=320)
                tabs = gr.Column()
            with gr.Column():
                result = gr.Image(
                    label="Result",
                    type="filepath",
                    format="png",
                    interactive=False,
                    buttons=["download", "fullscreen"],
                    height=420,
                    elem_id="nst-result",
                )
                compare = gr.ImageSlider(label="Before / after", format="png", max_height=420)
        styles = [(style.title, name) for name, style in load_catalogue().items()]  # shown, sent
        ui = Shared(content, result, compare, styles, ready, disabled, examples)
        with tabs:
            fast_tab(ui)
            any_style_tab(ui)
            gatys_tab(ui)
            video_tab(ui)
            live_tab(ui)
    demo.queue(max_size=LIMITS.queue_size)
    return demo


demo = build()

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Serve the style transfer Space.")
    parser.add_argument(
        "--share",
        action="store_true",
        default=os.environ.get("NST_SHARE") == "1",
        help="also serve a public gradio.live link (or NST_SHARE=1)",
    )
    args = parser.parse_args()
    demo.launch(
        share=args.share,
        mcp_server=bool(LIMITS.mcp),
        max_file_size=f"{max(LIMITS.upload_mb, LIMITS.video_upload_mb)}mb",  # images: _load's cap
        theme=gr.themes.Soft(),
        css=".nst-warning { border-left: 4px solid #d97706; padding-left: .75rem; }",
    )
