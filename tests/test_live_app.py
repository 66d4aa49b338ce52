"""The Live tab: the stream handler's per-visitor state and cap; the tab in Chromium with a fake camera."""

from __future__ import annotations

import base64
import dataclasses
import io
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from nst.base.settings import current
from nst.methods import fast
from nst.methods.live import LiveSession
from nst.space.admission import Streams
from nst.space.handlers import Handlers
from nst.space.presets import Presets
from nst.space.results import Results
from tests.support.browser import needs_chromium
from tests.support.clips import pan, static_scene, write_camera_clip


@dataclass
class Visitor:
    """What the handler reads of Gradio's request: whose stream it is."""

    session_hash: str


def live(cap: int = 1, idle: float = 5.0) -> Handlers:
    """The app's handlers with room for ``cap`` Live streams, built as the app builds them."""
    settings = current()
    results = Results(Path(tempfile.mkdtemp(prefix="nst-live-test-")))
    return Handlers(settings, Presets.from_settings(settings), results, Streams(cap, idle))


LIVE = Presets.from_settings(current()).live


def _png(frame: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="PNG")
    return buffer.getvalue()


def _stream(app, frames, visitor: str, state=None, style="builtin_00", strength=1.0, colours=False):
    pictures = []
    for frame in frames:
        picture, state = app.stylize_live(
            _png(frame), state, style, None, strength, colours, Visitor(visitor)
        )
        pictures.append(np.asarray(picture, dtype=np.int16))
    return pictures, state


def test_two_visitors_streaming_at_once_each_get_the_librarys_steady_pictures():
    app = live(2)
    clips = {"a": pan(96, 64, 6), "b": static_scene(96, 64, 6, noise=3)}
    states, got = {"a": None, "b": None}, {"a": [], "b": []}
    for i in range(6):
        for visitor, frames in clips.items():  # interleaved, frame by frame
            pictures, states[visitor] = _stream(app, frames[i : i + 1], visitor, states[visitor])
            got[visitor] += pictures
    for visitor, frames in clips.items():
        session = LiveSession(fast.load_style("builtin_00", LIVE), LIVE)
        alone = [np.asarray(session.paint(Image.fromarray(f)), dtype=np.int16) for f in frames]
        assert max(np.abs(x - y).max() for x, y in zip(got[visitor], alone, strict=True)) == 0, visitor


def test_a_change_of_style_strength_or_colours_takes_effect_on_the_next_frame():
    app = live()
    frames = pan(96, 64, 4)
    _, state = _stream(app, frames[:2], "a")
    session = state.session
    [weaker], state = _stream(app, frames[2:3], "a", state, strength=0.5)
    [other], state = _stream(app, frames[3:4], "a", state, style="builtin_17", strength=0.5, colours=True)
    assert state.session is session, "one stream, restyled in place"
    for picture, frame, style, colours in (
        (weaker, frames[2], "builtin_00", False),
        (other, frames[3], "builtin_17", True),
    ):
        options = dataclasses.replace(LIVE, strength=0.5, preserve_color=colours)
        fresh = LiveSession(fast.load_style(style, options), options).paint(Image.fromarray(frame))
        assert np.abs(picture - np.asarray(fresh, dtype=np.int16)).max() == 0, style


def test_a_visitor_over_the_cap_is_told_live_is_full_until_a_stream_ends():
    app = live(1, idle=0.5)
    frame = pan(64, 48, 1)
    _, state = _stream(app, frame, "first")
    with pytest.raises(gr.Error, match=r"Live is full: this machine paints 1 stream at a time \(NST_LIVE"):
        _stream(app, frame, "second")
    _stream(app, frame, "first", state)  # the first goes on
    time.sleep(0.6)  # the first stops sending frames
    _stream(app, frame, "second")


def test_large_frames_shrink_and_a_bad_frame_gets_one_line():
    app = live()
    [picture], _ = _stream(app, pan(640, 480, 1), "a")
    assert picture.shape == (LIVE.max_side * 3 // 4, LIVE.max_side, 3)
    with pytest.raises(gr.Error, match="not an image format"):
        app.stylize_live(b"not a picture", None, "builtin_00", None, 1.0, False, Visitor("a"))


@needs_chromium
def test_browser_streams_a_fake_camera_and_shows_painted_frames(server, tmp_path):
    """Chromium's fake camera plays a 640×480 clip made here; the page asks it for the size Live
    paints at, and the Live pane keeps showing new frames, painted."""
    from playwright.sync_api import sync_playwright

    from tests.support.browser import camera_browser, frame_size, start_live

    frames = pan(640, 480, 30)
    clip = write_camera_clip(tmp_path / "camera.y4m", frames)
    with sync_playwright() as p:
        browser = camera_browser(p, clip)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        start_live(page, server)
        page.wait_for_function("window.shown.length >= 4", timeout=90_000)
        src = page.locator("#nst-live img").get_attribute("src")
        sent = frame_size(page.evaluate("window.lastBody"))
        page.screenshot(path=tmp_path / "live.png")
        browser.close()
    assert sent == (320, 240), "the camera is asked for about the size Live paints at, not its largest"
    assert src.startswith("data:image/jpeg;base64,"), "frames come inline, not as files in Gradio's cache"
    picture = np.asarray(
        Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("RGB"), dtype=float
    )
    assert picture.shape == (240, 320, 3)
    camera = [np.asarray(Image.fromarray(f).resize(sent), dtype=float) for f in frames]
    camera += [f[:, ::-1] for f in camera]  # as the webcam shows it, mirrored
    assert min(np.abs(picture - f).mean() for f in camera) > 20, "the pane shows the camera unpainted"
