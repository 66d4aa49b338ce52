"""The Video tab: a clip in a catalogue style or any style image, steady from frame to frame."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from nst.methods.video import VideoOptions
from nst.space.components import image_upload
from nst.space.handlers import Handlers
from nst.space.tabs.common import Page, scale_slider, wire


@dataclass
class VideoInputs:
    """The components :meth:`~nst.space.handlers.Handlers.stylize_video` reads, by parameter name."""

    clip: gr.Video
    style: gr.Dropdown
    style_image: gr.Image
    strength: gr.Slider
    preserve_color: gr.Checkbox
    steady: gr.Checkbox
    working_side: gr.Slider
    flow: gr.Slider


def tab(page: Page, handlers: Handlers) -> None:
    options = handlers.presets.video
    with gr.Tab("Video"):
        inputs = VideoInputs(
            clip=gr.Video(label="Clip", sources=["upload"], format=None, height=240),
            style=gr.Dropdown(page.styles, value=next(iter(page.ready), None), label="Style"),
            style_image=image_upload("…or any style image (optional)", height=160),
            **_steadiness(options),
            working_side=scale_slider(options, page.settings.video_side),
        )
        result = gr.Video(label="Stylised clip", interactive=False, height=240)
        with gr.Row():
            button = gr.Button("Stylise clip", variant="primary", interactive=bool(page.ready))
            stop = gr.Button("Stop (discards the clip)", variant="stop")
    event = button.click(
        handlers.stylize_video,
        wire(handlers.stylize_video, inputs),
        result,
        api_name="stylize_video",
        **page.lane("video"),
    )
    stop.click(None, cancels=[event], api_visibility="private")


def _steadiness(options: VideoOptions) -> dict[str, gr.components.Component]:
    """Strength, colours, and the two kinds of steadiness (norm statistics, optical flow)."""
    with gr.Row():
        controls = {
            "strength": gr.Slider(0, 1, value=options.strength, step=0.05, label="Strength"),
            "preserve_color": gr.Checkbox(value=options.preserve_color, label="Keep the clip's colours"),
            "steady": gr.Checkbox(value=True, label="Steady colours (hold norm statistics)"),
        }
    controls["flow"] = gr.Slider(
        0,
        0.95,
        value=options.flow,
        step=0.05,
        label="Steady pixels: blend the previous frame along the optical flow (0 = off)",
        info="Where the flow holds; occluded and new parts take the current frame",
    )
    return controls
