"""The Video tab: a clip in a catalogue style or any style image, steady from frame to frame."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from nst.methods.registry import VIDEO
from nst.methods.video import VideoOptions
from nst.space.components import clip_upload, image_upload
from nst.space.examples import VIDEO_EXAMPLE, example_clip
from nst.space.handlers import Handlers
from nst.space.registry import Shown
from nst.space.tabs.common import (
    Form,
    Page,
    colours_radio,
    preserve_color_flag,
    scale_slider,
    style_picker,
    wire,
)


@dataclass
class VideoInputs:
    """The components :meth:`~nst.space.handlers.Handlers.stylize_video` reads, by parameter name."""

    clip: gr.Video
    style: gr.Dropdown
    style_image: gr.Image
    strength: gr.Slider
    colours: gr.Radio
    preserve_color: gr.Checkbox
    steady: gr.Checkbox
    working_side: gr.Slider
    flow: gr.Slider


def tab(page: Page, handlers: Handlers) -> Form:
    options = handlers.presets.video
    with gr.Tab(VIDEO.label, id=VIDEO.id) as made:
        with gr.Row():
            clip = clip_upload("Clip", sources=["upload"], format=None, height=300, elem_id="nst-clip")
            result = gr.Video(label="Stylised clip", interactive=False, height=300, elem_id="nst-clip-result")
        style = style_picker(page, "nst-video-gallery", columns=10)
        style_image = image_upload("…or any style image (optional)", height=160)
        inputs = VideoInputs(
            clip=clip,
            style=style,
            style_image=style_image,
            **_steadiness(options),
            working_side=scale_slider(options, page.settings.video_side),
        )
        with gr.Row():
            button = gr.Button("Stylise clip", variant="primary", interactive=bool(page.ready))
            stop = gr.Button("Stop (discards the clip)", variant="stop")
        _example(page, handlers, clip, style, result)
    fn, queue = page.queued(handlers.stylize_video, VIDEO.id)
    event = button.click(fn, wire(handlers.stylize_video, inputs), result, api_name="stylize_video", **queue)
    stop.click(None, cancels=[event], api_visibility="private")
    return Form(made, inputs)


def _example(page: Page, handlers: Handlers, clip: gr.Video, style: gr.Dropdown, result: gr.Video) -> None:
    """A slow zoom into a shipped photo (:func:`~nst.space.examples.example_clip`), painted on its first
    use, when its style is ready."""
    if VIDEO_EXAMPLE[1] not in page.ready:
        return
    gr.Examples(
        [[str(example_clip(Path(tempfile.mkdtemp(prefix="nst-example-")))), VIDEO_EXAMPLE[1]]],
        [clip, style],
        result,
        fn=handlers.stylize_video,
        cache_examples=True,
        cache_mode="lazy",
        api_visibility="private",
        label="Example: a slow zoom into a photo",
    )


def _steadiness(options: VideoOptions) -> dict[str, gr.components.Component]:
    """Strength, colours, and the two kinds of steadiness (norm statistics, optical flow)."""
    with gr.Row():
        controls = {
            "strength": gr.Slider(0, 1, value=options.strength, step=0.05, label="Strength"),
            "colours": colours_radio(options.preserve_color, "clip"),
            "preserve_color": preserve_color_flag(),
            "steady": gr.Checkbox(
                value=True,
                label="Keep colours steady from frame to frame",
                info="holds the network's instance-norm statistics across frames, so colours do not flicker",
            ),
        }
    controls["flow"] = gr.Slider(
        0,
        0.95,
        value=options.flow,
        step=0.05,
        label="Keep strokes steady where things move (0 = off)",
        info="blends the previous painted frame along the optical flow where it holds; "
        "occluded and new parts take the current frame",
    )
    return controls


SHOWN = Shown(VIDEO.id, VIDEO.label, tab, photo=False)
