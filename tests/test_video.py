"""Video: decoding, frame count and rate, audio passthrough, held statistics, bad clips, CLI."""

import av
import numpy as np
import pytest
import torch
from PIL import Image, ImageOps

from nst.methods import fast, video
from nst.networks.norms import Running
from tests.support.clips import e_warp, pan, read_frames, static_scene, write_clip


@pytest.fixture(scope="module")
def model():
    return fast.load_style("builtin_05")


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("clips") / "clip.mp4", static_scene(96, 64, 24), fps=12)


def _audio_payload(path) -> bytes:
    with av.open(str(path)) as container:
        return b"".join(bytes(p) for p in container.demux(audio=0) if p.size)


def _run(source, target, model, **options) -> list[video.VideoProgress]:
    return list(video.stylize_video(source, target, model, video.VideoOptions(**options)))


def test_a_clip_keeps_its_frames_rate_size_and_sound(clip, model, tmp_path):
    events = _run(clip, tmp_path / "out.mp4", model, batch=5)
    assert [e.frame for e in events] == [5, 10, 15, 20, 24] and events[-1].total == 24
    info = video.probe(tmp_path / "out.mp4")
    assert (info.width, info.height, info.fps, info.frames, info.audio) == (96, 64, 12, 24, "aac")
    assert _audio_payload(tmp_path / "out.mp4") == _audio_payload(clip), "the sound is copied as it is"
    assert np.abs(read_frames(tmp_path / "out.mp4") - read_frames(clip)).mean() > 10, (
        "and the frames are painted"
    )


def test_sound_the_mp4_cannot_hold_is_re_encoded(model, tmp_path):
    source = write_clip(tmp_path / "clip.mkv", static_scene(64, 48, 12), fps=12, codec="pcm_s16le")
    _run(source, tmp_path / "out.mp4", model)
    info = video.probe(tmp_path / "out.mp4")
    assert info.audio == "aac" and info.frames == 12


def test_limits_trim_the_clip_and_shrink_its_frames(clip, model, tmp_path):
    _run(clip, tmp_path / "out.mp4", model, max_seconds=1.0, max_side=49)
    info = video.probe(tmp_path / "out.mp4")
    assert info.frames == 12 and (info.width, info.height) == (48, 32)
    with av.open(str(tmp_path / "out.mp4")) as container:
        audio = container.streams.audio[0]
        last = max(p.pts + p.duration for p in container.demux(audio) if p.size)
        assert float(last * audio.time_base) <= 1.1


def test_running_statistics_follow_with_a_short_memory_and_restart():
    held = Running(0.75)
    mean, _ = held(torch.ones(2, 3), torch.full((2, 3), 4.0))
    torch.testing.assert_close(mean, torch.ones(2, 3))
    mean, _ = held(torch.full((1, 3), 5.0), torch.ones(1, 3))
    torch.testing.assert_close(mean, torch.full((1, 3), 2.0))  # 0.75·1 + 0.25·5
    held.reset()
    mean, _ = held(torch.full((1, 3), 5.0), torch.ones(1, 3))
    torch.testing.assert_close(mean, torch.full((1, 3), 5.0))


def test_held_statistics_steady_what_the_moving_object_cannot_reach(model, tmp_path):
    source = write_clip(tmp_path / "in.mp4", static_scene(320, 180, 12), audio_hz=None, crf=0)
    far = slice(0, 24)  # rows the disc never comes near

    def far_change(**options) -> float:
        _run(source, tmp_path / "out.mp4", model, crf=0, **options)
        return float(np.abs(np.diff(read_frames(tmp_path / "out.mp4")[:, far], axis=0)).mean())

    plain, steady = far_change(steady=0.0, flow=0.0), far_change(flow=0.0)
    assert steady < 0.5 * plain


def test_held_statistics_restart_at_a_scene_cut(model, tmp_path):
    frames = static_scene(96, 64, 6) + pan(96, 64, 6, seed=5)
    source = write_clip(tmp_path / "in.mp4", frames, audio_hz=None, crf=0)
    _run(source, tmp_path / "plain.mp4", model, steady=0.0, flow=0.0, crf=0)
    _run(source, tmp_path / "steady.mp4", model, steady=0.98, flow=0.0, crf=0, batch=4)
    plain, steady = read_frames(tmp_path / "plain.mp4"), read_frames(tmp_path / "steady.mp4")
    # The first frame after the cut is normalised with its own statistics, as a lone frame is.
    assert np.abs(plain[6] - steady[6]).mean() < 0.5
    assert np.abs(plain[9] - steady[9]).mean() > 0.5, "later frames hold the estimate"


