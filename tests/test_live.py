"""Live: a stream of frames painted one at a time, as a clip of them is, each stream on its own."""

import numpy as np
import pytest
from PIL import Image

from nst.methods import fast, live, video
from tests.support.clips import pan, read_frames, static_scene, write_clip


@pytest.fixture(scope="module")
def style():
    return fast.load_style("builtin_05")


def _stream(session: live.LiveSession, frames) -> list[np.ndarray]:
    return [np.asarray(session.paint(Image.fromarray(f.astype(np.uint8))), dtype=np.float32) for f in frames]


def test_a_stream_gives_the_pictures_the_same_clip_gives(style, tmp_path):
    source = write_clip(tmp_path / "in.mp4", pan(96, 64, 10), audio_hz=None, crf=0)
    list(video.stylize_video(source, tmp_path / "out.mp4", style, video.VideoOptions(crf=0)))
    clip = read_frames(tmp_path / "out.mp4")
    frames = read_frames(source)  # what the clip's painter saw
    options = {"steady": video.VideoOptions(), "per frame": video.VideoOptions(steady=0, flow=0)}
    streamed = {}
    for mode, o in options.items():
        painted = [f.astype(np.uint8) for f in _stream(live.LiveSession(style, o), frames)]
        # Through the same lossless 4:2:0 H.264 as the clip, so that only the painting can differ.
        streamed[mode] = read_frames(write_clip(tmp_path / "live.mp4", painted, audio_hz=None, crf=0))
    # Batches of four there, one frame here: a level of rounding, and the codec's round trip.
    assert np.abs(streamed["steady"] - clip).max() <= 2 and np.abs(streamed["steady"] - clip).mean() < 0.1
    assert np.abs(streamed["per frame"] - clip).mean() > 1, "the steadiness shows"


def test_two_streams_at_once_each_hold_their_own(style):
    first, second = pan(96, 64, 8), static_scene(96, 64, 8, noise=3)
    alone = [_stream(live.LiveSession(style), frames) for frames in (first, second)]
    a, b = live.LiveSession(style), live.LiveSession(style)
    together = [[], []]
    for f, g in zip(first, second, strict=True):
        together[0] += _stream(a, [f])
        together[1] += _stream(b, [g])
    for mine, own in zip(together, alone, strict=True):
        assert max(np.abs(x - y).max() for x, y in zip(mine, own, strict=True)) == 0


def test_a_new_style_starts_afresh_and_large_frames_shrink(style):
    frames = pan(200, 120, 6)
    session = live.LiveSession(style, video.VideoOptions(max_side=100))
    _stream(session, frames[:5])
    session.restyle(fast.load_style("builtin_17"))
    fresh = live.LiveSession(fast.load_style("builtin_17"), video.VideoOptions(max_side=100))
    last, alone = _stream(session, frames[5:]), _stream(fresh, frames[5:])
    assert last[0].shape == (60, 100, 3) and np.abs(last[0] - alone[0]).max() == 0
