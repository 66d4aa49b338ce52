"""The Live tab: the visitor's webcam, painted frame by frame as it streams."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from nst.space.components import frame_display, image_upload
from nst.space.handlers import Handlers
from nst.space.registry import Shown
from nst.space.tabs.common import Form, Page, colours_radio, style_picker, wire

EVERY = 1 / 15
"""Seconds between the frames the browser sends; the server paints the newest and drops the rest."""


def camera_options(side: int) -> gr.WebcamOptions:
    """The camera asked for about the size Live paints at and the rate it sends, rather than Gradio's
    default of the largest the camera has: a smaller frame to capture, encode, send and decode."""
    ideal = {"width": {"ideal": side}, "height": {"ideal": side * 3 // 4}, "frameRate": {"ideal": 1 / EVERY}}
    return gr.WebcamOptions(constraints={"video": ideal})


@dataclass
class LiveInputs:
    """The components :meth:`~nst.space.handlers.Handlers.stylize_live` reads, by parameter name."""

    frame: gr.Image
    state: gr.State
    style: gr.Dropdown
    style_image: gr.Image
    strength: gr.Slider
    preserve_color: gr.Radio


def tab(page: Page, handlers: Handlers) -> Form:
    settings, options = page.settings, handlers.presets.live
    with gr.Tab(SHOWN.label, id=SHOWN.id) as made:
        gr.Markdown(
            "Allow the camera, then press record: each frame comes back painted, held steady against "
            f"the ones before. Up to {settings.live_seconds:.0f} s of painting a stream, frames up to "
            f"{settings.live_side} px."
        )
        with gr.Row():
            camera = image_upload(
                "Camera",
                sources=["webcam"],
                streaming=True,
                webcam_options=camera_options(settings.live_side),
                height=300,
            )
            painted = frame_display("Live", height=300, elem_id="nst-live")
        style = style_picker(page, "nst-live-gallery")
        style_image = image_upload("…or any style image (optional)", height=160)
        with gr.Row():
            strength = gr.Slider(0, 1, value=options.strength, step=0.05, label="Strength")
            colour = colours_radio(options.preserve_color, "camera")
        state = gr.State(None, time_to_live=600)
    inputs = LiveInputs(
        frame=camera,
        state=state,
        style=style,
        style_image=style_image,
        strength=strength,
        preserve_color=colour,
    )
    camera.stream(
        handlers.stylize_live,
        wire(handlers.stylize_live, inputs),
        [painted, state],
        stream_every=EVERY,
        time_limit=settings.live_seconds,
        # One over the cap, so that the next visitor is told it is full rather than left queued.
        concurrency_limit=settings.live_streams + 1,
        concurrency_id=SHOWN.id,
        api_visibility="private",
        show_progress="hidden",
    )
    return Form(made, inputs)


SHOWN = Shown("live", "Live", tab, photo=False)