def test_blending_with_the_previous_frame_is_there_and_off_by_default(clip, model, tmp_path):
    """``out[t] = (1 − b)·painted[t] + b·out[t − 1]``: the weight on the previous output, fitted
    over the clip by least squares, is ``b`` (up to the codec's rounding)."""
    assert video.VideoOptions().blend_previous == 0
    _run(clip, tmp_path / "a.mp4", model, flow=0.0)
    _run(clip, tmp_path / "b.mp4", model, flow=0.0, blend_previous=0.3)
    painted, out = (read_frames(tmp_path / name).astype(np.float64) for name in ("a.mp4", "b.mp4"))
    previous, change = (out[:-1] - painted[1:]).ravel(), (out[1:] - painted[1:]).ravel()
    assert np.abs(previous).mean() > 2, "the clip moves"
    assert previous @ change / (previous @ previous) == pytest.approx(0.3, abs=0.08)


@pytest.mark.parametrize("clip_kind", ["pan", "noisy still"])
def test_flow_guided_frames_hold_still_by_the_warping_error(model, tmp_path, clip_kind):
    """Lai et al.'s E_warp, with the input's flow: flow-guided is well below per frame."""
    frames = pan(160, 96, 12) if clip_kind == "pan" else static_scene(160, 96, 12, noise=3)
    source = write_clip(tmp_path / "in.mp4", frames, audio_hz=None, crf=0)
    decoded = read_frames(source)
    errors = {}
    for mode, options in {"per frame": dict(steady=0.0, flow=0.0), "flow": {}}.items():
        _run(source, tmp_path / "out.mp4", model, crf=0, **options)
        errors[mode] = e_warp(decoded, read_frames(tmp_path / "out.mp4"))
    assert errors["flow"] < 0.5 * errors["per frame"], errors


def test_flow_guided_blending_restarts_at_a_scene_cut(model, tmp_path):
    frames = pan(96, 64, 6) + static_scene(96, 64, 6, seed=5)
    source = write_clip(tmp_path / "in.mp4", frames, audio_hz=None, crf=0)
    _run(source, tmp_path / "held.mp4", model, flow=0.0, crf=0)
    _run(source, tmp_path / "flow.mp4", model, crf=0)
    held, flow = read_frames(tmp_path / "held.mp4"), read_frames(tmp_path / "flow.mp4")
    assert np.abs(held[6] - flow[6]).mean() < 0.5, "the first frame after the cut blends in nothing"
    assert np.abs(held[3] - flow[3]).mean() > 0.5, "frames before it do"


def test_where_the_flow_fails_the_current_frame_is_taken_whole():
    """Pixels new to the frame (entering at an edge, or a patch that was not there) take the current
    painting, not a smear of the previous output; the rest blends."""
    scene = pan(160, 96, 2, speed=6)
    before, after = scene[0], scene[1].copy()
    after[30:70, 40:80] = (250, 250, 250)  # a patch that appears
    blend = video.FlowBlend(0.8)  # any weight: 0.8 of the previous where the flow holds
    red, blue = Image.new("RGB", (160, 96), (255, 0, 0)), Image.new("RGB", (160, 96), (0, 0, 255))
    blend(Image.fromarray(before), red)
    out = np.asarray(blend(Image.fromarray(after), blue), dtype=np.int16)
    assert (out[:, -4:] == (0, 0, 255)).all(), "the strip that entered on the right"
    assert (out[40:60, 50:70] == (0, 0, 255)).all(), "the patch that appeared"
    assert (np.abs(out[10:25, 100:140] - (204, 0, 51)) <= 1).all(), "the rest: 0.8 of the previous"


@pytest.fixture()
def bad_clips(tmp_path, clip):
    files = {"empty.mp4": b"", "text.mp4": b"not a video at all", "truncated.mp4": clip.read_bytes()[:3000]}
    for name, payload in files.items():
        (tmp_path / name).write_bytes(payload)
    with av.open(str(tmp_path / "sound.m4a"), "w") as out:  # audio only
        stream = out.add_stream("aac", rate=22050)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="flt", layout="mono")
        frame.sample_rate = 22050
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    with av.open(str(tmp_path / "no_frames.mp4"), "w") as out:  # a video stream that holds nothing
        stream = out.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        out.start_encoding()
        out.mux(stream.encode(None))
    return tmp_path


@pytest.mark.parametrize(
    "name, message",
    [
        ("empty.mp4", "empty"),
        ("text.mp4", "not a video we can read"),
        ("truncated.mp4", "truncated|not a video|could not be read|no frames"),
        ("sound.m4a", "no video stream"),
        ("no_frames.mp4", "no frames|no video stream"),  # FFmpeg sees no stream with no packets
        ("missing.mp4", "No video file"),
    ],
)
def test_bad_clips_get_one_line_and_leave_nothing(bad_clips, model, name, message):
    target = bad_clips / "out.mp4"
    with pytest.raises(video.VideoError, match=message) as err:
        _run(bad_clips / name, target, model)
    assert "\n" not in str(err.value)
    assert not target.exists() and not list(bad_clips.glob(".*partial*"))


def test_a_huge_frame_is_refused_before_decoding(clip, model, tmp_path, settings):
    settings(max_image_pixels=96 * 64 - 1)
    with pytest.raises(video.VideoError, match="megapixels"):
        _run(clip, tmp_path / "out.mp4", model)


def test_stopping_early_leaves_no_output(clip, model, tmp_path):
    stream = video.stylize_video(clip, tmp_path / "out.mp4", model, video.VideoOptions(batch=2))
    next(stream)
    stream.close()
    assert list(tmp_path.iterdir()) == []


def test_cli_video_with_a_style_and_with_a_style_image(clip, tmp_path, nst):
    from tests.support.pictures import synthetic

    synthetic(64, 64, seed=3).save(tmp_path / "style.png")
    for how in (["--style", "builtin_02"], ["--style-image", tmp_path / "style.png", "--strength", "0.7"]):
        result = nst("video", clip, "-o", tmp_path / "out.mp4", "--max-seconds", "1", *how)
        assert result.returncode == 0, result.stderr
        assert video.probe(tmp_path / "out.mp4").frames == 12
    (tmp_path / "bad.mp4").write_text("nope")
    result = nst("video", tmp_path / "bad.mp4", "-o", tmp_path / "x.mp4", "--style", "mosaic")
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1


def _difference(a, b) -> float:
    return float(np.abs(read_frames(a).astype(np.float64) - read_frames(b)).mean())


def recoloured_scene() -> Image.Image:
    """A style image: the clip's own scene in dark blue and orange."""
    return ImageOps.colorize(Image.fromarray(static_scene(96, 64, 1)[0]).convert("L"), "darkblue", "orange")


@pytest.mark.parametrize("style", ["builtin_05", "image"])
def test_strength_below_one_stays_nearer_the_clip(clip, tmp_path, style):
    chosen = ["builtin_05"] if style == "builtin_05" else [recoloured_scene()]
    list(video.stylize_video(clip, tmp_path / "full.mp4", chosen))
    list(video.stylize_video(clip, tmp_path / "half.mp4", chosen, strength=0.5))
    assert _difference(tmp_path / "half.mp4", clip) < 0.8 * _difference(tmp_path / "full.mp4", clip)


def test_preserve_color_keeps_the_clips_chroma(clip, tmp_path):
    list(video.stylize_video(clip, tmp_path / "painted.mp4", "builtin_05"))
    list(video.stylize_video(clip, tmp_path / "kept.mp4", "builtin_05", preserve_color=True))

    def chroma(path) -> np.ndarray:
        frames = read_frames(path).astype(np.float64)
        return frames - frames.mean(axis=-1, keepdims=True)  # each pixel's colour less its grey

    kept = np.abs(chroma(tmp_path / "kept.mp4") - chroma(clip)).mean()
    assert kept < 0.5 * np.abs(chroma(tmp_path / "painted.mp4") - chroma(clip)).mean()
